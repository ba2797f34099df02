//! `skyc explain CODE`: the documentation page of a diagnostic code.

use crate::Exit;
use skyc_diag::codes;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The code, e.g. SKY0203 (or `all` to list every code).
    code: String,
}

pub fn run(args: Args) -> Exit {
    if args.code == "all" {
        for c in codes::ALL {
            println!("{}  {:<24} {}", c.code, c.name, c.summary);
        }
        return Exit::Ok;
    }
    match codes::lookup(&args.code) {
        Some(c) => {
            println!(
                "# {} ({}, {})\n\n{}\n\n{}",
                c.code, c.name, c.severity, c.summary, c.doc
            );
            Exit::Ok
        }
        None => crate::usage_error(
            format!("unknown diagnostic code `{}`", args.code),
            Some("`skyc explain all` lists every code"),
        ),
    }
}
