//! cargo fuzz target `leaks_text`: see `auditor_fuzz::leaks_text`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::leaks_text(data);
});
