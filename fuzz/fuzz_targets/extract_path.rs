//! cargo fuzz target `extract_path`: see `auditor_fuzz::extract_path`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::extract_path(data);
});
