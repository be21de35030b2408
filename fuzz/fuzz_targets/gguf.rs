//! The GGUF header reader on any bytes: an error or an answer, never a
//! panic, a stack overflow or an allocation the file cannot justify.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    llmaas_gguf::fuzz_one(data);
});
