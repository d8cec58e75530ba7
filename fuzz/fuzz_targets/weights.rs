#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| digit_transfer::fuzz::weights(data));
