//! `skyc completions SHELL` and `skyc man`: generated from the clap definitions, so they must
//! know every subcommand that `skyc --help` lists. The bash script is checked by bash itself
//! (syntax, and that it completes), the man pages by `groff`/`man` when they are installed.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn skyc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skyc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = skyc(args);
    assert!(
        out.status.success(),
        "skyc {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands `skyc --help` lists (an independent source: clap's help, not the generators).
fn subcommands() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    let section = help
        .split("Commands:\n")
        .nth(1)
        .expect("`skyc --help` has a Commands section");
    let names: Vec<String> = section
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect();
    for expected in ["render", "check", "doc", "completions", "man"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    names
}

/// Whether `program` can be run (it exists on PATH).
fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn bash(script: &str) -> Output {
    Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script])
        .output()
        .expect("bash runs (the test suite needs it)")
}

#[test]
fn bash_completion_is_valid_and_knows_every_subcommand() {
    let script = stdout_of(&["completions", "bash"]);
    for sub in subcommands() {
        assert!(
            script.contains(&format!(" {sub} ")) || script.contains(&format!(" {sub}\"")),
            "the bash script does not offer `{sub}`"
        );
    }
    for flag in [
        "--var",
        "--vars-file",
        "--format",
        "--out-dir",
        "--cluster",
        "--quiet",
    ] {
        assert!(script.contains(flag), "the bash script lacks {flag}");
    }
    assert!(
        !script.contains("internal-test-panic"),
        "hidden subcommands are not offered"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("skyc.bash");
    std::fs::write(&path, &script).unwrap();
    let p = path.display();
    let syntax = bash(&format!("bash -n '{p}'"));
    assert!(
        syntax.status.success(),
        "bash -n rejects the script: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    // Complete `skyc ren`, `skyc render --for` and `skyc completions ` as bash would.
    let probe = format!(
        r#"source '{p}'
complete_words() {{ COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}}; COMPREPLY=(); _skyc skyc "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"; echo "${{COMPREPLY[*]}}"; }}
complete_words skyc ren
complete_words skyc render --for
complete_words skyc completions ''
"#
    );
    let out = bash(&probe);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "render",
            "--format",
            "-q -h --quiet --help bash elvish fish powershell zsh"
        ],
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn other_shells_get_scripts() {
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let script = stdout_of(&["completions", shell]);
        assert!(
            script.contains("render"),
            "{shell}: no `render` in:\n{script}"
        );
        assert!(!script.contains("internal-test-panic"), "{shell}");
    }
    // zsh and fish are usually not installed where the tests run; when they are, they check
    // the syntax as `bash -n` does.
    for (shell, check) in [("zsh", "zsh -n"), ("fish", "fish --no-execute")] {
        if have(shell) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("skyc.completion");
            std::fs::write(&path, stdout_of(&["completions", shell])).unwrap();
            let out = Command::new("sh")
                .args(["-c", &format!("{check} '{}'", path.display())])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{check}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = skyc(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SKY0001") && err.contains("bash"), "{err}");
}

/// Renders a roff page to text with groff, or with `man -l` when only man is installed;
/// `None` when neither is on the machine.
fn render_roff(page: &Path) -> Option<String> {
    let cmd = if have("groff") {
        format!("groff -man -Tutf8 '{}'", page.display())
    } else if have("man") {
        format!("MANPAGER=cat MANWIDTH=100 man -l '{}'", page.display())
    } else {
        return None;
    };
    let out = Command::new("sh").args(["-c", &cmd]).output().unwrap();
    assert!(
        out.status.success(),
        "`{cmd}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(
        !warnings.contains("warning") && !warnings.contains("error"),
        "`{cmd}`: {warnings}"
    );
    // Plain text: no overstrike (bold is `N\x08N`), ASCII hyphens.
    let mut text = String::new();
    for c in String::from_utf8_lossy(&out.stdout).chars() {
        match c {
            '\x08' => {
                text.pop();
            }
            '\u{2010}' | '\u{2212}' => text.push('-'),
            c => text.push(c),
        }
    }
    Some(text)
}

#[test]
fn man_page_lists_every_subcommand() {
    let page = stdout_of(&["man"]);
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "no {section} in:\n{page}");
    }
    for sub in subcommands() {
        assert!(
            page.contains(&format!("skyc\\-{}(1)", sub.replace('-', "\\-"))),
            "the page does not list `{sub}`"
        );
    }
    assert!(
        !page.contains("internal"),
        "hidden subcommands are not listed"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("skyc.1");
    std::fs::write(&path, &page).unwrap();
    // Rendering is checked only when groff or man is installed; without both it is skipped.
    if let Some(text) = render_roff(&path) {
        assert!(text.contains("NAME") && text.contains("SYNOPSIS"), "{text}");
        assert!(text.contains("skyc-render(1)"), "{text}");
    }
}

#[test]
fn man_out_dir_writes_one_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man/man1");
    // A file of the user's in the directory is left alone.
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::write(out_dir.join("other.1"), "mine").unwrap();
    let out = skyc(&["man", "--out-dir", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "nothing on stdout with --out-dir");
    let mut want: Vec<String> = subcommands()
        .iter()
        .map(|s| format!("skyc-{s}.1"))
        .collect();
    want.push("skyc.1".into());
    want.push("other.1".into());
    want.sort();
    let mut have: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    have.sort();
    assert_eq!(have, want, "no temporary files are left behind either");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("other.1")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read(out_dir.join("skyc.1")).unwrap(),
        skyc(&["man"]).stdout,
        "skyc.1 is what `skyc man` prints"
    );
    let render = std::fs::read_to_string(out_dir.join("skyc-render.1")).unwrap();
    assert!(render.contains(".TH skyc-render 1"), "{render}");
    assert!(render.contains("\\fBskyc render\\fR"), "synopsis: {render}");
    assert!(render.contains("\\-\\-out\\-dir"), "{render}");
    if let Some(text) = render_roff(&out_dir.join("skyc-render.1")) {
        assert!(text.contains("--vars-file"), "{text}");
    }
    // A second run replaces the pages in place.
    let again = skyc(&["man", "--out-dir", out_dir.to_str().unwrap()]);
    assert!(again.status.success());
    // A path that is a file is an output error (SKY0003, exit 2).
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let bad = skyc(&["man", "--out-dir", file.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("SKY0003"));
}
