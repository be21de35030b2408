//! The audio front (probe, demux, decode) on any bytes, as an upload is
//! measured: an error or a length within the limits, never a panic, an
//! abort or an allocation a header asked for.
//!
//! A panic inside a decoder is caught at the job's edge, as in the app, and
//! becomes the file's error: the hook is silenced so that it does not abort
//! there. A panic that escapes the edge still aborts, and is a crash.
#![no_main]

libfuzzer_sys::fuzz_target!(init: std::panic::set_hook(Box::new(|_| {})), |data: &[u8]| {
    llmaas_transcribe::decode::fuzz_one(data);
});
