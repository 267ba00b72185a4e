//! The bpftrace scripts shipped with weir (`probes/scripts/*.bt`), embedded in the binary.
//!
//! Each script reads the target binary's path as `$1` (`usdt:$1:weir:NAME`: a provider
//! without a path does not attach under `bpftrace -c`) and its own arguments from `$2` on.
//! Its header comment says what it shows; its first line is the summary `weir-probe list`
//! prints.

/// One shipped script.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    /// The name `weir-probe run` takes.
    pub name: &'static str,
    /// The script's own arguments after the target, for the usage line (`""`: none).
    pub args: &'static str,
    /// The bpftrace source.
    pub source: &'static str,
}

/// Every shipped script, by name.
pub const SCRIPTS: [Script; 5] = [
    Script {
        name: "close-latency",
        args: "",
        source: include_str!("../scripts/close-latency.bt"),
    },
    Script {
        name: "send-recv",
        args: "",
        source: include_str!("../scripts/send-recv.bt"),
    },
    Script {
        name: "blocked",
        args: "[MS]",
        source: include_str!("../scripts/blocked.bt"),
    },
    Script {
        name: "breaker",
        args: "",
        source: include_str!("../scripts/breaker.bt"),
    },
    Script {
        name: "sched",
        args: "",
        source: include_str!("../scripts/sched.bt"),
    },
];

/// The script called `name`.
pub fn find(name: &str) -> Option<&'static Script> {
    SCRIPTS.iter().find(|s| s.name == name)
}

impl Script {
    /// The header comment: the leading `//` lines, without the markers.
    pub fn header(&self) -> impl Iterator<Item = &'static str> {
        self.source
            .lines()
            .take_while(|l| l.starts_with("//"))
            .map(|l| l.trim_start_matches("//").trim_start())
    }

    /// What the script shows: its header's first sentence, without the `name: ` prefix.
    pub fn summary(&self) -> &'static str {
        let first = self.header().next().unwrap_or("");
        first
            .strip_prefix(self.name)
            .and_then(|s| s.strip_prefix(": "))
            .unwrap_or(first)
    }

    /// The weir probes the script attaches to, in source order, each once.
    pub fn probes(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for part in self.source.split("usdt:$1:weir:").skip(1) {
            let name = part
                .split(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .next()
                .unwrap_or("");
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Probe;

    #[test]
    fn every_script_has_a_header_naming_it_and_its_usage() {
        for s in &SCRIPTS {
            let header: Vec<_> = s.header().collect();
            assert!(
                header[0].starts_with(&format!("{}: ", s.name)),
                "{}: {:?}",
                s.name,
                header[0]
            );
            assert!(!s.summary().is_empty(), "{}", s.name);
            let usage = format!("usage: weir-probe run {}", s.name);
            assert!(
                header.iter().any(|l| l.starts_with(&usage)),
                "{} has no usage line",
                s.name
            );
        }
    }

    #[test]
    fn scripts_attach_only_to_probes_of_the_vocabulary() {
        for s in &SCRIPTS {
            let probes = s.probes();
            assert!(!probes.is_empty(), "{}", s.name);
            for p in probes {
                assert!(
                    Probe::ALL.iter().any(|q| q.name() == p),
                    "{} attaches to unknown probe {p}",
                    s.name
                );
            }
        }
    }

    /// Every `argN` a probe's action reads exists in that probe's row of the table.
    #[test]
    fn scripts_read_only_arguments_the_table_documents() {
        for s in &SCRIPTS {
            for block in s.source.split("usdt:$1:weir:").skip(1) {
                let name: String = block
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                let probe = Probe::ALL.iter().find(|p| p.name() == name).unwrap();
                let count = crate::table::doc(*probe).arg_count();
                let body = block.split("\nusdt:").next().unwrap_or(block);
                let body = body.split("\nEND").next().unwrap_or(body);
                for (i, _) in body.match_indices("arg") {
                    let digits: String = body[i + 3..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    if let Ok(n) = digits.parse::<usize>() {
                        assert!(n < count, "{}: {name} has no arg{n}", s.name);
                    }
                }
            }
        }
    }

    #[test]
    fn names_are_unique() {
        for (i, s) in SCRIPTS.iter().enumerate() {
            assert!(find(s.name).is_some());
            assert!(SCRIPTS[i + 1..].iter().all(|t| t.name != s.name));
        }
        assert!(find("nope").is_none());
    }
}
