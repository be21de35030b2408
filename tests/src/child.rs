//! Runs part of a test in a child process and measures its peak memory.
//!
//! Memory blow-ups (a header claiming gigabytes, a decompression bomb) are
//! asserted on a child, not on the test process: the child's peak resident
//! set is its own, untouched by other tests running in parallel, and a
//! child that aborts ("memory allocation failed") fails the test instead of
//! taking the whole test binary down.

use std::process::Command;

/// The environment variable that tells the test binary it is the child.
pub const CHILD_ENV: &str = "LLMAAS_MEASURED_CHILD";

/// What the child printed and the most memory it held.
#[derive(Debug)]
pub struct Measured {
    /// The child's stdout lines that start with `result: `, without it.
    pub results: Vec<String>,
    /// Peak resident set (VmHWM), in kB.
    pub peak_kb: u64,
    pub success: bool,
    pub stderr: String,
}

/// Whether this process is the measured child of `test`.
pub fn is_child(test: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == test)
}

/// In the child: prints a result line for the parent.
pub fn report(result: &str) {
    println!("@@result: {}", result.replace('\n', " "));
}

/// In the child: prints the peak memory; call it last.
pub fn report_peak() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    println!("@@peak_kb: {kb}");
}

/// Runs the test binary's own test `test` (its full path, `module::name`)
/// as a child with `envs`, and reads back what it reported.
pub fn run(test: &str, envs: &[(&str, &str)]) -> Measured {
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, test)
        .envs(envs.iter().copied())
        .output()
        .expect("the child test runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    Measured {
        results: stdout
            .lines()
            // The harness's "test NAME ... " may start the first line.
            .filter_map(|l| l.split_once("@@result: ").map(|(_, r)| r.to_owned()))
            .collect(),
        peak_kb: stdout
            .lines()
            .find_map(|l| l.split_once("@@peak_kb: ").map(|(_, v)| v))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0),
        success: out.status.success(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
