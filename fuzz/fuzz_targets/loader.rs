//! (b) The corpus loader: any bytes → decode → YAML → item model, or located errors.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use qingdan::corpus::load::LoadOptions;
use qingdan::corpus::{self, Corpus};
use qingdan::diag::Problems;

fuzz_target!(|data: &[u8]| {
    let src = match corpus::decode("fuzz.yaml", data) {
        Ok((src, _note)) => src,
        Err(e) => return common::render(&Problems::from(e)),
    };
    match Corpus::from_text("fuzz.yaml", src.text(), common::refs(), None, LoadOptions::default()) {
        Ok(c) => {
            let _ = c.material_count();
        }
        Err(p) => {
            assert!(p.problems.iter().all(|e| e.span.is_some()), "an error without a location");
            common::render(&p);
        }
    }
});
