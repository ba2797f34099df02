//! A plain-language summary of an Envoy bootstrap, written as YAML comments above the rendered
//! configuration: which listener sends traffic to which cluster, with which timeout and
//! retries, and where each cluster points. It is derived from the configuration itself, so it
//! cannot drift from what Envoy runs ("what does the mesh do?").

use crate::validate::items;
use serde_json::Value as Json;
use std::fmt::Write as _;

fn address(a: &Json) -> Option<String> {
    let s = a.get("socketAddress")?;
    let host = s.get("address")?.as_str()?;
    let port = s
        .get("portValue")
        .map(|p| p.to_string())
        .unwrap_or_default();
    Some(format!("{host}:{port}"))
}

/// What a listener's filters do: (protocol, cluster, details).
fn listener_target(l: &Json) -> Vec<String> {
    let mut out = Vec::new();
    for chain in items(l, "filterChains") {
        for f in items(chain, "filters") {
            let Some(cfg) = f.get("typedConfig") else {
                continue;
            };
            let ty = cfg.get("@type").and_then(Json::as_str).unwrap_or("");
            if ty.ends_with(".TcpProxy") {
                let c = cfg.get("cluster").and_then(Json::as_str).unwrap_or("?");
                out.push(format!("TCP → cluster {c}"));
            } else if ty.ends_with(".HttpConnectionManager") {
                let routes = cfg
                    .pointer("/routeConfig/virtualHosts")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .flat_map(|vh| items(vh, "routes"));
                for r in routes {
                    let Some(action) = r.get("route") else {
                        continue;
                    };
                    let prefix = r
                        .pointer("/match/prefix")
                        .and_then(Json::as_str)
                        .map(|p| format!("{p} "))
                        .unwrap_or_default();
                    let cluster = action.get("cluster").and_then(Json::as_str).unwrap_or("?");
                    let mut details = Vec::new();
                    match action.get("timeout").and_then(Json::as_str) {
                        Some(t) => details.push(format!("timeout {t}")),
                        None => details.push("default timeout 15s".into()),
                    }
                    if let Some(p) = action.get("retryPolicy") {
                        let n = p.get("numRetries").map_or("1".into(), |n| n.to_string());
                        let on = p.get("retryOn").and_then(Json::as_str).unwrap_or("");
                        details.push(format!("{n} retries on {on}"));
                    }
                    out.push(format!(
                        "HTTP {prefix}→ cluster {cluster} ({})",
                        details.join(", ")
                    ));
                }
            }
        }
    }
    out
}

fn cluster_details(c: &Json) -> String {
    let mut parts = Vec::new();
    if let Some(t) = c.get("type").and_then(Json::as_str) {
        parts.push(t.to_string());
    }
    let endpoints: Vec<String> = c
        .pointer("/loadAssignment/endpoints")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .flat_map(|e| items(e, "lbEndpoints"))
        .filter_map(|e| e.pointer("/endpoint/address").and_then(address))
        .collect();
    if !endpoints.is_empty() {
        parts.push(endpoints.join(", "));
    }
    let http2 = c
        .get("typedExtensionProtocolOptions")
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
        .any(|(_, o)| {
            o.pointer("/explicitHttpConfig/http2ProtocolOptions")
                .is_some()
        });
    parts.push(if http2 { "HTTP/2" } else { "HTTP/1.1 or TCP" }.to_string());
    if let Some(t) = c.get("connectTimeout").and_then(Json::as_str) {
        parts.push(format!("connect timeout {t}"));
    }
    if let Some(th) = c.pointer("/circuitBreakers/thresholds/0") {
        let get = |k: &str| th.get(k).map(|v| v.to_string());
        let mut cb = Vec::new();
        for (k, what) in [
            ("maxConnections", "connections"),
            ("maxPendingRequests", "pending"),
            ("maxRequests", "requests"),
            ("maxRetries", "retries"),
        ] {
            if let Some(v) = get(k) {
                cb.push(format!("{v} {what}"));
            }
        }
        if !cb.is_empty() {
            parts.push(format!("circuit breaker: {}", cb.join("/")));
        }
    }
    if let Some(o) = c.get("outlierDetection") {
        let n = o
            .get("consecutive5xx")
            .map_or("5".into(), |v| v.to_string());
        parts.push(format!("ejects hosts after {n} consecutive 5xx"));
    }
    if let Some(h) = c.pointer("/healthChecks/0") {
        let what = h
            .pointer("/httpHealthCheck/path")
            .and_then(Json::as_str)
            .map_or("active health check".to_string(), |p| {
                format!("health check GET {p}")
            });
        parts.push(what);
    }
    parts.join("; ")
}

/// The summary of a bootstrap in canonical JSON, as `# ` comment lines (empty when the
/// configuration has no static resources).
pub fn summary(bootstrap: &Json) -> String {
    let mut out = String::new();
    let Some(sr) = bootstrap.get("staticResources") else {
        return out;
    };
    let node = bootstrap
        .pointer("/node/id")
        .and_then(Json::as_str)
        .map(|n| format!(" for {n}"))
        .unwrap_or_default();
    let _ = writeln!(out, "# Envoy configuration{node}, generated by skyc.");
    let listeners = sr.get("listeners").and_then(Json::as_array);
    if let Some(ls) = listeners.filter(|l| !l.is_empty()) {
        let _ = writeln!(out, "# Listeners:");
        for l in ls {
            let name = l.get("name").and_then(Json::as_str).unwrap_or("?");
            let addr = l.get("address").and_then(address).unwrap_or_default();
            for t in listener_target(l) {
                let _ = writeln!(out, "#   {name} on {addr}: {t}");
            }
        }
    }
    let clusters = sr.get("clusters").and_then(Json::as_array);
    if let Some(cs) = clusters.filter(|c| !c.is_empty()) {
        let _ = writeln!(out, "# Clusters:");
        for c in cs {
            let name = c.get("name").and_then(Json::as_str).unwrap_or("?");
            let _ = writeln!(out, "#   {name}: {}", cluster_details(c));
        }
    }
    if let Some(a) = bootstrap.pointer("/admin/address").and_then(address) {
        let _ = writeln!(out, "# Admin interface: {a}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarizes_listeners_and_clusters() {
        let b = serde_json::json!({
            "node": {"id": "payments"},
            "admin": {"address": {"socketAddress": {"address": "127.0.0.1", "portValue": 9901}}},
            "staticResources": {
                "listeners": [{
                    "name": "out_ledger",
                    "address": {"socketAddress": {"address": "127.0.0.1", "portValue": 9001}},
                    "filterChains": [{"filters": [{"typedConfig": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                        "routeConfig": {"virtualHosts": [{"routes": [{
                            "match": {"prefix": "/"},
                            "route": {"cluster": "ledger", "timeout": "2s", "retryPolicy": {"retryOn": "5xx", "numRetries": 2}}
                        }]}]}
                    }}]}]
                }],
                "clusters": [{
                    "name": "ledger", "type": "STRICT_DNS", "connectTimeout": "1s",
                    "typedExtensionProtocolOptions": {"x": {"explicitHttpConfig": {"http2ProtocolOptions": {}}}},
                    "loadAssignment": {"endpoints": [{"lbEndpoints": [{"endpoint": {"address": {"socketAddress": {"address": "ledger", "portValue": 80}}}}]}]}
                }]
            }
        });
        let s = summary(&b);
        assert!(s.contains("out_ledger on 127.0.0.1:9001: HTTP / → cluster ledger (timeout 2s, 2 retries on 5xx)"), "{s}");
        assert!(
            s.contains("ledger: STRICT_DNS; ledger:80; HTTP/2; connect timeout 1s"),
            "{s}"
        );
        assert!(s.contains("Admin interface: 127.0.0.1:9901"), "{s}");
    }
}
