//! The provider-file importers (CSV table, YAML models_config) on any
//! text: an error or a report, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    llmaas_catalog::import::fuzz_one(data);
});
