//! skyc's standard library: typed Starlark modules embedded in the binary and loaded with
//! `load("@stdlib//service.sky", ...)`. The sources live in `stdlib/sky/`; they are the
//! documentation of what each function generates.

/// Every stdlib module: (path under `@stdlib//`, source).
pub const MODULES: &[(&str, &str)] = &[
    ("clusters.sky", include_str!("../sky/clusters.sky")),
    ("cron.sky", include_str!("../sky/cron.sky")),
    ("mesh.sky", include_str!("../sky/mesh.sky")),
    ("service.sky", include_str!("../sky/service.sky")),
    ("workload.sky", include_str!("../sky/workload.sky")),
];

/// The source of a stdlib module.
pub fn module(path: &str) -> Option<&'static str> {
    MODULES.iter().find(|(p, _)| *p == path).map(|(_, s)| *s)
}
