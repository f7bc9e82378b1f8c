//! (a) The policy language: fuzzed `.qd` text → parser → checker; a policy that compiles is run
//! on a small list and its findings rendered.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use qingdan::compile::{self, ParsedPolicy};
use qingdan::diag::Problems;
use qingdan::source::{FileId, SourceFile, SourceMap};
use qingdan::syntax;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let src = SourceFile::new("fuzz.qd", text);
    let mut map = SourceMap::new();
    let file: FileId = map.add(src.clone());
    let ast = match syntax::parse(&src, file) {
        Ok(ast) => ast,
        Err(e) => return common::render(&Problems::new("syntax", e)),
    };
    match compile::compile(vec![ParsedPolicy { src, file, ast }], common::refs(), map) {
        Ok(program) => {
            common::check(&program, common::sample());
        }
        Err(e) => common::render(&Problems::new("check", e)),
    }
});
