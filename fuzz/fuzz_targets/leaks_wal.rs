//! cargo fuzz target `leaks_wal`: see `auditor_fuzz::leaks_wal`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::leaks_wal(data);
});
