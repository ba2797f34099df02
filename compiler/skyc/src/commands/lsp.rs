//! `skyc lsp`: the language server for editors, on stdin/stdout (see `crate::lsp`).

use crate::Exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Accepted for editors that pass it; the server always speaks over stdio.
    #[arg(long)]
    stdio: bool,
}

pub fn run(_args: Args) -> Exit {
    match crate::lsp::run() {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("error[SKY0002]: skyc lsp: {e}");
            Exit::Usage
        }
    }
}
