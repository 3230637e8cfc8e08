//! cargo fuzz target `keybag`: see `auditor_fuzz::keybag`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::keybag(data);
});
