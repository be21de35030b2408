//! A GGUF file into mistral.rs, the one way both the engine and the
//! benchmark's direct side load it.
//!
//! These are `GgufModelBuilder::build`'s steps, through mistral.rs's public
//! lower-level API, with the same defaults (prefix cache of 16, no logging),
//! plus one thing the builder does not offer: the activations' type. The
//! builder always asks for `ModelDType::Auto`, which on a CPU is BF16 (the
//! first of BF16 and F16 for which a 2×2 test matmul works); llama.cpp keeps
//! CPU activations in F32. Measured here (README, "Local speed"), F32 and
//! BF16 decode at the same speed within this machine's noise, and BF16 halves
//! the key-value cache, so Auto stays the default;
//! `LLMAAS_ACTIVATIONS=f32|bf16|f16|auto` chooses otherwise (measurements,
//! or a CPU where it matters).

use std::num::NonZeroUsize;
use std::path::Path;

use mistralrs::core::{
    AddModelConfig, AutoDeviceMapParams, DefaultSchedulerMethod, DeviceMapSetting, EngineConfig,
    GGUFLoaderBuilder, GGUFSpecificConfig, ModelDType, SchedulerConfig, TokenSource,
};

/// The activations' type: mistral.rs's choice unless `LLMAAS_ACTIVATIONS` says.
fn dtype() -> ModelDType {
    match std::env::var("LLMAAS_ACTIVATIONS").as_deref() {
        Ok("bf16") => ModelDType::BF16,
        Ok("f16") => ModelDType::F16,
        Ok("f32") => ModelDType::F32,
        _ => ModelDType::Auto,
    }
}

/// Loads `file` from `dir` (which should hold nothing else: see
/// `engine::stage`), on the CPU when `force_cpu`, else on the best device.
/// At most `max_num_seqs` sequences run at once. Blocking work inside: run
/// it on a runtime that may block (the engine's own).
pub async fn gguf(
    dir: &Path,
    file: &str,
    force_cpu: bool,
    max_num_seqs: usize,
) -> anyhow::Result<mistralrs::Model> {
    let loader = GGUFLoaderBuilder::new(
        None,
        None,
        dir.to_string_lossy().into_owned(),
        vec![file.to_owned()],
        GGUFSpecificConfig { topology: None },
        false,
        None,
    )
    .build();
    let device = mistralrs::best_device(force_cpu)?;
    let pipeline = loader.load_model_from_hf(
        None,
        TokenSource::None,
        &dtype(),
        &device,
        true,
        DeviceMapSetting::Auto(AutoDeviceMapParams::default_text()),
        None,
        None,
    )?;
    let scheduler = SchedulerConfig::DefaultScheduler {
        method: DefaultSchedulerMethod::Fixed(
            NonZeroUsize::new(max_num_seqs.max(1)).unwrap_or(NonZeroUsize::MIN),
        ),
    };
    let engine = EngineConfig {
        throughput_logging_enabled: false,
        ..EngineConfig::default()
    };
    Ok(mistralrs::model_builder_trait::build_model_from_pipeline(
        pipeline,
        scheduler,
        AddModelConfig::new(engine),
    )
    .await)
}
