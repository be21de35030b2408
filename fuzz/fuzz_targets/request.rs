//! The gateway's reader of chat request bodies: the shape check, then
//! the JSON parser and the request builder. A 400 or a request, never a
//! panic or a tree many times the body's size.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    llmaas_gateway::fuzz_one(data);
});
