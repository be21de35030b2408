//! Whether this CPU can run this build.
//!
//! x86-64 builds are compiled for x86-64-v3 (`.cargo/config.toml`): candle's
//! quantized kernels exist only under `cfg(target_feature = "avx2")`, chosen
//! at compile time, so a baseline build decodes local models 2–4× slower.
//! The price is that such a binary would die of an illegal instruction on a
//! CPU older than about 2013 (Intel Haswell, AMD Excavator). The binaries
//! call [`check`] first thing, so such a user reads why and what to do
//! instead of a crash.

/// A feature the build was compiled to use, and whether the build uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub name: &'static str,
    pub compiled: bool,
}

/// The x86-64-v3 features that matter to the kernels, as this build has them.
pub fn compiled_features() -> Vec<Feature> {
    #[cfg(target_arch = "x86_64")]
    {
        vec![
            Feature {
                name: "avx2",
                compiled: cfg!(target_feature = "avx2"),
            },
            Feature {
                name: "fma",
                compiled: cfg!(target_feature = "fma"),
            },
            Feature {
                name: "f16c",
                compiled: cfg!(target_feature = "f16c"),
            },
            Feature {
                name: "bmi2",
                compiled: cfg!(target_feature = "bmi2"),
            },
        ]
    }
    #[cfg(target_arch = "aarch64")]
    {
        vec![Feature {
            name: "neon",
            compiled: cfg!(target_feature = "neon"),
        }]
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        Vec::new()
    }
}

/// Whether this CPU has `name` (checked at run time).
pub fn detected(name: &str) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        match name {
            "avx2" => std::arch::is_x86_feature_detected!("avx2"),
            "fma" => std::arch::is_x86_feature_detected!("fma"),
            "f16c" => std::arch::is_x86_feature_detected!("f16c"),
            "bmi2" => std::arch::is_x86_feature_detected!("bmi2"),
            _ => false,
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        name == "neon" && std::arch::is_aarch64_feature_detected!("neon")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = name;
        false
    }
}

/// The features the build uses that `has` says the CPU lacks.
pub fn missing(features: &[Feature], has: impl Fn(&str) -> bool) -> Vec<&'static str> {
    features
        .iter()
        .filter(|f| f.compiled && !has(f.name))
        .map(|f| f.name)
        .collect()
}

/// Why this build cannot run here, worded for the person who started it.
pub fn explain(missing: &[&str]) -> String {
    format!(
        "this build of LLMaaS Desktop needs a CPU with AVX2, FMA and F16C \
         (x86-64-v3: Intel since 2013, AMD since 2015), and this one lacks {}. \
         Build it from source for this CPU with RUSTFLAGS=\"-C target-cpu=native\" \
         (local models will run 2 to 4 times slower on it).",
        missing.join(", ")
    )
}

/// `Err` with [`explain`]'s message when this CPU cannot run this build.
pub fn check() -> Result<(), String> {
    let missing = missing(&compiled_features(), detected);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(explain(&missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &'static str, compiled: bool) -> Feature {
        Feature { name, compiled }
    }

    #[test]
    fn a_feature_the_build_uses_and_the_cpu_lacks_is_missing() {
        let features = [f("avx2", true), f("fma", true)];
        assert_eq!(missing(&features, |n| n == "fma"), vec!["avx2"]);
    }

    #[test]
    fn a_feature_the_build_does_not_use_is_never_missing() {
        let features = [f("avx2", false), f("fma", true)];
        assert!(missing(&features, |n| n == "fma").is_empty());
    }

    #[test]
    fn the_message_names_what_is_missing_and_what_to_do() {
        let text = explain(&["avx2", "f16c"]);
        assert!(text.contains("lacks avx2, f16c"), "{text}");
        assert!(text.contains("target-cpu=native"), "{text}");
    }

    /// The build this test runs in was made for x86-64-v3 and runs on a CPU
    /// that has it: the flags in `.cargo/config.toml` are in force.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn this_build_targets_x86_64_v3_and_this_cpu_runs_it() {
        let compiled = compiled_features();
        assert!(
            compiled.iter().all(|f| f.compiled),
            "built without {compiled:?}: is RUSTFLAGS overriding .cargo/config.toml?"
        );
        assert_eq!(check(), Ok(()));
    }
}
