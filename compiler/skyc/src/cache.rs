//! The result cache of `skyc check`: an entry file whose own text, loaded files, project
//! configuration, policies, options and skyc binary are all unchanged since a check gets that
//! check's findings back without being evaluated again.
//!
//! Two levels, like a compiler cache's manifest: the *key* digests what is known before
//! loading (skyc's binary, the entry's path, the options, `sky.toml`, the policies); the entry
//! stored under it lists the project files the compilation read with a digest of each. A hit
//! needs every one of them to read the same now, so a changed library invalidates every entry
//! that loads it, and no file has to be parsed to find that out. The files' contents decide
//! what they load, so equal contents mean an equal load graph.
//!
//! Only deterministic results are stored: not those with load errors (a missing file may
//! appear), internal errors, or time and memory limits (they depend on the machine). The cache
//! lives in `$SKYC_CACHE_DIR`, else `$XDG_CACHE_HOME/skyc`, else `~/.cache/skyc`; entries are
//! written atomically (a temporary file renamed into place), and one that cannot be read or
//! parsed is a miss. `--no-cache` turns it off.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use skyc_core::{DiskWorld, FileId, Options, Outcome, World};
use skyc_diag::Diagnostic;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A SHA-256 over named parts (each length-prefixed, so parts cannot run into each other).
pub struct Digest(Sha256);

impl Digest {
    /// A digest for one purpose (`domain` keeps digests of different kinds apart).
    pub fn new(domain: &str) -> Digest {
        let mut d = Digest(Sha256::new());
        d.part(domain.as_bytes());
        d.part(env!("CARGO_PKG_VERSION").as_bytes());
        d
    }

    fn part(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    /// Adds a named part.
    pub fn add(&mut self, name: &str, bytes: &[u8]) {
        self.part(name.as_bytes());
        self.part(bytes);
    }

    pub fn finish(self) -> String {
        format!(
            "sha256:{}",
            skyc_core::values::codec::hex(&self.0.finalize())
        )
    }
}

/// What is stored for one entry file.
#[derive(Serialize, Deserialize)]
struct Stored {
    /// Root-relative paths of the project files read, with the digest of each.
    files: Vec<(String, String)>,
    diagnostics: Vec<Diagnostic>,
    prints: Vec<String>,
}

/// Text and digest of each file read, by (project root, path); `None` when it could not be read.
type FileDigests = HashMap<(PathBuf, String), Option<(Arc<str>, String)>>;

pub struct Cache {
    dir: PathBuf,
    /// Identifies the skyc binary (a rebuilt skyc starts afresh).
    binary: String,
    /// Digests of the files read in this process, by project root and path: a library that
    /// a thousand entry files load is read and hashed once per check, not once per entry.
    /// (Files are taken not to change while one command runs.)
    digests: Mutex<FileDigests>,
    /// The digest of each project's `sky.toml` and policies, by project root.
    projects: Mutex<HashMap<PathBuf, String>>,
}

impl Cache {
    /// The cache of this user, or `None` when no directory is known.
    pub fn open() -> Option<Cache> {
        let base = std::env::var_os("SKYC_CACHE_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("XDG_CACHE_HOME")
                    .filter(|v| !v.is_empty())
                    .map(|x| PathBuf::from(x).join("skyc"))
            })
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache/skyc"))
            })?;
        let exe = std::env::current_exe().ok()?;
        let meta = std::fs::metadata(&exe).ok()?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Some(Cache {
            dir: base.join("check-v1"),
            binary: format!("{}:{}:{mtime}", exe.display(), meta.len()),
            digests: Mutex::default(),
            projects: Mutex::default(),
        })
    }

    /// The key of an entry file: everything but the files it loads.
    pub fn key(&self, world: &DiskWorld, entry_id: &str, opts: &Options) -> String {
        let root = world.root();
        let mut d = Digest::new("skyc-check-v1");
        d.add("binary", self.binary.as_bytes());
        d.add("root", root.to_string_lossy().as_bytes());
        d.add("entry", entry_id.as_bytes());
        d.add("vars", format!("{:?}", opts.vars).as_bytes());
        d.add("limits", format!("{:?}", opts.limits).as_bytes());
        d.add("compat", format!("{:?}", opts.compat).as_bytes());
        d.add("lint", format!("{}", opts.lint).as_bytes());
        d.add("project", self.project(world).as_bytes());
        d.finish()
    }

    /// The digest of a project's `sky.toml` and policies (once per root and process).
    fn project(&self, world: &DiskWorld) -> String {
        let root = world.root();
        let mut projects = self.projects.lock().unwrap_or_else(|e| e.into_inner());
        projects
            .entry(root.to_path_buf())
            .or_insert_with(|| {
                let mut d = Digest::new("skyc-project");
                if let Ok(text) = world.read("sky.toml") {
                    d.add("sky.toml", text.as_bytes());
                }
                for p in world.list_sky(skyc_core::policy::POLICY_DIR) {
                    let text = world.read(&p).map(|t| t.to_string()).unwrap_or_default();
                    d.add(&p, text.as_bytes());
                }
                d.finish()
            })
            .clone()
    }

    /// A project file's text and digest (once per file and process); `None` if unreadable.
    fn file(&self, world: &DiskWorld, path: &str) -> Option<(Arc<str>, String)> {
        let key = (world.root().to_path_buf(), path.to_string());
        if let Some(known) = self.lock_digests().get(&key) {
            return known.clone();
        }
        let read = world.read(path).ok().map(|text| {
            let digest = file_digest(&text);
            (text, digest)
        });
        self.lock_digests().insert(key, read.clone());
        read
    }

    fn lock_digests(&self) -> std::sync::MutexGuard<'_, FileDigests> {
        self.digests.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn path(&self, key: &str) -> PathBuf {
        let hex = key.trim_start_matches("sha256:");
        self.dir
            .join(&hex[..2.min(hex.len())])
            .join(format!("{hex}.json"))
    }

    /// The stored outcome under `key`, if every file it read reads the same now.
    pub fn get(&self, world: &DiskWorld, key: &str) -> Option<Outcome> {
        let text = std::fs::read(self.path(key)).ok()?;
        let stored: Stored = serde_json::from_slice(&text).ok()?;
        let mut out = Outcome::default();
        for (path, digest) in &stored.files {
            let (text, now) = self.file(world, path)?;
            if now != *digest {
                return None;
            }
            out.sources.insert(world.display_name(path), text);
            out.files.push(FileId::Project(path.clone()));
        }
        out.diagnostics = stored.diagnostics;
        out.prints = stored.prints;
        Some(out)
    }

    /// Stores `out` under `key` when its result is deterministic (see the module docs).
    /// Failing to write is not an error: the next check evaluates again.
    pub fn put(&self, world: &DiskWorld, key: &str, out: &Outcome) {
        let unstable = |d: &Diagnostic| {
            d.code.starts_with("SKY01") || matches!(d.code, "SKY0002" | "SKY0303" | "SKY0304")
        };
        if out.diagnostics.iter().any(unstable) {
            return;
        }
        let mut files = Vec::new();
        for id in &out.files {
            if let FileId::Project(p) = id {
                let Some((_, digest)) = self.file(world, p) else {
                    return;
                };
                files.push((p.clone(), digest));
            }
        }
        let stored = Stored {
            files,
            diagnostics: out.diagnostics.clone(),
            prints: out.prints.clone(),
        };
        let Ok(bytes) = serde_json::to_vec(&stored) else {
            return;
        };
        let path = self.path(key);
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
            use std::io::Write;
            if tmp.write_all(&bytes).is_ok() {
                let _ = tmp.persist(&path);
            }
        }
    }
}

fn file_digest(text: &str) -> String {
    let mut d = Digest::new("file");
    d.add("", text.as_bytes());
    d.finish()
}
