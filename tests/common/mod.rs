//! Helpers shared by the integration tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qingdan::cli::load_session;
use qingdan::corpus::model::Date;
use qingdan::diag::Problems;
use qingdan::eval::{self, RunOptions};
use qingdan::report::{self, Report};

/// The rule ids of SPEC §3, in order.
pub const SPEC_RULES: &[&str] = &[
    "QD101", "QD102", "QD103", "QD104", "QD105", "QD106", "QD107", "QD108", "QD201", "QD202", "QD203", "QD204",
    "QD301", "QD302", "QD303", "QD401", "QD402", "QD403", "QD901", "QD902", "QD903",
];

/// The fixed check date of all tests.
pub const AS_OF: &str = "2026-11-22";

pub fn as_of() -> Date {
    Date::parse(AS_OF).unwrap()
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Problems rendered as the CLI prints them, without colour.
pub fn render_problems(p: &Problems) -> String {
    report::render_problems(p, false)
}

/// Checks paths in-process and returns the JSON report.
pub fn check_json(paths: &[&Path]) -> Result<String, String> {
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    let s = load_session(&paths, None, &Default::default()).map_err(|p| render_problems(&p))?;
    let opts = RunOptions::all(&s.program, as_of());
    let findings = eval::run(&s.program, &s.corpus, &s.refs, &opts);
    let report = Report::with_edits(&s.corpus, &s.refs, &s.program, &findings, true);
    Ok(report::json::render(&report))
}

/// Runs the binary from the crate root.
pub fn qingdan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qingdan"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run qingdan")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Where two reports first differ, both lines shown, for an assertion message.
pub fn first_difference(a: &str, b: &str) -> String {
    let line = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(0);
    format!(
        "first difference at line {}:\n  left:  {}\n  right: {}",
        line + 1,
        a.lines().nth(line).unwrap_or(""),
        b.lines().nth(line).unwrap_or("")
    )
}
