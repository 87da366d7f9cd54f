#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| dmap_fuzz::jsonata(data));
