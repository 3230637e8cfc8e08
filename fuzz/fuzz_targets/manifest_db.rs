//! cargo fuzz target `manifest_db`: see `auditor_fuzz::manifest_db`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::manifest_db(data);
});
