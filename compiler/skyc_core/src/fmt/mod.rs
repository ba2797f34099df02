//! `skyc fmt`: the canonical layout of `.sky` files (the style is described in `docs/fmt.md`).
//!
//! The file is parsed with starlark's parser and printed back from the syntax tree; the
//! comments, which the tree does not keep, come from starlark's lexer and are put back by
//! position (see [`print`]). Before a result is returned it is parsed again and compared with
//! the input: the same tree (see [`syntax_tree`]) and the same comments, or an internal error
//! and the file stays as it was. Pure: the CLI reads and writes the files.

mod diff;
mod doc;
mod print;
mod source;

pub use diff::unified_diff;

use skyc_diag::{codes, Diagnostic, Span};
use starlark_syntax::syntax::AstModule;

fn parse(name: &str, text: &str) -> Result<AstModule, Diagnostic> {
    AstModule::parse(name, text.to_owned(), &crate::eval::dialect()).map_err(|e| {
        let message = match e.kind() {
            starlark_syntax::ErrorKind::Parser(a) => {
                let s = format!("{a:#}");
                s.lines().next().unwrap_or("").trim().to_string()
            }
            _ => e.without_diagnostic().to_string(),
        };
        Diagnostic::new(codes::SKY0201, message).with_span_opt(e.span().map(crate::values::to_span))
    })
}

/// A problem of the formatter itself (never of the file): the file is left unchanged.
fn internal(name: &str, text: &str, pos: usize, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(codes::SKY0002, message)
        .with_span(Span::from_offsets(name, text, pos, pos))
        .with_help("skyc fmt left the file unchanged; please report this file as a bug")
}

/// The canonical layout of the `.sky` file `text` (`name` is used in diagnostics only).
///
/// Errors: a syntax error (SKY0201), or a comment the formatter would lose or any other
/// difference it would make to the file's meaning (SKY0002, a bug of the formatter); nothing
/// should be written. A statement holding a comment the layout has no place for is kept as
/// written, not an error.
pub fn format(name: &str, text: &str) -> Result<String, Diagnostic> {
    let ast = parse(name, text)?;
    let src = source::Source::new(text).map_err(|m| internal(name, text, 0, m))?;
    let out = print::Printer::new(&src)
        .module(ast.statement())
        .map_err(|p| internal(name, text, p.pos as usize, p.message))?;
    // The result must mean exactly what the input meant, comments included.
    let again = parse(name, &out).map_err(|d| {
        internal(
            name,
            text,
            0,
            format!(
                "skyc fmt produced a file that does not parse ({})",
                d.message
            ),
        )
    })?;
    if again.statement().node.to_string() != ast.statement().node.to_string() {
        return Err(internal(
            name,
            text,
            0,
            "skyc fmt would change the syntax tree of the file",
        ));
    }
    let (mut before, mut after) = (comment_texts(text, &ast), comment_texts(&out, &again));
    before.sort();
    after.sort();
    if before != after {
        return Err(internal(
            name,
            text,
            0,
            "skyc fmt would change the comments of the file",
        ));
    }
    Ok(out)
}

fn comment_texts(text: &str, ast: &AstModule) -> Vec<String> {
    ast.comments()
        .iter()
        .map(|s| {
            text[s.begin().get() as usize..s.end().get() as usize]
                .trim_end()
                .to_string()
        })
        .collect()
}

/// The syntax tree of a file in a normal form that ignores layout, parentheses and the way
/// literals are written (two files with the same tree mean the same).
pub fn syntax_tree(name: &str, text: &str) -> Result<String, Diagnostic> {
    Ok(parse(name, text)?.statement().node.to_string())
}

/// The text of every comment of a file, in order.
pub fn comments(name: &str, text: &str) -> Result<Vec<String>, Diagnostic> {
    let ast = parse(name, text)?;
    Ok(comment_texts(text, &ast))
}

/// The finding of `skyc fmt --check` for a file whose layout is not canonical: SKY0005 at the
/// first line that formatting would change.
pub fn not_formatted(name: &str, text: &str, formatted: &str) -> Diagnostic {
    let line = diff::first_changed_line(text, formatted);
    let pos: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    Diagnostic::new(codes::SKY0005, format!("`{name}` is not formatted"))
        .with_span(Span::from_offsets(name, text, pos, end))
        .with_label("skyc fmt changes this line")
        .with_help(format!("run `skyc fmt {name}`"))
}
