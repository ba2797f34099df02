//! One file per subcommand.

pub mod check;
pub mod completions;
pub mod deps;
pub mod diff;
pub mod doc;
pub mod explain;
pub mod fmt;
pub mod import;
pub mod lsp;
pub mod man;
pub mod render;
pub mod test;
