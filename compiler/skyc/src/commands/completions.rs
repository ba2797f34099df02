//! `skyc completions SHELL`: a shell completion script, generated from the clap definitions
//! of the command line (so it always knows every subcommand and flag).

use crate::Exit;
use clap::CommandFactory;
use std::io::Write;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell to write the script for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub fn run(args: Args) -> Exit {
    let text = script(args.shell);
    let mut out = std::io::stdout().lock();
    match out.write_all(&text).and_then(|_| out.flush()) {
        Ok(()) => Exit::Ok,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(e) => super::man::output_error(format!("cannot write to stdout: {e}")),
    }
}

/// The completion script for `shell`.
pub fn script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = visible_command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "skyc", &mut out);
    out
}

/// The command line without its hidden subcommands (`internal-test-panic`), which the
/// generators would otherwise offer. clap cannot remove a subcommand, so the top level is
/// rebuilt from its parts.
fn visible_command() -> clap::Command {
    let cli = crate::Cli::command();
    let mut cmd = clap::Command::new("skyc")
        .version(env!("CARGO_PKG_VERSION"))
        .args(cli.get_arguments().cloned())
        .subcommands(cli.get_subcommands().filter(|s| !s.is_hide_set()).cloned())
        .subcommand_required(true)
        .arg_required_else_help(true);
    if let Some(about) = cli.get_about() {
        cmd = cmd.about(about.clone());
    }
    cmd
}
