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
