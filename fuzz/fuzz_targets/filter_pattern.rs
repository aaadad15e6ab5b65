//! libFuzzer's entry to [`cairn_fuzz::filter_pattern`], where the target and its input layout are described.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_fuzz::filter_pattern::run(data));
