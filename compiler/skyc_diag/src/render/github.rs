//! `--format github`: GitHub Actions workflow commands (`::error file=…,line=…::message`),
//! which GitHub shows as annotations on the pull request's diff.

use crate::{Diagnostic, Severity};

/// Escapes a message per the workflow-command rules.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One annotation line per diagnostic.
pub fn github(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = Vec::new();
        if let Some(s) = &d.span {
            props.push(format!("file={}", escape_property(&s.file)));
            props.push(format!("line={}", s.start.line));
            props.push(format!("col={}", s.start.column));
            props.push(format!("endLine={}", s.end_pos.line));
            if s.end_pos.line == s.start.line {
                props.push(format!("endColumn={}", s.end_pos.column));
            }
        }
        let name = crate::codes::lookup(d.code).map_or("", |c| c.name);
        props.push(format!(
            "title={}",
            escape_property(&format!("{} {name}", d.code))
        ));
        let mut message = d.message.clone();
        if let Some(p) = &d.field_path {
            message.push_str(&format!(" (at {p})"));
        }
        for n in &d.notes {
            message.push('\n');
            message.push_str(n);
        }
        if let Some(h) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        out.push_str(&format!(
            "::{command} {}::{}\n",
            props.join(","),
            escape_data(&message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{codes, Span};

    #[test]
    fn annotations_are_escaped() {
        let text = "a\nbb: x\n";
        let d = Diagnostic::new(codes::SKY0601, "50% of it, a:b")
            .with_span(Span::from_offsets("dir,1/main.sky", text, 2, 4))
            .with_help("line one\nline two");
        let out = github(&[d]);
        assert_eq!(
            out,
            "::error file=dir%2C1/main.sky,line=2,col=1,endLine=2,endColumn=3,title=SKY0601 privileged-container::50%25 of it, a:b%0Ahelp: line one%0Aline two\n"
        );
    }
}
