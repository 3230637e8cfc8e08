//! cargo fuzz target `info_plist`: see `auditor_fuzz::info_plist`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::info_plist(data);
});
