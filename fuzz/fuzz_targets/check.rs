//! (c) The whole check: a fuzzed list → the built-in pack → findings → every report format.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use qingdan::corpus::Corpus;
use qingdan::corpus::load::LoadOptions;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Half the inputs are read under a region with local regulations (jurisdiction-aware rules).
    let region = if text.len() % 2 == 0 { Some("大庆市") } else { Some("安阳市") };
    match Corpus::from_text("fuzz.yaml", text, common::refs(), region, LoadOptions::default()) {
        Ok(c) => {
            common::check(common::builtin(), &c);
        }
        Err(p) => common::render(&p),
    }
});
