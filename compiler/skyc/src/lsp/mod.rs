//! `skyc lsp`: a language server on stdio.
//!
//! `starlark_lsp` does the protocol, the syntax (symbols, go to definition through `load()`,
//! completion and hover of Starlark names and stdlib parameters) with skyc's [`SkyContext`]
//! (buffers, disk, embedded stdlib; diagnostics from the whole pipeline). It runs as an inner
//! server behind a small supervisor that
//! - answers hover and completion for typed constructors itself ([`typed`]), which
//!   `starlark_lsp` cannot know;
//! - survives crashes: a panic while answering one request is an error response for that
//!   request, and if the inner server dies it is restarted (initialized again, the open
//!   documents reopened), so one bad request never takes the editor's server down.

mod context;
pub mod typed;

pub use context::offset;
use context::{Buffers, SkyContext};
use crossbeam_channel::{select, Receiver};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Serves on stdin/stdout until the client says `exit`.
pub fn run() -> Result<(), String> {
    let (outer, io) = Connection::stdio();
    let served = serve(&outer);
    drop(outer);
    let joined = io.join().map_err(|e| e.to_string());
    served.and(joined)
}

/// The inner `starlark_lsp` server, seen as a client would see it.
struct Inner {
    conn: Connection,
    init_result: Value,
}

impl Inner {
    fn start(init_params: &Value, buffers: &Buffers, stdlib_dir: &Path) -> Result<Inner, String> {
        let (server_side, client_side) = Connection::memory();
        let ctx = SkyContext::new(buffers.clone(), stdlib_dir.to_path_buf());
        std::thread::Builder::new()
            .name("skyc-lsp".into())
            .spawn(move || {
                // Errors end the thread; the supervisor sees the disconnect and restarts.
                let _ = starlark_lsp::server::server_with_connection(server_side, ctx);
            })
            .map_err(|e| e.to_string())?;
        let init = Request::new(RequestId::from(0), "initialize".into(), init_params.clone());
        client_side
            .sender
            .send(init.into())
            .map_err(|e| e.to_string())?;
        let init_result = loop {
            match client_side.receiver.recv() {
                Ok(Message::Response(r)) => break r.result.unwrap_or(Value::Null),
                Ok(_) => continue,
                Err(e) => return Err(format!("the language server did not start: {e}")),
            }
        };
        Ok(Inner {
            conn: client_side,
            init_result,
        })
    }

    fn initialized(&self) {
        let n = Notification::new("initialized".into(), json!({}));
        let _ = self.conn.sender.send(n.into());
    }

    fn send(&self, m: Message) -> bool {
        self.conn.sender.send(m).is_ok()
    }

    fn receiver(&self) -> Receiver<Message> {
        self.conn.receiver.clone()
    }
}

/// Writes the stdlib modules to a directory, so `@stdlib//` targets open in any editor.
fn materialize_stdlib() -> Result<PathBuf, String> {
    let mut hash: u64 = 0xcbf29ce484222325;
    for (name, text) in skyc_stdlib::MODULES {
        for b in name.bytes().chain(text.bytes()) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
    }
    let dir = std::env::temp_dir().join(format!("skyc-stdlib-{hash:016x}"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (name, text) in skyc_stdlib::MODULES {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).is_ok_and(|t| t == *text) {
            continue;
        }
        let tmp = dir.join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(dir)
}

fn file_of(uri: &str) -> Option<PathBuf> {
    let uri: lsp_types::Uri = uri.parse().ok()?;
    match starlark_lsp::server::LspUri::try_from(uri).ok()? {
        starlark_lsp::server::LspUri::File(p) => Some(p),
        _ => None,
    }
}

/// An open document: its URI's text as the client last sent it.
#[derive(Clone)]
struct Doc {
    text: String,
    version: Value,
    language: Value,
}

fn serve(outer: &Connection) -> Result<(), String> {
    let (init_id, init_params) = outer.initialize_start().map_err(|e| e.to_string())?;
    let buffers: Buffers = Default::default();
    let stdlib_dir = materialize_stdlib()?;
    let mut inner = Inner::start(&init_params, &buffers, &stdlib_dir)?;
    let mut result = inner.init_result.clone();
    result["serverInfo"] = json!({"name": "skyc", "version": env!("CARGO_PKG_VERSION")});
    result["capabilities"]["completionProvider"]["triggerCharacters"] =
        json!([".", "(", "{", "[", ",", "\"", " "]);
    result["capabilities"]["documentFormattingProvider"] = json!(true);
    outer
        .initialize_finish(init_id, result)
        .map_err(|e| e.to_string())?;
    inner.initialized();
    let mut docs: BTreeMap<String, Doc> = BTreeMap::new();
    let mut in_flight: HashMap<RequestId, (String, Option<String>)> = HashMap::new();
    let mut inner_rx = inner.receiver();
    // Documents the inner server was given work for and has not answered yet: if it crashes,
    // they are left out of the restart (else reopening them would crash it again) until they
    // change.
    let mut pending: BTreeSet<String> = BTreeSet::new();
    let mut quarantined: BTreeSet<String> = BTreeSet::new();
    loop {
        select! {
            recv(outer.receiver) -> msg => {
                let Ok(msg) = msg else { return Ok(()) };
                match msg {
                    Message::Request(req) => {
                        if outer.handle_shutdown(&req).map_err(|e| e.to_string())? {
                            return Ok(());
                        }
                        if let Some(resp) = answer_here(&req, &docs) {
                            let _ = outer.sender.send(resp.into());
                            continue;
                        }
                        let uri = req.params["textDocument"]["uri"].as_str().map(str::to_string);
                        if uri.as_ref().is_some_and(|u| quarantined.contains(u)) {
                            let resp = Response::new_err(
                                req.id.clone(),
                                ErrorCode::RequestFailed as i32,
                                "skyc crashed on this file earlier; edit it to check it again".into(),
                            );
                            let _ = outer.sender.send(resp.into());
                            continue;
                        }
                        in_flight.insert(req.id.clone(), (req.method.clone(), uri.clone()));
                        pending.extend(uri);
                        inner.send(req.into());
                    }
                    Message::Notification(n) => {
                        track(&n, &mut docs, &buffers);
                        if n.method == "exit" {
                            return Ok(());
                        }
                        if let Some(uri) = n.params["textDocument"]["uri"].as_str() {
                            // An edit is a new chance for a file that crashed the server.
                            if n.method == "textDocument/didChange" && quarantined.remove(uri) {
                                if let Some(d) = docs.get(uri) {
                                    pending.insert(uri.to_string());
                                    inner.send(open_notification(uri, d).into());
                                }
                                continue;
                            }
                            if quarantined.contains(uri) {
                                continue;
                            }
                            if n.method != "textDocument/didClose" {
                                pending.insert(uri.to_string());
                            }
                        }
                        inner.send(n.into());
                    }
                    Message::Response(_) => {}
                }
            }
            recv(inner_rx) -> msg => match msg {
                Ok(Message::Response(r)) => {
                    if let Some((_, Some(uri))) = in_flight.remove(&r.id) {
                        pending.remove(&uri);
                    }
                    let _ = outer.sender.send(r.into());
                }
                Ok(other) => {
                    if let Message::Notification(n) = &other {
                        if n.method == "textDocument/publishDiagnostics" {
                            if let Some(uri) = n.params["uri"].as_str() {
                                pending.remove(uri);
                            }
                        }
                    }
                    let _ = outer.sender.send(other);
                }
                Err(_) => {
                    // The inner server died (a panic in a request): answer what it was doing,
                    // start a new one, and give it the open documents again.
                    for (id, (method, _)) in in_flight.drain() {
                        let resp = Response::new_err(
                            id,
                            ErrorCode::InternalError as i32,
                            format!("skyc's language server crashed on `{method}` (a bug; please report it); it was restarted"),
                        );
                        let _ = outer.sender.send(resp.into());
                    }
                    log(outer, "skyc: the language server crashed and was restarted");
                    for uri in std::mem::take(&mut pending) {
                        let diag = json!({
                            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                            "severity": 1,
                            "code": "SKY0002",
                            "source": "skyc",
                            "message": "skyc's language server crashed while working on this file (a bug; please report it with the file). It is checked again when you edit it.",
                        });
                        let n = Notification::new(
                            "textDocument/publishDiagnostics".into(),
                            json!({"uri": uri, "diagnostics": [diag]}),
                        );
                        let _ = outer.sender.send(n.into());
                        quarantined.insert(uri);
                    }
                    inner = Inner::start(&init_params, &buffers, &stdlib_dir)?;
                    inner.initialized();
                    inner_rx = inner.receiver();
                    for (uri, d) in docs.iter().filter(|(u, _)| !quarantined.contains(*u)) {
                        pending.insert(uri.clone());
                        inner.send(open_notification(uri, d).into());
                    }
                }
            }
        }
    }
}

fn open_notification(uri: &str, d: &Doc) -> Notification {
    let params = json!({"textDocument": {
        "uri": uri, "languageId": d.language, "version": d.version, "text": d.text,
    }});
    Notification::new("textDocument/didOpen".into(), params)
}

fn log(outer: &Connection, message: &str) {
    let n = Notification::new(
        "window/logMessage".into(),
        json!({"type": 2, "message": message}),
    );
    let _ = outer.sender.send(n.into());
}

/// Keeps the text of open documents (for the typed answers and for restarts).
fn track(n: &Notification, docs: &mut BTreeMap<String, Doc>, buffers: &Buffers) {
    let uri = n.params["textDocument"]["uri"]
        .as_str()
        .unwrap_or("")
        .to_string();
    match n.method.as_str() {
        "textDocument/didOpen" => {
            let d = &n.params["textDocument"];
            docs.insert(
                uri,
                Doc {
                    text: d["text"].as_str().unwrap_or("").to_string(),
                    version: d["version"].clone(),
                    language: d["languageId"].clone(),
                },
            );
        }
        "textDocument/didChange" => {
            if let (Some(doc), Some(text)) = (
                docs.get_mut(&uri),
                n.params["contentChanges"]
                    .as_array()
                    .and_then(|c| c.last())
                    .and_then(|c| c["text"].as_str()),
            ) {
                doc.text = text.to_string();
                doc.version = n.params["textDocument"]["version"].clone();
            }
        }
        "textDocument/didClose" => {
            docs.remove(&uri);
            if let (Some(p), Ok(mut b)) = (file_of(&uri), buffers.write()) {
                b.remove(&p);
            }
        }
        _ => {}
    }
}

/// The custom resources of the project of the document at `uri`, read when the document
/// mentions `crd` (sets are built once per content, see `skyc_core::load_crds`).
fn project_crds(uri: &str, text: &str) -> Option<std::sync::Arc<skyc_core::CrdIndex>> {
    if !text.contains("crd") {
        return None;
    }
    crate::project::project_crds(&file_of(uri)?).0
}

/// Formatting, and hover and completion for typed constructors, answered without the inner
/// server. A panic here is an error response for this request only.
fn answer_here(req: &Request, docs: &BTreeMap<String, Doc>) -> Option<Response> {
    let uri = req.params["textDocument"]["uri"].as_str()?;
    if req.method == "textDocument/formatting" {
        return Some(format_document(req, uri, docs.get(uri)));
    }
    if req.method != "textDocument/hover" && req.method != "textDocument/completion" {
        return None;
    }
    let doc = docs.get(uri)?;
    let pos: lsp_types::Position = serde_json::from_value(req.params["position"].clone()).ok()?;
    let offset = offset(&doc.text, pos);
    let answer = std::panic::catch_unwind(|| {
        context::test_hook("typed", &doc.text);
        let index = project_crds(uri, &doc.text);
        let crds = index.as_deref();
        if req.method == "textDocument/hover" {
            typed::hover(&doc.text, offset, crds)
                .map(|h| serde_json::to_value(h).unwrap_or(Value::Null))
        } else {
            typed::completion(&doc.text, offset, crds)
                .map(|items| json!({"isIncomplete": false, "items": items}))
        }
    });
    match answer {
        Ok(Some(v)) => Some(Response::new_ok(req.id.clone(), v)),
        Ok(None) => None,
        Err(_) => Some(Response::new_err(
            req.id.clone(),
            ErrorCode::InternalError as i32,
            format!(
                "skyc crashed answering `{}` (a bug; please report it)",
                req.method
            ),
        )),
    }
}

/// `textDocument/formatting`: what `skyc fmt` would write, as one edit of the whole document
/// (none when it is formatted already). A file `skyc fmt` refuses (a syntax error) is an
/// error response carrying its diagnostic, which editors show.
fn format_document(req: &Request, uri: &str, doc: Option<&Doc>) -> Response {
    let Some(doc) = doc else {
        return Response::new_err(
            req.id.clone(),
            ErrorCode::InvalidParams as i32,
            format!("{uri} is not open"),
        );
    };
    let name = file_of(uri)
        .and_then(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
        .unwrap_or_else(|| uri.to_string());
    let formatted = std::panic::catch_unwind(|| {
        context::test_hook("format", &doc.text);
        skyc_core::fmt::format(&name, &doc.text)
    });
    match formatted {
        Ok(Ok(text)) if text == doc.text => Response::new_ok(req.id.clone(), json!([])),
        Ok(Ok(text)) => {
            let end = context::position(&doc.text, doc.text.len());
            let edit = json!({
                "range": {"start": {"line": 0, "character": 0}, "end": end},
                "newText": text,
            });
            Response::new_ok(req.id.clone(), json!([edit]))
        }
        Ok(Err(d)) => {
            let at = d
                .span
                .as_ref()
                .map(|s| format!(":{}:{}", s.start.line, s.start.column))
                .unwrap_or_default();
            Response::new_err(
                req.id.clone(),
                ErrorCode::RequestFailed as i32,
                format!("{}: {name}{at}: {}", d.code, d.message),
            )
        }
        Err(_) => Response::new_err(
            req.id.clone(),
            ErrorCode::InternalError as i32,
            "skyc crashed formatting this file (a bug; please report it with the file)".into(),
        ),
    }
}
