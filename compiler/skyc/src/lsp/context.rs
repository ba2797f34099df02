//! skyc's `LspContext` for `starlark_lsp`: files come from the editor's open buffers first, then
//! the disk, then the embedded stdlib; diagnostics come from the whole pipeline (parse,
//! typecheck, evaluation, Kubernetes/Envoy validation, lint), mapped to LSP ranges.

use lsp_types::{
    CompletionItemKind, Diagnostic as LspDiagnostic, DiagnosticRelatedInformation,
    DiagnosticSeverity, Location, NumberOrString, Position, Range, Uri,
};
use skyc_core::{Config, DiskWorld, Options, World};
use skyc_diag::{Diagnostic, Severity, Span};
use starlark::docs::DocModule;
use starlark::syntax::{AstModule, Dialect};
use starlark_lsp::completion::{StringCompletionResult, StringCompletionType};
use starlark_lsp::server::{LspContext, LspEvalResult, LspUri, StringLiteralResult};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, RwLock};

/// The editor's open buffers, by absolute path.
pub type Buffers = Arc<RwLock<HashMap<PathBuf, String>>>;

pub struct SkyContext {
    pub buffers: Buffers,
    /// Where the stdlib modules are materialized, so editors can open `@stdlib//` targets.
    pub stdlib_dir: PathBuf,
    globals: DocModule,
}

impl SkyContext {
    pub fn new(buffers: Buffers, stdlib_dir: PathBuf) -> SkyContext {
        SkyContext {
            buffers,
            stdlib_dir,
            globals: skyc_core::values::globals().documentation(),
        }
    }

    /// The stdlib module a path names (a file in `stdlib_dir`).
    fn stdlib_module(&self, path: &Path) -> Option<&'static str> {
        let rel = path.strip_prefix(&self.stdlib_dir).ok()?;
        skyc_stdlib::module(rel.to_str()?)
    }

    /// The text of a file: the open buffer, else the stdlib, else the disk.
    pub fn text(&self, path: &Path) -> Option<String> {
        if let Some(t) = self.buffers.read().ok()?.get(path) {
            return Some(t.clone());
        }
        if let Some(m) = self.stdlib_module(path) {
            return Some(m.to_string());
        }
        std::fs::read_to_string(path).ok()
    }

    /// Everything skyc says about `path` (whose text is `text`), for the editor.
    pub fn diagnostics(&self, path: &Path, text: &str) -> Vec<LspDiagnostic> {
        if self.stdlib_module(path).is_some() {
            return Vec::new();
        }
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            test_hook("parse", text);
            analyze(path, text, &self.buffers)
        }));
        match found {
            Ok(diags) => diags,
            Err(_) => vec![LspDiagnostic {
                range: Range::default(),
                severity: Some(DiagnosticSeverity::ERROR),
                code: Some(NumberOrString::String("SKY0002".into())),
                source: Some("skyc".into()),
                message: "skyc hit an internal error while checking this file (a bug; please report it with the file)".into(),
                ..LspDiagnostic::default()
            }],
        }
    }
}

/// A project seen through the editor: open buffers over the files on disk.
struct Overlay {
    disk: DiskWorld,
    root: PathBuf,
    buffers: HashMap<PathBuf, String>,
}

impl World for Overlay {
    fn read(&self, path: &str) -> Result<Arc<str>, skyc_core::world::ReadError> {
        if let Some(t) = self.buffers.get(&self.root.join(path)) {
            return Ok(Arc::from(t.as_str()));
        }
        self.disk.read(path)
    }

    fn display_name(&self, path: &str) -> String {
        self.root.join(path).display().to_string()
    }

    fn list_sky(&self, dir: &str) -> Vec<String> {
        self.disk.list_sky(dir)
    }

    fn list_files(&self, dir: &str, extensions: &[&str]) -> Vec<String> {
        self.disk.list_files(dir, extensions)
    }
}

/// Runs the pipeline on one file: the whole pipeline for entry files (with `main`), the top
/// level for modules, tests and policies.
fn analyze(path: &Path, text: &str, buffers: &Buffers) -> Vec<LspDiagnostic> {
    let root = DiskWorld::find_root(path);
    let Ok(disk) = DiskWorld::new(&root, None) else {
        return Vec::new();
    };
    let root = disk.root().to_path_buf();
    let canonical = path
        .parent()
        .and_then(|p| p.canonicalize().ok())
        .and_then(|p| Some(p.join(path.file_name()?)))
        .unwrap_or_else(|| path.to_path_buf());
    let Some(rel) = canonical
        .strip_prefix(&root)
        .ok()
        .and_then(|r| r.to_str())
        .map(|r| r.replace('\\', "/"))
    else {
        return Vec::new();
    };
    let mut open = buffers.read().map(|b| b.clone()).unwrap_or_default();
    open.insert(root.join(&rel), text.to_string());
    let world = Overlay {
        disk,
        root: root.clone(),
        buffers: open,
    };
    let mut config = Config::default();
    if let Ok(toml) = world.read("sky.toml") {
        match Config::parse("sky.toml", &toml) {
            Ok(c) => config = c,
            Err(d) => {
                return vec![LspDiagnostic {
                    range: Range::default(),
                    severity: Some(DiagnosticSeverity::ERROR),
                    code: Some(NumberOrString::String(d.code.to_string())),
                    source: Some("skyc".into()),
                    message: format!("sky.toml: {}", d.message),
                    ..LspDiagnostic::default()
                }]
            }
        }
    }
    // Declared variables without a default get a stand-in value (their first allowed value), so
    // files that read them can be checked without `--var`.
    let mut vars = std::collections::BTreeMap::new();
    for (name, v) in &config.vars {
        if v.default.is_none() {
            let value = v.allowed.as_ref().and_then(|a| a.first()).cloned();
            vars.insert(name.clone(), value.unwrap_or_else(|| name.clone()));
        }
    }
    let opts = Options {
        vars,
        config,
        lint: true,
        ..Options::default()
    };
    let has_main = text.lines().any(|l| l.starts_with("def main("));
    let out = if has_main {
        skyc_core::compile(&world, &rel, &opts)
    } else {
        skyc_core::check_module(&world, &rel, &opts)
    };
    let here = world.display_name(&rel);
    let mut result = Vec::new();
    for d in &out.diagnostics {
        // An undeclared variable the editor cannot know is not the file's problem.
        if d.code == "SKY0309" {
            continue;
        }
        result.push(convert(d, &here, text, &root));
    }
    result
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        _ => DiagnosticSeverity::INFORMATION,
    }
}

/// The LSP position of a byte offset (UTF-16 columns, as LSP counts them).
pub fn position(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = text[line_start..offset].chars().map(char::len_utf16).sum();
    Position::new(line as u32, character as u32)
}

/// The byte offset of an LSP position.
pub fn offset(text: &str, pos: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..pos.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let mut units = 0;
    for (i, c) in text[line_start..].char_indices() {
        if units >= pos.character as usize || c == '\n' {
            return line_start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

fn range(span: &Span, text: &str) -> Range {
    Range::new(
        position(text, span.begin),
        position(text, span.end.max(span.begin)),
    )
}

fn convert(d: &Diagnostic, here: &str, text: &str, root: &Path) -> LspDiagnostic {
    let mut message = d.message.clone();
    for n in &d.notes {
        message.push_str("\nnote: ");
        message.push_str(n);
    }
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let in_this_file = d.span.as_ref().is_some_and(|s| s.file == here);
    let range = match &d.span {
        Some(s) if in_this_file => range(s, text),
        _ => Range::default(),
    };
    if let Some(s) = d.span.as_ref().filter(|_| !in_this_file) {
        message = format!("{}:{}:{}: {message}", s.file, s.start.line, s.start.column);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| l.span.file == here)
        .filter_map(|l| {
            let uri = Uri::from_str(&format!("file://{}", root.join(&l.span.file).display()))
                .ok()
                .or_else(|| Uri::from_str(&format!("file://{}", l.span.file)).ok())?;
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri, self::range(&l.span, text)),
                message: l.message.clone(),
            })
        })
        .collect();
    LspDiagnostic {
        range,
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("skyc".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..LspDiagnostic::default()
    }
}

fn file_path(uri: &LspUri) -> Option<&Path> {
    match uri {
        LspUri::File(p) => Some(p),
        _ => None,
    }
}

/// The project root of a file (for `//` loads).
fn project_root(file: &Path) -> PathBuf {
    DiskWorld::find_root(file)
}

impl LspContext for SkyContext {
    fn parse_file_with_contents(&self, uri: &LspUri, content: String) -> LspEvalResult {
        let ast = AstModule::parse(&uri.to_string(), content.clone(), &dialect()).ok();
        let diagnostics = match file_path(uri) {
            Some(p) => {
                if let Ok(mut b) = self.buffers.write() {
                    if self.stdlib_module(p).is_none() {
                        b.insert(p.to_path_buf(), content.clone());
                    }
                }
                self.diagnostics(p, &content)
            }
            None => Vec::new(),
        };
        LspEvalResult { diagnostics, ast }
    }

    fn resolve_load(
        &self,
        path: &str,
        current_file: &LspUri,
        _workspace_root: Option<&Path>,
    ) -> Result<LspUri, String> {
        if let Some(module) = path.strip_prefix("@stdlib//") {
            return match skyc_stdlib::module(module) {
                Some(_) => Ok(LspUri::File(self.stdlib_dir.join(module))),
                None => Err(format!("the standard library has no module `{module}`")),
            };
        }
        let current = file_path(current_file).ok_or("loads resolve only from files")?;
        if let Some(rest) = path.strip_prefix("//") {
            return Ok(LspUri::File(project_root(current).join(rest)));
        }
        let dir = current.parent().ok_or("the file has no directory")?;
        Ok(LspUri::File(dir.join(path)))
    }

    fn render_as_load(
        &self,
        target: &LspUri,
        current_file: &LspUri,
        _workspace_root: Option<&Path>,
    ) -> Result<String, String> {
        let target = file_path(target).ok_or("not a file")?;
        if self.stdlib_module(target).is_some() {
            let rel = target
                .strip_prefix(&self.stdlib_dir)
                .map_err(|e| e.to_string())?;
            return Ok(format!("@stdlib//{}", rel.display()));
        }
        let current = file_path(current_file).ok_or("not a file")?;
        if target.parent() == current.parent() {
            return Ok(target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default());
        }
        let root = project_root(current);
        let rel = target
            .strip_prefix(&root)
            .map_err(|_| "outside the project")?;
        Ok(format!("//{}", rel.display()))
    }

    fn resolve_string_literal(
        &self,
        _literal: &str,
        _current_file: &LspUri,
        _workspace_root: Option<&Path>,
    ) -> Result<Option<StringLiteralResult>, String> {
        Ok(None)
    }

    fn get_load_contents(&self, uri: &LspUri) -> Result<Option<String>, String> {
        Ok(file_path(uri).and_then(|p| self.text(p)))
    }

    fn get_environment(&self, uri: &LspUri) -> DocModule {
        if let Some(p) = file_path(uri) {
            if let Some(text) = self.text(p) {
                test_hook("environment", &text);
            }
        }
        self.globals.clone()
    }

    fn get_uri_for_global_symbol(
        &self,
        _current_file: &LspUri,
        _symbol: &str,
    ) -> Result<Option<LspUri>, String> {
        Ok(None)
    }

    fn get_string_completion_options(
        &self,
        document_uri: &LspUri,
        kind: StringCompletionType,
        current_value: &str,
        _workspace_root: Option<&Path>,
    ) -> Result<Vec<StringCompletionResult>, String> {
        if !matches!(kind, StringCompletionType::LoadPath) {
            return Ok(Vec::new());
        }
        let mut out: Vec<StringCompletionResult> = skyc_stdlib::MODULES
            .iter()
            .map(|(m, _)| format!("@stdlib//{m}"))
            .filter(|v| v.starts_with(current_value))
            .map(|value| StringCompletionResult {
                value,
                insert_text: None,
                insert_text_offset: 0,
                kind: CompletionItemKind::FILE,
            })
            .collect();
        if let Some(dir) = file_path(document_uri).and_then(Path::parent) {
            if let Ok(entries) = std::fs::read_dir(dir) {
                let mut names: Vec<String> = entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| n.ends_with(".sky") && n.starts_with(current_value))
                    .collect();
                names.sort();
                out.extend(names.into_iter().map(|value| StringCompletionResult {
                    value,
                    insert_text: None,
                    insert_text_offset: 0,
                    kind: CompletionItemKind::FILE,
                }));
            }
        }
        Ok(out)
    }
}

/// The dialect skyc parses with (for the editor's syntax tree).
pub fn dialect() -> Dialect {
    skyc_core::eval::dialect()
}

/// Lets the tests make a request crash on purpose (`SKYC_LSP_TEST_PANIC=<where>` and a file
/// containing `skyc_lsp_test_panic`), to check that one crash does not take the server down.
pub fn test_hook(place: &str, text: &str) {
    if std::env::var("SKYC_LSP_TEST_PANIC").is_ok_and(|v| v == place)
        && text.contains("skyc_lsp_test_panic")
    {
        panic!("SKYC_LSP_TEST_PANIC: a crash in `{place}` on purpose");
    }
}
