//! `skyc diff A B` and `skyc diff --rev REV FILE…`: what a change does to the rendered objects.
//! A and B are render outputs (directories written by `render -o`, or YAML/JSON files); with
//! `--rev`, the entry files are rendered at the git revision and in the working tree.

use crate::project::{check_cluster, compile_all, options, print_diagnostics, EvalFlags};
use crate::Exit;
use skyc_core::clusters;
use skyc_core::diff::{diff, key_of, parse_render, render_markdown, render_text};
use skyc_diag::{codes, Diagnostic};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub enum DiffFormat {
    /// Readable text, colored on a terminal.
    #[default]
    Text,
    /// Machine-readable changes.
    Json,
    /// A pull request comment.
    Markdown,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Two renders to compare (directories or files), or with --rev the entry files.
    paths: Vec<PathBuf>,
    /// Compare the entry files as of this git revision with the working tree.
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
    #[command(flatten)]
    flags: EvalFlags,
    #[arg(long, value_enum, default_value_t)]
    format: DiffFormat,
    /// Exit 1 when there are differences (0 when none).
    #[arg(long)]
    exit_code: bool,
    /// Compare only what this cluster runs: objects that target it and objects that target no
    /// cluster (an object moving away shows as removed).
    #[arg(long, value_name = "NAME")]
    cluster: Option<String>,
}

fn usage(msg: String, help: &str) -> Exit {
    crate::usage_error(msg, Some(help))
}

/// The objects of a render output: every YAML/JSON file of a directory (but its
/// manifest.json), or one file.
fn read_render(path: &Path) -> Result<Vec<serde_json::Value>, Diagnostic> {
    let name = path.display().to_string();
    let files = if path.is_dir() {
        skyc_core::world::list_files(path, &["yaml", "yml", "json"])
            .map_err(|e| Diagnostic::new(codes::SKY0107, format!("cannot list {name}: {e}")))?
            .into_iter()
            .filter(|p| p.file_name().is_none_or(|n| n != "manifest.json"))
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    let mut out = Vec::new();
    for f in files {
        let fname = f.display().to_string();
        let text = skyc_core::world::read_input(&f).map_err(|e| {
            Diagnostic::new(codes::SKY0107, format!("cannot read `{fname}`: {e}")).with_help(
                "give two render outputs: directories from `skyc render -o`, or YAML/JSON files",
            )
        })?;
        out.extend(parse_render(&text).map_err(|e| {
            Diagnostic::new(
                codes::SKY0107,
                format!("`{fname}` is not a YAML or JSON render: {e}"),
            )
        })?);
    }
    Ok(out)
}

pub fn run(args: Args, quiet: bool) -> Exit {
    if let Some(name) = &args.cluster {
        // Renders given as files have no project; entry files are checked against theirs.
        let projects: &[PathBuf] = if args.rev.is_some() { &args.paths } else { &[] };
        if let Err(exit) = check_cluster(projects, name) {
            return exit;
        }
    }
    let (old, new) = match &args.rev {
        None => {
            let [a, b] = args.paths.as_slice() else {
                return usage(
                    format!("diff takes two renders, got {} path(s)", args.paths.len()),
                    "skyc diff OLD NEW, or skyc diff --rev REV FILE…",
                );
            };
            match (read_render(a), read_render(b)) {
                (Ok(x), Ok(y)) => (x, y),
                (x, y) => {
                    let diags: Vec<Diagnostic> = [x.err(), y.err()].into_iter().flatten().collect();
                    print_diagnostics(&diags, &Default::default(), false);
                    return Exit::Usage;
                }
            }
        }
        Some(rev) => match render_at_rev(rev, &args, quiet) {
            Ok(pair) => pair,
            Err(exit) => return exit,
        },
    };
    let (old, new) = match &args.cluster {
        Some(c) => (in_cluster(old, c), in_cluster(new, c)),
        None => (old, new),
    };
    let (old_name, new_name) = match (&args.rev, args.paths.as_slice()) {
        (Some(rev), _) => (
            format!("the render at {rev}"),
            "the working tree's render".into(),
        ),
        (None, [a, b]) => (a.display().to_string(), b.display().to_string()),
        _ => ("the old render".into(), "the new render".into()),
    };
    for (objects, name) in [(&old, &old_name), (&new, &new_name)] {
        if let Some(d) = held_twice(objects, name, args.cluster.is_some()) {
            print_diagnostics(&[d], &Default::default(), quiet);
            return Exit::Findings;
        }
    }
    let changes = diff(&old, &new);
    let text = match args.format {
        DiffFormat::Text => {
            let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal();
            render_text(&changes, color)
        }
        DiffFormat::Markdown => render_markdown(&changes),
        DiffFormat::Json => {
            let mut s = serde_json::to_string_pretty(
                &serde_json::json!({"version": 1, "changes": changes}),
            )
            .expect("changes serialize");
            s.push('\n');
            s
        }
    };
    print!("{text}");
    if args.exit_code && !changes.is_empty() {
        Exit::Findings
    } else {
        Exit::Ok
    }
}

/// The first object `objects` (the render `name`) holds twice: the diff pairs the objects of
/// two renders by apiVersion, kind, namespace and name, so it could not tell which of the two
/// changed, and would show one of them only. Variants of an object for disjoint clusters are
/// the usual cause (`--rev` renders every cluster at once); `one_cluster`: `--cluster` was
/// given.
fn held_twice(objects: &[serde_json::Value], name: &str, one_cluster: bool) -> Option<Diagnostic> {
    let mut seen = std::collections::HashSet::with_capacity(objects.len());
    for o in objects {
        if !seen.insert(key_of(o)) {
            let (_, kind, namespace, object) = key_of(o);
            let namespace = if namespace.is_empty() {
                String::new()
            } else {
                format!("{namespace}/")
            };
            let help = if !one_cluster && !clusters::of(o).is_empty() {
                "it has a variant per cluster: compare one cluster at a time (--cluster NAME)"
            } else {
                "rename one of them or remove one, then render again"
            };
            return Some(
                Diagnostic::new(
                    codes::SKY0406,
                    format!(
                        "{kind} {namespace}{object} is in {name} twice; the diff pairs objects by apiVersion, kind, namespace and name"
                    ),
                )
                .with_help(help),
            );
        }
    }
    None
}

/// The objects of a render that run in `cluster`.
fn in_cluster(objects: Vec<serde_json::Value>, cluster: &str) -> Vec<serde_json::Value> {
    objects
        .into_iter()
        .filter(|o| clusters::runs_in(&clusters::of(o), cluster))
        .collect()
}

/// Renders the entry files at `rev` (extracted with `git archive`) and in the working tree.
fn render_at_rev(
    rev: &str,
    args: &Args,
    quiet: bool,
) -> Result<(Vec<serde_json::Value>, Vec<serde_json::Value>), Exit> {
    if args.paths.is_empty() {
        return Err(usage(
            "--rev needs the entry files to render".into(),
            "skyc diff --rev main services/web.sky",
        ));
    }
    let git = |a: &[&str]| Command::new("git").args(a).output();
    let top = match git(&["rev-parse", "--show-toplevel"]) {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        _ => {
            return Err(usage(
                "--rev needs a git repository".into(),
                "run skyc diff --rev inside the repository of the files",
            ))
        }
    };
    let tmp = tempfile::tempdir().map_err(|e| {
        usage(
            format!("cannot create a temporary directory: {e}"),
            "check TMPDIR",
        )
    })?;
    let archive = Command::new("git")
        .args(["-C", &top.to_string_lossy(), "archive", "--format=tar", rev])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let ok = match archive {
        Ok(mut child) => {
            let stdout = child.stdout.take().expect("piped");
            let untar = Command::new("tar")
                .arg("-x")
                .arg("-C")
                .arg(tmp.path())
                .stdin(stdout)
                .stderr(Stdio::null())
                .status();
            let status = child.wait();
            matches!(status, Ok(s) if s.success()) && matches!(untar, Ok(s) if s.success())
        }
        Err(_) => false,
    };
    if !ok {
        return Err(usage(
            format!("cannot read revision `{rev}` of {}", top.display()),
            "check that the revision exists (git rev-parse REV)",
        ));
    }
    let opts = options(&args.flags)?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let top = top.canonicalize().unwrap_or(top);
    let mut old_files = Vec::new();
    for p in &args.paths {
        let abs = cwd.join(p);
        let abs = abs.canonicalize().unwrap_or(abs);
        let Ok(rel) = abs.strip_prefix(&top) else {
            return Err(usage(
                format!(
                    "`{}` is not in the repository {}",
                    p.display(),
                    top.display()
                ),
                "give files inside the repository",
            ));
        };
        let at_rev = tmp.path().join(rel);
        if at_rev.is_file() {
            old_files.push(at_rev);
        }
    }
    let old = compile_all(&old_files, &opts);
    let new = compile_all(&args.paths, &opts);
    let mut diags = old.diagnostics.clone();
    diags.extend(new.diagnostics.iter().cloned());
    let mut sources = old.sources.clone();
    sources.extend(new.sources.clone());
    print_diagnostics(&diags, &sources, quiet);
    if old.has_errors() || new.has_errors() {
        return Err(Exit::Findings);
    }
    let objs = |r: crate::project::Results| {
        r.outcomes
            .into_iter()
            .flat_map(|o| o.objects)
            .map(|o| o.json())
            .collect::<Vec<_>>()
    };
    Ok((objs(old), objs(new)))
}
