//! Local execution of chat models: the GGUF files a user owns, and mistral.rs
//! running them on the CPU or a GPU.
//!
//! - [`gguf`] reads a file's header (architecture, context, quantisation,
//!   size) without loading it, and tells truncated or foreign files apart.
//! - [`Library`] lists the models folder and the embedded default;
//!   [`watch`](watch::watch) keeps the listing current as files come and go.
//! - [`fetch`] imports a file (copy or link) or downloads one (resume, checksum).
//! - [`downloads`] is the curated list of models a user downloads in one click.
//! - [`requant`] converts the quantisations candle runs slowly (Q4_1, Q5_0,
//!   Q5_1) to Q8_0 or Q4_0, once, at import, pull or first load.
//! - [`LocalEngine`] runs them behind the router's
//!   [`ChatBackend`](llmaas_core::ChatBackend): its own thread, one model
//!   at a time, streamed tokens, usage, cancellation, idle unload.
//!
//! - [`WhisperTranscriber`] runs whisper.cpp models (ggml) as the
//!   transcription pipeline's local [`Transcriber`](llmaas_core::Transcriber).
//!
//! GPU backends are the `cuda` and `metal` features, passed to mistral.rs.

mod convert;
pub mod default_model;
pub mod downloads;
mod engine;
mod error;
pub mod fetch;
/// The GGUF header reader, from its own small crate (fuzzed alone).
pub use llmaas_gguf as gguf;
mod library;
pub mod load;
pub mod requant;
pub mod threads;
pub mod watch;
pub mod whisper;

pub use engine::{
    DEQUANTIZE_F16_ENV, EngineOptions, LoadProgress, LoadStage, LoadedModel, LocalEngine,
    device_for,
};
pub use error::LocalError;
pub use library::{
    Library, LocalModel, SUPPORTED_ARCHITECTURES, Source, Status, id_for_file, is_model_file,
};
pub use whisper::{WhisperOptions, WhisperTranscriber};

/// The quantized CPU kernels candle was compiled with: `avx2` (x86-64-v3
/// builds, see `.cargo/config.toml`), `neon` (aarch64), or `scalar` (a build
/// without target features: 2–4× slower decoding). candle picks them at
/// compile time, so this is a property of the build, shown with the device.
pub fn cpu_kernels() -> &'static str {
    if candle_core::utils::with_avx() && candle_core::utils::with_f16c() {
        "avx2"
    } else if candle_core::utils::with_neon() {
        "neon"
    } else {
        "scalar"
    }
}

#[cfg(test)]
mod tests {
    /// The quantized matmuls run candle's SIMD kernels, not `vec_dot_unopt`:
    /// this fails on a build whose flags lost `target-cpu=x86-64-v3`.
    #[test]
    fn candle_runs_its_simd_kernels() {
        let kernels = super::cpu_kernels();
        #[cfg(target_arch = "x86_64")]
        assert_eq!(kernels, "avx2", "candle was built without AVX2/F16C");
        #[cfg(target_arch = "aarch64")]
        assert_eq!(kernels, "neon");
        let _ = kernels;
    }
}
