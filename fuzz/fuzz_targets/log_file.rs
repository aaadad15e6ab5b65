//! libFuzzer's entry to [`cairn_fuzz::log_file`], where the target and its input layout are described.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_fuzz::log_file::run(data));
