//! cargo fuzz target `keychain_blob`: see `auditor_fuzz::keychain_blob`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::keychain_blob(data);
});
