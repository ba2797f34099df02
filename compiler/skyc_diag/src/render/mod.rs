//! Renderers: one module per output format. Each returns a `String`; none prints.

mod github;
mod human;
mod json;
mod sarif;

pub use github::github;
pub use human::{human, HumanOptions};
pub use json::json;
pub use sarif::sarif;

/// Gives the text of a file named in a span, so renderers can show source lines.
pub trait SourceLookup {
    fn source(&self, file: &str) -> Option<std::sync::Arc<str>>;
}

impl<F: Fn(&str) -> Option<std::sync::Arc<str>>> SourceLookup for F {
    fn source(&self, file: &str) -> Option<std::sync::Arc<str>> {
        self(file)
    }
}
