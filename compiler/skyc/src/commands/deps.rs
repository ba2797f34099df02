//! `skyc deps FILE…`: the files an entry file depends on (its loads, transitively, the
//! project's `sky.toml` and the CRD files it declares), for build systems that need declared inputs (Bazel, Buck2, make) and
//! for cache keys. Nothing is evaluated.

use crate::project::{open_entry, print_diagnostics, CompatFlag};
use crate::Exit;
use skyc_core::{FileId, Options};
use std::collections::BTreeSet;
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DepsFormat {
    /// One file per line, the union over the entry files, sorted.
    #[default]
    Text,
    /// Per entry file: its files in dependency order and a digest of their contents.
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Entry files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    format: DepsFormat,
    /// Also list the stdlib modules (`@stdlib//…`), which are built into skyc.
    #[arg(long)]
    stdlib: bool,
    /// Resolve `load()` paths as another tool would (see `skyc render --help`).
    #[arg(long, value_enum, value_name = "TOOL")]
    compat: Option<CompatFlag>,
}

/// The dependencies of one entry file.
pub struct EntryDeps {
    /// Display names, in dependency order (a file after the files it loads; the entry last),
    /// then `sky.toml` when the project has one, then the CRD files it declares.
    pub files: Vec<String>,
    /// `sha256:` of skyc's version and every file's name and contents (stdlib included).
    pub digest: String,
}

/// Reads the load graph of `path`; diagnostics when a file cannot be read or parsed.
pub fn entry_deps(
    path: &std::path::Path,
    opts: &Options,
    stdlib: bool,
) -> Result<EntryDeps, crate::project::Results> {
    let mut res = crate::project::Results::default();
    let Some(e) = open_entry(path, &mut res) else {
        return Err(res);
    };
    let mut o = opts.clone();
    o.config = e.config.clone();
    let deps = skyc_core::deps(&e.world, &e.id, &o);
    if deps.diagnostics.iter().any(|d| d.is_error()) {
        for f in &deps.files {
            res.sources.insert(f.name.clone(), f.text.clone());
        }
        res.diagnostics = deps.diagnostics;
        return Err(res);
    }
    let mut digest = crate::cache::Digest::new("skyc-deps-v1");
    let mut files = Vec::new();
    for f in &deps.files {
        digest.add(&f.name, f.text.as_bytes());
        if stdlib || matches!(f.id, FileId::Project(_)) {
            files.push(f.name.clone());
        }
    }
    if let Ok(text) = skyc_core::World::read(&e.world, "sky.toml") {
        let name = skyc_core::World::display_name(&e.world, "sky.toml");
        digest.add(&name, text.as_bytes());
        files.push(name);
    }
    // The declared CRDs: read only when the compilation needs them, which only evaluating
    // can tell, so a build system gets all of them.
    for path in skyc_core::crd_files(&e.world, &e.config) {
        if let Ok(text) = skyc_core::World::read(&e.world, &path) {
            let name = skyc_core::World::display_name(&e.world, &path);
            digest.add(&name, text.as_bytes());
            files.push(name);
        }
    }
    Ok(EntryDeps {
        files,
        digest: digest.finish(),
    })
}

pub fn run(args: Args) -> Exit {
    let opts = Options {
        compat: args.compat.map(|_| skyc_core::config::Compat::Skycfg),
        ..Options::default()
    };
    let mut all = Vec::new();
    for p in &args.files {
        match entry_deps(p, &opts, args.stdlib) {
            Ok(d) => all.push((p.display().to_string(), d)),
            Err(res) => {
                print_diagnostics(&res.diagnostics, &res.sources, false);
                return res.exit();
            }
        }
    }
    match args.format {
        DepsFormat::Text => {
            let union: BTreeSet<&String> = all.iter().flat_map(|(_, d)| &d.files).collect();
            for f in union {
                println!("{f}");
            }
        }
        DepsFormat::Json => {
            let list: Vec<serde_json::Value> = all
                .iter()
                .map(|(entry, d)| {
                    serde_json::json!({"entry": entry, "files": d.files, "digest": d.digest})
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&list).unwrap_or_default()
            );
        }
    }
    Exit::Ok
}
