//! cargo fuzz target `leaks_cookies`: see `auditor_fuzz::leaks_cookies`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::leaks_cookies(data);
});
