//! What the syntax tree does not keep: comments, brackets, commas and lines, from starlark's
//! own lexer (so a `#` inside a string is never taken for a comment).

use starlark_syntax::codemap::CodeMap;
use starlark_syntax::lexer::{Lexer, Token};
use std::collections::BTreeMap;

/// One `# …` comment.
#[derive(Debug, Clone)]
pub(crate) struct Comment {
    pub start: u32,
    pub end: u32,
    /// The comment as written, from `#` to the end of the line (trailing blanks removed).
    pub text: String,
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Open,
    Close,
    Comma,
    Colon,
    Semicolon,
    Else,
    Elif,
    /// The last token of an operand (a name, a literal, a closing bracket): a `(` after it is a call.
    ValueEnd,
    Load,
    Other,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Tok {
    pub start: u32,
    pub end: u32,
    pub kind: Kind,
    /// The first token of a logical line (a `(` there is never a call's).
    pub line_start: bool,
}

/// The source text of one file and its tokens.
pub(crate) struct Source<'a> {
    pub text: &'a str,
    pub toks: Vec<Tok>,
    pub comments: Vec<Comment>,
    line_starts: Vec<u32>,
    /// Every bracket: opening position → closing position.
    pub matching: BTreeMap<u32, u32>,
    /// Every bracket: closing position → opening position.
    pub opening: BTreeMap<u32, u32>,
    /// Grouping parentheses (not a call's): (first token start, last token end) of what they
    /// hold → (position of `(`, position of `)`).
    pub groups: BTreeMap<(u32, u32), (u32, u32)>,
}

impl<'a> Source<'a> {
    /// Lexes `text`, which has already been parsed successfully.
    pub fn new(text: &'a str) -> Result<Source<'a>, String> {
        let mut line_starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        let codemap = CodeMap::new("fmt".to_owned(), text.to_owned());
        let lexer = Lexer::new(text, &crate::eval::dialect(), codemap);
        let mut toks = Vec::new();
        let mut raw_comments = Vec::new();
        let mut line_start = true;
        for lexeme in lexer {
            let (start, tok, end) = lexeme.map_err(|e| e.into_error().to_string())?;
            let (start, end) = (start as u32, end as u32);
            let kind = match tok {
                Token::Comment(_) => {
                    raw_comments.push((start, end));
                    continue;
                }
                Token::Indent | Token::Dedent | Token::Newline => {
                    line_start = true;
                    continue;
                }
                Token::OpeningRound | Token::OpeningSquare | Token::OpeningCurly => Kind::Open,
                Token::ClosingRound | Token::ClosingSquare | Token::ClosingCurly => Kind::Close,
                Token::Comma => Kind::Comma,
                Token::Colon => Kind::Colon,
                Token::Semicolon => Kind::Semicolon,
                Token::Else => Kind::Else,
                Token::Elif => Kind::Elif,
                Token::Load => Kind::Load,
                Token::Identifier(_)
                | Token::Int(_)
                | Token::Float(_)
                | Token::String(_)
                | Token::Bytes(_)
                | Token::FStringEnd => Kind::ValueEnd,
                _ => Kind::Other,
            };
            toks.push(Tok {
                start,
                end,
                kind,
                line_start,
            });
            line_start = false;
        }
        toks.sort_by_key(|t| (t.start, t.end));
        let mut src = Source {
            text,
            toks,
            comments: Vec::new(),
            line_starts,
            matching: BTreeMap::new(),
            opening: BTreeMap::new(),
            groups: BTreeMap::new(),
        };
        for (start, end) in raw_comments {
            let text = src.text[start as usize..end as usize]
                .trim_end()
                .to_string();
            let (line, col) = (src.line(start), src.col(start));
            src.comments.push(Comment {
                start,
                end,
                text,
                line,
                col,
            });
        }
        src.comments.sort_by_key(|c| c.start);
        src.match_brackets()?;
        Ok(src)
    }

    fn match_brackets(&mut self) -> Result<(), String> {
        let mut stack: Vec<usize> = Vec::new();
        for i in 0..self.toks.len() {
            match self.toks[i].kind {
                Kind::Open => stack.push(i),
                Kind::Close => {
                    let o = stack.pop().ok_or("unbalanced brackets")?;
                    let (open, close) = (self.toks[o], self.toks[i]);
                    self.matching.insert(open.start, close.start);
                    self.opening.insert(close.start, open.start);
                    let call = o > 0
                        && !open.line_start
                        && matches!(
                            self.toks[o - 1].kind,
                            Kind::ValueEnd | Kind::Close | Kind::Load
                        );
                    let paren = self.text.as_bytes()[open.start as usize] == b'(';
                    if paren && !call && i > o + 1 {
                        let inner = (self.toks[o + 1].start, self.toks[i - 1].end);
                        self.groups.insert(inner, (open.start, close.start));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The 0-based line of a position.
    pub fn line(&self, pos: u32) -> usize {
        self.line_starts.partition_point(|&s| s <= pos) - 1
    }

    /// The 0-based column (in characters) of a position.
    pub fn col(&self, pos: u32) -> usize {
        let start = self.line_starts[self.line(pos)] as usize;
        self.text[start..pos as usize].chars().count()
    }

    pub fn slice(&self, begin: u32, end: u32) -> &'a str {
        &self.text[begin as usize..end as usize]
    }

    /// Whether `pos` lies strictly inside a token (only a multi-line string spans lines).
    pub fn inside_token(&self, pos: u32) -> bool {
        let i = self.toks.partition_point(|t| t.start < pos);
        i.checked_sub(1)
            .is_some_and(|i| self.toks[i].start < pos && pos < self.toks[i].end)
    }

    /// The first token starting at or after `pos`.
    pub fn next_tok(&self, pos: u32) -> Option<Tok> {
        let i = self.toks.partition_point(|t| t.start < pos);
        self.toks.get(i).copied()
    }

    /// The last token ending at or before `pos`.
    pub fn prev_tok(&self, pos: u32) -> Option<Tok> {
        let i = self.toks.partition_point(|t| t.end <= pos);
        i.checked_sub(1).map(|i| self.toks[i])
    }

    /// Whether the source has an empty line between two positions (`a` before `b`).
    pub fn blank_between(&self, a: u32, b: u32) -> bool {
        a < b
            && self.text[a as usize..b as usize]
                .bytes()
                .filter(|&c| c == b'\n')
                .count()
                >= 2
    }
}
