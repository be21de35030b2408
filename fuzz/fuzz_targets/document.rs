//! The OCR opener on any bytes: image headers, PDF structure and the
//! decompression-bomb check. An error or a document, never a panic.
//!
//! A panic inside a decoder is caught at the job's edge, as in the app, and
//! becomes the file's error: the hook is silenced so that it does not abort
//! there. A panic that escapes the edge still aborts, and is a crash.
#![no_main]

libfuzzer_sys::fuzz_target!(init: std::panic::set_hook(Box::new(|_| {})), |data: &[u8]| {
    llmaas_ocr::input::fuzz_one(data);
});
