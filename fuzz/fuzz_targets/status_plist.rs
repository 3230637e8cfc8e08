//! cargo fuzz target `status_plist`: see `auditor_fuzz::status_plist`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::status_plist(data);
});
