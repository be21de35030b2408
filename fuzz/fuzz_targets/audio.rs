//! The audio front (probe, demux, decode) on any bytes, as an upload is
//! measured: an error or a length within the limits, never a panic, an
//! abort or an allocation a header asked for.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    llmaas_transcribe::decode::fuzz_one(data);
});
