//! `skyc fmt`: formatting is idempotent, keeps every comment, never changes the syntax tree,
//! and never changes what a file renders.
//!
//! - every `.sky` file of the repository (fixtures, examples, the stdlib, the `.sky` files of
//!   the CLI cases) is formatted and checked; every fixture and example renders the same
//!   objects (and the same diagnostic codes) from its formatted files, and the examples' tests
//!   give the same results;
//! - a seeded generator of messy Starlark (nested calls, lists, dicts, comprehensions,
//!   operators, strings with escapes and `#`, comments in every place they can go, long lines,
//!   trailing commas, odd indentation) checks the same properties on a few hundred files;
//! - `fixtures/fmt/*.sky` are hand-written messy files whose formatted text is snapshotted.

mod common;

use common::{compile_example, fixtures, load_fixture, run, EXAMPLES};
use skyc_core::emit::{stream, Format};
use skyc_core::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Formats `text` and checks the properties every formatted file has; returns the result.
/// `Err` for a file that does not parse (which must be reported as SKY0201).
fn check_properties(name: &str, text: &str) -> Result<String, ()> {
    let fail =
        |what: String| -> ! { panic!("{name}: {what}\n--- input\n{text}\n--- end of input") };
    let formatted = match fmt::format(name, text) {
        Ok(f) => f,
        Err(d) if d.code == "SKY0201" => return Err(()),
        Err(d) => fail(format!("skyc fmt failed: {d:?}")),
    };
    let again = match fmt::format(name, &formatted) {
        Ok(a) => a,
        Err(d) => fail(format!("the formatted file fails: {d:?}\n{formatted}")),
    };
    if again != formatted {
        fail(format!(
            "not idempotent\n--- first\n{formatted}--- diff\n{}",
            fmt::unified_diff("first", "second", &formatted, &again)
        ));
    }
    if fmt::syntax_tree(name, text).unwrap() != fmt::syntax_tree(name, &formatted).unwrap() {
        fail(format!("the syntax tree changed\n{formatted}"));
    }
    if fmt::comments(name, text).unwrap() != fmt::comments(name, &formatted).unwrap() {
        fail(format!(
            "the comments changed (or their order)\n{formatted}"
        ));
    }
    for (i, line) in formatted.lines().enumerate() {
        if line.ends_with(' ') {
            fail(format!("{}: trailing blanks in {line:?}", i + 1));
        }
    }
    if !(formatted.is_empty() || formatted.ends_with('\n') && !formatted.ends_with("\n\n")) {
        fail("the file does not end with exactly one line break".into());
    }
    Ok(formatted)
}

/// The `.sky` parts of a fixture or CLI case (`# file:` / `--- ` sections).
fn sky_parts(text: &str, marker: &str, first: Option<&str>) -> Vec<(String, String)> {
    let mut parts: Vec<(String, String)> = Vec::new();
    if let Some(f) = first {
        parts.push((f.to_string(), String::new()));
    }
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix(marker) {
            parts.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = parts.last_mut() {
            body.push_str(line);
        }
    }
    parts.retain(|(n, _)| n.ends_with(".sky"));
    parts
}

fn sky_files(dir: &Path) -> Vec<PathBuf> {
    skyc_core::world::list_sky_files(dir).unwrap()
}

#[test]
fn every_sky_file_formats_idempotently_keeping_comments_and_tree() {
    let root = root();
    let mut files = Vec::new();
    for dir in ["stdlib/sky", "examples", "tests/fixtures"] {
        files.extend(sky_files(&root.join(dir)));
    }
    let (mut checked, mut unparsable) = (0, Vec::new());
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let first = path.file_name().unwrap().to_str();
        // A fixture with `# file:` sections is several files.
        let parts = if text.lines().any(|l| l.starts_with("# file:")) {
            sky_parts(&text, "# file:", first)
        } else {
            vec![(name.clone(), text)]
        };
        for (part, body) in parts {
            match check_properties(&format!("{name}:{part}"), &body) {
                Ok(_) => checked += 1,
                Err(()) => unparsable.push(format!("{name}:{part}")),
            }
        }
    }
    let cases = std::fs::read_dir(root.join("tests/cli")).unwrap();
    let mut cases: Vec<PathBuf> = cases.map(|e| e.unwrap().path()).collect();
    cases.sort();
    for case in cases {
        let text = std::fs::read_to_string(&case).unwrap();
        for (part, body) in sky_parts(&text, "--- ", None) {
            let name = format!("{}:{part}", case.file_name().unwrap().to_string_lossy());
            match check_properties(&name, &body) {
                Ok(_) => checked += 1,
                Err(()) => unparsable.push(name),
            }
        }
    }
    assert!(checked > 100, "only {checked} files checked");
    // Only files written to be broken do not parse.
    for name in &unparsable {
        assert!(
            name.contains("sky0201") || name.contains("fmt") || name.contains("syntax"),
            "{name} does not parse"
        );
    }
}

/// The stdlib and the examples are formatted (`skyc fmt --check examples/` passes).
#[test]
fn stdlib_and_examples_are_formatted() {
    let root = root();
    for dir in ["stdlib/sky", "examples"] {
        for path in sky_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&path).unwrap();
            let formatted = fmt::format(&path.display().to_string(), &text).unwrap();
            assert!(
                formatted == text,
                "{} is not formatted; run `skyc fmt {dir}`:\n{}",
                path.display(),
                fmt::unified_diff("now", "formatted", &text, &formatted)
            );
        }
    }
}

/// A fixture with its `.sky` files formatted.
fn formatted_fixture(path: &Path) -> common::Fixture {
    let mut f = load_fixture(path);
    for (name, text) in f.world.files.iter_mut() {
        if name.ends_with(".sky") {
            let formatted = fmt::format(name, text).unwrap();
            *text = Arc::from(formatted.as_str());
        }
    }
    f
}

#[test]
fn formatted_fixtures_render_the_same() {
    let mut compared = 0;
    for path in fixtures("render") {
        let before = run(&load_fixture(&path));
        let after = run(&formatted_fixture(&path));
        assert!(
            !before.has_errors(),
            "{}: {:?}",
            path.display(),
            before.diagnostics
        );
        assert_eq!(
            stream(&before.objects, Format::Yaml),
            stream(&after.objects, Format::Yaml),
            "{}: formatting changed the rendered objects",
            path.display()
        );
        compared += 1;
    }
    for path in fixtures("diagnostics") {
        let text = std::fs::read_to_string(&path).unwrap();
        let parts = sky_parts(&text, "# file:", path.file_name().unwrap().to_str());
        if parts.iter().any(|(n, t)| fmt::format(n, t).is_err()) {
            continue; // a syntax error fixture
        }
        let before = run(&load_fixture(&path));
        let after = run(&formatted_fixture(&path));
        let codes = |o: &skyc_core::Outcome| {
            let mut v: Vec<&str> = o.diagnostics.iter().map(|d| d.code).collect();
            v.sort();
            v
        };
        assert_eq!(
            codes(&before),
            codes(&after),
            "{}: formatting changed the diagnostics",
            path.display()
        );
        assert_eq!(
            stream(&before.objects, Format::Yaml),
            stream(&after.objects, Format::Yaml),
            "{}",
            path.display()
        );
        compared += 1;
    }
    assert!(compared > 60, "only {compared} fixtures compared");
}

/// Copies an example into a temporary directory with its `.sky` files formatted.
fn formatted_example(example: &str) -> tempfile::TempDir {
    let src = root().join("examples").join(example);
    let tmp = tempfile::tempdir().unwrap();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let to = tmp.path().join(p.strip_prefix(&src).unwrap());
            if p.is_dir() {
                std::fs::create_dir_all(&to).unwrap();
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "sky") {
                let text = std::fs::read_to_string(&p).unwrap();
                let formatted = fmt::format(&p.display().to_string(), &text).unwrap();
                std::fs::write(&to, formatted).unwrap();
            } else {
                std::fs::copy(&p, &to).unwrap();
            }
        }
    }
    tmp
}

fn options(dir: &Path, vars: &[(&str, &str)]) -> skyc_core::Options {
    let config = match std::fs::read_to_string(dir.join("sky.toml")) {
        Ok(t) => skyc_core::Config::parse("sky.toml", &t).unwrap(),
        Err(_) => skyc_core::Config::default(),
    };
    skyc_core::Options {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        config,
        ..skyc_core::Options::default()
    }
}

#[test]
fn formatted_examples_render_and_test_the_same() {
    for (example, var_sets) in EXAMPLES {
        let tmp = formatted_example(example);
        let world = skyc_core::DiskWorld::new(tmp.path(), Some(tmp.path())).unwrap();
        for vars in *var_sets {
            let before = compile_example(example, vars);
            let after = skyc_core::compile(&world, "main.sky", &options(tmp.path(), vars));
            assert!(!before.has_errors() && !after.has_errors(), "{example}");
            assert_eq!(
                stream(&before.objects, Format::Yaml),
                stream(&after.objects, Format::Yaml),
                "{example} {vars:?}: formatting changed the rendered objects"
            );
        }
        let dir = root().join("examples").join(example);
        let original = skyc_core::DiskWorld::new(&dir, Some(&dir)).unwrap();
        for test in sky_files(&dir)
            .iter()
            .filter(|p| skyc_core::testrun::is_test_file(&p.to_string_lossy()))
        {
            let file = test.file_name().unwrap().to_str().unwrap();
            let results = |w: &dyn skyc_core::World, d: &Path| {
                let t = skyc_core::testrun::run_tests(w, file, &options(d, &[]));
                assert!(!t.cases.is_empty(), "{example}/{file} has no tests");
                t.cases
                    .iter()
                    .map(|c| (c.name.clone(), c.failure.is_none()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                results(&original, &dir),
                results(&world, tmp.path()),
                "{example}/{file}: formatting changed the test results"
            );
        }
    }
}

#[test]
fn messy_files_snapshots() {
    let dir = root().join("tests/fixtures/fmt");
    let mut n = 0;
    for path in sky_files(&dir) {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let formatted = check_properties(&name, &text).expect("fmt fixtures parse");
        insta::assert_snapshot!(name, formatted);
        n += 1;
    }
    assert!(n >= 3);
}

/// A file that does not parse is a SKY0201 at its position, and nothing is formatted.
#[test]
fn errors_leave_the_file_alone() {
    let d = fmt::format("bad.sky", "def f(:\n    pass\n").unwrap_err();
    assert_eq!(d.code, "SKY0201");
    assert_eq!(d.span.as_ref().unwrap().start.line, 1);
}

/// A statement holding a comment the layout has no place for (inside a subscript, a lambda,
/// between a callee and its `(`) is kept as written, moved to its block's indentation; the
/// statements around it are formatted, multi-line strings are untouched.
#[test]
fn comments_without_a_place_keep_their_statement_as_written() {
    let cases = [
        ("x = d[  # the key\n    1]\n", "x = d[  # the key\n    1]\n"),
        (
            "def f():\n      y=1\n      x = d[  # the key\n          1]   \n      return x+y\n",
            "def f():\n    y = 1\n    x = d[  # the key\n        1]\n    return x + y\n",
        ),
        (
            "if True:\n        y = [f  # the callee\n            (1)]  # after\n",
            "if True:\n    y = [f  # the callee\n        (1)]  # after\n",
        ),
        (
            "def g():\n        s = d[  # k\n  \"\"\"x\n  y\n\"\"\"]\n",
            "def g():\n    s = d[  # k\n\"\"\"x\n  y\n\"\"\"]\n",
        ),
    ];
    for (input, want) in cases {
        let got = check_properties("odd.sky", input).expect("formats");
        assert_eq!(got, want, "input:\n{input}");
    }
}

// ---------------------------------------------------------------- generated files

/// xorshift64*: a small deterministic generator (no dependency, same on every machine).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
}

/// Writes random, valid, badly laid out Starlark.
struct Gen {
    rng: Rng,
    comments: usize,
}

const NAMES: &[&str] = &[
    "a",
    "b",
    "name",
    "ctx",
    "replicas",
    "labels",
    "a_rather_long_identifier_for_testing_line_width",
    "k8s.core.v1.ConfigMap",
    "service",
    "x",
];

const STRINGS: &[&str] = &[
    "\"plain\"",
    "'single'",
    "'it\\'s'",
    "'say \"hi\"'",
    "\"tab\\tnew\\nline\"",
    "\"# not a comment\"",
    "'# neither'",
    "r'\\d+\\.\\d+'",
    "r\"raw \\n\"",
    "\"\"\"triple \"quoted\" text\"\"\"",
    "'''single triple'''",
    "\"unicode é ✓\"",
    "\"\\x41\\u00e9\"",
    "\"a fairly long string literal that takes up a good part of the line width\"",
    "f\"{a}-{b}\"",
];

const BINOPS: &[&str] = &["+", "-", "*", "%", "//", "|", "&", "and", "or"];
const CMPOPS: &[&str] = &["==", "!=", "<", ">=", "in", "not in"];

impl Gen {
    fn comment(&mut self) -> String {
        self.comments += 1;
        let texts = ["# note", "#tight", "# TODO: fix", "# a # in a comment", "#"];
        format!("{} {}", texts[self.rng.below(texts.len())], self.comments)
    }

    /// Whitespace between two tokens inside brackets: a space, nothing, or a line break
    /// (maybe after a comment) with random indentation.
    fn gap(&mut self, comment_ok: bool) -> String {
        match self.rng.below(10) {
            0..=4 => " ".into(),
            5 => "".into(),
            6 | 7 => format!("\n{}", " ".repeat(self.rng.below(9))),
            _ if comment_ok => {
                let c = self.comment();
                format!("  {c}\n{}", " ".repeat(self.rng.below(9)))
            }
            _ => "\n    ".into(),
        }
    }

    /// A comma-separated list inside brackets.
    fn items(
        &mut self,
        open: &str,
        close: &str,
        n: usize,
        item: &mut dyn FnMut(&mut Gen) -> String,
    ) -> String {
        let mut s = open.to_string();
        for i in 0..n {
            s.push_str(&self.gap(true));
            if self.rng.chance(10) {
                let c = self.comment();
                s.push_str(&format!("{c}\n    "));
            }
            s.push_str(&item(self));
            if i + 1 < n || self.rng.chance(30) {
                s.push(',');
            }
        }
        if n > 0 {
            s.push_str(&self.gap(true));
        }
        s.push_str(close);
        s
    }

    /// An operand: a name, literal, call, bracket, or a parenthesized expression.
    fn operand(&mut self, depth: usize) -> String {
        let leaf = depth == 0 || self.rng.chance(30);
        if leaf {
            return match self.rng.below(4) {
                0 => self.rng.below(1000).to_string(),
                1 => self.rng.pick(STRINGS).to_string(),
                _ => self.rng.pick(NAMES).to_string(),
            };
        }
        match self.rng.below(10) {
            0 | 1 => {
                let f = self.rng.pick(NAMES);
                let n = self.rng.below(5);
                let (mut k, mut named) = (0, false);
                self.items(&format!("{f}("), ")", n, &mut |g: &mut Gen| {
                    k += 1;
                    // Keyword arguments after the positional ones.
                    named = named || g.rng.chance(40);
                    if named {
                        let eq = if g.rng.chance(50) { "=" } else { " = " };
                        format!("arg{k}{eq}{}", g.test(depth - 1))
                    } else {
                        g.test(depth - 1)
                    }
                })
            }
            2 => {
                let n = self.rng.below(5);
                self.items("[", "]", n, &mut |g: &mut Gen| g.test(depth - 1))
            }
            3 => {
                let n = self.rng.below(4);
                self.items("{", "}", n, &mut |g: &mut Gen| {
                    format!("{}:{}", g.operand(0), g.test(depth - 1))
                })
            }
            4 => {
                let n = 2 + self.rng.below(3);
                self.items("(", ")", n, &mut |g: &mut Gen| g.test(depth - 1))
            }
            8 => format!("({},)", self.test(depth - 1)),
            5 => format!("({})", self.test(depth - 1)),
            6 => format!(
                "[{} for x in {} if {}]",
                self.test(depth - 1),
                self.operand(depth - 1),
                self.operand(depth - 1)
            ),
            7 => format!(
                "({}).attr[{}]",
                self.operand(depth - 1),
                self.test(depth - 1)
            ),
            _ => format!("{}[1:{}]", self.operand(depth - 1), self.rng.below(5)),
        }
    }

    /// Any expression (a `test` in the grammar).
    fn test(&mut self, depth: usize) -> String {
        match self.rng.below(10) {
            0 | 1 => {
                let n = 1 + self.rng.below(4);
                let mut s = self.operand(depth);
                for _ in 0..n {
                    let op = self.rng.pick(BINOPS);
                    s = format!("{s} {op} {}", self.operand(depth.saturating_sub(1)));
                }
                s
            }
            2 => format!(
                "{} {} {}",
                self.operand(depth),
                self.rng.pick(CMPOPS),
                self.operand(depth.saturating_sub(1))
            ),
            3 => format!(
                "{} if {} else {}",
                self.operand(depth),
                self.operand(depth.saturating_sub(1)),
                self.operand(depth.saturating_sub(1))
            ),
            4 => format!("not {}", self.operand(depth)),
            5 => format!("-{}", self.operand(depth)),
            6 if depth > 0 => format!("lambda x, y=1: {}", self.test(depth - 1)),
            _ => self.operand(depth),
        }
    }

    fn indent(&mut self, unit: usize, level: usize) -> String {
        " ".repeat(unit * level)
    }

    /// Statements at `level`; `in_def`: `return` is allowed.
    fn block(&mut self, unit: usize, level: usize, n: usize, in_def: bool, out: &mut String) {
        for _ in 0..n {
            let ind = self.indent(unit, level);
            if self.rng.chance(15) {
                // An own-line comment, at any indentation.
                let col = " ".repeat(self.rng.below(unit * level + 3));
                let c = self.comment();
                out.push_str(&format!("{col}{c}\n"));
            }
            if self.rng.chance(15) {
                out.push_str(&"\n".repeat(1 + self.rng.below(3)));
            }
            let trailing = if self.rng.chance(20) {
                format!("  {}", self.comment())
            } else {
                String::new()
            };
            let depth = 1 + self.rng.below(3);
            match self.rng.below(12) {
                0 if level < 2 => {
                    out.push_str(&format!("{ind}if {}:{trailing}\n", self.test(1)));
                    let n = 1 + self.rng.below(3);
                    self.block(unit, level + 1, n, in_def, out);
                    if self.rng.chance(50) {
                        out.push_str(&format!("{ind}elif {}:\n", self.test(1)));
                        self.block(unit, level + 1, 1, in_def, out);
                    }
                    if self.rng.chance(50) {
                        out.push_str(&format!("{ind}else:\n"));
                        let n = 1 + self.rng.below(2);
                        self.block(unit, level + 1, n, in_def, out);
                    }
                }
                1 if level < 2 => {
                    out.push_str(&format!(
                        "{ind}for k, v in {}:{trailing}\n",
                        self.operand(1)
                    ));
                    let n = 1 + self.rng.below(3);
                    self.block(unit, level + 1, n, in_def, out);
                }
                2 if level == 0 => {
                    let params = [
                        "a",
                        "b: int = 1",
                        "*args",
                        "c = [1, 2]",
                        "d: str | None = None",
                        "**kwargs",
                    ];
                    let n = self.rng.below(params.len() + 1);
                    let p: Vec<&str> = params[..n].to_vec();
                    let ret = if self.rng.chance(50) {
                        " -> list[str]"
                    } else {
                        ""
                    };
                    out.push_str(&format!(
                        "{ind}def f{}({}){ret}:{trailing}\n",
                        self.rng.below(100),
                        p.join(",")
                    ));
                    if self.rng.chance(30) {
                        out.push_str(&format!(
                            "{}\"\"\"Docstring.\n\n  kept   as is.\n\"\"\"\n",
                            self.indent(unit, 1)
                        ));
                    }
                    let n = 1 + self.rng.below(4);
                    self.block(unit, 1, n, true, out);
                }
                3 if in_def => {
                    out.push_str(&format!("{ind}return {}{trailing}\n", self.test(depth)))
                }
                4 => out.push_str(&format!(
                    "{ind}a, b = {}, {}{trailing}\n",
                    self.operand(1),
                    self.operand(1)
                )),
                5 => out.push_str(&format!("{ind}x += {}{trailing}\n", self.operand(depth))),
                6 => out.push_str(&format!("{ind}{}{trailing}\n", self.operand(depth))),
                7 => out.push_str(&format!("{ind}pass{trailing}\n")),
                _ => out.push_str(&format!("{ind}x = {}{trailing}\n", self.test(depth))),
            }
        }
    }

    fn module(&mut self) -> String {
        let mut out = String::new();
        if self.rng.chance(30) {
            out.push_str("\"\"\"Module docstring.\"\"\"\n");
        }
        if self.rng.chance(50) {
            out.push_str("load('@stdlib//service.sky', 'service', svc='service')\n");
        }
        let unit = [2, 4, 3][self.rng.below(3)];
        let n = 1 + self.rng.below(6);
        self.block(unit, 0, n, false, &mut out);
        if self.rng.chance(30) {
            let c = self.comment();
            out.push_str(&format!("\n{c}\n"));
        }
        out
    }
}

#[test]
fn generated_files_format_idempotently_keeping_comments_and_tree() {
    // More with SKYC_FMT_SEEDS=N (a longer hunt for bugs).
    let seeds: u64 = std::env::var("SKYC_FMT_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let (mut checked, mut with_comments) = (0, 0);
    for seed in 1..=seeds {
        let mut g = Gen {
            rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            comments: 0,
        };
        let text = g.module();
        let name = format!("generated_{seed}.sky");
        if let Err(d) = fmt::syntax_tree(&name, &text) {
            panic!("the generator wrote a file that does not parse ({d:?}):\n{text}");
        }
        check_properties(&name, &text).unwrap();
        checked += 1;
        if g.comments > 0 {
            with_comments += 1;
        }
    }
    assert_eq!(checked, seeds);
    assert!(with_comments > seeds / 2, "{with_comments}");
}
