//! **load** (custom resources): the CustomResourceDefinitions a project declares in
//! `sky.toml` (`[crds] paths`), read through the [`World`] only when a compilation needs them
//! (a file uses `crd`, or `main` returns an object of a kind that is not built in).
//!
//! Reading is cheap; parsing is not (a large CRD is hundreds of kilobytes of YAML). So the
//! files are indexed first: each document is read only as far as its `spec.group` and
//! `spec.names.kind` ([`scan_document`]), and a document is parsed and built into a [`CrdSet`]
//! only when its kind is looked up ([`CrdIndex`]; a document that cannot be indexed, or a JSON
//! file, is built when a lookup finds nothing among the indexed ones). A set is built once per
//! process for the same contents and registered with `skyc_schema`, so its types are found by
//! id like the built-in ones.

use crate::world::{ReadError, World};
use skyc_diag::{codes, Diagnostic, Span};
use skyc_schema::crd::{group_ident, CrdSet, CrdVersion, Document};
use skyc_schema::MessageType;
use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

/// File name endings read from a CRD directory.
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// The CRDs of one compilation: read and indexed on first use.
pub(crate) struct CrdSource<'w> {
    world: &'w dyn World,
    paths: Vec<String>,
    loaded: OnceCell<Loaded>,
    /// How many of the reading diagnostics are in the outcome already.
    reported: std::cell::Cell<usize>,
    files_added: std::cell::Cell<bool>,
}

/// What reading the declared CRDs gave.
#[derive(Default)]
pub(crate) struct Loaded {
    pub index: Option<Arc<CrdIndex>>,
    /// Files that could not be read, kinds declared in two files.
    pub diagnostics: Vec<Diagnostic>,
    /// The CRD files read (root-relative path, display name, text).
    pub files: Vec<(String, String, Arc<str>)>,
    /// `sky.toml` (display name, text), when a diagnostic points into it.
    pub config: Option<(String, Arc<str>)>,
}

impl<'w> CrdSource<'w> {
    pub(crate) fn new(world: &'w dyn World, config: &crate::Config) -> CrdSource<'w> {
        CrdSource {
            world,
            paths: config.crds.paths.clone(),
            loaded: OnceCell::new(),
            reported: std::cell::Cell::new(0),
            files_added: std::cell::Cell::new(false),
        }
    }

    /// Whether the project declares any CRDs.
    pub(crate) fn declared(&self) -> bool {
        !self.paths.is_empty()
    }

    /// The index, reading the files now if that was not done yet (`None` when no CRD file
    /// could be read).
    pub(crate) fn get(&self) -> Option<Arc<CrdIndex>> {
        self.load().index.clone()
    }

    /// The index, if the files were read already (never reads).
    pub(crate) fn peek(&self) -> Option<Arc<CrdIndex>> {
        self.loaded.get().and_then(|l| l.index.clone())
    }

    /// Reads and indexes the declared CRDs (once).
    pub(crate) fn load(&self) -> &Loaded {
        self.loaded.get_or_init(|| load(self.world, &self.paths))
    }

    /// Puts what reading and building found (if the CRDs were read) and the outcome does
    /// not have yet into the outcome: diagnostics, the files read, `sky.toml` for excerpts.
    /// Called again later, it adds only what is new.
    pub(crate) fn report(&self, outcome: &mut crate::Outcome) {
        let Some(loaded) = self.loaded.get() else {
            return;
        };
        let done = self.reported.replace(loaded.diagnostics.len());
        outcome
            .diagnostics
            .extend(loaded.diagnostics[done..].iter().cloned());
        if let Some(index) = &loaded.index {
            outcome.diagnostics.extend(index.take_problems());
        }
        if let Some((name, text)) = &loaded.config {
            outcome.sources.insert(name.clone(), text.clone());
        }
        // The CRD files read join the files the compilation read (the check cache and
        // `--format json` list them, and diagnostics show excerpts of them), once.
        if self.files_added.replace(true) {
            return;
        }
        for (path, name, text) in &loaded.files {
            outcome.sources.insert(name.clone(), text.clone());
            outcome
                .files
                .push(crate::world::FileId::Project(path.clone()));
        }
    }
}

/// The project's CRD files, each document parsed and built only when its kind is looked up.
/// Shared by the evaluation (the `crd` namespace) and the typechecker's thread.
pub struct CrdIndex {
    /// The files read (display name, text).
    texts: Vec<(String, Arc<str>)>,
    /// What is built on demand: each CRD document of a YAML file, or a whole file that could
    /// not be indexed by documents.
    files: Vec<IndexedFile>,
    /// SKY0110 findings of the files built so far, not yet taken.
    problems: Mutex<Vec<Diagnostic>>,
}

impl std::fmt::Debug for CrdIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.texts.iter().map(|x| &x.0))
            .finish()
    }
}

/// One unit the index builds: a document of a file, or a whole file.
struct IndexedFile {
    name: String,
    text: Arc<str>,
    /// The document's bytes in `text` and the line it starts on (`0..len` and 1 for a file).
    range: std::ops::Range<usize>,
    line: usize,
    /// (group, kind) of the CRD; `None` when the document did not tell them early (it is then
    /// built when a lookup finds nothing among the indexed ones).
    kinds: Option<Vec<(String, String)>>,
    built: OnceLock<Option<&'static CrdSet>>,
}

impl CrdIndex {
    fn new(files: &[(String, String, Arc<str>)]) -> (CrdIndex, Vec<Diagnostic>) {
        let mut out = Vec::new();
        let mut seen: HashMap<(String, String), String> = HashMap::new();
        let mut indexed = Vec::new();
        for (_, name, text) in files {
            let unit = |range: std::ops::Range<usize>, line, kinds| IndexedFile {
                name: name.clone(),
                text: text.clone(),
                range,
                line,
                kinds,
                built: OnceLock::new(),
            };
            if name.ends_with(".json") {
                indexed.push(unit(0..text.len(), 1, None));
                continue;
            }
            for (range, line, found) in scan_file(text) {
                if let Some((group, kind)) = &found {
                    let key = (group.clone(), kind.clone());
                    if let Some(first) = seen.get(&key) {
                        out.push(
                            Diagnostic::new(
                                codes::SKY0110,
                                format!("{group} {kind} is declared twice (first in {first})"),
                            )
                            .with_span(span_at(name, text, line, 1))
                            .with_help("declare each CRD once in the files `[crds] paths` lists"),
                        );
                        continue;
                    }
                    seen.insert(key, format!("{name}:{line}"));
                }
                indexed.push(unit(range, line, found.map(|k| vec![k])));
            }
        }
        (
            CrdIndex {
                texts: files
                    .iter()
                    .map(|(_, name, text)| (name.clone(), text.clone()))
                    .collect(),
                files: indexed,
                problems: Mutex::new(Vec::new()),
            },
            out,
        )
    }

    /// The set of file `i`, built now if it was not.
    fn set(&self, i: usize) -> Option<&'static CrdSet> {
        let f = &self.files[i];
        *f.built.get_or_init(|| {
            let (set, problems) = build(&f.name, &f.text[f.range.clone()], f.line);
            let mut found = self.problems.lock().unwrap_or_else(|e| e.into_inner());
            for (file, line, column, message, help) in problems {
                found.push(
                    Diagnostic::new(codes::SKY0110, message)
                        .with_span(span_at(&file, &f.text, line, column))
                        .with_help(help),
                );
            }
            set
        })
    }

    /// The sets of the files with a CRD that passes `wanted`; when none does, those of the
    /// files that could not be indexed.
    fn matching(&self, wanted: impl Fn(&str, &str) -> bool) -> Vec<&'static CrdSet> {
        self.matching_or(wanted, true)
    }

    /// [`Self::matching`]; with `fallback` false, nothing when no indexed file matches.
    fn matching_or(
        &self,
        wanted: impl Fn(&str, &str) -> bool,
        fallback: bool,
    ) -> Vec<&'static CrdSet> {
        let hits: Vec<usize> = (0..self.files.len())
            .filter(|&i| {
                self.files[i]
                    .kinds
                    .as_ref()
                    .is_some_and(|ks| ks.iter().any(|(g, k)| wanted(g, k)))
            })
            .collect();
        let chosen = if hits.is_empty() && fallback {
            (0..self.files.len())
                .filter(|&i| self.files[i].kinds.is_none())
                .collect()
        } else {
            hits
        };
        chosen.into_iter().filter_map(|i| self.set(i)).collect()
    }

    /// The version with this `apiVersion` and `kind`.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&'static CrdVersion> {
        let (group, _) = api_version.rsplit_once('/')?;
        self.matching(|g, k| g == group && k == kind)
            .into_iter()
            .find_map(|s| s.by_kind(api_version, kind))
    }

    /// A type by its path, `crd.<group>.<version>.<Type>` (a kind or a type inside one).
    pub fn type_by_path(&self, path: &str) -> Option<&'static MessageType> {
        let mut parts = path.strip_prefix("crd.")?.splitn(3, '.');
        let (gi, _version, name) = (parts.next()?, parts.next()?, parts.next()?);
        let find =
            |sets: Vec<&'static CrdSet>| sets.into_iter().find_map(|s| s.schema.by_path(path));
        // The kind's own file first; a nested type's name starts with its kind's, so any
        // file of the group may have it.
        find(self.matching_or(|g, k| group_ident(g) == gi && k == name, false))
            .or_else(|| find(self.matching(|g, _| group_ident(g) == gi)))
    }

    /// The version whose constructor is `path` (`crd.<group>.<version>.<Kind>`).
    pub fn by_path(&self, path: &str) -> Option<&'static CrdVersion> {
        let t = self.type_by_path(path)?;
        skyc_schema::crd::registered(t.id.source())?.by_type(t.id)
    }

    /// Every set, all files built.
    pub fn sets(&self) -> Vec<&'static CrdSet> {
        (0..self.files.len()).filter_map(|i| self.set(i)).collect()
    }

    /// The sets that the paths below `crd` of a file name (`monitoring_coreos_com.v1.ServiceMonitor`,
    /// or a namespace such as `monitoring_coreos_com`), built now.
    pub fn sets_for(&self, paths: &BTreeSet<String>) -> Vec<&'static CrdSet> {
        let mut out: Vec<&'static CrdSet> = Vec::new();
        for p in paths {
            let parts: Vec<&str> = p.split('.').collect();
            let gi = parts[0];
            // The kind's file; for a kind no file has (misspelled), the group's files, so the
            // typechecker can say what there is.
            let mut found = match parts.get(2) {
                Some(kind) => self.matching_or(|g, k| group_ident(g) == gi && k == *kind, false),
                None => Vec::new(),
            };
            if found.is_empty() {
                found = self.matching(|g, _| group_ident(g) == gi);
            }
            for s in found {
                if !out.iter().any(|o| std::ptr::eq(*o, s)) {
                    out.push(s);
                }
            }
        }
        out
    }

    /// Every version of every kind, sorted by group, kind and version (all files built).
    pub fn versions(&self) -> Vec<&'static CrdVersion> {
        let mut v: Vec<&'static CrdVersion> = self
            .sets()
            .into_iter()
            .flat_map(|s| s.versions.iter())
            .collect();
        v.sort_by(|a, b| (&a.group, &a.kind, &a.version).cmp(&(&b.group, &b.kind, &b.version)));
        v
    }

    /// Every CRD file: display name and text.
    pub fn files(&self) -> impl Iterator<Item = (&str, &Arc<str>)> {
        self.texts.iter().map(|(name, text)| (name.as_str(), text))
    }

    /// The documents parsed and built so far, as `file:line`.
    pub fn built(&self) -> Vec<String> {
        self.files
            .iter()
            .filter(|f| f.built.get().is_some())
            .map(|f| format!("{}:{}", f.name, f.line))
            .collect()
    }

    /// The problems found in the files built since the last call.
    pub fn take_problems(&self) -> Vec<Diagnostic> {
        std::mem::take(&mut *self.problems.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A file a declared path stands for, with its text when it was read already.
type Declared = (String, Option<Arc<str>>);

/// The files a declared path stands for: itself, read, when it is a file; the CRD files under
/// it (not read yet) when it is a directory.
fn expand(world: &dyn World, path: &str) -> Result<Vec<Declared>, ReadError> {
    match world.read(path) {
        Ok(text) => Ok(vec![(path.to_string(), Some(text))]),
        Err(ReadError::NotAFile) => Ok(world
            .list_files(path, EXTENSIONS)
            .into_iter()
            .map(|f| (f, None))
            .collect()),
        Err(e) => Err(e),
    }
}

/// The CRD files `paths` names (files as given, directories listed), root-relative, in order
/// (for `skyc deps`). Paths that do not exist are left out.
pub(crate) fn files(world: &dyn World, paths: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in paths {
        for (f, _) in expand(world, p.trim_end_matches('/')).unwrap_or_default() {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

fn load(world: &dyn World, paths: &[String]) -> Loaded {
    let mut out = Loaded::default();
    for p in paths {
        let p = p.trim_end_matches('/');
        let found = match expand(world, p) {
            Ok(found) => found,
            Err(e) => {
                let at = toml_span(world, p, &mut out.config);
                out.diagnostics.push(unreadable(world, p, e, at));
                continue;
            }
        };
        if found.is_empty() {
            let at = toml_span(world, p, &mut out.config);
            out.diagnostics.push(
                Diagnostic::new(
                    codes::SKY0110,
                    format!("the CRD directory `{p}` holds no .yaml, .yml or .json file"),
                )
                .with_span_opt(at)
                .with_help("put the CRD files there, or remove the path from `[crds] paths`"),
            );
        }
        for (f, text) in found {
            if out.files.iter().any(|(read, _, _)| *read == f) {
                continue;
            }
            match text.map_or_else(|| world.read(&f), Ok) {
                Ok(text) => out.files.push((f.clone(), world.display_name(&f), text)),
                Err(e) => out.diagnostics.push(unreadable(world, &f, e, None)),
            }
        }
    }
    if !out.files.is_empty() {
        let (index, found) = CrdIndex::new(&out.files);
        out.diagnostics.extend(found);
        out.index = Some(Arc::new(index));
    }
    out
}

/// Where `[crds] paths` names `path` in `sky.toml`, for diagnostics about it; `config` keeps
/// the text of `sky.toml` for their excerpts.
fn toml_span(
    world: &dyn World,
    path: &str,
    config: &mut Option<(String, Arc<str>)>,
) -> Option<Span> {
    let text = world.read("sky.toml").ok()?;
    let quoted = format!("\"{path}\"");
    let at = text
        .find("[crds]")
        .and_then(|t| text[t..].find(&quoted).map(|i| t + i))?;
    let name = world.display_name("sky.toml");
    let span = Span::from_offsets(&name, &text, at, at + quoted.len());
    *config = Some((name, text));
    Some(span)
}

/// The documents of a YAML file with content: (bytes, first line, (group, kind)), each read
/// only as far as its group and kind; `None` for a document that does not give them (not a
/// CRD, broken YAML, the keys in an unusual place).
type Scanned = (std::ops::Range<usize>, usize, Option<(String, String)>);

fn scan_file(text: &str) -> Vec<Scanned> {
    let mut out = Vec::new();
    for (line, chunk) in split_documents(text) {
        let has_content = chunk.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        });
        if !has_content {
            continue;
        }
        // The chunk is a slice of `text`.
        let start = chunk.as_ptr() as usize - text.as_ptr() as usize;
        out.push((start..start + chunk.len(), line, scan_document(chunk)));
    }
    out
}

/// The `spec.group` and `spec.names.kind` of a CustomResourceDefinition document, read from
/// the YAML events up to where both are known (generated CRDs put them first in `spec`).
fn scan_document(doc: &str) -> Option<(String, String)> {
    use saphyr_parser::{Event, Parser};
    enum Frame {
        /// A mapping and the key whose value comes next, if any.
        Map(Option<String>),
        Seq,
    }
    fn value_done(stack: &mut [Frame]) {
        if let Some(Frame::Map(key)) = stack.last_mut() {
            *key = None;
        }
    }
    let mut stack: Vec<Frame> = Vec::new();
    let (mut doc_kind, mut group, mut kind) = (None, None, None);
    let mut parser = Parser::new_from_str(doc);
    while let Some(Ok((event, _))) = parser.next_event() {
        match event {
            Event::MappingStart(..) => stack.push(Frame::Map(None)),
            Event::SequenceStart(..) => stack.push(Frame::Seq),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                value_done(&mut stack);
            }
            Event::Alias(_) => value_done(&mut stack),
            Event::Scalar(value, ..) => match stack.last_mut() {
                Some(Frame::Map(key @ None)) => *key = Some(value.to_string()),
                Some(Frame::Map(Some(_))) => {
                    let mut keys = Vec::new();
                    for f in &stack {
                        match f {
                            Frame::Map(Some(k)) => keys.push(k.as_str()),
                            _ => keys.push(""),
                        }
                    }
                    let slot = match keys[..] {
                        ["kind"] => Some(&mut doc_kind),
                        ["spec", "group"] => Some(&mut group),
                        ["spec", "names", "kind"] => Some(&mut kind),
                        _ => None,
                    };
                    if let Some(slot) = slot {
                        *slot = Some(value.to_string());
                    }
                    value_done(&mut stack);
                }
                _ => {}
            },
            _ => {}
        }
        if doc_kind.is_some() && group.is_some() && kind.is_some() {
            break;
        }
    }
    (doc_kind.as_deref() == Some("CustomResourceDefinition")).then_some(())?;
    Some((group?, kind?))
}

fn unreadable(world: &dyn World, path: &str, e: ReadError, at: Option<Span>) -> Diagnostic {
    let why = match e {
        ReadError::NotFound => "it does not exist".to_string(),
        ReadError::EscapesRoot(to) => format!("it resolves outside the project ({to})"),
        ReadError::NotAFile => "it is not a regular file".to_string(),
        ReadError::NotUtf8 => "it is not UTF-8 text".to_string(),
        ReadError::HardLinked(n) => format!("it has {n} hard links"),
        ReadError::TooLarge(n) => format!("it is larger than {n} bytes"),
        ReadError::Io(e) => e,
    };
    Diagnostic::new(
        codes::SKY0110,
        format!(
            "cannot read the CRD file `{}`: {why}",
            world.display_name(path)
        ),
    )
    .with_span_opt(at)
    .with_help(
        "`[crds] paths` in sky.toml lists CRD files and directories, relative to the project root",
    )
}

/// A problem found in a CRD file: (display name, line, column, message, help).
type Problem = (String, usize, usize, String, String);

/// Sets already built in this process, by the file contents they were built from (an
/// editor compiles the same project many times).
type Built = (Option<&'static CrdSet>, Vec<Problem>);

/// The set of one CRD document, or a whole file (display name, text, the line it starts on).
fn build(name: &str, text: &str, line: usize) -> Built {
    static BUILT: OnceLock<Mutex<HashMap<u64, Built>>> = OnceLock::new();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (name, text, line).hash(&mut h);
    let key = h.finish();
    let built = BUILT.get_or_init(Default::default);
    if let Some(b) = built.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return b.clone();
    }
    let mut problems = Vec::new();
    let docs = match parse_documents(name, text) {
        Ok(mut d) => {
            for doc in &mut d {
                doc.line += line - 1;
            }
            d
        }
        Err(mut p) => {
            p.1 += line - 1;
            problems.push(p);
            Vec::new()
        }
    };
    let Some(id) = skyc_schema::crd::next_id() else {
        problems.push((
            name.to_string(),
            1,
            1,
            "too many different CRD files were loaded in this process".into(),
            "restart the editor's language server".into(),
        ));
        return (None, problems);
    };
    let (set, found) = CrdSet::build(id, &docs);
    problems.extend(
        found
            .into_iter()
            .map(|p| (p.file, p.line, 1, p.message, p.help)),
    );
    let set = skyc_schema::crd::register(set);
    let result = (Some(set), problems);
    built
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, result.clone());
    result
}

/// The documents of a CRD file: JSON (one document) or YAML (documents separated by `---`;
/// empty and comment-only documents are skipped).
pub(crate) fn parse_documents(name: &str, text: &str) -> Result<Vec<Document>, Problem> {
    if name.ends_with(".json") {
        return match serde_json::from_str(text) {
            Ok(json) => Ok(vec![Document {
                file: name.to_string(),
                line: 1,
                json,
            }]),
            Err(e) => Err((
                name.to_string(),
                e.line().max(1),
                e.column().max(1),
                format!("the CRD file is not valid JSON: {e}"),
                "fix the syntax, or give the file a .yaml name if it is YAML".into(),
            )),
        };
    }
    let mut out = Vec::new();
    for (line, chunk) in split_documents(text) {
        // The document's first line with content (what a diagnostic about it points at).
        let Some(first) = chunk.lines().position(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        }) else {
            continue;
        };
        match serde_norway::from_str::<serde_json::Value>(chunk) {
            Ok(json) => out.push(Document {
                file: name.to_string(),
                line: line + first,
                json,
            }),
            Err(e) => {
                let (l, c) = e
                    .location()
                    .map_or((0, 1), |loc| (loc.line().saturating_sub(1), loc.column()));
                let msg = e.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                return Err((
                    name.to_string(),
                    line + l,
                    c.max(1),
                    format!("the CRD file is not valid YAML: {msg}"),
                    "fix the YAML syntax (is the file complete, and not a Helm template?)".into(),
                ));
            }
        }
    }
    Ok(out)
}

/// Splits YAML text at its document markers: (1-based line of the document's first line,
/// text). A `---` line starts a document (what follows it on the line belongs to it); a `...`
/// line ends one.
fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        let marker = bare == "---"
            || bare.starts_with("--- ")
            || bare.starts_with("---\t")
            || bare == "..."
            || bare.starts_with("... ");
        if marker {
            out.push((start_line, &text[start..offset]));
            if bare.starts_with("---") {
                // The rest of the marker line (`--- # comment`, `--- !tag`) opens the next
                // document; keep the line so positions stay right.
                start = offset + 3;
            } else {
                start = offset + line.len();
            }
            start_line = i + 1;
            if bare.starts_with("...") {
                start_line = i + 2;
            }
        }
        offset += line.len();
    }
    out.push((start_line, &text[start..]));
    out
}

fn span_at(file: &str, text: &str, line: usize, column: usize) -> Span {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = l
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(0, |(b, _)| b);
            let end = l.trim_end_matches(['\n', '\r']).len().max(col);
            return Span::from_offsets(file, text, offset + col, offset + end);
        }
        offset += l.len();
    }
    // Past the last line (an error at the end of the input): the end of the text.
    let end = text.trim_end().len();
    Span::from_offsets(file, text, end, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_with_their_lines() {
        let text = "# header only\n---\na: 1\n--- # second\nb: 2\n...\n---\n# only a comment\n---\nc: [3\n";
        let parts: Vec<(usize, &str)> = split_documents(text);
        assert_eq!(parts[0], (1, "# header only\n"));
        assert_eq!(parts[1], (2, "\na: 1\n"));
        assert_eq!(parts[2], (4, " # second\nb: 2\n"));
        let err = parse_documents("f.yaml", text).unwrap_err();
        // At the end of the input, where the list is still open.
        assert_eq!(err.1, 11, "{err:?}");
        let ok = parse_documents("f.yaml", &text[..text.find("---\nc").unwrap()]).unwrap();
        let lines: Vec<usize> = ok.iter().map(|d| d.line).collect();
        assert_eq!(lines, [3, 5]);
        assert_eq!(ok[1].json, serde_json::json!({"b": 2}));
    }
}
