//! Compiles the programs in `tests/ui/` with `rustc` against this build of
//! the macros and a stand-in `weir` crate (`tests/ui/weir_fake.rs`), then
//! checks the exact errors (message, line and column) or runs the program.
//!
//! This is how the real macros are exercised end to end, including spans and
//! the absence of follow-up errors, without the weir runtime.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The directory holding the fixtures.
fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("ui")
}

/// Where compiled fixtures go.
fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("weir-macros-ui");
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn rustc() -> Command {
    Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
}

/// The proc-macro library cargo built for this test run: the newest
/// `libweir_macros-*.so` (or platform equivalent) next to this test binary.
fn macro_lib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let prefix = format!("{}weir_macros-", std::env::consts::DLL_PREFIX);
    let suffix = std::env::consts::DLL_SUFFIX;
    fs::read_dir(deps)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(&prefix) && name.ends_with(suffix)
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .unwrap_or_else(|| panic!("no {prefix}*{suffix} in {}", deps.display()))
        .path()
}

/// Builds the fake `weir` rlib once; returns its path.
fn fake_weir() -> &'static Path {
    static WEIR: OnceLock<PathBuf> = OnceLock::new();
    WEIR.get_or_init(|| {
        let out = out_dir().join("libweir.rlib");
        let output = rustc()
            .args([
                "--edition",
                "2021",
                "--crate-type",
                "rlib",
                "--crate-name",
                "weir",
            ])
            .arg("--extern")
            .arg(format!("weir_macros={}", macro_lib().display()))
            .arg("-o")
            .arg(&out)
            .arg(ui_dir().join("weir_fake.rs"))
            .output()
            .unwrap();
        assert_ok("building the fake weir", &output);
        out
    })
}

fn assert_ok(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed:\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// How a fixture is compiled.
#[derive(Clone, Copy)]
enum Mode {
    Bin,
    Test,
}

/// Compiles fixture `name`, producing an executable at the returned path
/// when `emit_exe` (otherwise only checking it).
fn compile(name: &str, mode: Mode, emit_exe: bool) -> (Output, PathBuf) {
    let src = ui_dir().join(name);
    let exe = out_dir().join(name.trim_end_matches(".rs"));
    let mut cmd = rustc();
    cmd.args(["--edition", "2021", "--error-format=short"])
        .arg("--crate-name")
        .arg(name.trim_end_matches(".rs"))
        .arg("--extern")
        .arg(format!("weir={}", fake_weir().display()))
        .arg("-L")
        .arg(format!(
            "dependency={}",
            macro_lib().parent().unwrap().display()
        ));
    match mode {
        Mode::Bin => cmd.args(["--crate-type", "bin"]),
        Mode::Test => cmd.arg("--test"),
    };
    if emit_exe {
        cmd.arg("-o").arg(&exe);
    } else {
        cmd.arg("--emit=metadata").arg("--out-dir").arg(out_dir());
    }
    (cmd.arg(&src).output().unwrap(), exe)
}

/// One error rustc reported: 1-based line and column, and message (for
/// errors with a code, `[E0308] message`).
#[derive(Debug, PartialEq)]
struct Reported {
    line: usize,
    col: usize,
    msg: String,
}

/// The errors (not warnings, not the final "aborting" line) in `stderr` of
/// a `--error-format=short` compile of `src`.
fn errors(src: &Path, stderr: &str) -> Vec<Reported> {
    let prefix = format!("{}:", src.display());
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| {
            let mut parts = rest.splitn(3, ':');
            let line = parts.next()?.parse().ok()?;
            let col = parts.next()?.parse().ok()?;
            let msg = parts.next()?.trim_start().strip_prefix("error")?;
            let msg = msg.strip_prefix(": ").unwrap_or(msg).to_owned();
            Some(Reported { line, col, msg })
        })
        .collect()
}

/// Compiles `name` (which must fail) and checks that its errors are exactly
/// `expected`, in any order: `(line, needle, message)`, the column being
/// where `needle` first occurs on that line. A message ending in `*` matches
/// any message starting with the rest.
fn check_errors(name: &str, mode: Mode, expected: &[(usize, &str, &str)]) {
    let src = ui_dir().join(name);
    let text = fs::read_to_string(&src).unwrap();
    let (output, _) = compile(name, mode, false);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{name} compiled:\n{stderr}");
    // Lints run after expansion, so sort by position before comparing.
    let mut got = errors(&src, &stderr);
    got.sort_by_key(|r| (r.line, r.col));
    let mut want: Vec<Reported> = expected
        .iter()
        .map(|&(line, needle, msg)| {
            let source_line = text.lines().nth(line - 1).unwrap();
            let byte = source_line
                .find(needle)
                .unwrap_or_else(|| panic!("{needle:?} not on line {line} of {name}"));
            Reported {
                line,
                col: source_line[..byte].chars().count() + 1,
                msg: msg.to_owned(),
            }
        })
        .collect();
    want.sort_by_key(|r| (r.line, r.col));
    let matches = got.len() == want.len()
        && got.iter().zip(&want).all(|(g, w)| {
            g.line == w.line
                && g.col == w.col
                && match w.msg.strip_suffix('*') {
                    Some(start) => g.msg.starts_with(start),
                    None => g.msg == w.msg,
                }
        });
    assert!(
        matches,
        "{name}: errors differ\n--- got\n{got:#?}\n--- want\n{want:#?}\n--- stderr\n{stderr}"
    );
}

#[test]
fn main_runs_on_the_runtime() {
    let (output, exe) = compile("pass_main.rs", Mode::Bin, true);
    assert_ok("compiling pass_main.rs", &output);
    let run = Command::new(&exe).output().unwrap();
    assert_ok("running pass_main", &run);
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "weir-fake: block_on flavor=multi_thread workers=Some(2) enabled=true\nbody: 42\n"
    );
}

#[test]
fn tests_are_registered_and_run() {
    let (output, exe) = compile("pass_tests.rs", Mode::Test, true);
    assert_ok("compiling pass_tests.rs", &output);
    let run = Command::new(&exe).arg("--test-threads=1").output().unwrap();
    assert_ok("running pass_tests", &run);
    let stdout = String::from_utf8_lossy(&run.stdout);
    for line in [
        "test plain ... ok",
        "test multi_thread ... ok",
        "test panics - should panic ... ok",
        "test explicit_crate ... ok",
        "test nested::in_module ... ok",
        "test ignored ... ignored, ignored tests keep their attribute",
        "test result: ok. 5 passed; 0 failed; 1 ignored",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}

#[test]
fn main_unknown_argument_is_the_only_error() {
    check_errors(
        "main_unknown_arg.rs",
        Mode::Bin,
        &[(
            1,
            "flavour",
            "unknown argument `flavour` for `#[weir::main]`; \
             valid arguments are `flavor`, `worker_threads`, `start_paused` and `crate`",
        )],
    );
}

#[test]
fn main_bad_flavor_is_the_only_error() {
    check_errors(
        "main_bad_flavor.rs",
        Mode::Bin,
        &[(
            1,
            "\"single_thread\"",
            "unknown flavor `\"single_thread\"`; \
             expected `\"current_thread\"`, `\"multi_thread\"` or `\"local\"`",
        )],
    );
}

#[test]
fn main_not_async() {
    check_errors(
        "main_not_async.rs",
        Mode::Bin,
        &[(
            2,
            "fn",
            "the `async` keyword is missing from the function declaration",
        )],
    );
}

#[test]
fn main_with_arguments() {
    // rustc adds its own complaint about `main`'s signature.
    check_errors(
        "main_args.rs",
        Mode::Bin,
        &[
            (2, "(argc", "the `main` function cannot accept arguments"),
            (2, "fn main", "[E0580]*"),
        ],
    );
}

#[test]
fn body_errors_point_at_user_code() {
    check_errors(
        "main_body_error.rs",
        Mode::Bin,
        &[(3, "\"not a number\"", "[E0308]: mismatched types*")],
    );
}

#[test]
fn test_argument_and_shape_errors() {
    check_errors(
        "test_errors.rs",
        Mode::Test,
        &[
            (
                4,
                "\"multi-thread\"",
                "unknown flavor `\"multi-thread\"`; \
                 expected `\"current_thread\"`, `\"multi_thread\"` or `\"local\"`",
            ),
            (7, "0", "`worker_threads` must be at least 1, found `0`"),
            (
                10,
                "\"2\"",
                "`worker_threads` must be a positive integer literal such as \
                 `worker_threads = 4`, found `\"2\"`",
            ),
            (
                13,
                "worker_threads",
                "`worker_threads` can only be used with `flavor = \"multi_thread\"`; \
                 `#[weir::test]` uses the `current_thread` flavor by default, \
                 add `flavor = \"multi_thread\"`",
            ),
            (
                16,
                "worker_threads",
                "`worker_threads` can only be used with `flavor = \"multi_thread\"`, \
                 but `flavor = \"current_thread\"` was given",
            ),
            (
                19,
                "flavor = \"current_thread\")",
                "duplicate argument `flavor`; each argument may be given only once",
            ),
            (
                22,
                "\"current_thread\"",
                "expected `=` after `flavor`, found `\"current_thread\"`; \
                 arguments are written `key = value`",
            ),
            (
                25,
                "start_paused",
                "`start_paused = true` needs `flavor = \"current_thread\"` or \
                 `flavor = \"local\"`: a paused clock runs on one thread",
            ),
            (
                28,
                "\"weir-fake\"",
                "`crate = \"weir-fake\"` is not a valid path; expected a path such as \
                 `\"weir\"`, `\"::weir\"` or `\"weir_runtime\"`",
            ),
            (
                32,
                "fn",
                "the `async` keyword is missing from the function declaration",
            ),
            (
                35,
                "(x",
                "`#[weir::test]` functions cannot accept arguments",
            ),
            (
                40,
                "#",
                "`#[weir::test]` already marks the function as a test; \
                 remove the second test attribute `#[test]`",
            ),
            (46, "unused", "unused variable: `unused`*"),
            (
                54,
                "\"single\"",
                "unknown flavor `\"single\"`; \
                 expected `\"current_thread\"`, `\"multi_thread\"` or `\"local\"`",
            ),
        ],
    );
}
