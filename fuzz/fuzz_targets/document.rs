//! The OCR opener on any bytes: image headers, PDF structure and the
//! decompression-bomb check. An error or a document, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    llmaas_ocr::input::fuzz_one(data);
});
