//! Static checks on the syntax tree that starlark does not make: recursion (off unless the
//! project enables it) and code at the top level of a file.

use skyc_diag::{codes, Diagnostic, Span};
use starlark::syntax::AstModule;
use starlark_syntax::codemap::CodeMap;
use starlark_syntax::syntax::ast::{AstExpr, AstStmt, ExprP, StmtP};
use starlark_syntax::syntax::module::AstModuleFields;
use starlark_syntax::syntax::uniplate::Visit;
use std::collections::{BTreeMap, BTreeSet};

fn walk_stmt<'a>(s: &'a AstStmt, f: &mut impl FnMut(&'a AstExpr)) {
    s.visit_children(|v| match v {
        Visit::Stmt(s) => walk_stmt(s, f),
        Visit::Expr(e) => walk_expr(e, f),
    });
}

fn walk_expr<'a>(e: &'a AstExpr, f: &mut impl FnMut(&'a AstExpr)) {
    f(e);
    e.visit_expr(|c| walk_expr(c, f));
}

fn top_level(stmt: &AstStmt) -> Vec<&AstStmt> {
    match &stmt.node {
        StmtP::Statements(xs) => xs.iter().flat_map(top_level).collect(),
        _ => vec![stmt],
    }
}

fn span(codemap: &CodeMap, s: starlark_syntax::codemap::Span) -> Span {
    Span::from_offsets(
        codemap.filename(),
        codemap.source(),
        s.begin().get() as usize,
        s.end().get() as usize,
    )
}

/// Reports calls that make a function (directly or through others of the same file) call
/// itself.
pub(crate) fn recursion(ast: &AstModule) -> Vec<Diagnostic> {
    let codemap = ast.codemap();
    let stmts = top_level(ast.statement());
    let defs: BTreeSet<&str> = stmts
        .iter()
        .filter_map(|s| match &s.node {
            StmtP::Def(d) => Some(d.name.node.ident.as_str()),
            _ => None,
        })
        .collect();
    // def name → [(callee, span of the call)]
    let mut calls: BTreeMap<&str, Vec<(&str, starlark_syntax::codemap::Span)>> = BTreeMap::new();
    for s in &stmts {
        if let StmtP::Def(d) = &s.node {
            let mut out = Vec::new();
            walk_stmt(&d.body, &mut |e| {
                if let ExprP::Call(f, _) = &e.node {
                    if let ExprP::Identifier(id) = &f.node {
                        if defs.contains(id.node.ident.as_str()) {
                            out.push((
                                defs.get(id.node.ident.as_str()).copied().unwrap_or(""),
                                e.span,
                            ));
                        }
                    }
                }
            });
            calls.insert(d.name.node.ident.as_str(), out);
        }
    }
    let mut diags = Vec::new();
    for (&def, edges) in &calls {
        for &(callee, call_span) in edges {
            // Does `callee` reach `def`?
            let mut seen = BTreeSet::new();
            let mut stack = vec![callee];
            let mut cycle = false;
            while let Some(n) = stack.pop() {
                if n == def {
                    cycle = true;
                    break;
                }
                if seen.insert(n) {
                    stack.extend(calls.get(n).into_iter().flatten().map(|(c, _)| *c));
                }
            }
            if cycle {
                let how = if callee == def {
                    format!("`{def}` calls itself")
                } else {
                    format!("`{def}` calls `{callee}`, which leads back to `{def}`")
                };
                diags.push(
                    Diagnostic::new(codes::SKY0306, format!("recursion is disabled: {how}"))
                        .with_span(span(codemap, call_span))
                        .with_help("use a `for` loop, or set `allow_recursion = true` under `[language]` in sky.toml"),
                );
            }
        }
    }
    diags
}

/// Warns about statements at the top level that run code (calls, loops, conditionals):
/// the static typechecker only checks `def` bodies.
pub(crate) fn top_level_code(ast: &AstModule) -> Vec<Diagnostic> {
    let codemap = ast.codemap();
    let mut diags = Vec::new();
    for s in top_level(ast.statement()) {
        let what = match &s.node {
            StmtP::Expression(e) if matches!(e.node, ExprP::Call(..)) => "a call",
            StmtP::For(_) => "a `for` loop",
            StmtP::If(..) | StmtP::IfElse(..) => "an `if` statement",
            _ => continue,
        };
        diags.push(
            Diagnostic::new(
                codes::SKY0312,
                format!("{what} at the top level runs without static type checks"),
            )
            .with_span(span(codemap, s.span))
            .with_help("move it into `main(ctx)` or another function"),
        );
    }
    diags
}

/// The dotted name of a callee (`k8s.apps.v1.Deployment`, `service`), if it is one.
fn dotted(e: &AstExpr) -> Option<String> {
    match &e.node {
        ExprP::Identifier(id) => Some(id.node.ident.clone()),
        ExprP::Dot(base, name) => Some(format!("{}.{}", dotted(base)?, name.node)),
        _ => None,
    }
}

/// The call with an argument at exactly `[begin, end)`: (callee, argument name — empty for a
/// positional one — and the span of the name or argument).
fn arg_at(
    ast: &AstModule,
    begin: u32,
    end: u32,
) -> Option<(String, String, starlark_syntax::codemap::Span)> {
    let mut found = None;
    walk_stmt(ast.statement(), &mut |e| {
        if found.is_some() {
            return;
        }
        if let ExprP::Call(f, args) = &e.node {
            for a in &args.args {
                if a.span.begin().get() != begin || a.span.end().get() != end {
                    continue;
                }
                let Some(callee) = dotted(f) else { continue };
                found = Some(match &a.node {
                    starlark_syntax::syntax::ast::ArgumentP::Named(name, _) => {
                        (callee, name.node.clone(), name.span)
                    }
                    _ => (callee, String::new(), a.span),
                });
            }
        }
    });
    found
}

/// Rewrites a typechecker error about a keyword argument into skyc's words: for a typed
/// constructor, an unknown field (with "did you mean") or a field of the wrong type, with the
/// field path; for other functions, the argument and function are named.
pub(crate) fn refine_type_error(
    ast: &AstModule,
    e: &starlark::Error,
    d: Diagnostic,
    crds: Option<&crate::crds::CrdIndex>,
) -> Diagnostic {
    let Some(fs) = e.span() else { return d };
    let Some((callee, arg, name_span)) = arg_at(ast, fs.span.begin().get(), fs.span.end().get())
    else {
        return d;
    };
    let codemap = ast.codemap();
    let unexpected = d.message.starts_with("Unexpected parameter named");
    let mismatch = d
        .message
        .strip_prefix("Expected type `")
        .and_then(|r| r.split_once("` but got `"))
        .map(|(want, got)| {
            let want = want
                .split(" | ")
                .filter(|t| *t != "None")
                .collect::<Vec<_>>()
                .join(" | ");
            (want, got.trim_end_matches('`').to_string())
        });
    let typed = skyc_schema::by_path(&callee)
        .or_else(|| crds.and_then(|index| index.type_by_path(&callee)));
    if let Some(t) = typed {
        if arg.is_empty() {
            return Diagnostic::new(
                codes::SKY0209,
                format!("{} takes keyword arguments only", t.path),
            )
            .with_span(span(codemap, name_span))
            .with_help("name the field, e.g. `metadata = ...`");
        }
        if unexpected {
            let mut out = Diagnostic::new(
                codes::SKY0203,
                format!("unknown field `{arg}` on {}", t.display),
            )
            .with_span(span(codemap, name_span))
            .with_field_path(&arg);
            out = match skyc_diag::did_you_mean(&arg, t.fields.iter().map(|f| &*f.name)) {
                Some(s) => out
                    .with_label(format!("did you mean `{s}`?"))
                    .with_help(format!("did you mean `{s}`?")),
                None => out.with_help(format!("`skyc doc {}` lists its fields", t.path)),
            };
            return out;
        }
        if let (Some((want, got)), Some((_, f))) = (&mismatch, t.field(&arg)) {
            return Diagnostic::new(
                codes::SKY0204,
                format!(
                    "`{arg}` of {} expects {}, got `{got}`",
                    t.display,
                    f.ty.describe()
                ),
            )
            .with_span(d.span.clone().unwrap_or_else(|| span(codemap, name_span)))
            .with_field_path(&arg)
            .with_help(static_hint(
                want,
                got,
                "types are checked before the file runs",
            ));
        }
        return d;
    }
    if arg.is_empty() {
        return d;
    }
    if unexpected {
        let mut d = d;
        d.message = format!("`{callee}` has no parameter `{arg}`");
        d.span = Some(span(codemap, name_span));
        return d.with_help(format!(
            "check the spelling; `skyc doc {callee}` lists its parameters"
        ));
    }
    if let Some((want, got)) = mismatch {
        let mut d = d;
        d.message = format!("argument `{arg}` of `{callee}` expects `{want}`, got `{got}`");
        d.help = Some(static_hint(
            &want,
            &got,
            d.help.as_deref().unwrap_or_default(),
        ));
        return d;
    }
    d
}

/// A hint for a value of static type `got` where another was expected.
fn static_hint(want: &str, got: &str, fallback: &str) -> String {
    let wants = |t: &str| want.split(" | ").any(|w| w == t);
    if got == "str" && wants("int") {
        "write the number without quotes".to_string()
    } else if got == "int" && wants("str") {
        "quote it to make a string".to_string()
    } else {
        fallback.to_string()
    }
}

/// Names that are defined nowhere (not assigned, loaded, a parameter or a global) and are
/// changed in place as a statement (`x.append(v)`, `x.insert(i, v)`, `x.extend(v)`): starlark
/// 0.14's typechecker panics on them (it expects every such name resolved), so they are
/// reported here, as the typechecker reports other undefined names, and the file is not
/// typechecked. Found by the `eval` fuzzer.
pub(crate) fn undefined_receivers(ast: &AstModule) -> Vec<Diagnostic> {
    let mut receivers = BTreeSet::new();
    let mut stmts = vec![ast.statement()];
    while let Some(s) = stmts.pop() {
        if let StmtP::Expression(e) = &s.node {
            if let ExprP::Call(f, _) = &e.node {
                if let ExprP::Dot(x, attr) = &f.node {
                    if let ExprP::Identifier(id) = &x.node {
                        if matches!(attr.node.as_str(), "append" | "insert" | "extend") {
                            receivers.insert(id.node.ident.clone());
                        }
                    }
                }
            }
        }
        s.visit_stmt(|c| stmts.push(c));
    }
    if receivers.is_empty() {
        return Vec::new();
    }
    use starlark::analysis::AstModuleLint;
    // The globals are the same for every file: their names are listed once.
    static NAMES: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let globals = crate::values::globals();
        globals.names().map(|n| n.as_str().to_string()).collect()
    });
    ast.lint(Some(names))
        .into_iter()
        .filter(|l| l.short_name == "using-undefined" && receivers.contains(&l.original))
        .map(|l| {
            Diagnostic::new(
                codes::SKY0202,
                format!("Variable `{}` not found", l.original),
            )
            .with_span(crate::values::to_span(&l.location))
            .with_help("assign, load or declare it before using it; check its spelling")
        })
        .collect()
}
