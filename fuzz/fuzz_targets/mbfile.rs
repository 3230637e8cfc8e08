//! cargo fuzz target `mbfile`: see `auditor_fuzz::mbfile`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::mbfile(data);
});
