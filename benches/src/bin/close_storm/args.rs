//! The command line of `close_storm`.

use std::fmt;

/// Which runtime a run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// weir's channels on weir's runtime.
    Weir,
    /// tokio mpsc on tokio's runtime.
    Tokio,
    /// Both, one child process each (so each peak RSS is its own), weir first.
    Both,
}

impl Which {
    pub fn name(self) -> &'static str {
        match self {
            Which::Weir => "weir",
            Which::Tokio => "tokio",
            Which::Both => "both",
        }
    }
}

/// The storm's parameters.
#[derive(Clone, Debug)]
pub struct Args {
    /// Parked receiving tasks.
    pub tasks: usize,
    /// Channels they are spread over (task `i` waits on channel `i % channels`).
    pub channels: usize,
    /// Worker threads of the runtime.
    pub workers: usize,
    /// Every `guard_every`th channel (0, g, 2g, ...) is built with a breaker and an SLO
    /// monitor (weir only); 0: none.
    pub guard_every: usize,
    /// How long the parking and the storm may take before the run is called hung, seconds.
    pub timeout_s: u64,
    pub which: Which,
}

pub const USAGE: &str = "usage: close_storm [--tasks N] [--channels K] [--workers W] \
[--guard-every G] [--runtime weir|tokio|both] [--timeout-s S]
  N tasks park in a receive spread over K channels; every channel is closed at once.
  defaults: --tasks 10000 --channels 64 --workers 2 --guard-every 4 --runtime both --timeout-s 300
  --guard-every G: channels 0, G, 2G, ... carry a breaker and an SLO monitor (weir); 0 = none";

/// A command line that cannot be used; the message names the option.
#[derive(Debug)]
pub struct ArgsError(String);

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{USAGE}", self.0)
    }
}

impl Args {
    /// Parses the words after the program name.
    pub fn parse(words: impl IntoIterator<Item = String>) -> Result<Args, ArgsError> {
        let mut args = Args {
            tasks: 10_000,
            channels: 64,
            workers: 2,
            guard_every: 4,
            timeout_s: 300,
            which: Which::Both,
        };
        let mut words = words.into_iter();
        while let Some(word) = words.next() {
            let mut value = || {
                words
                    .next()
                    .ok_or_else(|| ArgsError(format!("{word} needs a value")))
            };
            match word.as_str() {
                "--tasks" => args.tasks = positive(&word, &value()?)?,
                "--channels" => args.channels = positive(&word, &value()?)?,
                "--workers" => args.workers = positive(&word, &value()?)?,
                "--guard-every" => args.guard_every = number(&word, &value()?)?,
                "--timeout-s" => args.timeout_s = positive(&word, &value()?)? as u64,
                "--runtime" => {
                    args.which = match value()?.as_str() {
                        "weir" => Which::Weir,
                        "tokio" => Which::Tokio,
                        "both" => Which::Both,
                        other => {
                            return Err(ArgsError(format!(
                                "--runtime must be weir, tokio or both, got {other:?}"
                            )))
                        }
                    }
                }
                "-h" | "--help" => return Err(ArgsError(String::new())),
                other => return Err(ArgsError(format!("unknown option {other:?}"))),
            }
        }
        if args.channels > args.tasks {
            return Err(ArgsError(format!(
                "--channels ({}) must not exceed --tasks ({})",
                args.channels, args.tasks
            )));
        }
        Ok(args)
    }

    /// Whether channel `c` carries a breaker and an SLO monitor.
    pub fn guarded(&self, c: usize) -> bool {
        self.guard_every != 0 && c % self.guard_every == 0
    }

    /// The options that reproduce this run for one runtime (what a child process gets).
    pub fn child_words(&self, which: Which) -> Vec<String> {
        [
            ("--tasks", self.tasks.to_string()),
            ("--channels", self.channels.to_string()),
            ("--workers", self.workers.to_string()),
            ("--guard-every", self.guard_every.to_string()),
            ("--timeout-s", self.timeout_s.to_string()),
            ("--runtime", which.name().to_string()),
        ]
        .into_iter()
        .flat_map(|(k, v)| [k.to_string(), v])
        .collect()
    }
}

fn number(option: &str, value: &str) -> Result<usize, ArgsError> {
    value
        .parse()
        .map_err(|_| ArgsError(format!("{option} must be a whole number, got {value:?}")))
}

fn positive(option: &str, value: &str) -> Result<usize, ArgsError> {
    match number(option, value)? {
        0 => Err(ArgsError(format!("{option} must be at least 1"))),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<Args, ArgsError> {
        Args::parse(words.iter().map(|w| w.to_string()))
    }

    #[test]
    fn defaults_and_overrides() {
        let a = parse(&[]).expect("defaults");
        assert_eq!((a.tasks, a.channels, a.which), (10_000, 64, Which::Both));
        let a = parse(&["--tasks", "2000", "--channels", "4", "--runtime", "tokio"]).expect("ok");
        assert_eq!((a.tasks, a.channels, a.which), (2000, 4, Which::Tokio));
    }

    #[test]
    fn child_words_round_trip() {
        let a = parse(&["--tasks", "50", "--channels", "5", "--guard-every", "0"]).expect("ok");
        let b = Args::parse(a.child_words(Which::Weir)).expect("round trip");
        assert_eq!((b.tasks, b.channels, b.guard_every), (50, 5, 0));
        assert_eq!(b.which, Which::Weir);
        assert!(!b.guarded(0));
    }

    #[test]
    fn refuses_bad_values_by_name() {
        let err = parse(&["--tasks", "0"])
            .expect_err("zero tasks")
            .to_string();
        assert!(err.starts_with("--tasks must be at least 1"), "{err}");
        let err = parse(&["--channels"]).expect_err("no value").to_string();
        assert!(err.starts_with("--channels needs a value"), "{err}");
        let err = parse(&["--tasks", "3", "--channels", "4"]).expect_err("k > n");
        assert!(err.to_string().starts_with("--channels (4)"), "{err}");
        assert!(parse(&["--runtime", "go"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
    }

    #[test]
    fn guarded_channels_are_every_gth() {
        let a = parse(&["--guard-every", "4"]).expect("ok");
        assert!(a.guarded(0) && a.guarded(8) && !a.guarded(3));
    }
}
