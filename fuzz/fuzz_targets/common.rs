//! What the fuzz targets share: the built-in tables and pack, loaded once, and a small list the
//! policy target runs fuzzed rules on.
#![allow(dead_code, reason = "each target uses a different subset")]

use std::sync::OnceLock;

use qingdan::compile::Program;
use qingdan::corpus::Corpus;
use qingdan::corpus::config::PolicySource;
use qingdan::corpus::load::LoadOptions;
use qingdan::corpus::model::Date;
use qingdan::corpus::reference::References;
use qingdan::diag::Problems;
use qingdan::eval::{self, Finding, RunOptions};
use qingdan::report::{self, Report};

pub fn refs() -> &'static References {
    static REFS: OnceLock<References> = OnceLock::new();
    REFS.get_or_init(|| References::builtin().unwrap_or_else(|e| panic!("built-in tables: {e}")))
}

pub fn builtin() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        qingdan::policy::load(&[PolicySource::Builtin], refs()).unwrap_or_else(|e| panic!("built-in pack: {e}"))
    })
}

/// A list with chains, waivers and flawed materials, for fuzzed rules to run on.
pub fn sample() -> &'static Corpus {
    static SAMPLE: OnceLock<Corpus> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let text = include_str!("../../tests/fixtures/rules/QD108.yaml");
        Corpus::from_text("sample.yaml", text, refs(), Some("大庆市"), LoadOptions::default())
            .unwrap_or_else(|e| panic!("sample list: {e}"))
    })
}

pub fn as_of() -> Date {
    Date::parse("2026-11-22").unwrap_or_else(|| panic!("date"))
}

/// Renders load or policy errors as the CLI does (miette, with source snippets).
pub fn render(p: &Problems) {
    let out = report::render_problems(p, false);
    assert!(!out.is_empty());
    for e in &p.problems {
        // Every error of an input file points into it.
        let _ = e.location();
    }
}

/// Runs `program` on `corpus` and renders every report format.
pub fn check(program: &Program, corpus: &Corpus) -> Vec<Finding> {
    let findings = eval::run(program, corpus, refs(), &RunOptions::all(program, as_of()));
    let r = Report::new(corpus, refs(), program, &findings);
    let _ = report::json::render(&r);
    let _ = report::human::render(&r, false, 100, false);
    let _ = report::human::statistics(&r);
    let _ = report::sarif::render(&r, refs());
    let _ = report::github::render(&r);
    let _ = report::junit::render(&r);
    let _ = report::markdown::render(&r);
    findings
}
