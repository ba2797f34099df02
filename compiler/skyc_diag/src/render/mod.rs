//! Renderers: one module per output format. Each returns a `String`; none prints.

mod human;
mod json;

pub use human::{human, HumanOptions};
pub use json::json;

/// Gives the text of a file named in a span, so renderers can show source lines.
pub trait SourceLookup {
    fn source(&self, file: &str) -> Option<std::sync::Arc<str>>;
}

impl<F: Fn(&str) -> Option<std::sync::Arc<str>>> SourceLookup for F {
    fn source(&self, file: &str) -> Option<std::sync::Arc<str>> {
        self(file)
    }
}
