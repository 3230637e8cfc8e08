//! cargo fuzz target `manifest_plist`: see `auditor_fuzz::manifest_plist`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::manifest_plist(data);
});
