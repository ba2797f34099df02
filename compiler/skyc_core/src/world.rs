//! The World: the only way skyc reads files.
//!
//! A [`World`] serves the text of project files by their root-relative path. The disk
//! implementation ([`DiskWorld`]) confines reads to the project root (symlinks leaving it are
//! refused); tests use [`MemoryWorld`]; the language server will layer open buffers on top.
//! Load paths are resolved by [`resolve_load`], a pure function, so every front end resolves
//! them the same way.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// A source file: a project file (root-relative, `/`-separated) or an embedded stdlib module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileId {
    Project(String),
    Stdlib(String),
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileId::Project(p) => f.write_str(p),
            FileId::Stdlib(p) => write!(f, "@stdlib//{p}"),
        }
    }
}

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    /// The path resolves (through a symlink) to somewhere outside the project root.
    EscapesRoot(String),
    /// A directory, device or other non-regular file.
    NotAFile,
    NotUtf8,
    /// A project file with more than one name (a hard link): it may be a file from outside
    /// the project under a name inside it.
    HardLinked(u64),
    /// Larger than the given number of bytes a file of its kind may have.
    TooLarge(u64),
    Io(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("not found"),
            ReadError::EscapesRoot(to) => write!(f, "it leads outside the project root (to {to})"),
            ReadError::NotAFile => f.write_str("not a regular file"),
            ReadError::NotUtf8 => f.write_str("not valid UTF-8 text"),
            ReadError::HardLinked(n) => write!(f, "it has {n} hard links"),
            ReadError::TooLarge(max) => write!(f, "it is larger than {max} bytes"),
            ReadError::Io(e) => f.write_str(e),
        }
    }
}

/// Read access to the files of one project.
pub trait World: Sync {
    /// The text of a project file, by root-relative path.
    fn read(&self, path: &str) -> Result<Arc<str>, ReadError>;
    /// How to name a project file in diagnostics (e.g. relative to the working directory).
    fn display_name(&self, path: &str) -> String {
        path.to_string()
    }
    /// The `.sky` files directly in a project directory (root-relative paths, sorted); empty
    /// when it does not exist.
    fn list_sky(&self, dir: &str) -> Vec<String> {
        let _ = dir;
        Vec::new()
    }
    /// The files under a project directory, recursively, whose names end in one of
    /// `extensions` (root-relative paths, sorted); empty when it does not exist. (No default:
    /// a world that cannot list would silently hide a project's CRD directories.)
    fn list_files(&self, dir: &str, extensions: &[&str]) -> Vec<String>;
}

/// Why a load path was refused. Each maps to a diagnostic code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadPathError {
    Absolute,
    EscapesRoot,
    Invalid(&'static str),
    UnknownStdlib(String),
}

/// Resolves the path of a `load()` written in `from`.
///
/// Accepted forms: `relative/path.sky` (from the loading file's directory), `//path.sky` (from
/// the project root) and `@stdlib//module.sky`.
pub fn resolve_load(from: &FileId, spec: &str) -> Result<FileId, LoadPathError> {
    if spec.is_empty() {
        return Err(LoadPathError::Invalid("the path is empty"));
    }
    if spec.len() > MAX_LOAD_PATH {
        return Err(LoadPathError::Invalid("the path is longer than 1024 bytes"));
    }
    if spec.contains('\0') || spec.contains('\\') {
        return Err(LoadPathError::Invalid(
            "backslashes and NUL characters are not allowed",
        ));
    }
    if let Some(rest) = spec.strip_prefix("@stdlib//") {
        let path = normalize("", rest)?;
        return if skyc_stdlib::module(&path).is_some() {
            Ok(FileId::Stdlib(path))
        } else {
            Err(LoadPathError::UnknownStdlib(path))
        };
    }
    if spec.starts_with('@') {
        return Err(LoadPathError::Invalid(
            "only `@stdlib//` may be loaded from outside the project",
        ));
    }
    if let Some(rest) = spec.strip_prefix("//") {
        return match from {
            FileId::Project(_) => Ok(FileId::Project(normalize("", rest)?)),
            FileId::Stdlib(_) => Err(LoadPathError::Invalid(
                "the stdlib cannot load project files",
            )),
        };
    }
    if spec.starts_with('/') || (spec.len() > 1 && spec.as_bytes()[1] == b':') {
        return Err(LoadPathError::Absolute);
    }
    match from {
        FileId::Project(p) => Ok(FileId::Project(normalize(parent(p), spec)?)),
        FileId::Stdlib(p) => {
            let path = normalize(parent(p), spec)?;
            if skyc_stdlib::module(&path).is_some() {
                Ok(FileId::Stdlib(path))
            } else {
                Err(LoadPathError::UnknownStdlib(path))
            }
        }
    }
}

fn parent(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Joins `rel` onto `dir` and removes `.` and `..`, refusing to climb above the root.
fn normalize(dir: &str, rel: &str) -> Result<String, LoadPathError> {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for comp in rel.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(LoadPathError::EscapesRoot);
                }
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() || rel.ends_with('/') {
        return Err(LoadPathError::Invalid("the path must name a file"));
    }
    Ok(parts.join("/"))
}

/// Project files on disk, confined to `root`.
#[derive(Debug, Clone)]
pub struct DiskWorld {
    root: PathBuf,
    canonical_root: PathBuf,
    /// Diagnostics name files relative to this directory (the working directory), resolved.
    display_base: Option<PathBuf>,
}

impl DiskWorld {
    /// The world of the project at `root`; diagnostics name files relative to `display_base`
    /// (resolved once here; a directory that cannot be resolved names files in full).
    pub fn new(root: &Path, display_base: Option<&Path>) -> std::io::Result<DiskWorld> {
        let canonical_root = root.canonicalize()?;
        Ok(DiskWorld {
            root: root.to_path_buf(),
            canonical_root,
            display_base: display_base.and_then(|b| b.canonicalize().ok()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Finds the project root for an entry file: the nearest ancestor with a `sky.toml`, or the
    /// entry's own directory.
    pub fn find_root(entry: &Path) -> PathBuf {
        DiskWorld::root_above(&DiskWorld::directory_of(entry))
    }

    /// The directory of an entry file, resolved (as given when it cannot be).
    pub fn directory_of(entry: &Path) -> PathBuf {
        let dir = entry.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        dir.canonicalize().unwrap_or(dir)
    }

    /// The project root for the entry files in `dir` (resolved, see [`Self::directory_of`]):
    /// the nearest ancestor with a `sky.toml`, or `dir` itself.
    pub fn root_above(dir: &Path) -> PathBuf {
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if d.join("sky.toml").is_file() {
                return d.to_path_buf();
            }
            cur = d.parent();
        }
        dir.to_path_buf()
    }

    /// The root-relative id of a path on disk, if it is inside the root.
    pub fn file_id(&self, path: &Path) -> Option<String> {
        let abs = path.canonicalize().ok()?;
        self.id_of_resolved(&abs)
    }

    /// [`Self::file_id`] for a file in `dir`, a directory already resolved: a file that is
    /// not a symbolic link resolves to `dir` joined with its name, so only it is looked at.
    pub fn file_id_in(&self, dir: &Path, path: &Path) -> Option<String> {
        let name = match path.file_name() {
            Some(name) if path.symlink_metadata().is_ok_and(|m| m.is_file()) => name,
            _ => return self.file_id(path),
        };
        self.id_of_resolved(&dir.join(name))
    }

    fn id_of_resolved(&self, abs: &Path) -> Option<String> {
        let rel = abs.strip_prefix(&self.canonical_root).ok()?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| match c {
                Component::Normal(s) => s.to_str().map(str::to_string),
                _ => None,
            })
            .collect::<Option<_>>()?;
        Some(parts.join("/"))
    }

    /// Reads a file inside the root by root-relative path (for `sky.toml` and vars files).
    pub fn read_path(&self, path: &Path) -> Result<Arc<str>, ReadError> {
        read_confined(&self.canonical_root, path)
    }
}

fn read_confined(canonical_root: &Path, full: &Path) -> Result<Arc<str>, ReadError> {
    let canonical = match full.canonicalize() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::NotFound),
        Err(e) => return Err(ReadError::Io(e.to_string())),
    };
    if !canonical.starts_with(canonical_root) {
        return Err(ReadError::EscapesRoot(canonical.display().to_string()));
    }
    let meta = std::fs::metadata(&canonical).map_err(|e| ReadError::Io(e.to_string()))?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile);
    }
    check_links(&meta)?;
    read_capped(&canonical, MAX_SOURCE_BYTES)
}

/// A project file with other names (hard links) may be one outside the project: refused.
fn check_links(meta: &std::fs::Metadata) -> Result<(), ReadError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Err(ReadError::HardLinked(meta.nlink()));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(())
}

/// The longest `load()` path.
const MAX_LOAD_PATH: usize = 1024;

/// The most a source file (`.sky`, `sky.toml`) may have: 16 MiB.
pub const MAX_SOURCE_BYTES: u64 = 16 << 20;
/// The most an input file (YAML to import, a render to diff, a vars file) may have: 512 MiB.
pub const MAX_INPUT_BYTES: u64 = 512 << 20;

/// Reads a regular file as UTF-8, refusing more than `max` bytes (also when the file grows
/// while it is read).
fn read_capped(path: &Path, max: u64) -> Result<Arc<str>, ReadError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| ReadError::Io(e.to_string()))?;
    // Read at the size the file has now (`take` hides it from `read_to_end`, which would
    // then read a small file in six growing steps).
    let size = file.metadata().map_or(0, |m| m.len()).min(max);
    let mut bytes = Vec::with_capacity(size as usize + 1);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(e.to_string()))?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge(max));
    }
    String::from_utf8(bytes)
        .map(Arc::from)
        .map_err(|_| ReadError::NotUtf8)
}

impl World for DiskWorld {
    fn read(&self, path: &str) -> Result<Arc<str>, ReadError> {
        // A file directly in the root that is not a symbolic link is where it seems to be:
        // one look at it instead of resolving every directory above it.
        if !matches!(path, "" | "." | "..") && !path.contains(['/', '\\']) {
            let full = self.canonical_root.join(path);
            if let Ok(meta) = full.symlink_metadata() {
                if meta.is_file() {
                    check_links(&meta)?;
                    return read_capped(&full, MAX_SOURCE_BYTES);
                }
            }
        }
        read_confined(&self.canonical_root, &self.root.join(path))
    }

    fn list_sky(&self, dir: &str) -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(self.root.join(dir)) else {
            return Vec::new();
        };
        let mut out: Vec<String> = rd
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                let full = e.path();
                // Only regular files that stay inside the root (symlinks are resolved).
                let inside = full
                    .canonicalize()
                    .is_ok_and(|c| c.starts_with(&self.canonical_root) && c.is_file());
                (name.ends_with(".sky") && inside).then(|| format!("{dir}/{name}"))
            })
            .collect();
        out.sort();
        out
    }

    fn list_files(&self, dir: &str, extensions: &[&str]) -> Vec<String> {
        let Ok(found) = list_files(&self.root.join(dir), extensions) else {
            return Vec::new();
        };
        let mut out: Vec<String> = found
            .into_iter()
            .filter(|full| {
                // Only regular files that stay inside the root (symlinks are resolved).
                full.canonicalize()
                    .is_ok_and(|c| c.starts_with(&self.canonical_root) && c.is_file())
            })
            .filter_map(|full| {
                let rel = full.strip_prefix(&self.root).ok()?.to_str()?.to_string();
                Some(rel.replace(std::path::MAIN_SEPARATOR, "/"))
            })
            .collect();
        out.sort();
        out
    }

    fn display_name(&self, path: &str) -> String {
        let full = self.root.join(path);
        if let Some(base) = &self.display_base {
            // The directory is resolved, the file name kept: a symbolic link is named as
            // written, not by what it points to. Files at the root (most) need no lookup.
            let resolved = match (full.parent(), full.file_name()) {
                (Some(dir), Some(name)) if dir == self.root => Some(self.canonical_root.join(name)),
                (Some(dir), Some(name)) => dir.canonicalize().ok().map(|d| d.join(name)),
                _ => None,
            };
            let resolved = resolved.as_deref().unwrap_or(&full);
            if let Some(rel) = resolved.strip_prefix(base).ok().and_then(Path::to_str) {
                return rel.replace('\\', "/");
            }
        }
        full.display().to_string()
    }
}

/// Reads a file the user named on the command line (a vars file, `sky.toml`). Such files
/// are inputs of the command, not of the sandbox, so they are not confined to the root.
pub fn read_input(path: &Path) -> Result<Arc<str>, ReadError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::NotFound),
        Err(e) => return Err(ReadError::Io(e.to_string())),
    };
    if !meta.is_file() {
        return Err(ReadError::NotAFile);
    }
    read_capped(path, MAX_INPUT_BYTES)
}

/// Lists the `.sky` files under a directory, sorted (for `skyc check DIR`).
pub fn list_sky_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    list_files(dir, &["sky"])
}

/// Files under `dir` (recursively, skipping hidden directories and `target`) with one of the
/// given extensions, sorted.
pub fn list_files(dir: &Path, extensions: &[&str]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            let ft = entry.file_type()?;
            if ft.is_dir() {
                let hidden = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.') || n == "target");
                if !hidden {
                    stack.push(path);
                }
            } else if ft.is_file()
                && path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| extensions.contains(&e))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Project files in memory (tests, fixtures, and later the editor's open buffers).
#[derive(Debug, Default, Clone)]
pub struct MemoryWorld {
    pub files: BTreeMap<String, Arc<str>>,
}

impl MemoryWorld {
    pub fn new<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> MemoryWorld {
        MemoryWorld {
            files: files
                .into_iter()
                .map(|(p, t)| (p.to_string(), Arc::from(t)))
                .collect(),
        }
    }
}

impl World for MemoryWorld {
    fn read(&self, path: &str) -> Result<Arc<str>, ReadError> {
        if let Some(text) = self.files.get(path) {
            return Ok(text.clone());
        }
        let dir = format!("{}/", path.trim_end_matches('/'));
        if self.files.keys().any(|k| k.starts_with(&dir)) {
            return Err(ReadError::NotAFile);
        }
        Err(ReadError::NotFound)
    }

    fn list_sky(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        self.files
            .keys()
            .filter(|k| {
                k.strip_prefix(&prefix)
                    .is_some_and(|rest| !rest.contains('/') && rest.ends_with(".sky"))
            })
            .cloned()
            .collect()
    }

    fn list_files(&self, dir: &str, extensions: &[&str]) -> Vec<String> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        self.files
            .keys()
            .filter(|k| {
                k.starts_with(&prefix)
                    && k.rsplit_once('.')
                        .is_some_and(|(_, ext)| extensions.contains(&ext))
            })
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FileId {
        FileId::Project(s.into())
    }

    #[test]
    fn resolution() {
        let from = p("services/a.sky");
        assert_eq!(resolve_load(&from, "lib.sky"), Ok(p("services/lib.sky")));
        assert_eq!(resolve_load(&from, "../lib/x.sky"), Ok(p("lib/x.sky")));
        assert_eq!(resolve_load(&from, "//lib/x.sky"), Ok(p("lib/x.sky")));
        assert_eq!(
            resolve_load(&from, "@stdlib//service.sky"),
            Ok(FileId::Stdlib("service.sky".into()))
        );
        assert_eq!(
            resolve_load(&from, "/etc/passwd"),
            Err(LoadPathError::Absolute)
        );
        assert_eq!(
            resolve_load(&from, "../../etc/passwd"),
            Err(LoadPathError::EscapesRoot)
        );
        assert_eq!(
            resolve_load(&from, "//../x.sky"),
            Err(LoadPathError::EscapesRoot)
        );
        assert_eq!(
            resolve_load(&from, "@stdlib//../x.sky"),
            Err(LoadPathError::EscapesRoot)
        );
        assert!(matches!(
            resolve_load(&from, "@other//x.sky"),
            Err(LoadPathError::Invalid(_))
        ));
        assert!(matches!(
            resolve_load(&from, "@stdlib//nope.sky"),
            Err(LoadPathError::UnknownStdlib(_))
        ));
    }
}
