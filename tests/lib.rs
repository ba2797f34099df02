//! Fixture-driven tests of the whole pipeline. See `tests/README.md` for the layout.

pub mod fuzz;
