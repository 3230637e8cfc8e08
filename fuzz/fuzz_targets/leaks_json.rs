//! cargo fuzz target `leaks_json`: see `auditor_fuzz::leaks_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::leaks_json(data);
});
