//! The provider's event stream, cut anywhere, through the SSE parser and
//! the chat chunk decoder: events or a clear error, never a panic, and
//! never more kept than the limits.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    llmaas_cloud::sse::fuzz_one(data);
});
