//! Running a shipped script under bpftrace against a weir program: the checks that turn the
//! usual failures into an error that says what to do, and the invocation itself.
//!
//! `weir-probe run` is a thin face on [`Invocation::prepare`] and [`Invocation::run`]; the
//! integration test drives them the same way.

use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use crate::elf_notes::{self, ElfError};
use crate::scripts::{self, Script};

/// What to trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A running process.
    Pid(u32),
    /// A command that bpftrace starts (`-c`) and traces from its first instruction.
    Command(Vec<String>),
}

/// Why a script could not be run.
#[derive(Debug)]
pub enum TraceError {
    /// No shipped script has this name.
    UnknownScript(String),
    /// `bpftrace` is not on `PATH`.
    BpftraceMissing,
    /// bpftrace needs root (or CAP_BPF and CAP_PERFMON) to attach uprobes.
    NotRoot,
    /// No process has this PID.
    NoSuchPid(u32),
    /// The command to run was not found (on `PATH` or as a path).
    CommandNotFound(String),
    /// An argument of the command has whitespace, which `bpftrace -c` would split.
    UnsplittableArgument(String),
    /// The target is not an ELF file weir can read.
    NotElf(PathBuf, ElfError),
    /// The target has no `weir` probes: it was built without `--features usdt`.
    NoWeirProbes(PathBuf),
    /// Reading the target or starting bpftrace failed.
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::UnknownScript(name) => {
                write!(f, "no script named `{name}`; `weir-probe list` shows them")
            }
            TraceError::BpftraceMissing => f.write_str(
                "bpftrace is not installed (not found on PATH); install it, e.g. \
                 `apt-get install bpftrace` on Debian or Ubuntu",
            ),
            TraceError::NotRoot => f.write_str(
                "attaching USDT probes needs root: run weir-probe with sudo (or give bpftrace \
                 CAP_BPF and CAP_PERFMON)",
            ),
            TraceError::NoSuchPid(pid) => write!(f, "no process has PID {pid}"),
            TraceError::CommandNotFound(cmd) => {
                write!(
                    f,
                    "command `{cmd}` not found (give a path, or put it on PATH)"
                )
            }
            TraceError::UnsplittableArgument(arg) => write!(
                f,
                "argument {arg:?} has whitespace, which `bpftrace -c` splits; start the \
                 program yourself and use --pid"
            ),
            TraceError::NotElf(path, e) => write!(f, "{}: {e}", path.display()),
            TraceError::NoWeirProbes(path) => write!(
                f,
                "{} has no weir probes: build it with `--features usdt` (Linux, x86_64 or \
                 aarch64)",
                path.display()
            ),
            TraceError::Io(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

impl std::error::Error for TraceError {}

/// A checked bpftrace command line, ready to run.
#[derive(Debug)]
pub struct Invocation {
    /// The bpftrace executable.
    pub bpftrace: PathBuf,
    /// Its arguments: `-c CMD` or `-p PID`, `-e SCRIPT`, the target binary, the script's own
    /// arguments.
    pub args: Vec<String>,
    /// The binary whose probes the script attaches to.
    pub binary: PathBuf,
}

impl Invocation {
    /// Checks everything that can be checked before bpftrace starts, in the order a user
    /// would fix it: the script, bpftrace, root, the target and its probes.
    pub fn prepare(
        script: &str,
        script_args: &[String],
        target: &Target,
    ) -> Result<Invocation, TraceError> {
        let script: &Script =
            scripts::find(script).ok_or_else(|| TraceError::UnknownScript(script.to_owned()))?;
        let bpftrace = find_on_path("bpftrace").ok_or(TraceError::BpftraceMissing)?;
        if effective_uid() != Some(0) {
            return Err(TraceError::NotRoot);
        }
        let (binary, mut args) = match target {
            Target::Pid(pid) => {
                let exe = PathBuf::from(format!("/proc/{pid}/exe"));
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    return Err(TraceError::NoSuchPid(*pid));
                }
                let binary = std::fs::read_link(&exe).map_err(|e| TraceError::Io(exe, e))?;
                (binary, vec!["-p".to_owned(), pid.to_string()])
            }
            Target::Command(cmd) => {
                let Some(program) = cmd.first() else {
                    return Err(TraceError::CommandNotFound(String::new()));
                };
                let binary = resolve_command(program)
                    .ok_or_else(|| TraceError::CommandNotFound(program.clone()))?;
                let mut line = vec![binary.display().to_string()];
                for a in &cmd[1..] {
                    if a.is_empty() || a.chars().any(char::is_whitespace) {
                        return Err(TraceError::UnsplittableArgument(a.clone()));
                    }
                    line.push(a.clone());
                }
                (binary, vec!["-c".to_owned(), line.join(" ")])
            }
        };
        let notes = match elf_notes::sdt_notes_of(&binary) {
            Ok(Ok(notes)) => notes,
            Ok(Err(e)) => return Err(TraceError::NotElf(binary, e)),
            Err(e) => return Err(TraceError::Io(binary, e)),
        };
        if !notes.iter().any(|n| n.provider == "weir") {
            return Err(TraceError::NoWeirProbes(binary));
        }
        args.push("-e".to_owned());
        args.push(script.source.to_owned());
        args.push(binary.display().to_string());
        args.extend(script_args.iter().cloned());
        Ok(Invocation {
            bpftrace,
            args,
            binary,
        })
    }

    /// Runs bpftrace: its standard output goes to `out`, its standard error to this process's
    /// without the harmless "couldn't set RLIMIT_MEMLOCK" warning. Ctrl-C reaches bpftrace
    /// (which prints its maps and exits) and not this process.
    pub fn run(&self, out: &mut dyn Write) -> Result<ExitStatus, TraceError> {
        let io = |e| TraceError::Io(self.bpftrace.clone(), e);
        let mut child = Command::new(&self.bpftrace)
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io)?;
        ignore_interrupts();
        let stderr = child.stderr.take();
        let filter = std::thread::spawn(move || {
            let Some(stderr) = stderr else { return };
            let mut err = std::io::stderr().lock();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !line.contains("RLIMIT_MEMLOCK") {
                    let _ = writeln!(err, "{line}");
                }
            }
        });
        if let Some(mut stdout) = child.stdout.take() {
            std::io::copy(&mut stdout, out).map_err(io)?;
        }
        let status = child.wait().map_err(io)?;
        let _ = filter.join();
        Ok(status)
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p))
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A command as an absolute path: as given when it names a path, else found on `PATH`.
fn resolve_command(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = std::fs::canonicalize(program).ok()?;
        is_executable(&p).then_some(p)
    } else {
        find_on_path(program).and_then(|p| std::fs::canonicalize(p).ok())
    }
}

/// This process's effective user id, from `/proc/self/status` (`Uid: real effective ...`).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// From now on SIGINT does not end this process: the terminal's Ctrl-C goes to the whole
/// process group, and bpftrace must outlive it to print its maps.
fn ignore_interrupts() {
    // SAFETY: `signal` with `SIG_IGN` installs no handler code; it only changes this
    // process's disposition of SIGINT, which nothing else in weir-probe relies on.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_script_is_named() {
        let e = Invocation::prepare("nope", &[], &Target::Pid(1)).unwrap_err();
        assert!(matches!(&e, TraceError::UnknownScript(n) if n == "nope"));
        assert!(e.to_string().contains("weir-probe list"), "{e}");
    }

    #[test]
    fn errors_say_what_to_do() {
        assert!(TraceError::BpftraceMissing
            .to_string()
            .contains("apt-get install bpftrace"));
        assert!(TraceError::NotRoot.to_string().contains("root"));
        let e = TraceError::NoWeirProbes(PathBuf::from("/bin/true"));
        assert!(e.to_string().contains("--features usdt"), "{e}");
    }

    /// Past the bpftrace and root checks (where this machine allows it), the target checks
    /// name the PID, the command, or the missing probes.
    #[test]
    fn target_checks() {
        if find_on_path("bpftrace").is_none() || effective_uid() != Some(0) {
            let e = Invocation::prepare("sched", &[], &Target::Pid(1)).unwrap_err();
            assert!(matches!(
                e,
                TraceError::BpftraceMissing | TraceError::NotRoot
            ));
            return;
        }
        let e = Invocation::prepare("sched", &[], &Target::Pid(u32::MAX)).unwrap_err();
        assert!(matches!(e, TraceError::NoSuchPid(u32::MAX)), "{e}");
        let cmd = Target::Command(vec!["no-such-command-weir".into()]);
        let e = Invocation::prepare("sched", &[], &cmd).unwrap_err();
        assert!(matches!(e, TraceError::CommandNotFound(_)), "{e}");
        let sh = Target::Command(vec!["sh".into(), "-c".into(), "exit 0".into()]);
        let e = Invocation::prepare("sched", &[], &sh).unwrap_err();
        assert!(matches!(e, TraceError::UnsplittableArgument(_)), "{e}");
        let plain = Target::Command(vec!["true".into()]);
        let e = Invocation::prepare("sched", &[], &plain).unwrap_err();
        assert!(matches!(e, TraceError::NoWeirProbes(_)), "{e}");
    }
}
