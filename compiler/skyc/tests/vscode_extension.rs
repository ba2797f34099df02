//! The VS Code extension (`editors/vscode/`) is checked without Node.js: its manifest, grammar
//! and language configuration parse and agree with each other, the grammar knows the words of
//! the language, and the client starts `skyc lsp`. `scripts/test.sh` builds the `.vsix` itself.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn extension_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../editors/vscode")).to_path_buf()
}

fn read(rel: &str) -> String {
    let path = extension_dir().join(rel.trim_start_matches("./"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(rel: &str) -> Value {
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not valid JSON: {e}"))
}

fn manifest() -> Value {
    json("package.json")
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("package.json: no string at {pointer}"))
}

/// The `sky` entry of `contributes.languages`.
fn sky_language(manifest: &Value) -> &Value {
    manifest["contributes"]["languages"]
        .as_array()
        .expect("contributes.languages")
        .iter()
        .find(|l| l["id"] == "sky")
        .expect("no language with id `sky`")
}

fn sky_grammar_entry(manifest: &Value) -> &Value {
    manifest["contributes"]["grammars"]
        .as_array()
        .expect("contributes.grammars")
        .iter()
        .find(|g| g["language"] == "sky")
        .expect("no grammar for the `sky` language")
}

/// One rule of a TextMate grammar: its regex (`match` or `begin`) and every scope it assigns.
struct Rule {
    regex: String,
    scopes: Vec<String>,
}

fn rules(v: &Value, out: &mut Vec<Rule>) {
    match v {
        Value::Object(map) => {
            if let Some(regex) = map
                .get("match")
                .or_else(|| map.get("begin"))
                .and_then(Value::as_str)
            {
                let mut scopes: Vec<String> = map
                    .get("name")
                    .and_then(Value::as_str)
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                for key in ["captures", "beginCaptures"] {
                    if let Some(Value::Object(caps)) = map.get(key) {
                        scopes.extend(
                            caps.values()
                                .filter_map(|c| c["name"].as_str())
                                .map(str::to_string),
                        );
                    }
                }
                out.push(Rule {
                    regex: regex.to_string(),
                    scopes,
                });
            }
            map.values().for_each(|x| rules(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| rules(x, out)),
        _ => {}
    }
}

/// The literal words of a regex: escapes (`\b`, `\s`, `\\`) removed, split at everything that
/// cannot be part of an identifier.
fn regex_words(regex: &str) -> BTreeSet<String> {
    let mut plain = String::new();
    let mut chars = regex.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            chars.next();
            plain.push(' ');
        } else {
            plain.push(c);
        }
    }
    plain
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The repository entries a grammar includes (`#name`).
fn includes<'a>(v: &'a Value, out: &mut BTreeSet<&'a str>) {
    match v {
        Value::Object(map) => {
            if let Some(name) = map.get("include").and_then(Value::as_str) {
                out.insert(name.strip_prefix('#').unwrap_or(name));
            }
            map.values().for_each(|x| includes(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| includes(x, out)),
        _ => {}
    }
}

fn grammar() -> Value {
    json(str_at(sky_grammar_entry(&manifest()), "/path"))
}

fn grammar_rules() -> Vec<Rule> {
    let mut out = Vec::new();
    rules(&grammar(), &mut out);
    out
}

/// `word` is matched by a rule that gives it a scope starting with one of `prefixes`.
fn assert_scoped(rules: &[Rule], word: &str, prefixes: &[&str]) {
    let found = rules.iter().any(|r| {
        regex_words(&r.regex).contains(word)
            && r.scopes
                .iter()
                .any(|s| prefixes.iter().any(|p| s.starts_with(p)))
    });
    assert!(
        found,
        "the grammar has no rule matching `{word}` with a scope starting with one of {prefixes:?}"
    );
}

#[test]
fn manifest_declares_the_sky_language_grammar_and_settings() {
    let m = manifest();
    for (pointer, want) in [
        ("/publisher", "skyc"),
        ("/license", "Apache-2.0"),
        (
            "/contributes/configuration/properties/skyc.path/default",
            "skyc",
        ),
        (
            "/contributes/configuration/properties/skyc.trace.server/default",
            "off",
        ),
    ] {
        assert_eq!(str_at(&m, pointer), want, "package.json {pointer}");
    }
    for pointer in [
        "/name",
        "/version",
        "/engines/vscode",
        "/repository/url",
        "/main",
        "/scripts/compile",
        "/devDependencies/@vscode~1vsce",
        "/devDependencies/typescript",
        "/dependencies/vscode-languageclient",
    ] {
        assert!(!str_at(&m, pointer).is_empty(), "package.json {pointer}");
    }
    assert!(
        str_at(&m, "/dependencies/vscode-languageclient").contains("9."),
        "the client is written against vscode-languageclient 9"
    );

    let sky = sky_language(&m);
    let extensions: Vec<&str> = sky["extensions"]
        .as_array()
        .expect("extensions of `sky`")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(extensions, [".sky"]);
    // sky.toml is TOML: no language of the extension claims it.
    for lang in m["contributes"]["languages"].as_array().unwrap() {
        let claims = |key: &str| {
            lang[key]
                .as_array()
                .is_some_and(|v| v.iter().any(|e| e.as_str().unwrap_or("").contains("toml")))
        };
        assert!(
            !claims("extensions") && !claims("filenames") && !claims("filenamePatterns"),
            "language {} claims TOML files",
            lang["id"]
        );
    }
    let activation: Vec<&str> = m["activationEvents"]
        .as_array()
        .expect("activationEvents")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(activation.contains(&"onLanguage:sky"), "{activation:?}");

    // vsce refuses to package when the API types are newer than the oldest VS Code allowed.
    let version = |s: &str| -> Vec<u32> {
        s.trim_start_matches(['^', '~', '>', '='])
            .split('.')
            .map(|p| p.parse().unwrap_or_else(|_| panic!("version {s}")))
            .collect()
    };
    assert!(
        version(str_at(&m, "/devDependencies/@types~1vscode"))
            <= version(str_at(&m, "/engines/vscode")),
        "@types/vscode is newer than engines.vscode"
    );

    let lock = json("package-lock.json");
    assert_eq!(lock["version"], m["version"], "package-lock.json is stale");
    assert_eq!(
        lock["packages"][""]["devDependencies"], m["devDependencies"],
        "package-lock.json is stale: run npm install in editors/vscode"
    );
    assert_eq!(
        lock["packages"][""]["dependencies"], m["dependencies"],
        "package-lock.json is stale: run npm install in editors/vscode"
    );
    for file in ["README.md", "LICENSE"] {
        assert!(extension_dir().join(file).is_file(), "{file} is missing");
    }
}

#[test]
fn grammar_scope_matches_the_manifest() {
    let m = manifest();
    let entry = sky_grammar_entry(&m);
    let g = grammar();
    assert_eq!(g["scopeName"], entry["scopeName"]);
    assert_eq!(g["scopeName"], "source.sky");

    // Every `#name` include has a repository entry, and every entry is used.
    let mut included = BTreeSet::new();
    includes(&g, &mut included);
    let repository: BTreeSet<&str> = g["repository"]
        .as_object()
        .expect("repository")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        included, repository,
        "includes without an entry, or entries nothing includes"
    );
}

#[test]
fn grammar_knows_the_words_of_the_language() {
    let rules = grammar_rules();
    let keyword = &["keyword.", "storage.type.", "constant.language."];
    for word in [
        "def", "return", "if", "elif", "else", "for", "in", "not", "and", "or", "load", "pass",
        "break", "continue", "lambda", "None", "True", "False",
    ] {
        assert_scoped(&rules, word, keyword);
    }
    for word in [
        "len",
        "range",
        "str",
        "int",
        "dict",
        "list",
        "fail",
        "print",
        "struct",
        "getattr",
        "hasattr",
        "sorted",
        "enumerate",
        "type",
    ] {
        assert_scoped(&rules, word, &["support.function.builtin."]);
    }
    for word in [
        "k8s", "envoy", "kube", "proto", "duration", "asserts", "testing",
    ] {
        assert_scoped(&rules, word, &["support."]);
    }
    assert_scoped(&rules, "ctx", &["variable.language.", "support."]);
    // skyc's Starlark has no `while` (and no other Python-only statement).
    for word in ["while", "class", "import", "yield", "try"] {
        assert_scoped(&rules, word, &["invalid.illegal."]);
    }
    // Type annotations, keyword arguments and suppression comments have their own scopes.
    let scopes: BTreeSet<&str> = rules
        .iter()
        .flat_map(|r| r.scopes.iter().map(String::as_str))
        .collect();
    for scope in [
        "variable.parameter.function-call.sky",
        "variable.parameter.function.sky",
        "entity.name.function.sky",
        "meta.type.annotation.sky",
        "punctuation.separator.annotation.result.sky",
        "comment.line.number-sign.sky",
        "string.quoted.docstring.multi.sky",
        "string.quoted.raw.sky",
        "constant.character.escape.sky",
        "constant.numeric.float.sky",
    ] {
        assert!(scopes.contains(scope), "no rule assigns {scope}");
    }
    assert!(
        rules.iter().any(|r| r.regex.contains("skyc:ignore")
            && r.scopes.iter().any(|s| s.starts_with("keyword."))),
        "`# skyc:ignore` comments are not highlighted"
    );
}

#[test]
fn language_configuration_has_comments_brackets_and_indentation() {
    let m = manifest();
    let config = json(str_at(sky_language(&m), "/configuration"));
    assert_eq!(config["comments"]["lineComment"], "#");
    let brackets: Vec<(String, String)> =
        serde_json::from_value(config["brackets"].clone()).expect("brackets: [[open, close]]");
    for pair in [("(", ")"), ("[", "]"), ("{", "}")] {
        assert!(
            brackets.contains(&(pair.0.to_string(), pair.1.to_string())),
            "bracket pair {pair:?} is missing"
        );
    }
    let closing: Vec<&str> = config["autoClosingPairs"]
        .as_array()
        .expect("autoClosingPairs")
        .iter()
        .filter_map(|p| p["open"].as_str())
        .collect();
    for open in ["(", "[", "{", "\"", "'"] {
        assert!(closing.contains(&open), "{open} does not auto-close");
    }
    for pointer in [
        "/indentationRules/increaseIndentPattern",
        "/indentationRules/decreaseIndentPattern",
    ] {
        assert!(
            config.pointer(pointer).is_some_and(Value::is_string),
            "{pointer}"
        );
    }
    assert_eq!(config["folding"]["offSide"], true);
}

#[test]
fn client_starts_skyc_lsp() {
    let m = manifest();
    // out/extension.js is compiled from src/extension.ts.
    let main = str_at(&m, "/main").trim_start_matches("./");
    let source = main
        .strip_prefix("out/")
        .and_then(|f| f.strip_suffix(".js"))
        .map(|stem| format!("src/{stem}.ts"))
        .unwrap_or_else(|| panic!("main {main} is not out/<name>.js"));
    let text = read(&source);
    assert!(
        text.contains("\"lsp\""),
        "{source} does not start `skyc lsp`"
    );
    // ... which this skyc has.
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_skyc"))
        .args(["lsp", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success(), "`skyc lsp` is not a command");
    // The client's id prefixes its trace setting (`skyc.trace.server`) and reads `skyc.path`.
    assert!(text.contains("new LanguageClient(\"skyc\""), "{source}");
    assert!(text.contains("getConfiguration(\"skyc\")") && text.contains("\"path\""));

    // The .vsix keeps everything the manifest points at: the ignore file leaves out
    // everything (`**`) but what it lists with `!`.
    let ignore = read(".vscodeignore");
    assert!(
        ignore.lines().any(|l| l == "**"),
        ".vscodeignore does not start from `**`"
    );
    let kept: BTreeSet<&str> = ignore.lines().filter_map(|l| l.strip_prefix('!')).collect();
    let lang = sky_language(&m);
    for path in [
        main,
        str_at(sky_grammar_entry(&m), "/path"),
        str_at(lang, "/configuration"),
    ] {
        let path = path.trim_start_matches("./");
        assert!(
            kept.contains(path),
            ".vscodeignore leaves {path} out of the .vsix"
        );
    }
    let gitignore = read(".gitignore");
    for ignored in ["node_modules/", "out/", "*.vsix"] {
        assert!(
            gitignore.lines().any(|l| l == ignored),
            "{ignored} is not git-ignored"
        );
    }
}
