//! One constructor per diagnostic of the core pipeline, so wording stays consistent.

use skyc_diag::{codes, did_you_mean, Diagnostic, Span};

pub(crate) fn undeclared_var<'a>(
    name: &str,
    declared: impl Iterator<Item = &'a str> + Clone,
    span: Option<Span>,
) -> Diagnostic {
    let mut d = Diagnostic::new(
        codes::SKY0310,
        format!("variable `{name}` is not declared in sky.toml"),
    )
    .with_span_opt(span);
    if let Some(s) = did_you_mean(name, declared.clone()) {
        d = d.with_help(format!("did you mean `{s}`?"));
    } else {
        let list: Vec<&str> = declared.collect();
        d = d.with_help(format!("declared variables: {}", list.join(", ")));
    }
    d
}

pub(crate) fn var_not_allowed(name: &str, value: &str, allowed: &[String]) -> Diagnostic {
    let mut d = Diagnostic::new(
        codes::SKY0311,
        format!("`{value}` is not an allowed value of variable `{name}`"),
    );
    d = match did_you_mean(value, allowed.iter().map(String::as_str)) {
        Some(s) => d.with_help(format!(
            "did you mean `{s}`? allowed: {}",
            allowed.join(", ")
        )),
        None => d.with_help(format!("allowed values: {}", allowed.join(", "))),
    };
    d
}
