//! The sandbox offers no way out: no global function or namespace member reads files, the
//! environment, the clock or randomness, or reaches the network. The full list of what `.sky`
//! code can call is a snapshot, so every new builtin is reviewed; a list of words that would
//! name such a capability is refused outright.

/// Words that, in a builtin's name, suggest it reaches outside the sandbox.
const FORBIDDEN_WORDS: &[&str] = &[
    "open",
    "read",
    "write",
    "file",
    "files",
    "env",
    "getenv",
    "environ",
    "time",
    "now",
    "today",
    "clock",
    "sleep",
    "random",
    "rand",
    "uuid",
    "http",
    "https",
    "fetch",
    "socket",
    "network",
    "dns",
    "exec",
    "system",
    "subprocess",
    "spawn",
    "glob",
    "listdir",
    "stat",
    "mkdir",
    "remove",
    "unlink",
    "hostname",
    "pid",
    "user",
];

/// Namespaces of typed constructors, generated from schemas: every member builds a message.
const CONSTRUCTOR_NAMESPACES: &[&str] = &["k8s", "envoy"];

fn builtins() -> Vec<String> {
    let globals = skyc_core::values::globals();
    let mut names = Vec::new();
    for (name, value) in globals.iter() {
        names.push(name.to_string());
        if CONSTRUCTOR_NAMESPACES.contains(&name) {
            continue;
        }
        let value = value.to_value();
        if value.get_type() == "namespace" || value.get_type() == "struct" {
            for attr in value.dir_attr() {
                names.push(format!("{name}.{attr}"));
            }
        }
    }
    names.sort();
    names
}

#[test]
fn no_builtin_reaches_outside_the_sandbox() {
    let names = builtins();
    assert!(names.len() > 50, "too few builtins found: {names:?}");
    let bad: Vec<&String> = names
        .iter()
        .filter(|n| {
            let last = n.rsplit('.').next().unwrap_or(n).to_ascii_lowercase();
            last.split('_').any(|w| FORBIDDEN_WORDS.contains(&w))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "builtins that look like a way out of the sandbox: {bad:?}"
    );
    insta::assert_snapshot!("sandbox__builtins", names.join("\n"));
}
