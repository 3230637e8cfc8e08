//! cargo fuzz target `leaks_sqlite`: see `auditor_fuzz::leaks_sqlite`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auditor_fuzz::leaks_sqlite(data);
});
