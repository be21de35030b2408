//! How many threads the CPU kernels get.
//!
//! candle's quantized matmuls run on rayon's global pool and mistral.rs's CPU
//! attention on a rayon pool of its own; both size themselves from
//! `RAYON_NUM_THREADS`, else from the logical CPUs. On a CPU with two
//! hardware threads per core, the second thread of each core brings no
//! arithmetic to a memory-bound decode and doubles the fork-join cost of
//! every matmul, so the binaries set the variable to the physical core count
//! (what llama.cpp uses by default) unless the user set it. Both pools are
//! rayon's and cannot be merged from outside mistral.rs; sizing them alike is
//! what can be done. Measured in the README's "Local speed".

/// The variable rayon (and candle's own count) reads.
pub const THREADS_ENV: &str = "RAYON_NUM_THREADS";

/// The thread count to set, or `None` to leave the default: the user's own
/// value wins, and where every logical CPU is a core the default is right.
pub fn decide(physical: usize, logical: usize, user: Option<&str>) -> Option<usize> {
    if user.is_some_and(|v| !v.trim().is_empty()) {
        return None;
    }
    (physical >= 1 && physical < logical).then_some(physical)
}

/// The threads a decode uses here: the variable when set, else the cores.
pub fn in_use() -> usize {
    std::env::var(THREADS_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(num_cpus::get)
}

/// Applies [`decide`] to this machine.
///
/// # Safety
/// Call it first thing in `main`, before any thread exists: it writes the
/// environment, which another thread must not be reading.
#[allow(unsafe_code)]
pub unsafe fn configure() {
    let user = std::env::var(THREADS_ENV).ok();
    if let Some(n) = decide(num_cpus::get_physical(), num_cpus::get(), user.as_deref()) {
        // SAFETY: the caller guarantees no other thread exists yet.
        unsafe { std::env::set_var(THREADS_ENV, n.to_string()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyper_threads_are_left_out() {
        assert_eq!(decide(8, 16, None), Some(8));
    }

    #[test]
    fn where_every_cpu_is_a_core_nothing_is_set() {
        assert_eq!(decide(2, 2, None), None);
    }

    #[test]
    fn the_users_value_wins() {
        assert_eq!(decide(8, 16, Some("3")), None);
        assert_eq!(decide(8, 16, Some(" ")), Some(8));
    }
}
