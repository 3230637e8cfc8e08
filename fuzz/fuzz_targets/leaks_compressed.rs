//! cargo fuzz target `leaks_compressed`: see `auditor_fuzz::leaks_compressed`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::leaks_compressed(data);
});
