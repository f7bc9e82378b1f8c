//! Every input of the public YAML test suite (`../shared/yaml-test-suite/`, one folder per case
//! with `in.yaml`; a few cases have numbered sub-folders) is given to qingdan as a list file. Each
//! must either load (and then be checked) or be refused with located errors; none may panic and
//! none may take a second. The binary is run over all of them too: exit code 2, never a panic.
//!
//! CI has `../shared` beside its checkout; elsewhere the test says it is skipped and passes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{as_of, qingdan, render_problems, root, stderr};
use qingdan::compile::Program;
use qingdan::corpus::config::PolicySource;
use qingdan::corpus::reference::References;
use qingdan::corpus::{self, yaml};
use qingdan::eval::{self, RunOptions};
use qingdan::report::{self, Report};
use qingdan::source::{FileId, SourceFile};

/// The longest one case may take (load, check and render), in a debug build.
const PER_CASE: Duration = Duration::from_secs(1);

struct Case {
    /// `2G84/01`.
    name: String,
    title: String,
    input: PathBuf,
    /// The suite says a conforming parser must reject the input.
    invalid_yaml: bool,
}

fn suite_dir() -> PathBuf {
    root().join("../shared/yaml-test-suite")
}

/// Writes past the test harness's output capture, so the message shows in a plain `cargo test`.
fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn cases(dir: &Path) -> Vec<Case> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<Case>) {
        let input = dir.join("in.yaml");
        if input.is_file() {
            out.push(Case {
                name: rel.to_string(),
                title: std::fs::read_to_string(dir.join("===")).unwrap_or_default().trim().to_string(),
                input,
                invalid_yaml: dir.join("error").exists(),
            });
        }
        let mut subs: Vec<PathBuf> =
            std::fs::read_dir(dir).unwrap().filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
        subs.sort();
        for s in subs {
            let name = s.file_name().unwrap().to_string_lossy().into_owned();
            let rel = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            walk(&s, &rel, out);
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out
}

enum Outcome {
    /// Loaded as a list with this many items, and checked.
    Loaded(usize),
    /// Refused; the error codes.
    Refused(Vec<&'static str>),
}

/// Loads one case as `qingdan check FILE` does; a list that loads is checked and rendered.
fn run_case(case: &Case, refs: &References, program: &Program) -> Result<Outcome, String> {
    let d = corpus::discover(std::slice::from_ref(&case.input), None).map_err(|e| e.message)?;
    match corpus::load(&d, refs) {
        Ok(c) => {
            let findings = eval::run(program, &c, refs, &RunOptions::all(program, as_of()));
            let r = Report::new(&c, refs, program, &findings);
            let _ = report::json::render(&r);
            let _ = report::human::render(&r, false, 100, false);
            Ok(Outcome::Loaded(c.items.len()))
        }
        Err(p) => {
            if p.problems.is_empty() {
                return Err("refused without saying why".into());
            }
            for e in &p.problems {
                if e.src.is_none() || e.span.is_none() {
                    return Err(format!("error without a location: {} ({})", e.message, e.code));
                }
                if e.help.is_none() {
                    return Err(format!("error without a help line: {} ({})", e.message, e.code));
                }
            }
            let shown = render_problems(&p);
            if !shown.contains("in.yaml") {
                return Err(format!("the rendered error does not name the file:\n{shown}"));
            }
            Ok(Outcome::Refused(p.problems.iter().map(|e| e.code).collect()))
        }
    }
}

/// Every node's span is a slice of the text (within it, on character boundaries).
fn spans_are_sound(root: &yaml::Node, text: &str) -> Result<(), String> {
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        let (start, end) = (n.span.start as usize, n.span.end as usize);
        if text.get(start..end).is_none() {
            return Err(format!("span {start}..{end} is not a slice of the text"));
        }
        match &n.kind {
            yaml::NodeKind::Scalar { .. } => {}
            yaml::NodeKind::Seq(items) => stack.extend(items),
            yaml::NodeKind::Map(entries) => stack.extend(entries.iter().flat_map(|(k, v)| [k, v])),
        }
    }
    Ok(())
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

#[test]
fn every_case_loads_or_is_refused_with_a_located_error() {
    let dir = suite_dir();
    if !dir.is_dir() {
        say(&format!("SKIPPED yaml_test_suite: {} not found (it is in ../shared beside the checkout)", dir.display()));
        return;
    }
    let all = cases(&dir);
    assert!(all.len() > 300, "only {} cases found under {}", all.len(), dir.display());
    let refs = References::builtin().unwrap();
    let program = qingdan::policy::load(&[PolicySource::Builtin], &refs).unwrap();

    let mut failures = Vec::new();
    let (mut loaded, mut items, mut refused) = (0, 0, 0);
    let mut yaml_accepted_invalid = Vec::new();
    let mut by_code = std::collections::BTreeMap::new();
    for case in &all {
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| run_case(case, &refs, &program)));
        let took = started.elapsed();
        let label = format!("{} ({})", case.name, case.title);
        match result {
            Err(payload) => failures.push(format!("{label}: PANIC: {}", panic_text(&*payload))),
            Ok(Err(why)) => failures.push(format!("{label}: {why}")),
            Ok(Ok(Outcome::Loaded(n))) => {
                loaded += 1;
                items += n;
            }
            Ok(Ok(Outcome::Refused(codes))) => {
                refused += 1;
                for c in codes {
                    *by_code.entry(c).or_insert(0usize) += 1;
                }
            }
        }
        if took > PER_CASE {
            failures.push(format!("{label}: took {took:?}"));
        }
        // At the YAML level alone: every span of the tree lies on character boundaries of the text.
        let text = std::fs::read_to_string(&case.input).unwrap_or_default();
        let src = SourceFile::new("in.yaml", text.as_str());
        match catch_unwind(|| yaml::parse(&src, FileId(0), yaml::Limits::default())) {
            Ok(Ok(root)) => {
                if case.invalid_yaml {
                    yaml_accepted_invalid.push(case.name.clone());
                }
                if let Some(root) = root
                    && let Err(why) = spans_are_sound(&root, &text)
                {
                    failures.push(format!("{label}: {why}"));
                }
            }
            Ok(Err(e)) => {
                if !case.invalid_yaml && e.code == "qingdan::yaml::syntax" {
                    failures.push(format!("{label}: valid YAML refused as malformed: {}", e.label));
                }
            }
            Err(payload) => failures.push(format!("{label}: PANIC in yaml::parse: {}", panic_text(&*payload))),
        }
    }
    say(&format!(
        "yaml-test-suite: {} cases: {loaded} loaded as lists ({items} items), {refused} refused with located errors \
         {by_code:?}; {} inputs the suite calls invalid are accepted by the YAML parser {:?}",
        all.len(),
        yaml_accepted_invalid.len(),
        yaml_accepted_invalid,
    ));
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), all.len(), failures.join("\n"));
}

/// The binary over all inputs at once: one run, exit code 2 (most are not lists), no panic, and
/// every refused file named with a line and column.
#[test]
fn the_binary_refuses_them_with_exit_code_2() {
    let dir = suite_dir();
    if !dir.is_dir() {
        say(&format!("SKIPPED yaml_test_suite: {} not found", dir.display()));
        return;
    }
    let inputs: Vec<String> = cases(&dir).iter().map(|c| c.input.display().to_string()).collect();
    let mut args = vec!["check", "--as-of", common::AS_OF];
    args.extend(inputs.iter().map(String::as_str));
    let out = qingdan(&args);
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(2), "{err}");
    // A sample: a malformed input is named with its line and column.
    let bad = dir.join("2G84/00/in.yaml");
    let out = qingdan(&["check", &bad.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("2G84/00/in.yaml:1:"), "{}", stderr(&out));
}
