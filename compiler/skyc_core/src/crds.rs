//! **load** (custom resources): the CustomResourceDefinitions a project declares in
//! `sky.toml` (`[crds] paths`), read through the [`World`] only when a compilation needs them
//! (a file uses `crd`, or `main` returns an object of a kind that is not built in), parsed
//! (multi-document YAML or JSON) and turned into a [`CrdSet`]. A set is built once per
//! process for the same file contents and registered with `skyc_schema`, so the types of its
//! kinds are found by id like the built-in ones.

use crate::world::{ReadError, World};
use skyc_diag::{codes, Diagnostic, Span};
use skyc_schema::crd::{CrdSet, Document};
use std::cell::OnceCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

/// File name endings read from a CRD directory.
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// The CRDs of one compilation: loaded on first use.
pub(crate) struct CrdSource<'w> {
    world: &'w dyn World,
    paths: Vec<String>,
    loaded: OnceCell<Loaded>,
    /// How many of the loading diagnostics are in the outcome already.
    reported: std::cell::Cell<usize>,
    files_added: std::cell::Cell<bool>,
}

/// What loading the declared CRDs gave.
#[derive(Clone, Default)]
pub(crate) struct Loaded {
    pub set: Option<&'static CrdSet>,
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

    /// The set, if it was loaded already (never loads).
    pub(crate) fn peek(&self) -> Option<&'static CrdSet> {
        self.loaded.get().and_then(|l| l.set)
    }

    /// Puts what loading found (if the CRDs were loaded) and the outcome does not have yet
    /// into the outcome: diagnostics, the files read, `sky.toml` for excerpts.
    pub(crate) fn report(&self, outcome: &mut crate::Outcome) {
        let Some(loaded) = self.loaded.get() else {
            return;
        };
        let done = self.reported.replace(loaded.diagnostics.len());
        outcome
            .diagnostics
            .extend(loaded.diagnostics[done..].iter().cloned());
        if let Some((name, text)) = &loaded.config {
            outcome.sources.insert(name.clone(), text.clone());
        }
        self.add_files(outcome);
    }

    /// Adds the CRD files read (if any) to the files the compilation read: the check cache
    /// and `--format json` list them, and diagnostics show excerpts of them.
    pub(crate) fn add_files(&self, outcome: &mut crate::Outcome) {
        let Some(loaded) = self.loaded.get() else {
            return;
        };
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

    /// Whether the project declares any CRDs.
    pub(crate) fn declared(&self) -> bool {
        !self.paths.is_empty()
    }

    /// The set, loading it now if it was not loaded yet (`None` when none are declared or
    /// none could be read).
    pub(crate) fn get(&self) -> Option<&'static CrdSet> {
        self.load().set
    }

    /// Loads the declared CRDs (once).
    pub(crate) fn load(&self) -> &Loaded {
        self.loaded.get_or_init(|| load(self.world, &self.paths))
    }
}

/// Where `[crds] paths` names `path` in `sky.toml`, for diagnostics about it.
fn toml_span(world: &dyn World, path: &str) -> Option<Span> {
    let text = world.read("sky.toml").ok()?;
    let quoted = format!("\"{path}\"");
    let at = text
        .find("[crds]")
        .and_then(|t| text[t..].find(&quoted).map(|i| t + i))?;
    Some(Span::from_offsets(
        world.display_name("sky.toml"),
        &text,
        at,
        at + quoted.len(),
    ))
}

/// The CRD files `paths` names (files as given, directories listed), root-relative, in order,
/// without reading them (for `skyc deps`). Paths that do not exist are left out.
pub(crate) fn files(world: &dyn World, paths: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in paths {
        let p = p.trim_end_matches('/');
        let found = match world.read(p) {
            Ok(_) => vec![p.to_string()],
            Err(ReadError::NotAFile) => world.list_files(p, EXTENSIONS),
            Err(_) => Vec::new(),
        };
        for f in found {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

fn load(world: &dyn World, paths: &[String]) -> Loaded {
    let mut out = Loaded::default();
    let mut files: Vec<String> = Vec::new();
    for p in paths {
        let p = p.trim_end_matches('/');
        match world.read(p) {
            Ok(text) => {
                if !files.contains(&p.to_string()) {
                    files.push(p.to_string());
                    out.files.push((p.to_string(), world.display_name(p), text));
                }
            }
            Err(ReadError::NotAFile) => {
                let found = world.list_files(p, EXTENSIONS);
                if found.is_empty() {
                    let at = toml_span(world, p);
                    if let (Some(span), Ok(text)) = (&at, world.read("sky.toml")) {
                        out.config = Some((span.file.clone(), text));
                    }
                    out.diagnostics.push(
                        Diagnostic::new(
                            codes::SKY0110,
                            format!("the CRD directory `{p}` holds no .yaml, .yml or .json file"),
                        )
                        .with_span_opt(at)
                        .with_help(
                            "put the CRD files there, or remove the path from `[crds] paths`",
                        ),
                    );
                }
                for f in found {
                    if files.contains(&f) {
                        continue;
                    }
                    match world.read(&f) {
                        Ok(text) => {
                            files.push(f.clone());
                            out.files.push((f.clone(), world.display_name(&f), text));
                        }
                        Err(e) => out.diagnostics.push(unreadable(world, &f, e, None)),
                    }
                }
            }
            Err(e) => {
                let at = toml_span(world, p);
                if let (Some(span), Ok(text)) = (&at, world.read("sky.toml")) {
                    out.config = Some((span.file.clone(), text));
                }
                out.diagnostics.push(unreadable(world, p, e, at));
            }
        }
    }
    if out.files.is_empty() {
        return out;
    }
    let (set, problems) = build(&out.files);
    out.set = set;
    for (file, line, column, message, help) in problems {
        let text = out
            .files
            .iter()
            .find(|(_, name, _)| *name == file)
            .map(|(_, _, t)| t.clone());
        let span = text.map(|t| span_at(&file, &t, line, column));
        out.diagnostics.push(
            Diagnostic::new(codes::SKY0110, message)
                .with_span_opt(span)
                .with_help(help),
        );
    }
    out
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

/// Sets already built in this process, by the contents they were built from (an editor
/// compiles the same project many times).
type Built = (Option<&'static CrdSet>, Vec<Problem>);

fn build(files: &[(String, String, Arc<str>)]) -> Built {
    static BUILT: OnceLock<Mutex<HashMap<u64, Built>>> = OnceLock::new();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (path, name, text) in files {
        (path, name, &**text).hash(&mut h);
    }
    let key = h.finish();
    let built = BUILT.get_or_init(Default::default);
    if let Some(b) = built.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return b.clone();
    }
    let mut problems = Vec::new();
    let mut docs = Vec::new();
    for (_, name, text) in files {
        match parse_documents(name, text) {
            Ok(d) => docs.extend(d),
            Err(p) => problems.push(p),
        }
    }
    let Some(id) = skyc_schema::crd::next_id() else {
        problems.push((
            files[0].1.clone(),
            1,
            1,
            "too many different CRD sets were loaded in this process".into(),
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
