//! The process's resident memory, read from `/proc/self/status`: the current resident set
//! (`VmRSS`) and its peak so far (`VmHWM`).
//!
//! Linux only; elsewhere the read fails with [`std::io::ErrorKind::Unsupported`]. Reading
//! allocates (the file's text), so call it between the phases of a measurement, never on the
//! path being measured.

use std::io;

/// One reading of the process's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemorySample {
    /// Resident set now (`VmRSS`), bytes.
    pub rss_bytes: u64,
    /// Peak resident set since the process started (`VmHWM`), bytes.
    pub peak_rss_bytes: u64,
}

impl MemorySample {
    /// Reads `/proc/self/status`.
    pub fn now() -> io::Result<MemorySample> {
        if !cfg!(target_os = "linux") {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "process memory is read from /proc/self/status (Linux only)",
            ));
        }
        Self::parse(&std::fs::read_to_string("/proc/self/status")?)
    }

    /// Parses the text of a `/proc/<pid>/status` file.
    pub fn parse(status: &str) -> io::Result<MemorySample> {
        Ok(MemorySample {
            rss_bytes: field_kib(status, "VmRSS:")? * 1024,
            peak_rss_bytes: field_kib(status, "VmHWM:")? * 1024,
        })
    }
}

/// The value of a `Name:   123 kB` line, in KiB.
fn field_kib(status: &str, name: &str) -> io::Result<u64> {
    let missing = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("/proc/self/status has no readable {name} line"),
        )
    };
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .ok_or_else(missing)?;
    let mut words = line.split_whitespace();
    let value = words.next().and_then(|v| v.parse::<u64>().ok());
    match (value, words.next()) {
        (Some(v), Some("kB")) => Ok(v),
        _ => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rss_and_peak() {
        let text = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\n";
        let m = MemorySample::parse(text).expect("parses");
        assert_eq!(m.rss_bytes, 1024 * 1024);
        assert_eq!(m.peak_rss_bytes, 2048 * 1024);
    }

    #[test]
    fn refuses_a_missing_or_unitless_field() {
        assert!(MemorySample::parse("VmRSS:\t 1024 kB\n").is_err());
        assert!(MemorySample::parse("VmRSS:\t 1024\nVmHWM:\t 1 kB\n").is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let m = MemorySample::now().expect("readable");
        assert!(m.rss_bytes > 0 && m.peak_rss_bytes >= m.rss_bytes);
    }
}
