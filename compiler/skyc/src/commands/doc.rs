//! `skyc doc [SYMBOL]`: the documentation of a stdlib function (its signature, parameters, and
//! the objects a minimal call generates, rendered live), of a typed constructor or one of its
//! fields (from the schema: the same text `kubectl explain` shows), or of a namespace. Without
//! a symbol, the stdlib functions and the namespaces; with `--stdlib`, the whole stdlib
//! reference (`docs/stdlib.md` is `skyc doc --stdlib --format markdown`).

use crate::Exit;
use skyc_core::eval::StdlibFunction;
use skyc_core::schema;
use skyc_diag::did_you_mean;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// For the terminal.
    Text,
    /// Markdown, for documentation pages.
    Markdown,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A stdlib function (`service`) or one of its parameters (`service.port`), a constructor
    /// (`k8s.apps.v1.Deployment`, `envoy.config.cluster.v3.Cluster`), a field
    /// (`k8s.apps.v1.DeploymentSpec.replicas`) or a namespace (`k8s.apps.v1`). Without it, the
    /// stdlib functions and the namespaces are listed.
    symbol: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Document every public stdlib function, grouped by module: the stdlib reference
    /// (`skyc doc --stdlib --format markdown > docs/stdlib.md`).
    #[arg(long, conflicts_with = "symbol")]
    stdlib: bool,
}

pub fn run(args: Args) -> Exit {
    let result = if args.stdlib {
        Ok(stdlib_reference(args.format))
    } else {
        match &args.symbol {
            None => Ok(overview(args.format)),
            Some(symbol) => doc(symbol, args.format),
        }
    };
    match result {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => Exit::Ok,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
                Err(e) => super::man::output_error(format!("cannot write to stdout: {e}")),
            }
        }
        Err((msg, help)) => crate::usage_error(msg, Some(&help)),
    }
}

/// The documentation of `symbol`, or an error message and a hint.
pub fn doc(symbol: &str, format: Format) -> Result<String, (String, String)> {
    // The stdlib is evaluated only when a function name or a suggestion needs it.
    let cell = std::cell::OnceCell::new();
    let functions = || cell.get_or_init(stdlib);
    let head = symbol.split('.').next().unwrap_or(symbol);
    if !symbol.contains('.') || !head.starts_with("k8s") && !is_envoy(head) {
        if let Some(f) = functions().iter().find(|f| f.f.name == head) {
            return match symbol.split_once('.') {
                None => Ok(function_doc(f, format)),
                Some((_, param)) => match f.f.params.iter().find(|p| p.0 == param) {
                    Some(p) => Ok(param_doc(&f.f, p, format)),
                    None => Err((
                        format!("{} has no parameter `{param}`", f.f.name),
                        match did_you_mean(param, f.f.params.iter().map(|p| p.0.as_str())) {
                            Some(m) => format!("did you mean `{}.{m}`?", f.f.name),
                            None => format!("`skyc doc {}` lists its parameters", f.f.name),
                        },
                    )),
                },
            };
        }
    }
    if head == "crd" {
        let index = project_crds()?;
        return crd_doc(&index, symbol, format);
    }
    // The schema the symbol's root names: Envoy's (decoded on demand) or Kubernetes'.
    let s = if is_envoy(head) {
        &skyc_schema::envoy::envoy().schema
    } else {
        schema()
    };
    if let Some(t) = s.by_path(symbol) {
        return Ok(type_doc(t, format));
    }
    if let Some((parent, field)) = symbol.rsplit_once('.') {
        if let Some(t) = s.by_path(parent) {
            return field_or_suggestion(t, field, format);
        }
    }
    let prefix = format!("{}.", symbol.trim_end_matches('.'));
    let under: Vec<_> = s
        .types()
        .iter()
        .filter(|t| t.path.starts_with(&prefix))
        .collect();
    if !under.is_empty() {
        return Ok(namespace_doc(symbol, &under, format));
    }
    let paths = s
        .types()
        .iter()
        .map(|t| t.path.as_str())
        .chain(functions().iter().map(|f| f.f.name.as_str()));
    Err((
        format!("no stdlib function, constructor or namespace named `{symbol}`"),
        match did_you_mean(symbol, paths) {
            Some(m) => format!("did you mean `{m}`?"),
            None => "`skyc doc` lists the stdlib functions and the namespaces; constructors are named like `k8s.apps.v1.Deployment`".into(),
        },
    ))
}

/// The documentation of a `crd.…` symbol: the project's custom resources (`crd`, or a group
/// or version under it), a kind with its versions, a type, or a field.
fn crd_doc(
    index: &skyc_core::CrdIndex,
    symbol: &str,
    format: Format,
) -> Result<String, (String, String)> {
    if let Some(t) = index.type_by_path(symbol) {
        let mut out = type_doc(t, format);
        if let Some(v) = index.by_path(symbol) {
            out.push_str(&crd_versions(v, format));
        }
        return Ok(out);
    }
    if let Some((parent, field)) = symbol.rsplit_once('.') {
        if let Some(t) = index.type_by_path(parent) {
            return field_or_suggestion(t, field, format);
        }
    }
    // A namespace: the kinds under it (their nested types have no constructors).
    let versions = index.versions();
    if let Some(d) = index.take_problems().into_iter().find(|d| d.is_error()) {
        return Err(as_error(d));
    }
    let prefix = format!("{}.", symbol.trim_end_matches('.'));
    let kinds: Vec<&skyc_schema::MessageType> = versions
        .iter()
        .map(|v| skyc_schema::lookup(v.ty))
        .filter(|t| symbol == "crd" || t.path.starts_with(&prefix))
        .collect();
    if !kinds.is_empty() {
        return Ok(namespace_doc(symbol, &kinds, format));
    }
    let paths: Vec<&str> = versions
        .iter()
        .map(|v| skyc_schema::lookup(v.ty).path.as_str())
        .collect();
    Err((
        format!("the project has no custom resource named `{symbol}`"),
        match did_you_mean(symbol, paths) {
            Some(m) => format!("did you mean `{m}`?"),
            None => "`skyc doc crd` lists the project's custom resources".into(),
        },
    ))
}

/// The custom resources of the project around the working directory (`[crds] paths` in the
/// `sky.toml` found there or above).
fn project_crds() -> Result<std::sync::Arc<skyc_core::CrdIndex>, (String, String)> {
    let here = std::env::current_dir()
        .map_err(|e| {
            (
                format!("cannot read the working directory: {e}"),
                String::new(),
            )
        })?
        .join("sky.toml");
    let (index, problems) = crate::project::project_crds(&here);
    if let Some(d) = problems.into_iter().find(|d| d.is_error()) {
        return Err(as_error(d));
    }
    index.ok_or_else(|| {
        let root = skyc_core::DiskWorld::find_root(&here);
        (
            format!("the project at {} declares no CRDs", root.display()),
            "list the CRD files in sky.toml, `[crds] paths = [\"crds/\"]`, and run `skyc doc crd` in the project".to_string(),
        )
    })
}

/// A problem with the project's CRDs as `skyc doc`'s error: the message with where, and help.
fn as_error(d: skyc_diag::Diagnostic) -> (String, String) {
    let at = d
        .span
        .as_ref()
        .map(|s| format!(" ({}:{}:{})", s.file, s.start.line, s.start.column))
        .unwrap_or_default();
    (
        format!("{}{at}", d.message),
        d.help
            .unwrap_or_else(|| "`skyc check` shows the problem".into()),
    )
}

/// The versions of a custom resource's kind: which is stored, served, deprecated; and the
/// CEL rules of this version, which skyc does not check.
fn crd_versions(v: &skyc_schema::crd::CrdVersion, format: Format) -> String {
    let set = skyc_schema::crd::registered(v.ty.source());
    let states: Vec<String> = set
        .map(|s| s.kind_versions(&v.group, &v.kind))
        .unwrap_or_default()
        .iter()
        .map(|x| {
            let mut s = Vec::new();
            if x.storage {
                s.push("storage");
            }
            if !x.served {
                s.push("not served");
            }
            if x.deprecated.is_some() {
                s.push("deprecated");
            }
            let mark = if x.version == v.version {
                " (this one)"
            } else {
                ""
            };
            if s.is_empty() {
                format!("{}{mark}", x.version)
            } else {
                format!("{} [{}]{mark}", x.version, s.join(", "))
            }
        })
        .collect();
    let mut out = String::new();
    match format {
        Format::Text => {
            let _ = writeln!(
                out,
                "
Versions: {}",
                states.join(", ")
            );
            let _ = writeln!(out, "Declared in {}:{}", v.file, v.line);
            if !v.cel_rules.is_empty() {
                let _ = writeln!(
                    out,
                    "
CEL rules (checked by the API server, not by skyc):"
                );
                for r in &v.cel_rules {
                    let _ = writeln!(out, "  {r}");
                }
            }
        }
        Format::Markdown => {
            let _ = writeln!(
                out,
                "
Versions: {}.
",
                states.join(", ")
            );
            if !v.cel_rules.is_empty() {
                let _ = writeln!(
                    out,
                    "CEL rules (checked by the API server, not by skyc):
"
                );
                for r in &v.cel_rules {
                    let _ = writeln!(out, "- `{r}`");
                }
            }
        }
    }
    out
}

/// The documentation of field `field` of `t`, or the closest field's name.
fn field_or_suggestion(
    t: &skyc_schema::MessageType,
    field: &str,
    format: Format,
) -> Result<String, (String, String)> {
    match t.field(field) {
        Some((_, f)) => Ok(field_doc(t, f, format)),
        None => Err((
            format!("{} has no field `{field}`", t.path),
            match did_you_mean(field, t.fields.iter().map(|f| &*f.name)) {
                Some(m) => format!("did you mean `{}.{m}`?", t.path),
                None => format!("`skyc doc {}` lists its fields", t.path),
            },
        )),
    }
}

fn is_envoy(root: &str) -> bool {
    skyc_schema::envoy::ROOTS.contains(&root)
}

// ---------------------------------------------------------------------------------------------
// The stdlib.

/// A public stdlib function, documented once: under the module that defines it, with the
/// modules that deliberately re-export it (`cron_job = _cron_job` in `service.sky`; a symbol
/// a module merely loads for its own use is loadable from it too, but not worth mentioning).
struct Function {
    f: StdlibFunction,
    also_in: Vec<String>,
}

/// Every public stdlib function, by name.
fn stdlib() -> Vec<Function> {
    let all = skyc_core::eval::stdlib_functions();
    let defines = |f: &StdlibFunction| {
        skyc_stdlib::module(&f.module).is_some_and(|src| {
            let def = format!("def {}(", f.name);
            src.starts_with(&def) || src.contains(&format!("\n{def}"))
        })
    };
    let mut out: Vec<Function> = Vec::new();
    let (defined, aliases): (Vec<_>, Vec<_>) = all.into_iter().partition(defines);
    for f in defined {
        if !out.iter().any(|o| o.f.name == f.name) {
            out.push(Function {
                f,
                also_in: Vec::new(),
            });
        }
    }
    let reexports = |f: &StdlibFunction| {
        skyc_stdlib::module(&f.module).is_some_and(|src| src.contains(&format!("\n{} = ", f.name)))
    };
    for f in aliases {
        match out.iter_mut().find(|o| o.f.name == f.name) {
            Some(o) if reexports(&f) => o.also_in.push(f.module),
            Some(_) => {}
            None => out.push(Function {
                f,
                also_in: Vec::new(),
            }),
        }
    }
    out.sort_by(|a, b| a.f.name.cmp(&b.f.name));
    out
}

/// The modules in reading order: the ones most configs load first, then any others.
fn modules(functions: &[Function]) -> Vec<String> {
    const ORDER: &[&str] = &[
        "service.sky",
        "cron.sky",
        "mesh.sky",
        "clusters.sky",
        "workload.sky",
    ];
    let mut all: Vec<String> = functions.iter().map(|f| f.f.module.clone()).collect();
    all.sort_by_key(|m| {
        (
            ORDER.iter().position(|o| o == m).unwrap_or(ORDER.len()),
            m.clone(),
        )
    });
    all.dedup();
    all
}

/// `name: type = default` of each parameter, on one line when short, else one per line.
fn signature(f: &StdlibFunction) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|(name, ty, default, _)| match default {
            Some(d) => format!("{name}: {ty} = {d}"),
            None => format!("{name}: {ty}"),
        })
        .collect();
    let one_line = format!("{}({}) -> {}", f.name, params.join(", "), f.returns);
    if one_line.len() <= 88 {
        return one_line;
    }
    let mut out = format!("{}(\n", f.name);
    for p in params {
        let _ = writeln!(out, "    {p},");
    }
    let _ = write!(out, ") -> {}", f.returns);
    out
}

fn load_line(f: &StdlibFunction) -> String {
    format!("load(\"@stdlib//{}\", \"{}\")", f.module, f.name)
}

fn function_doc(func: &Function, format: Format) -> String {
    let f = &func.f;
    let example = example(f);
    let mut out = String::new();
    match format {
        Format::Text => {
            let _ = writeln!(out, "{}", signature(f));
            let _ = writeln!(out, "{}", load_line(f));
            for m in &func.also_in {
                let _ = writeln!(out, "  (also: load(\"@stdlib//{m}\", \"{}\"))", f.name);
            }
            let _ = writeln!(out, "\n{}", f.summary);
            if !f.details.is_empty() {
                let _ = writeln!(out, "\n{}", f.details);
            }
            if !f.params.is_empty() {
                let _ = writeln!(out, "\nParameters:");
                for p in &f.params {
                    let _ = writeln!(out, "  {}", param_line(p));
                    if !p.3.is_empty() {
                        let _ = writeln!(out, "      {}", p.3);
                    }
                }
            }
            if !f.module_docs.is_empty() {
                let _ = writeln!(out, "\nAbout @stdlib//{}:\n{}", f.module, f.module_docs);
            }
            let _ = writeln!(out);
            out.push_str(&example.text());
        }
        Format::Markdown => out.push_str(&function_markdown(func, &example, "#")),
    }
    out
}

/// `name: type = default`, or `name: type (required)`.
fn param_line((name, ty, default, _): &(String, String, Option<String>, String)) -> String {
    match default {
        Some(d) => format!("{name}: {ty} = {d}"),
        None => format!("{name}: {ty} (required)"),
    }
}

fn param_doc(
    f: &StdlibFunction,
    p: &(String, String, Option<String>, String),
    format: Format,
) -> String {
    match format {
        Format::Text => {
            let mut out = format!("{}.{}\n", f.name, param_line(p));
            if !p.3.is_empty() {
                let _ = writeln!(out, "\n{}", p.3);
            }
            let _ = writeln!(out, "\nsee: skyc doc {}", f.name);
            out
        }
        Format::Markdown => {
            let default = match &p.2 {
                Some(d) => format!(" = {d}"),
                None => " (required)".into(),
            };
            format!(
                "### `{}.{}`\n\n`{}: {}`{default}\n\n{}\n",
                f.name, p.0, p.0, p.1, p.3
            )
        }
    }
}

/// One function's section of the markdown reference; `level` is the heading level of the
/// function (`#` alone, `###` in the reference).
fn function_markdown(func: &Function, example: &Example, level: &str) -> String {
    let f = &func.f;
    let mut out = String::new();
    let _ = writeln!(out, "{level} `{}`\n", f.name);
    let _ = writeln!(
        out,
        "```python\n{}\n\n{}\n```\n",
        load_line(f),
        signature(f)
    );
    if !func.also_in.is_empty() {
        let also: Vec<String> = func
            .also_in
            .iter()
            .map(|m| format!("`@stdlib//{m}`"))
            .collect();
        let _ = writeln!(out, "Also loadable from {}.\n", also.join(", "));
    }
    let _ = writeln!(out, "{}\n", f.summary);
    if !f.details.is_empty() {
        let _ = writeln!(out, "{}\n", f.details);
    }
    if !f.params.is_empty() {
        let _ = writeln!(out, "| parameter | type | default | description |");
        let _ = writeln!(out, "|---|---|---|---|");
        for (name, ty, default, docs) in &f.params {
            let default = match default {
                Some(d) => format!("`{}`", cell(d)),
                None => "required".into(),
            };
            let _ = writeln!(
                out,
                "| `{name}` | `{}` | {default} | {} |",
                cell(ty),
                cell(docs)
            );
        }
        let _ = writeln!(out);
    }
    out.push_str(&example.markdown());
    out
}

/// Text for a markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `skyc doc` without a symbol.
fn overview(format: Format) -> String {
    let functions = stdlib();
    let k8s = namespaces(schema().types());
    let envoy = namespaces(skyc_schema::envoy::envoy().schema.types());
    // Envoy has hundreds of packages: one line per top two levels (`envoy.config`).
    let mut envoy_groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ns in &envoy {
        let mut parts = ns.splitn(3, '.');
        let group = match (parts.next(), parts.next()) {
            (Some(a), Some(b)) => format!("{a}.{b}"),
            (Some(a), None) => a.to_string(),
            _ => continue,
        };
        let rest = parts.next().unwrap_or("").to_string();
        envoy_groups.entry(group).or_default().push(rest);
    }
    let mut out = String::new();
    match format {
        Format::Text => {
            let _ = writeln!(out, "Stdlib functions (`skyc doc NAME`):");
            for m in modules(&functions) {
                for func in functions.iter().filter(|f| f.f.module == m) {
                    let _ = writeln!(
                        out,
                        "  {:<18} {:<14} {}",
                        func.f.name,
                        m,
                        first_sentence(&func.f.summary)
                    );
                }
            }
            let _ = writeln!(
                out,
                "\nKubernetes namespaces (`skyc doc k8s.apps.v1` lists its types):"
            );
            for ns in &k8s {
                let _ = writeln!(out, "  {ns}");
            }
            let _ = writeln!(
                out,
                "\nEnvoy namespaces (`skyc doc envoy.config.cluster.v3` lists its types):"
            );
            for (group, subs) in &envoy_groups {
                let subs: Vec<&str> = subs
                    .iter()
                    .map(String::as_str)
                    .filter(|s| !s.is_empty())
                    .collect();
                if subs.is_empty() {
                    let _ = writeln!(out, "  {group}");
                } else {
                    let line = format!("{group}.{{{}}}", subs.join(", "));
                    let _ = writeln!(out, "{}", wrap(&line, "  ", "      ", 100));
                }
            }
            let _ = writeln!(
                out,
                "\nCustom resources: `skyc doc crd`, in a project that declares CRDs (`[crds] paths` in sky.toml)."
            );
        }
        Format::Markdown => {
            let _ = writeln!(out, "# skyc doc\n\n## Stdlib functions\n");
            let _ = writeln!(out, "| function | module | summary |\n|---|---|---|");
            for m in modules(&functions) {
                for func in functions.iter().filter(|f| f.f.module == m) {
                    let _ = writeln!(
                        out,
                        "| `{}` | `@stdlib//{m}` | {} |",
                        func.f.name,
                        cell(&first_sentence(&func.f.summary))
                    );
                }
            }
            let _ = writeln!(out, "\n## Kubernetes namespaces\n");
            for ns in &k8s {
                let _ = writeln!(out, "- `{ns}`");
            }
            let _ = writeln!(out, "\n## Envoy namespaces\n");
            for ns in &envoy {
                let _ = writeln!(out, "- `{ns}`");
            }
            let _ = writeln!(
                out,
                "\n## Custom resources\n\n`skyc doc crd`, in a project that declares CRDs (`[crds] paths` in sky.toml)."
            );
        }
    }
    out
}

/// `text` in lines of at most `width` columns (breaking after spaces), the first indented by
/// `first`, the others by `rest`.
fn wrap(text: &str, first: &str, rest: &str, width: usize) -> String {
    let mut out = String::from(first);
    let mut column = first.len();
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 && column + 1 + word.len() > width {
            out.push('\n');
            out.push_str(rest);
            column = rest.len();
        } else if i > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += word.len();
    }
    out
}

/// The namespaces of a schema's types: the path up to the first capitalized segment.
fn namespaces(types: &[skyc_schema::MessageType]) -> Vec<String> {
    let mut out: Vec<String> = types
        .iter()
        .map(|t| {
            t.path
                .split('.')
                .take_while(|s| !s.starts_with(|c: char| c.is_ascii_uppercase()))
                .collect::<Vec<_>>()
                .join(".")
        })
        .filter(|ns| !ns.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `skyc doc --stdlib`: every public function, grouped by module.
fn stdlib_reference(format: Format) -> String {
    let functions = stdlib();
    let mut out = String::new();
    match format {
        Format::Text => {
            for m in modules(&functions) {
                for func in functions.iter().filter(|f| f.f.module == m) {
                    out.push_str(&"=".repeat(88));
                    out.push('\n');
                    out.push_str(&function_doc(func, Format::Text));
                }
            }
        }
        Format::Markdown => {
            let _ = writeln!(out, "# The skyc standard library\n");
            let _ = writeln!(
                out,
                "<!-- Generated by `skyc doc --stdlib --format markdown > docs/stdlib.md`; do not edit. \
                 A test checks it is current: `SKYC_UPDATE_DOCS=1 cargo test -p skyc --test docs` regenerates it. -->\n"
            );
            let _ = writeln!(
                out,
                "Every public function of `@stdlib//`, with its parameters and the objects a minimal \
                 call generates. The examples are rendered by skyc itself when this page is \
                 generated; `skyc doc NAME` shows the same in a terminal.\n"
            );
            for m in modules(&functions) {
                let names: Vec<String> = functions
                    .iter()
                    .filter(|f| f.f.module == m)
                    .map(|f| format!("[`{0}`](#{0})", f.f.name))
                    .collect();
                let _ = writeln!(out, "- `@stdlib//{m}`: {}", names.join(", "));
            }
            let _ = writeln!(out);
            for m in modules(&functions) {
                let _ = writeln!(out, "## `@stdlib//{m}`\n");
                if let Some(func) = functions.iter().find(|f| f.f.module == m) {
                    if !func.f.module_docs.is_empty() {
                        let _ = writeln!(out, "{}\n", func.f.module_docs.trim());
                    }
                }
                for func in functions.iter().filter(|f| f.f.module == m) {
                    out.push_str(&function_markdown(func, &example(&func.f), "###"));
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Live examples: a minimal call, compiled through the whole pipeline.

/// What a minimal call of a stdlib function gives.
enum Example {
    /// It generates objects (rendered and validated like any config).
    Objects {
        call: String,
        objects: Vec<skyc_core::Object>,
    },
    /// It returns a value that is not objects (`einhorn`, `seconds`, …): its `repr`.
    Value { call: String, value: String },
    /// The call failed (a bug in the stdlib or in the example values).
    Failed { call: String, problems: Vec<String> },
}

/// Example values for parameters, by name, for the types they fit (a prefix of the type; empty
/// fits all). Parameters not listed get a value of their type.
const EXAMPLES: &[(&str, &str, &str)] = &[
    ("name", "str", "\"example\""),
    ("owner", "str", "\"team\""),
    ("image", "str", "\"registry.example.com/app:1.0.0\""),
    ("schedule", "str", "\"0 3 * * *\""),
    ("command", "list", "[\"run\"]"),
    ("script", "str", "\"app/server.rb\""),
    ("cpu", "", "\"500m\""),
    ("mem", "", "\"512Mi\""),
    ("duration", "str", "\"1h30m\""),
    ("clusters", "", "[\"k8s-west\"]"),
    (
        "objects",
        "list",
        "[k8s.core.v1.ConfigMap(metadata = {\"name\": \"example\"})]",
    ),
    (
        "objects",
        "",
        "k8s.core.v1.ConfigMap(metadata = {\"name\": \"example\"})",
    ),
    ("ctx", "", "ctx"),
    ("flag", "str", "\"move_example\""),
    ("source", "str", "\"legacy\""),
    ("target", "str", "\"k8s-west\""),
    (
        "labels",
        "dict",
        "{\"app.kubernetes.io/name\": \"example\"}",
    ),
    (
        "selector",
        "dict",
        "{\"app.kubernetes.io/name\": \"example\"}",
    ),
    (
        "meta",
        "dict",
        "{\"name\": \"example\", \"labels\": {\"app.kubernetes.io/name\": \"example\"}}",
    ),
    ("upstreams", "list", "[upstream(name = \"ledger\")]"),
    ("ingress", "", "ingress()"),
    ("config_map", "str", "\"example-envoy\""),
    ("port", "int", "8080"),
    ("app_port", "int", "8080"),
    ("inbound_port", "", "15001"),
];

/// A Starlark expression of type `ty` for the parameter `name`.
fn example_value(name: &str, ty: &str) -> String {
    if let Some((_, _, v)) = EXAMPLES
        .iter()
        .find(|(n, t, _)| *n == name && ty.starts_with(t))
    {
        return v.to_string();
    }
    let alternatives = split_union(ty);
    if alternatives.contains(&"None") {
        return "None".into();
    }
    match alternatives.first().copied().unwrap_or("") {
        "str" => "\"example\"".into(),
        "int" => "1".into(),
        "float" => "1.0".into(),
        "bool" => "False".into(),
        "Quantity" => "\"1\"".into(),
        t if t.starts_with("list") => "[]".into(),
        t if t.starts_with("dict") => "{}".into(),
        t if t.starts_with("tuple") => "()".into(),
        _ => "None".into(),
    }
}

/// `str | None` → [`str`, `None`]; `dict[str, int | None]` stays whole.
fn split_union(ty: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in ty.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            '|' if depth == 0 => {
                out.push(ty[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(ty[start..].trim());
    out
}

/// Calls `f` with its required parameters only, through the whole pipeline.
fn example(f: &StdlibFunction) -> Example {
    let args: Vec<String> = f
        .params
        .iter()
        .filter(|p| p.2.is_none())
        .map(|(name, ty, _, _)| format!("{name} = {}", example_value(name, ty)))
        .collect();
    let call = format!("{}({})", f.name, args.join(", "));
    let mut header = load_line(f);
    let joined = args.join(", ");
    let helpers: Vec<&str> = ["upstream", "ingress"]
        .into_iter()
        .filter(|h| *h != f.name && joined.contains(&format!("{h}(")))
        .collect();
    if !helpers.is_empty() {
        let names: Vec<String> = helpers.iter().map(|h| format!("\"{h}\"")).collect();
        let _ = write!(
            header,
            "\nload(\"@stdlib//mesh.sky\", {})",
            names.join(", ")
        );
    }
    let compile = |body: &str| {
        let source = format!("{header}\n\ndef main(ctx):\n{body}\n");
        let world = skyc_core::MemoryWorld::new([("example.sky", source.as_str())]);
        skyc_core::compile(&world, "example.sky", &skyc_core::Options::default())
    };
    let problems = |o: &skyc_core::Outcome| -> Vec<String> {
        o.diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect()
    };
    let as_objects = compile(&format!("    return {call}"));
    if !as_objects.has_errors() && !as_objects.objects.is_empty() {
        return Example::Objects {
            call,
            objects: as_objects.objects,
        };
    }
    // Not objects (SKY0308: `main` returned something else): show the value instead.
    let not_objects = as_objects
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .all(|d| d.code == skyc_diag::codes::SKY0308.code);
    if !not_objects {
        return Example::Failed {
            problems: problems(&as_objects),
            call,
        };
    }
    let as_value = compile(&format!("    print(repr({call}))\n    return []"));
    if as_value.has_errors() {
        return Example::Failed {
            problems: problems(&as_value),
            call,
        };
    }
    let value = as_value
        .prints
        .iter()
        .map(|p| p.strip_prefix("example.sky: ").unwrap_or(p))
        .collect::<Vec<_>>()
        .join("\n");
    Example::Value {
        call,
        value: pretty_repr(&value, 88),
    }
}

impl Example {
    fn call(&self) -> &str {
        match self {
            Example::Objects { call, .. }
            | Example::Value { call, .. }
            | Example::Failed { call, .. } => call,
        }
    }

    /// The call, on one line or one argument per line.
    fn call_block(&self) -> String {
        pretty_repr(self.call(), 88)
    }

    fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Example (a minimal call, rendered now):\n\n{}\n",
            indent(&self.call_block(), "  ")
        );
        match self {
            Example::Objects { objects, .. } => {
                let _ = writeln!(out, "generates:");
                for o in objects {
                    let _ = writeln!(out, "  {}", object_line(o));
                }
                let _ = writeln!(out);
                let _ = write!(
                    out,
                    "{}",
                    skyc_core::emit::stream(objects, skyc_core::emit::Format::Yaml)
                );
            }
            Example::Value { value, .. } => {
                let _ = writeln!(out, "returns:\n\n{}", indent(value, "  "));
            }
            Example::Failed { problems, .. } => {
                let _ = writeln!(out, "fails (a bug in skyc: please report it):");
                for p in problems {
                    let _ = writeln!(out, "  {p}");
                }
            }
        }
        out
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "**Example.** The minimal call\n\n```python\n{}\n```\n",
            self.call_block()
        );
        match self {
            Example::Objects { objects, .. } => {
                let _ = writeln!(out, "generates:\n");
                for o in objects {
                    let _ = writeln!(out, "- {}", object_line(o));
                }
                let _ = writeln!(
                    out,
                    "\n<details><summary>YAML</summary>\n\n```yaml\n{}```\n\n</details>\n",
                    skyc_core::emit::stream(objects, skyc_core::emit::Format::Yaml)
                );
            }
            Example::Value { value, .. } => {
                let _ = writeln!(out, "returns:\n\n```python\n{value}\n```\n");
            }
            Example::Failed { problems, .. } => {
                let _ = writeln!(out, "fails (a bug in skyc: please report it):\n");
                for p in problems {
                    let _ = writeln!(out, "- {p}");
                }
                let _ = writeln!(out);
            }
        }
        out
    }
}

/// `apps/v1 Deployment example` (with `namespace/` when it has one).
fn object_line(o: &skyc_core::Object) -> String {
    let ns = o
        .namespace
        .as_deref()
        .map(|n| format!("{n}/"))
        .unwrap_or_default();
    format!("{} {} {ns}{}", o.api_version, o.kind, o.name)
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{by}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Breaks a Starlark `repr` (or call) that is wider than `width` at its brackets: each group
/// that does not fit gets one element per line.
fn pretty_repr(text: &str, width: usize) -> String {
    let parts = parse_parts(&mut text.char_indices().peekable(), text, None);
    let mut out = String::new();
    write_parts(&parts, 0, width, &mut out);
    out
}

enum Part {
    Text(String),
    Group {
        open: char,
        items: Vec<Vec<Part>>,
        close: char,
    },
}

/// Parts up to the closing bracket `until` (consumed by the caller's group).
fn parse_parts(
    chars: &mut std::iter::Peekable<std::str::CharIndices>,
    text: &str,
    until: Option<char>,
) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    while let Some(&(_, c)) = chars.peek() {
        match c {
            '"' | '\'' => {
                chars.next();
                cur.push(c);
                while let Some((_, d)) = chars.next() {
                    cur.push(d);
                    if d == '\\' {
                        if let Some((_, e)) = chars.next() {
                            cur.push(e);
                        }
                    } else if d == c {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                chars.next();
                if !cur.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut cur)));
                }
                let close = match c {
                    '(' => ')',
                    '[' => ']',
                    _ => '}',
                };
                let mut items = Vec::new();
                loop {
                    let item = parse_parts(chars, text, Some(close));
                    let end = chars.next().map(|(_, e)| e);
                    if !item.is_empty() {
                        items.push(item);
                    }
                    if end != Some(',') {
                        break;
                    }
                }
                parts.push(Part::Group {
                    open: c,
                    items,
                    close,
                });
            }
            ',' if until.is_some() => break,
            c if Some(c) == until => break,
            ' ' if cur.is_empty() && parts.is_empty() => {
                chars.next();
            }
            _ => {
                chars.next();
                cur.push(c);
            }
        }
    }
    if !cur.is_empty() {
        parts.push(Part::Text(cur));
    }
    let _ = text;
    parts
}

fn flat(parts: &[Part]) -> String {
    let mut out = String::new();
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::Group { open, items, close } => {
                out.push(*open);
                out.push_str(&items.iter().map(|i| flat(i)).collect::<Vec<_>>().join(", "));
                out.push(*close);
            }
        }
    }
    out
}

fn write_parts(parts: &[Part], level: usize, width: usize, out: &mut String) {
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::Group { open, items, close } => {
                let column = out.len() - out.rfind('\n').map_or(0, |i| i + 1);
                let one_line = flat(std::slice::from_ref(p));
                if column + one_line.len() <= width || items.is_empty() {
                    out.push_str(&one_line);
                    continue;
                }
                out.push(*open);
                out.push('\n');
                for item in items {
                    out.push_str(&"    ".repeat(level + 1));
                    write_parts(item, level + 1, width, out);
                    out.push_str(",\n");
                }
                out.push_str(&"    ".repeat(level));
                out.push(*close);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schema types.

fn type_doc(t: &skyc_schema::MessageType, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Text => {
            let _ = writeln!(out, "{}  ({})", t.path, t.display);
            if let Some(g) = &t.gvk {
                let _ = writeln!(out, "apiVersion: {}  kind: {}", g.api_version(), g.kind);
            }
            if !t.description.is_empty() {
                let _ = writeln!(out, "\n{}", without_link_targets(t.description.trim()));
            }
            let _ = writeln!(out, "\nFields:");
            for f in &t.fields {
                let req = if f.required { ", required" } else { "" };
                let _ = writeln!(out, "  {:<32} {}{req}", f.name, f.ty.describe());
                let first = first_sentence(&without_link_targets(&f.description));
                if !first.is_empty() {
                    let _ = writeln!(out, "      {first}");
                }
            }
        }
        Format::Markdown => {
            let _ = writeln!(out, "# `{}`\n", t.path);
            match &t.gvk {
                Some(g) => {
                    let _ = writeln!(
                        out,
                        "`apiVersion: {}`, `kind: {}`\n",
                        g.api_version(),
                        g.kind
                    );
                }
                None => {
                    let _ = writeln!(out, "{}\n", t.display);
                }
            }
            if !t.description.is_empty() {
                let _ = writeln!(out, "{}\n", without_link_targets(t.description.trim()));
            }
            let _ = writeln!(out, "| field | type | description |\n|---|---|---|");
            for f in &t.fields {
                let req = if f.required { ", required" } else { "" };
                let _ = writeln!(
                    out,
                    "| `{}` | {}{req} | {} |",
                    f.name,
                    cell(&f.ty.describe()),
                    cell(&first_sentence(&without_link_targets(&f.description)))
                );
            }
        }
    }
    out
}

fn field_doc(t: &skyc_schema::MessageType, f: &skyc_schema::Field, format: Format) -> String {
    let mut out = String::new();
    let req = if f.required { ", required" } else { "" };
    let see = message_of(&f.ty).map(|id| skyc_schema::lookup(id).path.clone());
    let allowed = match &f.ty {
        skyc_schema::FieldType::String {
            enum_values: Some(v),
        } => Some(v.join(", ")),
        _ => None,
    };
    match format {
        Format::Text => {
            let _ = writeln!(out, "{}.{}: {}{req}", t.path, f.name, f.ty.describe());
            if let Some(p) = see {
                let _ = writeln!(out, "see: skyc doc {p}");
            }
            if let Some(v) = allowed {
                let _ = writeln!(out, "allowed values: {v}");
            }
            if !f.description.is_empty() {
                let _ = writeln!(out, "\n{}", without_link_targets(f.description.trim()));
            }
        }
        Format::Markdown => {
            let _ = writeln!(
                out,
                "# `{}.{}`\n\n{}{req}\n",
                t.path,
                f.name,
                f.ty.describe()
            );
            if let Some(p) = see {
                let _ = writeln!(out, "See `{p}` (`skyc doc {p}`).\n");
            }
            if let Some(v) = allowed {
                let _ = writeln!(out, "Allowed values: {v}.\n");
            }
            if !f.description.is_empty() {
                let _ = writeln!(out, "{}", without_link_targets(f.description.trim()));
            }
        }
    }
    out
}

fn namespace_doc(symbol: &str, types: &[&skyc_schema::MessageType], format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Text => {
            for t in types {
                let _ = writeln!(
                    out,
                    "{:<60} {}",
                    t.path,
                    first_sentence(&without_link_targets(&t.description))
                );
            }
        }
        Format::Markdown => {
            let _ = writeln!(out, "# `{symbol}`\n\n| type | description |\n|---|---|");
            for t in types {
                let _ = writeln!(
                    out,
                    "| `{}` | {} |",
                    t.path,
                    cell(&first_sentence(&without_link_targets(&t.description)))
                );
            }
        }
    }
    out
}

/// A schema description without the targets of Envoy's documentation links:
/// `STRICT_DNS<envoy_v3_api_enum_value_config.cluster.v3.Cluster.DiscoveryType.STRICT_DNS>` →
/// `STRICT_DNS` (a `<…>` right after a word, holding one word with an `_` and no spaces).
fn without_link_targets(d: &str) -> String {
    let mut out = String::with_capacity(d.len());
    let mut rest = d;
    while let Some(i) = rest.find('<') {
        let after_word = rest[..i]
            .chars()
            .next_back()
            .is_some_and(|c| !c.is_whitespace());
        let target = rest[i + 1..].find('>').map(|j| &rest[i + 1..i + 1 + j]);
        match target {
            Some(t) if after_word && t.contains('_') && !t.contains(char::is_whitespace) => {
                out.push_str(&rest[..i]);
                rest = &rest[i + t.len() + 2..];
            }
            _ => {
                out.push_str(&rest[..=i]);
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The first sentence of a description, for one-line listings: the first paragraph's lines
/// joined, up to the first ". " that is not part of "e.g." or "i.e.".
fn first_sentence(d: &str) -> String {
    let paragraph = d.trim().split("\n\n").next().unwrap_or("");
    let d = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut search = 0;
    let end = loop {
        match d[search..].find(". ").map(|i| search + i) {
            Some(i) if d[..i].ends_with("e.g") || d[..i].ends_with("i.e") => search = i + 2,
            Some(i) => break i + 1,
            None => break d.len(),
        }
    };
    d[..end].to_string()
}

/// The message type a field holds (directly, or as list or map items).
fn message_of(ty: &skyc_schema::FieldType) -> Option<skyc_schema::TypeId> {
    match ty {
        skyc_schema::FieldType::Message(id) => Some(*id),
        skyc_schema::FieldType::List(t) | skyc_schema::FieldType::Map(t) => message_of(t),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_targets_are_dropped() {
        assert_eq!(
            without_link_targets(
                "either STRICT_DNS<envoy_v3_api_enum_value_config.cluster.v3.Cluster.DiscoveryType.STRICT_DNS>, or not"
            ),
            "either STRICT_DNS, or not"
        );
        // Not link targets: placeholders and comparisons.
        for kept in ["`$<NAME>_URL`", "a < b_c > d", "List<T>"] {
            assert_eq!(without_link_targets(kept), kept);
        }
    }

    #[test]
    fn first_sentences() {
        assert_eq!(first_sentence("One. Two."), "One.");
        assert_eq!(
            first_sentence("Wrapped\nline, e.g. this. Next."),
            "Wrapped line, e.g. this."
        );
        assert_eq!(first_sentence("Para one\n\nPara two."), "Para one");
        assert_eq!(first_sentence(""), "");
    }

    #[test]
    fn example_values_follow_names_then_types() {
        assert_eq!(example_value("schedule", "str"), "\"0 3 * * *\"");
        assert_eq!(example_value("other", "str"), "\"example\"");
        assert_eq!(example_value("other", "None | str"), "None");
        assert_eq!(example_value("n", "int"), "1");
        assert_eq!(example_value("xs", "list[str]"), "[]");
        assert_eq!(example_value("m", "dict[str, int | None]"), "{}");
        assert!(example_value("objects", "list[typing.Any]").starts_with('['));
        assert!(example_value("objects", "typing.Any").starts_with("k8s."));
        assert_eq!(
            split_union("dict[str, int | None] | None"),
            ["dict[str, int | None]", "None"]
        );
    }

    #[test]
    fn long_reprs_break_at_brackets() {
        assert_eq!(
            pretty_repr("f(a = 1, b = [2, 3])", 88),
            "f(a = 1, b = [2, 3])"
        );
        assert_eq!(
            pretty_repr("f(a = \"x, (y\", b = [2, 3])", 16),
            "f(\n    a = \"x, (y\",\n    b = [2, 3],\n)"
        );
        assert_eq!(pretty_repr("[]", 1), "[]");
    }
}
