//! `skyc lsp` as an editor runs it: a process speaking JSON-RPC on stdio. Initialize, open a
//! file with a misspelled field, hover, complete, go to definition through `load()`, edit,
//! shut down; and a request that crashes the server does not take it down.

#[path = "support/lsp_client.rs"]
mod lsp_client;

use lsp_client::{uri, Server};
use serde_json::{json, Value};

/// (line, character) of the first `needle` in `text`, plus `delta` characters.
fn at(text: &str, needle: &str, delta: usize) -> Value {
    let i = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"))
        + delta;
    let line = text[..i].matches('\n').count();
    let col = i - text[..i].rfind('\n').map_or(0, |n| n + 1);
    json!({"line": line, "character": col})
}

/// A project in a temporary directory with `files` (path, text), and its root (resolved, as
/// the server names files).
fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    (dir, root)
}

const MAIN: &str = r#"load("@stdlib//service.sky", "service")

def main(ctx):
    return [
        service(name = "web", owner = "team", image = "registry.example.com/web:1.0.0"),
        k8s.apps.v1.Deployment(
            metadata = {"name": "api"},
            spec = k8s.apps.v1.DeploymentSpec(
                replicass = 3,
                selector = {"matchLabels": {"app": "api"}},
                template = {
                    "metadata": {"labels": {"app": "api"}},
                    "spec": {"containers": [{"name": "api", "image": "registry.example.com/api:1.0.0"}]},
                },
            ),
        ),
    ]
"#;

#[test]
fn an_editor_session() {
    let (_dir, root) = project(&[("sky.toml", ""), ("main.sky", MAIN)]);
    let main_uri = uri(&root.join("main.sky"));

    let mut s = Server::start(env!("CARGO_BIN_EXE_skyc"), &[]);
    s.initialize(&root);
    s.open(&main_uri, MAIN);

    // The misspelled field is an error on its range, with skyc's code.
    let diags = s.diagnostics(&main_uri);
    let d = diags
        .iter()
        .find(|d| d["code"] == "SKY0203")
        .unwrap_or_else(|| panic!("no SKY0203 in {diags:#?}"));
    assert_eq!(d["range"]["start"], at(MAIN, "replicass", 0), "{d}");
    assert_eq!(d["range"]["end"], at(MAIN, "replicass", 9), "{d}");
    assert!(d["message"].as_str().unwrap().contains("replicas"), "{d}");
    assert_eq!(d["source"], "skyc");

    // Hover on `service` shows its docs.
    let r = s.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": main_uri}, "position": at(MAIN, "service(name", 2)}),
    );
    let hover = r["result"]["contents"].to_string();
    assert!(hover.contains("long-running service"), "{r}");

    // Completing inside `service(` lists its parameters.
    let r = s.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": main_uri}, "position": at(MAIN, "service(name", 8)}),
    );
    let params = labels(&r);
    for p in ["owner", "image", "replicas", "iam_role", "clusters"] {
        assert!(params.iter().any(|l| l == p), "no {p} in {params:?}");
    }

    // Typed constructors: their fields, with the schema's docs.
    let r = s.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": main_uri}, "position": at(MAIN, "replicass", 0)}),
    );
    let fields = labels(&r);
    assert!(fields.iter().any(|l| l == "replicas"), "{fields:?}");
    let r = s.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": main_uri}, "position": at(MAIN, "\"name\": \"api\"", 2)}),
    );
    assert!(
        r["result"]["contents"].to_string().contains("ObjectMeta"),
        "{r}"
    );

    // Go to definition through load() lands in the stdlib's source.
    let r = s.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": main_uri}, "position": at(MAIN, "service(name", 1)}),
    );
    let target = r["result"].to_string();
    assert!(target.contains("service.sky"), "{r}");

    // Fixing the field clears the error.
    let fixed = MAIN.replace("replicass", "replicas");
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main_uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let diags = s.diagnostics(&main_uri);
    assert!(
        !diags.iter().any(|d| d["severity"] == 1),
        "errors after the fix: {diags:#?}"
    );
    s.shutdown();
}

fn labels(r: &Value) -> Vec<String> {
    let items = if r["result"].is_array() {
        r["result"].as_array().cloned()
    } else {
        r["result"]["items"].as_array().cloned()
    };
    items
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i["label"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_crash_in_one_request_does_not_kill_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let main = root.join("main.sky");
    std::fs::write(&main, MAIN).unwrap();
    let bad = root.join("bad.sky");
    let bad_text = "# skyc_lsp_test_panic\nx = 1\n";
    std::fs::write(&bad, bad_text).unwrap();
    let (main_uri, bad_uri) = (uri(&main), uri(&bad));

    // A panic inside starlark_lsp's request handling kills the inner server: the request gets
    // an error and the server is restarted with the open documents.
    let mut s = Server::start(
        env!("CARGO_BIN_EXE_skyc"),
        &[("SKYC_LSP_TEST_PANIC", "environment")],
    );
    s.initialize(&root);
    s.open(&main_uri, MAIN);
    s.diagnostics(&main_uri);
    s.open(&bad_uri, bad_text);
    s.diagnostics(&bad_uri);
    let r = s.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": bad_uri}, "position": {"line": 1, "character": 4}}),
    );
    assert!(r.get("error").is_some(), "{r}");
    let r = s.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": main_uri}, "position": at(MAIN, "service(name", 2)}),
    );
    assert!(
        r["result"]["contents"]
            .to_string()
            .contains("long-running service"),
        "{r}"
    );
    // The file that crashed it is left out (so it cannot crash it again) until it is edited.
    let r = s.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": bad_uri}, "position": {"line": 1, "character": 4}}),
    );
    assert!(r.get("error").is_some(), "{r}");
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": bad_uri, "version": 2}, "contentChanges": [{"text": "x = 1\n"}]}),
    );
    s.diagnostics(&bad_uri);
    let r = s.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": bad_uri}, "position": {"line": 0, "character": 1}}),
    );
    assert!(r.get("error").is_none(), "{r}");
    s.shutdown();

    // A panic in skyc's own answer is an error for that request only.
    let mut s = Server::start(
        env!("CARGO_BIN_EXE_skyc"),
        &[("SKYC_LSP_TEST_PANIC", "typed")],
    );
    s.initialize(&root);
    s.open(&bad_uri, bad_text);
    let r = s.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": bad_uri}, "position": {"line": 1, "character": 0}}),
    );
    assert!(r.get("error").is_some(), "{r}");
    s.open(&main_uri, MAIN);
    let r = s.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": main_uri}, "position": at(MAIN, "replicass", 0)}),
    );
    assert!(labels(&r).iter().any(|l| l == "replicas"), "{r}");
    s.shutdown();

    // A panic while checking a file is a diagnostic, not a dead server.
    let mut s = Server::start(
        env!("CARGO_BIN_EXE_skyc"),
        &[("SKYC_LSP_TEST_PANIC", "parse")],
    );
    s.initialize(&root);
    s.open(&bad_uri, bad_text);
    let diags = s.diagnostics(&bad_uri);
    assert!(diags.is_empty() || diags.iter().all(|d| d["code"] != "SKY0203"));
    s.open(&main_uri, MAIN);
    let diags = s.diagnostics(&main_uri);
    assert!(diags.iter().any(|d| d["code"] == "SKY0203"), "{diags:#?}");
    s.shutdown();
}

#[test]
fn formatting_a_document() {
    let messy = "load( '@stdlib//service.sky','service' )\ndef main( ctx ) :\n  # the web tier\n  return [service(name='web',owner='team',image='registry.example.com/web:1.0.0')]\n";
    let (_dir, root) = project(&[("sky.toml", ""), ("main.sky", messy)]);
    let file = uri(&root.join("main.sky"));
    let mut s = Server::start(env!("CARGO_BIN_EXE_skyc"), &[]);
    let init = s.initialize(&root);
    assert_eq!(
        init["result"]["capabilities"]["documentFormattingProvider"], true,
        "{init}"
    );
    s.open(&file, messy);
    let format = |s: &mut Server| {
        s.request(
            "textDocument/formatting",
            json!({"textDocument": {"uri": file}, "options": {"tabSize": 4, "insertSpaces": true}}),
        )
    };

    // One edit over the whole document, with exactly what `skyc fmt` writes.
    let r = format(&mut s);
    let edits = r["result"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(edits.len(), 1, "{r}");
    assert_eq!(
        edits[0]["range"]["start"],
        json!({"line": 0, "character": 0})
    );
    assert_eq!(edits[0]["range"]["end"], json!({"line": 4, "character": 0}));
    let formatted = edits[0]["newText"].as_str().unwrap().to_string();
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_skyc"))
        .args(["fmt", "-"])
        .stdin(std::fs::File::open(root.join("main.sky")).unwrap())
        .output()
        .unwrap();
    assert!(cli.status.success(), "{cli:?}");
    assert_eq!(formatted, String::from_utf8(cli.stdout).unwrap());
    assert!(formatted.contains("    # the web tier\n"), "{formatted}");

    // A formatted document needs no edit.
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": file, "version": 2}, "contentChanges": [{"text": formatted}]}),
    );
    assert_eq!(format(&mut s)["result"], json!([]));

    // A file that does not parse is an error naming skyc's code and the place.
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": file, "version": 3}, "contentChanges": [{"text": "def main(ctx:\n"}]}),
    );
    let r = format(&mut s);
    let message = r["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(message.starts_with("SKY0201: main.sky:"), "{message}");
    s.shutdown();
}

const GADGETS: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  group: example.com
  names: {kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              color:
                description: The gadget's colour.
                type: string
";

const GADGET_MAIN: &str = r#"def main(ctx):
    return [crd.example_com.v1.Gadget(metadata = {"name": "g"}, spec = {"colour": "red"})]
"#;

/// A project with a CRD: diagnostics, hover and completion know its custom resources.
#[test]
fn custom_resources_in_the_editor() {
    let (_dir, root) = project(&[
        ("sky.toml", "[crds]\npaths = [\"crds\"]\n"),
        ("crds/gadgets.yaml", GADGETS),
        ("main.sky", GADGET_MAIN),
    ]);
    let main_uri = uri(&root.join("main.sky"));

    let mut s = Server::start(env!("CARGO_BIN_EXE_skyc"), &[]);
    s.initialize(&root);
    s.open(&main_uri, GADGET_MAIN);

    let diags = s.diagnostics(&main_uri);
    let d = diags
        .iter()
        .find(|d| d["code"] == "SKY0203")
        .unwrap_or_else(|| panic!("no SKY0203 in {diags:#?}"));
    assert!(d["message"].as_str().unwrap().contains("colour"), "{d}");

    let r = s.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": main_uri}, "position": at(GADGET_MAIN, "crd.", 4)}),
    );
    assert_eq!(labels(&r), ["example_com"], "{r}");
    let r = s.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": main_uri}, "position": at(GADGET_MAIN, "\"colour\"", 0)}),
    );
    assert!(labels(&r).iter().any(|l| l == "color"), "{r}");

    let fixed = GADGET_MAIN.replace("colour", "color");
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main_uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let diags = s.diagnostics(&main_uri);
    assert!(
        !diags.iter().any(|d| d["severity"] == 1),
        "errors after the fix: {diags:#?}"
    );
    let r = s.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": main_uri}, "position": at(&fixed, "\"color\"", 2)}),
    );
    assert!(
        r["result"]["contents"].to_string().contains("colour"),
        "{r}"
    );
    s.shutdown();
}
