//! The gateway's reader of multipart forms (transcription uploads), on
//! any body: a 400 or the fields within the limits, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    llmaas_gateway::fuzz_form(data);
});
