//! cargo fuzz target `leaks_encoded`: see `auditor_fuzz::leaks_encoded`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::leaks_encoded(data);
});
