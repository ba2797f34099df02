//! A small Wadler-style document: text, groups that are laid out flat when they fit and broken
//! otherwise (outermost first), indentation, and comments held until the end of their line.
//!
//! Starlark allows a line break inside brackets only, so the breaks between operands
//! ([`Doc::OpLine`]) are taken only inside a [`Scope::Brackets`]: outside brackets an
//! operator chain stays on its line whatever its length.

/// The indentation of one level.
pub(crate) const INDENT: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Inside brackets: operator chains may break.
    Brackets,
    /// Inside parentheses printed only when the enclosing group breaks.
    BracketsWhenBroken,
    /// Outside brackets again (until the next bracket).
    Bare,
}

#[derive(Debug, Clone)]
pub(crate) enum Doc {
    Text(String),
    Concat(Vec<Doc>),
    /// Flat if it fits on the line (and nothing inside is broken), broken otherwise (outer
    /// groups first). `broken`: broken even if it fits.
    Group {
        doc: Box<Doc>,
        broken: bool,
    },
    /// One more level of indentation for the line breaks inside (when its group is broken).
    Indent(Box<Doc>),
    /// A line break in a broken group; `flat` in a flat one. `blank` adds an empty line.
    Line {
        flat: &'static str,
        blank: bool,
    },
    /// A space, or a line break in a broken group inside brackets (between operands).
    OpLine,
    /// Text printed only when the enclosing group is broken (a trailing comma).
    IfBreak(&'static str),
    /// A trailing comment: printed at the end of the current line; breaks the groups around it.
    Suffix(String),
    /// The first layout if its first line fits, else the second (which must print the same
    /// text when flat).
    Choice(Box<Doc>, Box<Doc>),
    /// Where line breaks between operands are allowed.
    Scope(Box<Doc>, Scope),
}

pub(crate) fn text(s: impl Into<String>) -> Doc {
    Doc::Text(s.into())
}

pub(crate) fn concat(v: Vec<Doc>) -> Doc {
    Doc::Concat(v)
}

pub(crate) fn group(d: Doc, broken: bool) -> Doc {
    Doc::Group {
        doc: Box::new(d),
        broken,
    }
}

pub(crate) fn indent(d: Doc) -> Doc {
    Doc::Indent(Box::new(d))
}

pub(crate) fn scope(d: Doc, s: Scope) -> Doc {
    Doc::Scope(Box::new(d), s)
}

pub(crate) const SOFT: Doc = Doc::Line {
    flat: "",
    blank: false,
};
pub(crate) const SPACE: Doc = Doc::Line {
    flat: " ",
    blank: false,
};

/// Marks every group that holds a trailing comment or a broken group as broken (a list
/// broken by its trailing comma breaks the lists around it); returns whether `d` holds one.
fn propagate(d: &mut Doc) -> bool {
    match d {
        Doc::Text(_) | Doc::Line { .. } | Doc::OpLine | Doc::IfBreak(_) => false,
        Doc::Suffix(_) => true,
        Doc::Concat(v) => v.iter_mut().fold(false, |acc, x| propagate(x) | acc),
        Doc::Indent(x) | Doc::Scope(x, _) => propagate(x),
        Doc::Choice(a, b) => propagate(b) | propagate(a),
        Doc::Group { doc, broken } => {
            *broken |= propagate(doc);
            *broken
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

/// A document to lay out: its indentation, mode, and whether it is inside brackets.
#[derive(Clone, Copy)]
struct Cmd<'d> {
    ind: usize,
    mode: Mode,
    brackets: bool,
    doc: &'d Doc,
}

impl<'d> Cmd<'d> {
    fn with(self, doc: &'d Doc) -> Cmd<'d> {
        Cmd { doc, ..self }
    }

    fn scoped(self, doc: &'d Doc, s: Scope) -> Cmd<'d> {
        let brackets = match s {
            Scope::Brackets => true,
            Scope::BracketsWhenBroken => self.brackets || self.mode == Mode::Break,
            Scope::Bare => false,
        };
        Cmd {
            doc,
            brackets,
            ..self
        }
    }
}

/// Lays `doc` out within `width` columns, starting at column `indent` (the caller writes the
/// indentation of the first line). Line breaks indent by `indent` plus the doc's own levels.
pub(crate) fn render(mut doc: Doc, indent: usize, width: usize) -> String {
    propagate(&mut doc);
    let mut out = String::new();
    let mut col = indent;
    let mut suffixes: Vec<String> = Vec::new();
    let mut stack: Vec<Cmd> = vec![Cmd {
        ind: indent,
        mode: Mode::Break,
        brackets: false,
        doc: &doc,
    }];
    while let Some(cmd) = stack.pop() {
        let Cmd { ind, mode, .. } = cmd;
        match cmd.doc {
            Doc::Text(s) => {
                match s.rfind('\n') {
                    Some(i) => col = s[i + 1..].chars().count(),
                    None => col += s.chars().count(),
                }
                out.push_str(s);
            }
            Doc::Concat(v) => stack.extend(v.iter().rev().map(|x| cmd.with(x))),
            Doc::Indent(x) if mode == Mode::Break => stack.push(Cmd {
                ind: ind + INDENT,
                ..cmd.with(x)
            }),
            Doc::Indent(x) => stack.push(cmd.with(x)),
            Doc::Scope(x, s) => stack.push(cmd.scoped(x, *s)),
            Doc::Group { doc: x, broken } => {
                let flat = Cmd {
                    mode: Mode::Flat,
                    ..cmd.with(x)
                };
                let m = if *broken {
                    Mode::Break
                } else if mode == Mode::Flat || fits(flat, &stack, width as isize - col as isize) {
                    Mode::Flat
                } else {
                    Mode::Break
                };
                stack.push(Cmd {
                    mode: m,
                    ..cmd.with(x)
                });
            }
            Doc::Line { flat, .. } if mode != Mode::Break => {
                out.push_str(flat);
                col += flat.len();
            }
            Doc::OpLine if mode != Mode::Break || !cmd.brackets => {
                out.push(' ');
                col += 1;
            }
            Doc::Line { blank, .. } => {
                newline(&mut out, &mut suffixes, *blank);
                out.push_str(&" ".repeat(ind));
                col = ind;
            }
            Doc::OpLine => {
                newline(&mut out, &mut suffixes, false);
                out.push_str(&" ".repeat(ind));
                col = ind;
            }
            Doc::IfBreak(s) => {
                if mode == Mode::Break {
                    out.push_str(s);
                    col += s.len();
                }
            }
            Doc::Suffix(s) => suffixes.push(s.clone()),
            Doc::Choice(a, b) => {
                let first = mode == Mode::Flat
                    || fits(
                        Cmd {
                            mode: Mode::Break,
                            ..cmd.with(a)
                        },
                        &stack,
                        width as isize - col as isize,
                    );
                stack.push(cmd.with(if first { a } else { b }));
            }
        }
    }
    flush(&mut out, &mut suffixes);
    out
}

fn flush(out: &mut String, suffixes: &mut Vec<String>) {
    for s in suffixes.drain(..) {
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        out.push_str("  ");
        out.push_str(&s);
    }
}

fn newline(out: &mut String, suffixes: &mut Vec<String>, blank: bool) {
    flush(out, suffixes);
    let trimmed = out.trim_end_matches(' ').len();
    out.truncate(trimmed);
    out.push('\n');
    if blank {
        out.push('\n');
    }
}

/// Whether `next`, followed by the rest of the line, fits in `width` columns.
fn fits(next: Cmd, rest: &[Cmd], mut width: isize) -> bool {
    let mut rest_idx = rest.len();
    let mut cmds = vec![next];
    loop {
        if width < 0 {
            return false;
        }
        let Some(cmd) = cmds.pop() else {
            if rest_idx == 0 {
                return true;
            }
            rest_idx -= 1;
            cmds.push(rest[rest_idx]);
            continue;
        };
        let mode = cmd.mode;
        match cmd.doc {
            Doc::Text(s) => match s.find('\n') {
                Some(i) => return width - s[..i].chars().count() as isize >= 0,
                None => width -= s.chars().count() as isize,
            },
            Doc::Concat(v) => cmds.extend(v.iter().rev().map(|x| cmd.with(x))),
            Doc::Indent(x) => cmds.push(cmd.with(x)),
            Doc::Scope(x, s) => cmds.push(cmd.scoped(x, *s)),
            Doc::Group { doc: x, broken } => cmds.push(Cmd {
                mode: if *broken { Mode::Break } else { mode },
                ..cmd.with(x)
            }),
            Doc::Line { flat, .. } => {
                if mode == Mode::Break {
                    return true;
                }
                width -= flat.len() as isize;
            }
            Doc::OpLine => {
                if mode == Mode::Break && cmd.brackets {
                    return true;
                }
                width -= 1;
            }
            Doc::IfBreak(s) => {
                if mode == Mode::Break {
                    width -= s.len() as isize;
                }
            }
            Doc::Suffix(_) => {}
            Doc::Choice(a, b) => cmds.push(cmd.with(if mode == Mode::Flat { a } else { b })),
        }
    }
}
