//! `ENVELOPE_REPORT_PEAK_RSS=1`: print the process's peak resident memory on stderr at exit, so
//! tests and benchmarks can check the constant-memory promise on the real binary.

/// Environment variable that turns the report on.
pub const ENV: &str = "ENVELOPE_REPORT_PEAK_RSS";

/// Prints `envelope: peak RSS N KiB` when asked to and the platform tells us (Linux).
pub fn report_if_asked() {
    if std::env::var_os(ENV).is_none_or(|value| value.is_empty() || value == "0") {
        return;
    }
    match peak_rss_kib() {
        Some(kib) => eprintln!("envelope: peak RSS {kib} KiB"),
        None => eprintln!("envelope: peak RSS unknown on this platform"),
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
