//! `skyc import FILE…`: Kubernetes YAML and legacy cron entries to `.sky` source, on stdout or
//! into a new file (`-o`).

use crate::project::print_diagnostics;
use crate::Exit;
use skyc_core::import::{import, ImportOptions, Input};
use skyc_diag::{codes, Diagnostic};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// YAML files: Kubernetes objects (multi-document, `List`s) or cron entries
    /// (`name`, `owner`, `schedule`, `disabled`, `command`).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the `.sky` source to FILE instead of stdout (refuses to replace an existing file
    /// unless --force).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace FILE given with -o if it exists.
    #[arg(long)]
    force: bool,
    /// The image cron entries run in (their YAML names none).
    #[arg(long, value_name = "IMAGE")]
    image: Option<String>,
    /// Only typed constructors: do not replace objects with the stdlib calls that generate them.
    #[arg(long)]
    no_stdlib: bool,
    /// Keep what the API server sets (`status`, `metadata.uid`, `managedFields`, …), which is
    /// dropped by default (input from `kubectl get -o yaml`).
    #[arg(long)]
    keep_server_fields: bool,
}

pub fn run(args: Args, quiet: bool) -> Exit {
    let mut texts: Vec<(String, Arc<str>)> = Vec::new();
    let mut errors = Vec::new();
    for f in &args.files {
        let name = f.display().to_string();
        match skyc_core::world::read_input(f) {
            Ok(t) => texts.push((name, t)),
            Err(e) => errors.push(
                Diagnostic::new(codes::SKY0107, format!("cannot read `{name}`: {e}"))
                    .with_help("give YAML files of Kubernetes objects or cron entries"),
            ),
        }
    }
    if !errors.is_empty() {
        print_diagnostics(&errors, &Default::default(), false);
        return Exit::Usage;
    }
    if let Some(out) = &args.output {
        if out.exists() && !args.force {
            return crate::usage_error(
                format!(
                    "`{}` exists; skyc import does not replace files",
                    out.display()
                ),
                Some("choose another file, or pass --force to replace it"),
            );
        }
    }
    let inputs: Vec<Input> = texts
        .iter()
        .map(|(name, text)| Input { name, text })
        .collect();
    // The CRDs of the project the imported file will belong to: the one around `-o FILE`,
    // or around the working directory.
    let cwd = std::env::current_dir().unwrap_or_default();
    let anchor = cwd.join(args.output.as_deref().unwrap_or(Path::new("imported.sky")));
    let (crds, mut crd_problems) = crate::project::project_crds(&anchor);
    let opts = ImportOptions {
        image: args.image.clone(),
        no_stdlib: args.no_stdlib,
        keep_server_fields: args.keep_server_fields,
        crds: crds.clone(),
    };
    let mut result = import(&inputs, &opts);
    let mut sources: BTreeMap<String, Arc<str>> = texts.into_iter().collect();
    if let Some(index) = &crds {
        // Problems of the CRD files that the import parsed (for the kinds it met).
        crd_problems.extend(index.take_problems());
        for (name, text) in index.files() {
            sources.insert(name.to_string(), text.clone());
        }
    }
    if crd_problems.iter().any(Diagnostic::is_error) {
        result.source.clear();
    }
    result.diagnostics.extend(crd_problems);
    print_diagnostics(&result.diagnostics, &sources, quiet);
    if result.diagnostics.iter().any(Diagnostic::is_error) {
        return Exit::Findings;
    }
    match &args.output {
        None => {
            let mut out = std::io::stdout().lock();
            match out
                .write_all(result.source.as_bytes())
                .and_then(|_| out.flush())
            {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return write_error(format!("cannot write to stdout: {e}")),
            }
        }
        Some(path) => {
            if let Err(e) = write_new(path, result.source.as_bytes()) {
                return write_error(format!("cannot write `{}`: {e}", path.display()));
            }
            if !quiet {
                eprintln!(
                    "wrote {}: {} object(s), {} of them from stdlib calls",
                    path.display(),
                    result.objects,
                    result.from_stdlib
                );
            }
        }
    }
    Exit::Ok
}

/// Writes through a temporary file in the same directory, so FILE is never half-written.
fn write_new(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.flush()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn write_error(msg: String) -> Exit {
    let d = Diagnostic::new(codes::SKY0003, msg).with_help("check the path and its permissions");
    print_diagnostics(&[d], &Default::default(), false);
    Exit::Usage
}
