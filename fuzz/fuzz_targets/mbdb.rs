//! cargo fuzz target `mbdb`: see `auditor_fuzz::mbdb`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::mbdb(data);
});
