//! The syntax tree back to text in skyc's style, with the comments put back where they were.
//!
//! Comments are owned by position: a block owns the comments between its statements, a bracketed
//! list (call arguments, list items, dict entries, parameters, a parenthesized expression) owns
//! the comments between its items, an operator chain or a comprehension the comments between
//! its parts. A comment on the line where an item ends trails that item; any other comment
//! leads the next item (or closes the list). A comment anywhere else (inside a subscript,
//! between a keyword and its `=`) has no place in the layout: the statement holding it is
//! kept as written, only moved to its block's indentation ([`Printer::verbatim`]), rather
//! than move or drop the comment.

use super::doc::{concat, group, indent, render, scope, text, Doc, Scope, INDENT, SOFT, SPACE};
use super::source::{Comment, Kind, Source};
use starlark_syntax::codemap::CodeMap;
use starlark_syntax::lexer::{Lexer, Token};
use starlark_syntax::syntax::ast::{
    ArgumentP, AssignOp, AssignP, AssignTargetP, AstArgument, AstAssignTarget, AstExpr, AstLiteral,
    AstNoPayload, AstParameter, AstStmt, BinOp, ClauseP, DefP, ExprP, ForClauseP, ForP, LoadP,
    ParameterP, StmtP,
};

/// The maximum line width.
pub(crate) const WIDTH: usize = 100;

/// Why a file could not be printed: the position and what went wrong.
#[derive(Debug)]
pub(crate) struct Problem {
    pub pos: u32,
    pub message: String,
}

type R<T> = Result<T, Problem>;

fn problem<T>(pos: u32, message: impl Into<String>) -> R<T> {
    Err(Problem {
        pos,
        message: message.into(),
    })
}

/// Operator precedence, loosest first (the parser's binding powers, in order).
mod prec {
    pub const TEST: u8 = 0; // lambda
    pub const OR_TEST: u8 = 2; // anything but `if`/`else` and lambda
    pub const NOT: u8 = 4;
    pub const UNARY: u8 = 12;
    pub const PRIMARY: u8 = 13;
}

fn op_prec(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 2,
        BinOp::And => 3,
        BinOp::Equal
        | BinOp::NotEqual
        | BinOp::Less
        | BinOp::Greater
        | BinOp::LessOrEqual
        | BinOp::GreaterOrEqual
        | BinOp::In
        | BinOp::NotIn => 5,
        BinOp::BitOr => 6,
        BinOp::BitXor => 7,
        BinOp::BitAnd => 8,
        BinOp::LeftShift | BinOp::RightShift => 9,
        BinOp::Add | BinOp::Subtract => 10,
        BinOp::Multiply | BinOp::Percent | BinOp::Divide | BinOp::FloorDivide => 11,
    }
}

fn is_comparison(op: BinOp) -> bool {
    op_prec(op) == 5
}

fn expr_prec(e: &AstExpr) -> u8 {
    match &e.node {
        ExprP::Lambda(_) | ExprP::Tuple(_) => 0,
        ExprP::If(_) => 1,
        ExprP::Op(_, op, _) => op_prec(*op),
        ExprP::Not(_) => prec::NOT,
        ExprP::Minus(_) | ExprP::Plus(_) | ExprP::BitNot(_) => prec::UNARY,
        _ => prec::PRIMARY,
    }
}

/// Parentheses around these are never needed.
fn is_atom(e: &AstExpr) -> bool {
    matches!(
        e.node,
        ExprP::Identifier(_)
            | ExprP::Literal(_)
            | ExprP::FString(_)
            | ExprP::Call(..)
            | ExprP::Dot(..)
            | ExprP::Index(_)
            | ExprP::Index2(_)
            | ExprP::Slice(..)
            | ExprP::List(_)
            | ExprP::Dict(_)
            | ExprP::ListComprehension(..)
            | ExprP::DictComprehension(..)
    )
}

fn assign_op(op: AssignOp) -> &'static str {
    match op {
        AssignOp::Add => "+=",
        AssignOp::Subtract => "-=",
        AssignOp::Multiply => "*=",
        AssignOp::Divide => "/=",
        AssignOp::FloorDivide => "//=",
        AssignOp::Percent => "%=",
        AssignOp::BitAnd => "&=",
        AssignOp::BitOr => "|=",
        AssignOp::BitXor => "^=",
        AssignOp::LeftShift => "<<=",
        AssignOp::RightShift => ">>=",
    }
}

/// A group that breaks only when it does not fit.
fn group_soft(d: Doc) -> Doc {
    group(d, false)
}

/// An operator chain or conditional expression: broken if comments sit between its parts.
fn operators(doc: Doc, comments: bool) -> Doc {
    group(doc, comments)
}

/// The statements of a block (`a; b` and nested statement lists flattened).
fn flatten(s: &AstStmt) -> Vec<&AstStmt> {
    match &s.node {
        StmtP::Statements(v) => v.iter().flat_map(flatten).collect(),
        _ => vec![s],
    }
}

/// One item of a bracketed list: its layout and where it is in the source.
struct Item {
    doc: Doc,
    begin: u32,
    end: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Comma {
    /// A trailing comma when the list is broken over lines.
    WhenBroken,
    /// Always (a one-element tuple).
    Always,
    /// Never (parameters, which close on the last line; a parenthesized expression).
    Never,
}

struct List {
    open: &'static str,
    close: &'static str,
    /// Positions of the bracket tokens.
    open_pos: u32,
    close_pos: u32,
    items: Vec<Item>,
    comma: Comma,
    /// Broken even if it fits (a trailing comma in the source).
    magic: bool,
    /// `def` parameters: indented two levels, `)` on the last parameter's line.
    params: bool,
}

/// The expression's source extent including parentheses, and its outermost parentheses.
#[derive(Clone, Copy)]
struct Extent {
    begin: u32,
    end: u32,
    parens: Option<(u32, u32)>,
}

pub(crate) struct Printer<'s, 'a> {
    src: &'s Source<'a>,
    used: Vec<bool>,
    out: String,
    /// [`Printer::ext`] by node address.
    extents: std::cell::RefCell<std::collections::BTreeMap<usize, Extent>>,
}

impl<'s, 'a> Printer<'s, 'a> {
    pub fn new(src: &'s Source<'a>) -> Self {
        Printer {
            src,
            used: vec![false; src.comments.len()],
            out: String::new(),
            extents: Default::default(),
        }
    }

    /// Prints a module; fails if a comment was left out (statements holding comments the
    /// layout cannot place are kept as written, so this is a bug of the printer).
    pub fn module(mut self, module: &AstStmt) -> R<String> {
        let stmts = flatten(module);
        self.block(&stmts, 0, 0, self.src.text.len() as u32, true)?;
        if let Some(i) = self.used.iter().position(|u| !u) {
            let c = &self.src.comments[i];
            return problem(
                c.start,
                format!("skyc fmt cannot keep the comment `{}` in place", c.text),
            );
        }
        Ok(self.out)
    }

    // ---------------------------------------------------------------- comments

    /// Takes the unused comments that start in `[from, to)`.
    fn take(&mut self, from: u32, to: u32) -> Vec<Comment> {
        let mut out = Vec::new();
        for i in self.comments_in(from, to) {
            if !self.used[i] {
                self.used[i] = true;
                out.push(self.src.comments[i].clone());
            }
        }
        out
    }

    /// The indices of the comments that start in `[from, to)`.
    fn comments_in(&self, from: u32, to: u32) -> std::ops::Range<usize> {
        let c = &self.src.comments;
        let lo = c.partition_point(|c| c.start < from);
        let hi = c.partition_point(|c| c.start < to).max(lo);
        lo..hi
    }

    fn has_comments(&self, from: u32, to: u32) -> bool {
        self.comments_in(from, to).any(|i| !self.used[i])
    }

    /// The comment trailing code that ends at `end`: on the same line, with no token between.
    fn trailing(&mut self, end: u32) -> Option<Comment> {
        let line = self.src.line(end);
        let next = self.src.next_tok(end).map_or(u32::MAX, |t| t.start);
        let i = self
            .comments_in(end, next)
            .find(|&i| !self.used[i] && self.src.comments[i].line == line)?;
        self.used[i] = true;
        Some(self.src.comments[i].clone())
    }

    // ---------------------------------------------------------------- statements

    fn indent_str(level: usize) -> String {
        " ".repeat(level * INDENT)
    }

    fn comment_line(&mut self, level: usize, c: &Comment) {
        self.out.push_str(&Self::indent_str(level));
        self.out.push_str(&c.text);
        self.out.push('\n');
    }

    /// Writes `doc` at `level` without ending the line.
    fn emit(&mut self, doc: Doc, level: usize) {
        self.out.push_str(&Self::indent_str(level));
        self.out.push_str(&render(doc, level * INDENT, WIDTH));
    }

    /// Ends the line, with the comment trailing the code that ends at `end`.
    fn end_line(&mut self, end: u32) {
        if let Some(c) = self.trailing(end) {
            self.out.push_str("  ");
            self.out.push_str(&c.text);
        }
        self.out.push('\n');
    }

    /// The end of a statement's last token.
    fn stmt_end(&self, s: &AstStmt) -> u32 {
        let end = s.span.end().get();
        self.src.prev_tok(end).map_or(end, |t| t.end)
    }

    /// Prints the statements of one block. `prev`: where the code before the block ends;
    /// `limit`: where the next token after the block starts. Comments after the last
    /// statement belong to the block if they are indented at least as deep as it.
    fn block(
        &mut self,
        stmts: &[&AstStmt],
        level: usize,
        mut prev: u32,
        limit: u32,
        top: bool,
    ) -> R<()> {
        let block_col = stmts
            .first()
            .map_or(0, |s| self.src.col(s.span.begin().get()));
        let mut first = true;
        let mut prev_def = false;
        for s in stmts {
            let start = s.span.begin().get();
            let is_def = matches!(s.node, StmtP::Def(_));
            // One empty line around top-level functions; otherwise at most one, as written.
            let mut force_blank = top && !first && (is_def || prev_def);
            let mut last = prev;
            for c in self.take(prev, start) {
                if !first && (force_blank || self.src.blank_between(last, c.start)) {
                    self.out.push('\n');
                }
                force_blank = false;
                first = false;
                self.comment_line(level, &c);
                last = c.end;
            }
            if !first && (force_blank || self.src.blank_between(last, start)) {
                self.out.push('\n');
            }
            let (out_len, used) = (self.out.len(), self.used.clone());
            let printed = self.stmt(s, level);
            if printed.is_err() || self.has_comments(start, self.stmt_end(s)) {
                // A comment the layout has no place for: keep the statement as written.
                self.out.truncate(out_len);
                self.used = used;
                self.verbatim(s, level);
            }
            first = false;
            prev = self.stmt_end(s);
            prev_def = is_def;
        }
        let mut last = prev;
        loop {
            let next = self.comments_in(prev, limit).find(|&i| !self.used[i]);
            let Some(i) = next else { break };
            let c = &self.src.comments[i];
            if !top && c.col < block_col {
                break;
            }
            self.used[i] = true;
            let c = c.clone();
            if !first && self.src.blank_between(last, c.start) {
                self.out.push('\n');
            }
            first = false;
            self.comment_line(level, &c);
            last = c.end;
        }
        Ok(())
    }

    /// Writes statement `s` as it is written, moved to `level`: every line shifts by the
    /// same amount (so the statement's own indentation structure is kept), except lines that
    /// begin inside a multi-line string, which stay exactly as they are. Trailing blanks are
    /// dropped outside strings. Used for statements holding a comment the layout cannot place.
    fn verbatim(&mut self, s: &AstStmt, level: usize) {
        let start = s.span.begin().get();
        let end = self.stmt_end(s);
        let shift = (level * INDENT) as isize - self.src.col(start) as isize;
        let text = &self.src.text[start as usize..end as usize];
        self.out.push_str(&Self::indent_str(level));
        let mut pos = start as usize;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let (body, newline) = match line.strip_suffix('\n') {
                Some(b) => (b, true),
                None => (line, false),
            };
            let newline_in_string = self.src.inside_token((pos + body.len()) as u32);
            let body = if newline && !newline_in_string {
                body.trim_end()
            } else {
                body
            };
            if i == 0 || self.src.inside_token(pos as u32) {
                self.out.push_str(body);
            } else if !body.trim().is_empty() {
                let content = body.trim_start_matches(' ');
                let old = (body.len() - content.len()) as isize;
                self.out
                    .push_str(&" ".repeat((old + shift).max(0) as usize));
                self.out.push_str(content);
            }
            if newline {
                self.out.push('\n');
            }
            pos += line.len();
        }
        for i in self.comments_in(start, end) {
            self.used[i] = true;
        }
        self.end_line(end);
    }

    /// The block after a `:` that ends at `colon_end`.
    fn suite(&mut self, body: &AstStmt, level: usize, colon_end: u32) -> R<()> {
        self.end_line(colon_end);
        let stmts = flatten(body);
        let end = stmts.last().map_or(colon_end, |s| self.stmt_end(s));
        let limit = self
            .src
            .next_tok(end)
            .map_or(self.src.text.len() as u32, |t| t.start);
        self.block(&stmts, level + 1, colon_end, limit, false)
    }

    /// The `:` token at or after `pos`.
    fn colon_after(&self, pos: u32) -> R<u32> {
        match self.src.next_tok(pos) {
            Some(t) if t.kind == Kind::Colon => Ok(t.end),
            _ => problem(pos, "expected `:`"),
        }
    }

    fn stmt(&mut self, s: &AstStmt, level: usize) -> R<()> {
        match &s.node {
            StmtP::Def(d) => self.def(d, level),
            StmtP::If(cond, body) => {
                let doc = concat(vec![text("if "), self.value(cond, false)?, text(":")]);
                self.emit(doc, level);
                let colon = self.colon_after(self.ext(cond).end)?;
                self.suite(body, level, colon)
            }
            StmtP::IfElse(cond, branches) => {
                let doc = concat(vec![text("if "), self.value(cond, false)?, text(":")]);
                self.emit(doc, level);
                let colon = self.colon_after(self.ext(cond).end)?;
                self.suite(&branches.0, level, colon)?;
                self.else_part(&branches.0, &branches.1, level)
            }
            StmtP::For(ForP { var, over, body }) => {
                let doc = concat(vec![
                    text("for "),
                    self.target(var, true)?,
                    text(" in "),
                    self.sub(over, prec::TEST, false)?,
                    text(":"),
                ]);
                self.emit(doc, level);
                let colon = self.colon_after(self.ext(over).end)?;
                self.suite(body, level, colon)
            }
            _ => {
                let doc = self.simple(s)?;
                self.emit(doc, level);
                self.end_line(self.stmt_end(s));
                Ok(())
            }
        }
    }

    /// `elif …:` or `else:` after the block `then`.
    fn else_part(&mut self, then: &AstStmt, els: &AstStmt, level: usize) -> R<()> {
        let then_end = flatten(then)
            .last()
            .map_or(then.span.end().get(), |s| self.stmt_end(s));
        let begin = els.span.begin().get();
        let keyword = if self
            .src
            .next_tok(begin)
            .is_some_and(|t| t.start == begin && t.kind == Kind::Elif)
        {
            begin
        } else {
            // `else` `:` then the block.
            let i = self.src.toks.partition_point(|t| t.start < begin);
            match self.src.toks[..i]
                .iter()
                .rev()
                .find(|t| t.kind == Kind::Else)
            {
                Some(t) => t.start,
                None => return problem(begin, "expected `else`"),
            }
        };
        for c in self.take(then_end, keyword) {
            self.comment_line(level, &c);
        }
        if keyword == begin {
            let (cond, then, rest) = match &els.node {
                StmtP::If(cond, body) => (cond, &**body, None),
                StmtP::IfElse(cond, b) => (cond, &b.0, Some(&b.1)),
                _ => return problem(begin, "expected a condition after `elif`"),
            };
            let doc = concat(vec![text("elif "), self.value(cond, false)?, text(":")]);
            self.emit(doc, level);
            let colon = self.colon_after(self.ext(cond).end)?;
            self.suite(then, level, colon)?;
            if let Some(rest) = rest {
                self.else_part(then, rest, level)?;
            }
            Ok(())
        } else {
            self.emit(text("else:"), level);
            let colon = self.colon_after(keyword + 4)?;
            self.suite(els, level, colon)
        }
    }

    fn def(&mut self, d: &DefP<AstNoPayload>, level: usize) -> R<()> {
        let name_end = d.name.span.end().get();
        let open = match self.src.next_tok(name_end) {
            Some(t) if t.kind == Kind::Open => t.start,
            _ => return problem(name_end, "expected `(`"),
        };
        let close = self.close_of(open)?;
        let items = d
            .params
            .iter()
            .map(|x| self.param(x))
            .collect::<R<Vec<_>>>()?;
        let params = self.list(List {
            open: "(",
            close: ")",
            open_pos: open,
            close_pos: close,
            items,
            comma: Comma::Never,
            magic: false,
            params: true,
        });
        let mut doc = vec![text(format!("def {}", d.name.node.ident)), params];
        let mut header_end = close + 1;
        if let Some(ret) = &d.return_type {
            doc.push(text(" -> "));
            doc.push(self.sub(&ret.expr, prec::TEST, false)?);
            header_end = self.ext(&ret.expr).end;
        }
        doc.push(text(":"));
        self.emit(concat(doc), level);
        let colon = self.colon_after(header_end)?;
        self.suite(&d.body, level, colon)
    }

    fn param(&mut self, p: &AstParameter) -> R<Item> {
        let mut end = p.span.end().get();
        let doc = match &p.node {
            ParameterP::Slash => text("/"),
            ParameterP::NoArgs => text("*"),
            ParameterP::Normal(name, ty, default) => {
                let mut v = vec![text(name.node.ident.clone())];
                if let Some(ty) = ty {
                    v.push(text(": "));
                    v.push(self.sub(&ty.expr, prec::TEST, false)?);
                    end = end.max(self.ext(&ty.expr).end);
                }
                if let Some(d) = default {
                    v.push(text(" = "));
                    v.push(self.sub(d, prec::TEST, false)?);
                    end = end.max(self.ext(d).end);
                }
                concat(v)
            }
            ParameterP::Args(name, ty) | ParameterP::KwArgs(name, ty) => {
                let star = if matches!(p.node, ParameterP::Args(..)) {
                    "*"
                } else {
                    "**"
                };
                let mut v = vec![text(format!("{star}{}", name.node.ident))];
                if let Some(ty) = ty {
                    v.push(text(": "));
                    v.push(self.sub(&ty.expr, prec::TEST, false)?);
                    end = end.max(self.ext(&ty.expr).end);
                }
                concat(v)
            }
        };
        Ok(Item {
            doc,
            begin: p.span.begin().get(),
            end,
        })
    }

    /// A statement that fits on one logical line.
    fn simple(&mut self, s: &AstStmt) -> R<Doc> {
        Ok(match &s.node {
            StmtP::Break => text("break"),
            StmtP::Continue => text("continue"),
            StmtP::Pass => text("pass"),
            StmtP::Return(None) => text("return"),
            StmtP::Return(Some(e)) => concat(vec![text("return "), self.value(e, true)?]),
            StmtP::Expression(e) => self.sub(e, prec::TEST, true)?,
            StmtP::Assign(AssignP { lhs, ty, rhs }) => {
                let mut v = vec![self.target(lhs, true)?];
                if let Some(ty) = ty {
                    v.push(text(": "));
                    v.push(self.sub(&ty.expr, prec::TEST, false)?);
                }
                v.push(text(" = "));
                v.push(self.value(rhs, true)?);
                concat(v)
            }
            StmtP::AssignModify(lhs, op, rhs) => concat(vec![
                self.target(lhs, true)?,
                text(format!(" {} ", assign_op(*op))),
                self.value(rhs, true)?,
            ]),
            StmtP::Load(l) => self.load(l, s.span.begin().get())?,
            _ => return problem(s.span.begin().get(), "unexpected statement"),
        })
    }

    fn load(&mut self, l: &LoadP<AstNoPayload>, at: u32) -> R<Doc> {
        let open = match self.src.next_tok(at + 4) {
            Some(t) if t.kind == Kind::Open => t.start,
            _ => return problem(at, "expected `(` after `load`"),
        };
        let close = self.close_of(open)?;
        let mut items = vec![Item {
            doc: text(self.string(
                &l.module.node,
                l.module.span.begin().get(),
                l.module.span.end().get(),
            )),
            begin: l.module.span.begin().get(),
            end: l.module.span.end().get(),
        }];
        for a in &l.args {
            let their = self.string(
                &a.their.node,
                a.their.span.begin().get(),
                a.their.span.end().get(),
            );
            let doc = if a.local.span == a.their.span {
                text(their)
            } else {
                text(format!("{} = {their}", a.local.node.ident))
            };
            items.push(Item {
                doc,
                begin: a.span().begin().get(),
                end: a.span().end().get(),
            });
        }
        let magic = l.args.last().is_some_and(|a| a.comma.is_some());
        Ok(concat(vec![
            text("load"),
            self.list(List {
                open: "(",
                close: ")",
                open_pos: open,
                close_pos: close,
                items,
                comma: Comma::WhenBroken,
                magic,
                params: false,
            }),
        ]))
    }

    fn target(&mut self, t: &AstAssignTarget, top: bool) -> R<Doc> {
        Ok(match &t.node {
            AssignTargetP::Identifier(id) => text(id.node.ident.clone()),
            AssignTargetP::Dot(obj, name) => concat(vec![
                self.sub(obj, prec::PRIMARY, false)?,
                text(format!(".{}", name.node)),
            ]),
            AssignTargetP::Index(b) => concat(vec![
                self.sub(&b.0, prec::PRIMARY, false)?,
                text("["),
                self.sub(&b.1, prec::TEST, false)?,
                text("]"),
            ]),
            AssignTargetP::Tuple(items) => {
                let mut v = Vec::new();
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        v.push(text(", "));
                    }
                    v.push(self.target(x, false)?);
                }
                if items.len() == 1 {
                    v.push(text(","));
                }
                if top && items.len() > 1 {
                    concat(v)
                } else {
                    let mut w = vec![text("(")];
                    w.extend(v);
                    w.push(text(")"));
                    concat(w)
                }
            }
        })
    }

    // ---------------------------------------------------------------- expressions

    fn close_of(&self, open: u32) -> R<u32> {
        match self.src.matching.get(&open) {
            Some(&c) => Ok(c),
            None => problem(open, "unmatched bracket"),
        }
    }

    /// The source extent of `e`, parentheses included.
    fn ext(&self, e: &AstExpr) -> Extent {
        let key = e as *const AstExpr as usize;
        if let Some(x) = self.extents.borrow().get(&key) {
            return *x;
        }
        let x = self.compute_ext(e);
        self.extents.borrow_mut().insert(key, x);
        x
    }

    fn compute_ext(&self, e: &AstExpr) -> Extent {
        let (b, en) = (e.span.begin().get(), e.span.end().get());
        let (mut b, mut en) = match &e.node {
            ExprP::Op(l, _, r) => (self.ext(l).begin, self.ext(r).end),
            ExprP::If(x) => (self.ext(&x.1).begin, self.ext(&x.2).end),
            ExprP::Call(f, _) | ExprP::Dot(f, _) | ExprP::Slice(f, ..) => (self.ext(f).begin, en),
            ExprP::Index(x) => (self.ext(&x.0).begin, en),
            ExprP::Index2(x) => (self.ext(&x.0).begin, en),
            ExprP::Not(x) | ExprP::Minus(x) | ExprP::Plus(x) | ExprP::BitNot(x) => {
                (b, self.ext(x).end.max(en))
            }
            ExprP::Lambda(l) => (b, self.ext(&l.body).end.max(en)),
            ExprP::Tuple(v) if !v.is_empty() => (
                b.min(self.ext(&v[0]).begin),
                en.max(self.ext(&v[v.len() - 1]).end),
            ),
            _ => (b, en),
        };
        let mut parens = None;
        while let Some(&(o, c)) = self.src.groups.get(&(b, en)) {
            parens = Some((o, c));
            b = o;
            en = c + 1;
        }
        Extent {
            begin: b,
            end: en,
            parens,
        }
    }

    /// `e` as an operand that must bind at least as tightly as `min`: in parentheses when it
    /// does not, or when the source had them (except around a name, literal, call or bracket).
    /// `bare_tuple`: a tuple may go without parentheses here (`x = a, b`) if written so.
    fn sub(&mut self, e: &AstExpr, min: u8, bare_tuple: bool) -> R<Doc> {
        let x = self.ext(e);
        let is_tuple = matches!(&e.node, ExprP::Tuple(v) if !v.is_empty());
        let needed = if is_tuple {
            !bare_tuple
        } else {
            expr_prec(e) < min
        };
        let written = match x.parens {
            Some((o, c)) => !is_atom(e) || self.has_comments(o, c),
            None => false,
        };
        if let ExprP::Tuple(items) = &e.node {
            if !items.is_empty() && (needed || written) {
                return self.tuple(e, items, x.parens);
            }
        }
        if !(needed || written) {
            return self.expr(e);
        }
        let inner = self.expr(e)?;
        let (open_pos, close_pos) = match x.parens {
            Some(p) => p,
            None => {
                return Ok(group(
                    concat(vec![
                        text("("),
                        scope(indent(concat(vec![SOFT, inner])), Scope::Brackets),
                        SOFT,
                        text(")"),
                    ]),
                    false,
                ))
            }
        };
        // What the parentheses hold, without them.
        let (begin, end) = match &e.node {
            ExprP::Tuple(_) => (x.begin, x.end),
            _ => {
                let mut y = Extent { parens: None, ..x };
                // Strip our own outermost parentheses only.
                y.begin = self.src.next_tok(open_pos + 1).map_or(y.begin, |t| t.start);
                y.end = self.src.prev_tok(close_pos).map_or(y.end, |t| t.end);
                (y.begin, y.end)
            }
        };
        Ok(self.list(List {
            open: "(",
            close: ")",
            open_pos,
            close_pos,
            items: vec![Item {
                doc: inner,
                begin,
                end,
            }],
            comma: Comma::Never,
            magic: false,
            params: false,
        }))
    }

    fn tuple(&mut self, e: &AstExpr, items: &[AstExpr], parens: Option<(u32, u32)>) -> R<Doc> {
        let v = self.items(items)?;
        let comma = if items.len() == 1 {
            Comma::Always
        } else {
            Comma::WhenBroken
        };
        let (open_pos, close_pos) = match parens {
            Some(p) => p,
            // Parentheses the source did not have: no comments can be inside them.
            None => (e.span.begin().get(), e.span.end().get()),
        };
        let magic = items.len() > 1
            && self
                .src
                .prev_tok(close_pos)
                .is_some_and(|t| t.kind == Kind::Comma && t.start >= open_pos);
        Ok(self.list(List {
            open: "(",
            close: ")",
            open_pos,
            close_pos,
            items: v,
            comma,
            magic,
            params: false,
        }))
    }

    /// List or tuple items.
    fn items(&mut self, items: &[AstExpr]) -> R<Vec<Item>> {
        let mut v = Vec::new();
        for x in items {
            let ext = self.ext(x);
            v.push(Item {
                doc: self.sub(x, prec::TEST, false)?,
                begin: ext.begin,
                end: ext.end,
            });
        }
        Ok(v)
    }

    /// An expression in a value position (after `=`, `return`, `if`, a keyword argument's `=`,
    /// a dict key's `:`): an operator expression that does not fit on its line is put in
    /// parentheses and broken inside them.
    fn value(&mut self, e: &AstExpr, bare_tuple: bool) -> R<Doc> {
        let operator = matches!(e.node, ExprP::Op(..) | ExprP::If(_) | ExprP::Not(_));
        if !operator || self.ext(e).parens.is_some() {
            return self.sub(e, prec::TEST, bare_tuple);
        }
        let inner = self.sub(e, prec::TEST, false)?;
        let wrapped = group_soft(concat(vec![
            Doc::IfBreak("("),
            scope(
                indent(concat(vec![SOFT, inner.clone()])),
                Scope::BracketsWhenBroken,
            ),
            SOFT,
            Doc::IfBreak(")"),
        ]));
        // Like black: with one operator and a bracket at the end (`x not in [`), breaking
        // inside that bracket reads better than parentheses, if the line up to it fits.
        let single = match &e.node {
            ExprP::Op(..) => self.chain(e).0.len() == 1,
            ExprP::Not(_) => true,
            _ => false,
        };
        if single && self.ends_in_bracket(e) {
            return Ok(Doc::Choice(
                Box::new(scope(inner, Scope::Bare)),
                Box::new(wrapped),
            ));
        }
        Ok(wrapped)
    }

    /// Whether the last operand of `e` is a non-empty bracketed list that can break.
    fn ends_in_bracket(&self, e: &AstExpr) -> bool {
        if let Some((o, c)) = self.ext(e).parens {
            // Parentheses that are kept (see `sub`).
            if !is_atom(e) || self.has_comments(o, c) {
                return true;
            }
        }
        match &e.node {
            ExprP::Call(_, args) => !args.args.is_empty(),
            ExprP::List(v) => !v.is_empty(),
            ExprP::Dict(v) => !v.is_empty(),
            ExprP::ListComprehension(..) | ExprP::DictComprehension(..) => true,
            ExprP::Op(_, _, r) => self.ends_in_bracket(r),
            ExprP::Not(x) | ExprP::Minus(x) | ExprP::Plus(x) | ExprP::BitNot(x) => {
                self.ends_in_bracket(x)
            }
            _ => false,
        }
    }

    /// A bare tuple (`return a, b`): no brackets, so no line breaks between items.
    fn bare_tuple(&mut self, items: &[AstExpr]) -> R<Doc> {
        let mut v = Vec::new();
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                v.push(text(", "));
            }
            v.push(self.sub(x, prec::TEST, false)?);
        }
        Ok(concat(v))
    }

    /// A bracketed list of items with the comments between them.
    fn list(&mut self, l: List) -> Doc {
        let src = self.src;
        let mut docs: Vec<Doc> = Vec::new();
        let mut head: Vec<Doc> = Vec::new();
        let mut any_comment = false;
        let mut prev = l.open_pos + 1;
        let n = l.items.len();
        for (i, item) in l.items.into_iter().enumerate() {
            let gap = self.take(prev, item.begin);
            any_comment |= !gap.is_empty();
            let prev_line = src.line(prev);
            let (trail, lead): (Vec<_>, Vec<_>) =
                gap.into_iter().partition(|c| c.line == prev_line);
            let mut last = prev;
            if i == 0 {
                head.extend(trail.iter().map(|c| Doc::Suffix(c.text.clone())));
                docs.push(SOFT);
            } else {
                docs.push(text(","));
                for c in &trail {
                    docs.push(Doc::Suffix(c.text.clone()));
                    last = c.end;
                }
                let next = lead.first().map_or(item.begin, |c| c.start);
                docs.push(Doc::Line {
                    flat: " ",
                    blank: src.blank_between(last, next),
                });
            }
            for (j, c) in lead.iter().enumerate() {
                docs.push(text(c.text.clone()));
                let next = lead.get(j + 1).map_or(item.begin, |d| d.start);
                docs.push(Doc::Line {
                    flat: "",
                    blank: src.blank_between(c.end, next),
                });
            }
            docs.push(item.doc);
            prev = item.end;
        }
        let gap = self.take(prev, l.close_pos);
        any_comment |= !gap.is_empty();
        let prev_line = src.line(prev);
        let (trail, dangling): (Vec<_>, Vec<_>) =
            gap.into_iter().partition(|c| c.line == prev_line);
        if n > 0 {
            match l.comma {
                Comma::WhenBroken => docs.push(Doc::IfBreak(",")),
                Comma::Always => docs.push(text(",")),
                Comma::Never => {}
            }
            docs.extend(trail.iter().map(|c| Doc::Suffix(c.text.clone())));
        } else {
            head.extend(trail.iter().map(|c| Doc::Suffix(c.text.clone())));
        }
        let mut last = prev;
        for c in &dangling {
            docs.push(Doc::Line {
                flat: "",
                blank: n > 0 && src.blank_between(last, c.start),
            });
            docs.push(text(c.text.clone()));
            last = c.end;
        }
        if n == 0 && !any_comment {
            return text(format!("{}{}", l.open, l.close));
        }
        let mut v = vec![text(l.open)];
        v.extend(head);
        if l.params {
            v.push(scope(indent(indent(concat(docs))), Scope::Brackets));
            if !dangling.is_empty() {
                v.push(SOFT);
            }
        } else {
            v.push(scope(indent(concat(docs)), Scope::Brackets));
            v.push(SOFT);
        }
        v.push(text(l.close));
        group(concat(v), l.magic || any_comment)
    }

    /// A bracketed expression's list of items between the brackets at `open_pos`..`close_pos`.
    fn bracket(
        &mut self,
        open: &'static str,
        close: &'static str,
        open_pos: u32,
        close_pos: u32,
        items: Vec<Item>,
    ) -> R<Doc> {
        if self.src.matching.get(&open_pos) != Some(&close_pos) {
            return problem(open_pos, "unmatched bracket");
        }
        let magic = !items.is_empty()
            && self
                .src
                .prev_tok(close_pos)
                .is_some_and(|t| t.kind == Kind::Comma);
        Ok(self.list(List {
            open,
            close,
            open_pos,
            close_pos,
            items,
            comma: Comma::WhenBroken,
            magic,
            params: false,
        }))
    }

    fn expr(&mut self, e: &AstExpr) -> R<Doc> {
        let (b, en) = (e.span.begin().get(), e.span.end().get());
        Ok(match &e.node {
            ExprP::Identifier(id) => text(id.node.ident.clone()),
            ExprP::Literal(AstLiteral::String(s)) => {
                text(self.string(&s.node, s.span.begin().get(), s.span.end().get()))
            }
            ExprP::Literal(AstLiteral::Ellipsis) => text("..."),
            ExprP::Literal(AstLiteral::Bytes(_)) | ExprP::FString(_) => {
                text(requote_prefixed(self.src.slice(b, en)))
            }
            ExprP::Literal(_) => text(self.src.slice(b, en)),
            ExprP::Tuple(items) if items.is_empty() => self.bracket("(", ")", b, en - 1, vec![])?,
            ExprP::Tuple(items) => self.bare_tuple(items)?,
            ExprP::Dot(obj, name) => {
                let obj_doc = if matches!(obj.node, ExprP::Literal(AstLiteral::Int(_))) {
                    let inner = self.expr(obj)?;
                    concat(vec![text("("), inner, text(")")])
                } else {
                    self.sub(obj, prec::PRIMARY, false)?
                };
                concat(vec![obj_doc, text(format!(".{}", name.node))])
            }
            ExprP::Call(f, args) => {
                let callee = self.sub(f, prec::PRIMARY, false)?;
                let close = en - 1;
                let open = match self.src.opening.get(&close) {
                    Some(&o) => o,
                    None => return problem(b, "unmatched bracket"),
                };
                if let Some(arg) = self.hugged(args.args.as_slice(), open, close) {
                    return Ok(concat(vec![callee, text("("), self.expr(arg)?, text(")")]));
                }
                let items = args
                    .args
                    .iter()
                    .map(|a| self.argument(a))
                    .collect::<R<Vec<_>>>()?;
                concat(vec![callee, self.bracket("(", ")", open, close, items)?])
            }
            ExprP::Index(x) => concat(vec![
                self.sub(&x.0, prec::PRIMARY, false)?,
                text("["),
                scope(self.sub(&x.1, prec::TEST, false)?, Scope::Brackets),
                text("]"),
            ]),
            ExprP::Index2(x) => concat(vec![
                self.sub(&x.0, prec::PRIMARY, false)?,
                text("["),
                scope(self.sub(&x.1, prec::TEST, false)?, Scope::Brackets),
                text(", "),
                scope(self.sub(&x.2, prec::TEST, false)?, Scope::Brackets),
                text("]"),
            ]),
            ExprP::Slice(obj, start, stop, step) => {
                let mut v = vec![self.sub(obj, prec::PRIMARY, false)?, text("[")];
                let mut parts = Vec::new();
                if let Some(x) = start {
                    parts.push(self.sub(x, prec::TEST, false)?);
                }
                parts.push(text(":"));
                if let Some(x) = stop {
                    parts.push(self.sub(x, prec::TEST, false)?);
                }
                if let Some(x) = step {
                    parts.push(text(":"));
                    parts.push(self.sub(x, prec::TEST, false)?);
                }
                v.push(scope(concat(parts), Scope::Brackets));
                v.push(text("]"));
                concat(v)
            }
            ExprP::Lambda(l) => {
                let mut v = vec![text("lambda")];
                for (i, p) in l.params.iter().enumerate() {
                    v.push(text(if i == 0 { " " } else { ", " }));
                    v.push(self.param(p)?.doc);
                }
                v.push(text(": "));
                v.push(self.sub(&l.body, prec::TEST, false)?);
                concat(v)
            }
            ExprP::Not(x) => concat(vec![text("not "), self.sub(x, prec::NOT, false)?]),
            ExprP::Minus(x) => concat(vec![text("-"), self.sub(x, prec::UNARY, false)?]),
            ExprP::Plus(x) => concat(vec![text("+"), self.sub(x, prec::UNARY, false)?]),
            ExprP::BitNot(x) => concat(vec![text("~"), self.sub(x, prec::UNARY, false)?]),
            ExprP::Op(..) => self.binary(e)?,
            ExprP::If(x) => {
                let (cond, then, els) = &**x;
                let then = self.item(then, prec::OR_TEST)?;
                let mut cond = self.item(cond, prec::OR_TEST)?;
                cond.begin = self.keyword_before(cond.begin, "if")?;
                let mut els = self.item(els, prec::TEST)?;
                els.begin = self.keyword_before(els.begin, "else")?;
                let (doc, comments) = self.seq(
                    then,
                    vec![
                        (Doc::OpLine, text("if "), cond),
                        (Doc::OpLine, text("else "), els),
                    ],
                );
                operators(doc, comments)
            }
            ExprP::List(items) => {
                let v = self.items(items)?;
                self.bracket("[", "]", b, en - 1, v)?
            }
            ExprP::Dict(entries) => {
                let mut v = Vec::new();
                for (k, val) in entries {
                    let (kx, vx) = (self.ext(k), self.ext(val));
                    let doc = concat(vec![
                        self.sub(k, prec::TEST, false)?,
                        text(": "),
                        self.value(val, false)?,
                    ]);
                    v.push(Item {
                        doc,
                        begin: kx.begin,
                        end: vx.end,
                    });
                }
                self.bracket("{", "}", b, en - 1, v)?
            }
            ExprP::ListComprehension(elt, first, clauses) => {
                let elt = self.item(elt, prec::TEST)?;
                self.comprehension(("[", "]"), (b, en - 1), elt, first, clauses)?
            }
            ExprP::DictComprehension(kv, first, clauses) => {
                let (k, v) = (self.item(&kv.0, prec::TEST)?, self.item(&kv.1, prec::TEST)?);
                let elt = Item {
                    doc: concat(vec![k.doc, text(": "), v.doc]),
                    begin: k.begin,
                    end: v.end,
                };
                self.comprehension(("{", "}"), (b, en - 1), elt, first, clauses)?
            }
        })
    }

    /// `[elt for x in y if c]`: on one line, or one part per line; comments between parts stay.
    fn comprehension(
        &mut self,
        (open, close): (&'static str, &'static str),
        (open_pos, close_pos): (u32, u32),
        elt: Item,
        first: &ForClauseP<AstNoPayload>,
        rest: &[ClauseP<AstNoPayload>],
    ) -> R<Doc> {
        let mut parts = vec![self.for_clause(first)?];
        for c in rest {
            parts.push(match c {
                ClauseP::For(f) => self.for_clause(f)?,
                ClauseP::If(cond) => {
                    let mut x = self.item(cond, prec::OR_TEST)?;
                    x.begin = self.keyword_before(x.begin, "if")?;
                    x.doc = concat(vec![text("if "), x.doc]);
                    x
                }
            });
        }
        // One item for the comments after `[` and before `]`; its parts break with the list.
        let (begin, end) = (elt.begin, parts.last().map_or(elt.end, |p| p.end));
        let (doc, _) = self.seq(
            elt,
            parts.into_iter().map(|p| (SPACE, text(""), p)).collect(),
        );
        let doc = self.list(List {
            open,
            close,
            open_pos,
            close_pos,
            items: vec![Item { doc, begin, end }],
            comma: Comma::Never,
            magic: false,
            params: false,
        });
        Ok(doc)
    }

    fn for_clause(&mut self, f: &ForClauseP<AstNoPayload>) -> R<Item> {
        let over = self.item(&f.over, prec::OR_TEST)?;
        let begin = self.keyword_before(f.var.span.begin().get(), "for")?;
        Ok(Item {
            doc: concat(vec![
                text("for "),
                self.target(&f.var, true)?,
                text(" in "),
                over.doc,
            ]),
            begin,
            end: over.end,
        })
    }

    /// The sole argument of a call that hugs its parentheses (`f([` … `])`, `f({` … `})`): a
    /// list or dict literal, without comments or a trailing comma around it.
    fn hugged<'e>(&self, args: &'e [AstArgument], open: u32, close: u32) -> Option<&'e AstExpr> {
        let [arg] = args else { return None };
        let ArgumentP::Positional(x) = &arg.node else {
            return None;
        };
        let literal = matches!(
            x.node,
            ExprP::List(_)
                | ExprP::Dict(_)
                | ExprP::ListComprehension(..)
                | ExprP::DictComprehension(..)
        );
        let ext = self.ext(x);
        let magic = self
            .src
            .prev_tok(close)
            .is_some_and(|t| t.kind == Kind::Comma);
        (literal
            && ext.parens.is_none()
            && !magic
            && !self.has_comments(open, ext.begin)
            && !self.has_comments(ext.end, close))
        .then_some(x)
    }

    fn argument(&mut self, a: &AstArgument) -> R<Item> {
        let x = self.ext(a.node.expr());
        let value = match &a.node {
            ArgumentP::Named(..) => self.value(a.node.expr(), false)?,
            _ => self.sub(a.node.expr(), prec::TEST, false)?,
        };
        let doc = match &a.node {
            ArgumentP::Positional(_) => value,
            ArgumentP::Named(name, _) => concat(vec![text(format!("{} = ", name.node)), value]),
            ArgumentP::Args(_) => concat(vec![text("*"), value]),
            ArgumentP::KwArgs(_) => concat(vec![text("**"), value]),
        };
        Ok(Item {
            doc,
            begin: a.span.begin().get().min(x.begin),
            end: a.span.end().get().max(x.end),
        })
    }

    /// A chain of binary operators of one precedence (`a + b - c`), breakable before each
    /// operator inside brackets.
    fn binary(&mut self, e: &AstExpr) -> R<Doc> {
        let ExprP::Op(_, op, _) = &e.node else {
            unreachable!("binary() is called on operators")
        };
        let p = op_prec(*op);
        let (rights, first) = self.chain(e);
        let left_min = if is_comparison(*op) { p + 1 } else { p };
        let first = self.item(first, left_min)?;
        let mut rest = Vec::new();
        for (o, r) in rights {
            rest.push((
                Doc::OpLine,
                text(format!("{} ", o.to_string().trim())),
                self.item(r, p + 1)?,
            ));
        }
        let (doc, comments) = self.seq(first, rest);
        Ok(operators(doc, comments))
    }

    /// An operand with its extent.
    fn item(&mut self, e: &AstExpr, min: u8) -> R<Item> {
        let x = self.ext(e);
        Ok(Item {
            doc: self.sub(e, min, false)?,
            begin: x.begin,
            end: x.end,
        })
    }

    /// The start of the keyword `kw` last before `pos`.
    fn keyword_before(&self, pos: u32, kw: &str) -> R<u32> {
        let i = self.src.toks.partition_point(|t| t.start < pos);
        match self.src.toks[..i]
            .iter()
            .rev()
            .find(|t| self.src.slice(t.start, t.end) == kw)
        {
            Some(t) => Ok(t.start),
            None => problem(pos, format!("expected `{kw}`")),
        }
    }

    /// The parts of an expression that go on lines of their own when it breaks (operands,
    /// clauses), each after a line break and a prefix (`+ `); comments between the parts stay
    /// between them (and break the expression).
    fn seq(&mut self, first: Item, rest: Vec<(Doc, Doc, Item)>) -> (Doc, bool) {
        let mut v = vec![first.doc];
        let mut prev = first.end;
        let mut comments = false;
        for (line, prefix, item) in rest {
            let gap = self.take(prev, item.begin);
            comments |= !gap.is_empty();
            let prev_line = self.src.line(prev);
            let (trail, lead): (Vec<_>, Vec<_>) =
                gap.into_iter().partition(|c| c.line == prev_line);
            v.extend(trail.into_iter().map(|c| Doc::Suffix(c.text)));
            v.push(line);
            for c in lead {
                v.push(text(c.text));
                v.push(SOFT);
            }
            v.push(prefix);
            v.push(item.doc);
            prev = item.end;
        }
        (concat(v), comments)
    }

    /// The operators of one precedence written without parentheses (`a + b - c`): the right
    /// operands in order, and the first operand.
    fn chain<'e>(&self, e: &'e AstExpr) -> (Vec<(BinOp, &'e AstExpr)>, &'e AstExpr) {
        let mut rights = Vec::new();
        let mut cur = e;
        if let ExprP::Op(_, op, _) = &e.node {
            let p = op_prec(*op);
            while let ExprP::Op(l, o, r) = &cur.node {
                if op_prec(*o) != p || (!std::ptr::eq(cur, e) && self.ext(cur).parens.is_some()) {
                    break;
                }
                rights.push((*o, &**r));
                cur = l;
                if is_comparison(*o) {
                    break;
                }
            }
        }
        rights.reverse();
        (rights, cur)
    }

    /// A string literal as written, in double quotes when that changes nothing else.
    fn string(&self, value: &str, begin: u32, end: u32) -> String {
        let raw = self.src.slice(begin, end);
        let (prefix, body) = match raw.strip_prefix('r') {
            Some(rest) => ("r", rest),
            None => ("", raw),
        };
        if !body.starts_with('\'') || body.starts_with("'''") || body.len() < 2 {
            return raw.to_string();
        }
        let inner = &body[1..body.len() - 1];
        let converted = if prefix == "r" {
            if inner.contains('"') {
                return raw.to_string();
            }
            format!("r\"{inner}\"")
        } else {
            let mut out = String::with_capacity(inner.len() + 2);
            let (mut old_escapes, mut new_escapes) = (0, 0);
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some('\'') => {
                            old_escapes += 1;
                            out.push('\'');
                        }
                        Some(n) => {
                            out.push('\\');
                            out.push(n);
                        }
                        None => out.push('\\'),
                    },
                    '"' => {
                        new_escapes += 1;
                        out.push_str("\\\"");
                    }
                    c => out.push(c),
                }
            }
            if new_escapes > old_escapes {
                return raw.to_string();
            }
            format!("\"{out}\"")
        };
        if lex_string(&converted).as_deref() == Some(value) {
            converted
        } else {
            raw.to_string()
        }
    }
}

/// An f-string or bytes literal (`f'…'`, `b'…'`) in double quotes if it has no `"` or `\`
/// (so nothing else changes), else as written.
fn requote_prefixed(raw: &str) -> String {
    let body = raw.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let prefix = &raw[..raw.len() - body.len()];
    if body.len() < 2 || !body.starts_with('\'') || body.starts_with("'''") {
        return raw.to_string();
    }
    let inner = &body[1..body.len() - 1];
    if inner.contains(['"', '\\']) {
        return raw.to_string();
    }
    format!("{prefix}\"{inner}\"")
}

/// The value of a string literal, if `literal` is exactly one.
fn lex_string(literal: &str) -> Option<String> {
    let codemap = CodeMap::new("fmt".to_owned(), literal.to_owned());
    let mut lexer = Lexer::new(literal, &crate::eval::dialect(), codemap);
    match lexer.next()? {
        Ok((0, Token::String(s), end)) if end == literal.len() => Some(s),
        _ => None,
    }
}
