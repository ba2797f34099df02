//! `sky.toml`: the project configuration (language switches, limits, declared variables).

use crate::diagnostics::{self as d};
use serde::Deserialize;
use skyc_diag::{codes, Diagnostic, Span};
use std::collections::BTreeMap;

/// The parsed `sky.toml`. Every table and key is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub language: LanguageConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Declared variables. When any is declared, only declared variables may be used.
    #[serde(default)]
    pub vars: BTreeMap<String, VarDecl>,
    /// Service mesh settings used by the stdlib's Envoy sidecar.
    #[serde(default)]
    pub mesh: MeshConfig,
    /// Lint rule levels and the facts some rules need.
    #[serde(default)]
    pub lint: LintConfig,
    /// The clusters objects may target (`on_clusters`, `migrate`, `skyc render --cluster`).
    #[serde(default)]
    pub clusters: ClustersConfig,
    /// The project's CustomResourceDefinitions (`crd.<group>.<version>.<Kind>` constructors).
    #[serde(default)]
    pub crds: CrdsConfig,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrdsConfig {
    /// CRD files (`.yaml`, `.yml`, `.json`) and directories of them (read recursively),
    /// relative to the project root. Read only when a file uses `crd` or returns an object of
    /// a kind that is not built in.
    #[serde(default)]
    pub paths: Vec<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClustersConfig {
    /// The project's clusters. When set, objects may target only these (SKY0413) and
    /// `skyc render --cluster` must name one of them; when empty, any well-formed name goes.
    #[serde(default)]
    pub names: Vec<String>,
}

impl ClustersConfig {
    /// Problems with `[clusters] names`: malformed and repeated names.
    fn check(&self, file: &str, text: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (i, name) in self.names.iter().enumerate() {
            let why = match crate::clusters::check_name(name) {
                Err(why) => why,
                Ok(()) if self.names[..i].contains(name) => "it is listed twice".to_string(),
                Ok(()) => continue,
            };
            let quoted = format!("\"{name}\"");
            let at = text
                .find("[clusters]")
                .and_then(|t| text[t..].find(&quoted).map(|i| t + i))
                .map(|i| Span::from_offsets(file, text, i, i + quoted.len()));
            out.push(
                Diagnostic::new(
                    codes::SKY0108,
                    format!("invalid sky.toml: cluster name `{name}`: {why}"),
                )
                .with_span_opt(at)
                .with_help(
                    "cluster names are distinct DNS labels: lowercase letters, digits and '-'",
                ),
            );
        }
        out
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintConfig {
    /// Rule name or code → "off", "warning" or "error".
    #[serde(default)]
    pub rules: BTreeMap<String, String>,
    /// The variable that names the environment (default `environment`).
    pub environment_var: Option<String>,
    /// Its values that mean production (default `prod`, `production`).
    pub production: Option<Vec<String>>,
    /// The label that names the owning team (default `owner`).
    pub owner_label: Option<String>,
}

impl LintConfig {
    /// The configured level of a rule: `None` when not configured, `Some(None)` when off.
    pub fn severity(&self, code: &skyc_diag::CodeInfo) -> Option<Option<skyc_diag::Severity>> {
        self.rules
            .iter()
            .find(|(k, _)| *k == code.name || k.eq_ignore_ascii_case(code.code))
            .and_then(|(_, v)| crate::lint::parse_level(v).ok())
    }

    pub fn environment_var(&self) -> &str {
        self.environment_var.as_deref().unwrap_or("environment")
    }

    pub fn production(&self) -> Vec<String> {
        self.production
            .clone()
            .unwrap_or_else(|| vec!["prod".into(), "production".into()])
    }

    pub fn owner_label(&self) -> &str {
        self.owner_label.as_deref().unwrap_or("owner")
    }

    /// Problems with `[lint.rules]`: unknown rules and levels.
    fn check(&self, file: &str, text: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (k, v) in &self.rules {
            let at = text
                .find(k.as_str())
                .map(|i| Span::from_offsets(file, text, i, i + k.len()));
            if crate::lint::rule_by_name(k).is_none() {
                let help = match skyc_diag::did_you_mean(k, crate::lint::rule_names()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`skyc explain all` lists the lint rules (SKY06xx)".into(),
                };
                out.push(
                    Diagnostic::new(
                        codes::SKY0108,
                        format!("invalid sky.toml: `{k}` is not a lint rule"),
                    )
                    .with_span_opt(at.clone())
                    .with_help(help),
                );
            }
            if let Err(e) = crate::lint::parse_level(v) {
                out.push(
                    Diagnostic::new(codes::SKY0108, format!("invalid sky.toml: rule `{k}`: {e}"))
                        .with_span_opt(at)
                        .with_help("levels: \"off\", \"warning\", \"error\""),
                );
            }
        }
        out
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeshConfig {
    /// The Envoy image of the sidecar (pin it by digest in production).
    pub envoy_image: Option<String>,
}

impl Config {
    /// The project settings the stdlib may read with `project_setting(key, default)`.
    pub fn settings(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Some(i) = &self.mesh.envoy_image {
            out.insert("mesh.envoy_image".to_string(), i.clone());
        }
        if !self.clusters.names.is_empty() {
            out.insert("clusters.names".to_string(), self.clusters.names.join(","));
        }
        out
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageConfig {
    /// Allow functions to call themselves (off by default).
    #[serde(default)]
    pub allow_recursion: bool,
    /// Run configurations written for another tool as it would (`"skycfg"`: `load()` paths
    /// start at the main file's directory, `.cfg` files are sources too). See docs/skycfg.md.
    #[serde(default)]
    pub compat: Option<Compat>,
}

/// A compatibility mode (`[language] compat` in sky.toml, `--compat` on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compat {
    /// Stripe's skycfg.
    Skycfg,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_steps: Option<u64>,
    /// Bytes, or a string with a `K`, `M` or `G` suffix.
    pub max_heap: Option<ByteSize>,
    pub max_time_seconds: Option<f64>,
    pub max_call_depth: Option<usize>,
}

/// A declared variable.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VarDecl {
    pub description: Option<String>,
    /// The values it may take; any string when absent.
    pub allowed: Option<Vec<String>>,
    /// Used when the variable is not given.
    pub default: Option<String>,
}

/// A size in bytes, written as a number or as `"512M"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        let n = match Raw::deserialize(de)? {
            Raw::N(n) => n,
            Raw::S(s) => parse_byte_size(&s).map_err(serde::de::Error::custom)?,
        };
        check_memory_limit(n)
            .map(ByteSize)
            .map_err(serde::de::Error::custom)
    }
}

/// The smallest memory limit: skyc itself needs a few megabytes to run anything.
pub const MIN_MEMORY_LIMIT: u64 = 4 << 20;

/// A memory limit (`max_heap`) of `n` bytes, refused below [`MIN_MEMORY_LIMIT`].
pub fn check_memory_limit(n: u64) -> Result<u64, String> {
    if n < MIN_MEMORY_LIMIT {
        return Err(format!(
            "a memory limit of {n} bytes is too small: give at least 4M"
        ));
    }
    Ok(n)
}

/// Parses `1048576`, `512K`, `512M`, `2G` (binary multiples; a trailing `iB`/`B` is allowed).
pub fn parse_byte_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            format!("invalid size `{s}`: use a positive number of bytes, optionally with K, M or G")
        })
}

impl Config {
    /// Parses `sky.toml` text; `file` names it in diagnostics.
    pub fn parse(file: &str, text: &str) -> Result<Config, Diagnostic> {
        let config = Self::parse_toml(file, text)?;
        let problems = config.lint.check(file, text).into_iter();
        if let Some(d) = problems.chain(config.clusters.check(file, text)).next() {
            return Err(d);
        }
        Ok(config)
    }

    fn parse_toml(file: &str, text: &str) -> Result<Config, Diagnostic> {
        toml::from_str::<Config>(text).map_err(|e| {
            let span = e
                .span()
                .map(|r| Span::from_offsets(file, text, r.start, r.end));
            let msg = e.message().to_string();
            Diagnostic::new(codes::SKY0108, format!("invalid sky.toml: {msg}"))
                .with_span_opt(span.or_else(|| Some(Span::from_offsets(file, text, 0, 0))))
                .with_help("see docs/sky-toml.md for the accepted keys")
        })
    }

    /// Checks `--var` values against the declarations and fills in defaults.
    pub fn resolve_vars(
        &self,
        given: &BTreeMap<String, String>,
    ) -> (BTreeMap<String, String>, Vec<Diagnostic>) {
        let mut out = BTreeMap::new();
        let mut diags = Vec::new();
        for (k, v) in given {
            if !self.vars.is_empty() && !self.vars.contains_key(k) {
                diags.push(d::undeclared_var(
                    k,
                    self.vars.keys().map(String::as_str),
                    None,
                ));
                continue;
            }
            if let Some(allowed) = self.vars.get(k).and_then(|d| d.allowed.as_ref()) {
                if !allowed.contains(v) {
                    diags.push(d::var_not_allowed(k, v, allowed));
                    continue;
                }
            }
            out.insert(k.clone(), v.clone());
        }
        for (k, decl) in &self.vars {
            if !out.contains_key(k) && !given.contains_key(k) {
                if let Some(def) = &decl.default {
                    out.insert(k.clone(), def.clone());
                }
            }
        }
        (out, diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_byte_size("512M"), Ok(512 << 20));
        assert_eq!(parse_byte_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_byte_size("4096"), Ok(4096));
        assert!(parse_byte_size("lots").is_err());
        assert!(parse_byte_size("0").is_err());
    }

    #[test]
    fn bad_config_is_coded() {
        let e = Config::parse("sky.toml", "[limits]\nmax_steps = \"x\"\n").unwrap_err();
        assert_eq!(e.code, "SKY0108");
        assert_eq!(e.span.unwrap().start.line, 2);
        assert!(Config::parse("sky.toml", "[nope]\n").is_err());
    }

    #[test]
    fn cluster_names_are_distinct_dns_labels() {
        let ok = Config::parse(
            "sky.toml",
            "[clusters]\nnames = [\"legacy\", \"k8s-west\"]\n",
        );
        assert_eq!(ok.unwrap().clusters.names, ["legacy", "k8s-west"]);
        for bad in ["[\"Legacy\"]", "[\"a\", \"a\"]", "[\"\"]"] {
            let text = format!("[clusters]\nnames = {bad}\n");
            let e = Config::parse("sky.toml", &text).unwrap_err();
            assert_eq!(e.code, "SKY0108", "{bad}");
            assert_eq!(e.span.unwrap().start.line, 2, "{bad}");
        }
        assert!(Config::parse("sky.toml", "[clusters]\nname = []\n").is_err());
    }
}
