//! `skyc render FILE…`: evaluate and emit, to stdout or atomically into a directory.

use crate::project::{check_cluster, compile_all, options, print_diagnostics, EvalFlags};
use crate::Exit;
use skyc_core::emit::{self, Format};
use skyc_diag::{codes, Diagnostic};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub enum RenderFormat {
    #[default]
    Yaml,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EnvoyOutput {
    /// Envoy configurations stay static bootstraps inside their ConfigMaps.
    #[default]
    Bootstrap,
    /// Also emit each bootstrap's listeners, routes and clusters as xDS resources for a
    /// control plane: files under `envoy/<node>/` with `-o` (`envoy/` for the resources
    /// `main` returns itself), else a JSON list on stdout instead of the Kubernetes objects.
    Xds,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Entry files (each defines `main(ctx)`), or directories to search for `.sky` files that
    /// define `main`. Several entry files are evaluated in parallel (`SKYC_JOBS=1` for one at a
    /// time); the output is the same either way.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    flags: EvalFlags,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: RenderFormat,
    /// Write one file per object plus manifest.json into DIR (replaced atomically).
    #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// How Envoy configurations are emitted.
    #[arg(long, value_enum, default_value_t)]
    envoy: EnvoyOutput,
    /// Emit only what this cluster runs: objects that target it (`on_clusters`, `migrate`)
    /// and objects that target no cluster.
    #[arg(long, value_name = "NAME")]
    cluster: Option<String>,
    /// Print the time each stage of the pipeline took on stderr (`timing: STAGE MS`).
    #[arg(long)]
    timings: bool,
}

pub fn run(args: Args, quiet: bool) -> Exit {
    let opts = match options(&args.flags) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    let files = match crate::project::entry_files(&args.files, &opts) {
        Ok(f) => f,
        Err(exit) => return exit,
    };
    if let Some(name) = &args.cluster {
        if let Err(exit) = check_cluster(&files, name) {
            return exit;
        }
    }
    let res = compile_all(&files, &opts);
    let timings = res.timings.clone();
    let emit_start = std::time::Instant::now();
    let exit = emit_and_write(&args, res, quiet);
    if args.timings {
        // `emit` includes writing: the text is built and written in one step.
        crate::project::print_timings(&timings, &[("emit", emit_start.elapsed())]);
    }
    exit
}

fn emit_and_write(args: &Args, res: crate::project::Results, quiet: bool) -> Exit {
    crate::project::show_prints(&res, quiet);
    print_diagnostics(&res.diagnostics, &res.sources, quiet);
    if res.has_errors() {
        return res.exit();
    }
    // Where each entry file's objects end in the list of all of them.
    let mut ends = Vec::with_capacity(res.outcomes.len());
    let mut total = 0;
    for (k, o) in res.outcomes.iter().enumerate() {
        total += o.objects.len();
        ends.push((total, res.entries.get(k).map_or("?", String::as_str)));
    }
    // The first entry file's list of objects takes the others', made large enough for them
    // at once (collected from `flat_map`, which cannot tell the size, the list was copied a
    // dozen times as it grew: 30,000 objects of 160 bytes at N=10,000).
    let mut outcomes = res.outcomes.into_iter();
    let mut objects: Vec<skyc_core::Object> =
        outcomes.next().map(|o| o.objects).unwrap_or_default();
    objects.reserve(total - objects.len());
    objects.extend(outcomes.flat_map(|o| o.objects));
    if let Some(d) = written_twice(&objects, &ends, args.cluster.as_deref()) {
        print_diagnostics(&[d], &Default::default(), quiet);
        return Exit::Findings;
    }
    if let Some(c) = &args.cluster {
        objects.retain(|o| o.runs_in(c));
    }
    let format = match args.format {
        RenderFormat::Yaml => Format::Yaml,
        RenderFormat::Json => Format::Json,
    };
    let (objects, xds) = if args.envoy == EnvoyOutput::Xds {
        let xds = emit::xds_resources(&objects);
        // The resources `main` returned are among the xDS resources: written once, there.
        let objects: Vec<_> = objects.into_iter().filter(|o| !o.is_xds()).collect();
        (objects, xds)
    } else {
        (objects, Vec::new())
    };
    match &args.out_dir {
        None => {
            // Written object by object: the whole text never exists at once.
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let written = if args.envoy == EnvoyOutput::Xds {
                out.write_all(emit::xds_list(&xds).as_bytes())
            } else {
                emit::write_stream(&objects, format, &mut out)
            };
            // The process ends after this: the objects are left to it rather than freed one
            // by one (2% of a render at N=10,000).
            std::mem::forget(objects);
            match written.and_then(|_| out.flush()) {
                Ok(()) => Exit::Ok,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
                Err(e) => output_error(format!("cannot write to stdout: {e}"), CHECK_THE_PATH),
            }
        }
        Some(dir) => {
            let files =
                match emit::directory_with_xds(&objects, &xds, format, args.cluster.as_deref()) {
                    Ok(f) => f,
                    Err(e) => return output_error(e, CHECK_THE_PATH),
                };
            match write_dir_atomically(dir, &files) {
                Ok(()) => {
                    if !quiet {
                        let more = if xds.is_empty() {
                            String::new()
                        } else {
                            format!(" and {} xDS resources", xds.len())
                        };
                        let of = match &args.cluster {
                            Some(c) => format!(" for cluster {c}"),
                            None => String::new(),
                        };
                        eprintln!(
                            "wrote {} objects{of}{more} to {}",
                            objects.len(),
                            dir.display()
                        );
                    }
                    Exit::Ok
                }
                Err(e) => {
                    let help = if dir.exists() && !dir.is_dir() {
                        "-o writes a directory (a file per object, and manifest.json); for one \
                         stream in a file, leave out -o and redirect the output (`skyc render \
                         main.sky > out.yaml`)"
                    } else {
                        CHECK_THE_PATH
                    };
                    output_error(format!("cannot write {}: {e}", dir.display()), help)
                }
            }
        }
    }
}

/// The help of an output that could not be written, when nothing more specific applies.
const CHECK_THE_PATH: &str =
    "check the output path and its permissions; the previous output was left as it was";

/// An output that could not be written (SKY0003, exit 2).
fn output_error(msg: String, help: &str) -> Exit {
    let d = Diagnostic::new(codes::SKY0003, msg).with_help(help);
    print_diagnostics(&[d], &Default::default(), false);
    Exit::Usage
}

/// Writes `files` into a fresh temporary directory next to `dir`, then swaps it into place,
/// so `dir` always holds either the previous complete output or the new one.
fn write_dir_atomically(dir: &Path, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)?;
    if dir.exists() && !dir.is_dir() {
        return Err(std::io::Error::other("it exists and is not a directory"));
    }
    // Never replace a directory skyc did not write: it may hold the user's own files.
    if dir.is_dir()
        && !dir.join("manifest.json").is_file()
        && std::fs::read_dir(dir)?.next().is_some()
    {
        return Err(std::io::Error::other(
            "it is not empty and holds no manifest.json, so it is not an earlier skyc output; choose another directory or empty it",
        ));
    }
    let tmp = tempfile::Builder::new()
        .prefix(".skyc-out-")
        .tempdir_in(&parent)?;
    // Each directory is made once, not once per file in it.
    let mut made = std::collections::HashSet::new();
    for (rel, _) in files {
        if let Some(p) = Path::new(rel)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            if made.insert(p) {
                std::fs::create_dir_all(tmp.path().join(p))?;
            }
        }
    }
    let write = |part: &[(String, Vec<u8>)]| -> std::io::Result<()> {
        for (rel, bytes) in part {
            std::fs::File::create(tmp.path().join(rel))?.write_all(bytes)?;
        }
        Ok(())
    };
    // Many files are written by two threads, half each: most of the time goes to the kernel
    // making each file, and the other core is idle by now.
    if files.len() >= 256 && skyc_core::memory::jobs() <= 1 {
        let (first, second) = files.split_at(files.len() / 2);
        std::thread::scope(|scope| {
            let other = std::thread::Builder::new()
                .name("skyc-write".into())
                .spawn_scoped(scope, || write(second));
            let mine = write(first);
            let theirs = match other {
                Ok(t) => t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(_) => write(second),
            };
            mine.and(theirs)
        })?;
    } else {
        write(files)?;
    }
    // Everything on disk before the swap, so a crash after it cannot leave empty files.
    sync_files(tmp.path(), files)?;
    let staged = tmp.keep();
    if dir.exists() && exchange(&staged, dir)? {
        // The old output is now at `staged`.
        let _ = std::fs::remove_dir_all(&staged);
    } else if dir.exists() {
        let old = parent.join(format!(".skyc-old-{}", std::process::id()));
        std::fs::rename(dir, &old)?;
        if let Err(e) = std::fs::rename(&staged, dir) {
            let _ = std::fs::rename(&old, dir);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e);
        }
        let _ = std::fs::remove_dir_all(&old);
    } else if let Err(e) = std::fs::rename(&staged, dir) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e);
    }
    Ok(())
}

/// Flushes the files written under `dir` to disk. On Linux one `syncfs` flushes the whole file
/// system (one call instead of a `fsync` per file, which made writing a thousand files take
/// seconds); elsewhere each file is synced.
#[cfg(target_os = "linux")]
fn sync_files(dir: &Path, _files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let d = std::fs::File::open(dir)?;
    // SAFETY: `syncfs` takes a file descriptor, which `d` keeps open for the call.
    if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn sync_files(dir: &Path, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    for (rel, _) in files {
        std::fs::File::open(dir.join(rel))?.sync_all()?;
    }
    Ok(())
}

/// Swaps two directories in one step (Linux `renameat2` with `RENAME_EXCHANGE`), so that a
/// reader or a kill never sees the output directory missing or half replaced. `Ok(false)` when
/// the file system cannot do it (the caller then renames twice).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    let c =
        |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: two valid NUL-terminated paths, relative to the working directory.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => Ok(false),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// The first object that the output would hold twice: the same object (`Object::identity`)
/// from two entry files, running in a common cluster (each entry file's own duplicates were
/// reported when it was compiled), or an object defined once per cluster (disjoint clusters),
/// which has no single form when every cluster is rendered at once. `ends`: where each entry
/// file's objects end in `objects`, and its name; `cluster`: the one rendered, if any.
fn written_twice(
    objects: &[skyc_core::Object],
    ends: &[(usize, &str)],
    cluster: Option<&str>,
) -> Option<Diagnostic> {
    let several = ends.len() > 1;
    // Within one entry file, only variants for disjoint clusters are left, and only rendering
    // every cluster puts them together: most renders look nothing up (2% of a render at
    // N=10,000).
    let in_play = |o: &skyc_core::Object| {
        cluster.is_none_or(|c| o.runs_in(c)) && (several || !o.clusters.is_empty())
    };
    if !several && (cluster.is_some() || !objects.iter().any(in_play)) {
        return None;
    }
    let entry = |i: usize| ends[ends.partition_point(|(end, _)| *end <= i)].1;
    // Only looked up (the objects' order decides which one is reported): a fast hash.
    type Key<'a> = (&'a str, &'a str, &'a str, &'a str);
    let mut seen: std::collections::HashMap<Key, usize, foldhash::fast::FixedState> =
        std::collections::HashMap::with_capacity_and_hasher(objects.len(), Default::default());
    for (i, o) in objects.iter().enumerate().filter(|(_, o)| in_play(o)) {
        let first = match seen.entry(o.identity()) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(i);
                continue;
            }
            std::collections::hash_map::Entry::Occupied(e) => *e.get(),
        };
        let f = &objects[first];
        let ns = o
            .namespace
            .as_ref()
            .map(|n| format!("{n}/"))
            .unwrap_or_default();
        if !o.shares_a_cluster(f) && cluster.is_none() {
            return Some(
                Diagnostic::new(
                    codes::SKY0406,
                    format!(
                        "{} {ns}{} has a variant per cluster ({} and {}); they cannot be rendered together",
                        o.kind,
                        o.name,
                        f.clusters.join(","),
                        o.clusters.join(",")
                    ),
                )
                .with_help("render one cluster at a time: skyc render FILE --cluster NAME"),
            );
        }
        let (a, b) = (entry(first), entry(i));
        let clusters = match cluster {
            Some(c) => format!(", both for cluster {c}"),
            None => String::new(),
        };
        return Some(
            Diagnostic::new(
                codes::SKY0406,
                format!(
                    "{} {ns}{} is defined twice: by {a} and by {b}{clusters}",
                    o.kind, o.name
                ),
            )
            .with_help(
                "rename one of them, remove one, or target them at different clusters (skyc.dev/clusters)",
            ),
        );
    }
    None
}
