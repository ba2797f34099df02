//! `skyc man`: the manual page (roff), generated from the clap definitions of the command line.
//! With `--out-dir DIR`, one page per command (`skyc.1`, `skyc-render.1`, …) is written there.

use crate::Exit;
use clap::CommandFactory;
use skyc_diag::{codes, Diagnostic};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Write one page per command (`skyc.1`, `skyc-render.1`, …) into DIR instead of printing
    /// `skyc.1`. Each file is replaced atomically; other files in DIR are left alone.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

pub fn run(args: Args, quiet: bool) -> Exit {
    let pages = pages();
    match &args.out_dir {
        None => {
            let (_, page) = &pages[0];
            let mut out = std::io::stdout().lock();
            match out.write_all(page).and_then(|_| out.flush()) {
                Ok(()) => Exit::Ok,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
                Err(e) => output_error(format!("cannot write to stdout: {e}")),
            }
        }
        Some(dir) => match write_pages(dir, &pages) {
            Ok(()) => {
                if !quiet {
                    eprintln!("wrote {} man pages to {}", pages.len(), dir.display());
                }
                Exit::Ok
            }
            Err(e) => output_error(format!("cannot write {}: {e}", dir.display())),
        },
    }
}

/// Every page, `skyc.1` first, then one per visible subcommand (`skyc-render.1`, …), each as
/// (file name, roff text).
pub fn pages() -> Vec<(String, Vec<u8>)> {
    let mut cmd = crate::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = vec![("skyc.1".to_string(), render(cmd.clone()))];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("skyc-{}", sub.get_name());
        // The page's title and file are named after the full command (`skyc-render`), its
        // synopsis keeps the words a user types (`skyc render`).
        let sub = sub
            .clone()
            .display_name(&name)
            .bin_name(format!("skyc {}", sub.get_name()));
        out.push((format!("{name}.1"), render(sub)));
    }
    out
}

fn render(cmd: clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .source(concat!("skyc ", env!("CARGO_PKG_VERSION")))
        .manual("skyc manual")
        .render(&mut out)
        .expect("writing to a Vec cannot fail");
    out
}

/// Writes each page into `dir` (created when missing) through a temporary file renamed into
/// place, so a page is never seen half-written.
fn write_pages(dir: &Path, pages: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(std::io::Error::other("it exists and is not a directory"));
    }
    std::fs::create_dir_all(dir)?;
    for (name, bytes) in pages {
        let mut tmp = tempfile::Builder::new()
            .prefix(".skyc-man-")
            .tempfile_in(dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(dir.join(name)).map_err(|e| e.error)?;
    }
    Ok(())
}

/// An output that could not be written (SKY0003, exit 2).
pub(crate) fn output_error(msg: String) -> Exit {
    let d =
        Diagnostic::new(codes::SKY0003, msg).with_help("check the output path and its permissions");
    crate::project::print_diagnostics(&[d], &Default::default(), false);
    Exit::Usage
}
