//! cargo fuzz target `der`: see `auditor_fuzz::der`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::der(data);
});
