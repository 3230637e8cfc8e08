//! cargo fuzz target `keychain_items`: see `auditor_fuzz::keychain_items`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::keychain_items(data);
});
