//! cargo fuzz target `leaks_plist`: see `auditor_fuzz::leaks_plist`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::leaks_plist(data);
});
