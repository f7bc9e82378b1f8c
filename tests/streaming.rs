//! The streaming check (`qingdan::check`) gives the same report as checking the whole corpus in
//! memory, byte for byte, whatever the batch size of its cross-file phase.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::{as_of, check_json, first_difference, generate, root};
use qingdan::check::{self, CheckOptions};
use qingdan::compile::{Program, cond};
use qingdan::corpus;
use qingdan::corpus::config::PolicySource;
use qingdan::corpus::reference::References;
use qingdan::eval::RunOptions;
use qingdan::policy;
use qingdan::report::json;

/// The JSON report of the streaming check, with phase-2 batches of at most `batch` pieces and
/// at most `keep` bytes of items kept by phase 1 for phase 2.
fn stream_json(paths: &[&Path], policies: &[PolicySource], (batch, keep): (usize, usize)) -> String {
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    let d = corpus::discover(&paths, None).unwrap();
    let refs = corpus::references(&d).unwrap();
    let program = policy::load(policies, &refs).unwrap();
    program_json(&d, &refs, &program, (batch, keep))
}

fn program_json(d: &corpus::Discovery, refs: &References, program: &Program, (batch, keep): (usize, usize)) -> String {
    let run = RunOptions::all(program, as_of());
    let overrides = HashMap::new();
    let opts = CheckOptions { run: &run, with_edits: true, overrides: &overrides, tick: &|| {}, batch, keep };
    let checked = check::check(d, refs, program, &opts).unwrap_or_else(|p| panic!("{p:?}"));
    json::render(&checked.report)
}

fn assert_same(paths: &[&Path]) {
    let whole = check_json(paths).unwrap();
    // Every item kept by phase 1, some, none.
    for sizes in [(check::BATCH, check::KEEP), (3, 500), (1, 0)] {
        let streamed = stream_json(paths, &[PolicySource::Builtin], sizes);
        assert!(whole == streamed, "batch and keep {sizes:?}: {}", first_difference(&whole, &streamed));
    }
}

#[test]
fn sample_corpus_streams_as_it_checks_whole() {
    assert_same(&[&root().join("corpus")]);
}

/// Items whose codes recur in other files, chains over three files, waivers of cross-file rules
/// (used and unused), an alias to an anchor in another item and flow-style items after a Chinese
/// key (both cannot be cut out alone and are taken from the whole file).
#[test]
fn cross_file_items_and_chains_stream_as_they_check_whole() {
    let dir = root().join("tests/fixtures/streaming");
    assert_same(&[&dir]);
    let report: serde_json::Value =
        serde_json::from_str(&stream_json(&[&dir], &[PolicySource::Builtin], (2, check::KEEP))).unwrap();
    let rules: Vec<&str> =
        report["diagnostics"].as_array().unwrap().iter().map(|d| d["rule"].as_str().unwrap()).collect();
    for cross in ["QD108", "QD302", "QD902"] {
        assert!(rules.contains(&cross), "{cross} missing: {rules:?}");
    }
}

/// Phase 2 reads the pieces it checks by their offsets in files that are UTF-8 as written, and
/// reads other files whole: a file with a byte-order mark (offsets in the text do not count
/// it), one in GB18030, and an item whose last line goes on with a comment too long to read
/// by itself give what the whole check gives.
#[test]
fn pieces_of_files_in_every_encoding_stream_as_they_check_whole() {
    let from = root().join("tests/fixtures/streaming");
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.yaml", "b.yaml", "c.yaml", "d.yaml"] {
        let text = std::fs::read_to_string(from.join(name)).unwrap();
        let bytes = match name {
            "a.yaml" => [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat(),
            "c.yaml" => encoding_rs::GB18030.encode(&text).0.into_owned(),
            "d.yaml" => {
                let long = format!("materials: [营业执照复印件]  # {}", "注".repeat(3000));
                assert!(text.contains("materials: [营业执照复印件]\n"));
                text.replacen("materials: [营业执照复印件]\n", &format!("{long}\n"), 1).into_bytes()
            }
            _ => text.into_bytes(),
        };
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    assert_same(&[dir.path()]);
    let report = stream_json(&[dir.path()], &[PolicySource::Builtin], (2, check::KEEP));
    for cross in ["\"QD108\"", "\"QD302\"", "\"QD902\""] {
        assert!(report.contains(cross), "{cross} missing");
    }
}

/// Chains written in the middle of a large file, where the guess of which files hold chains
/// does not look (`Discovery::may_hold_chains` reads a large file's ends): the file is checked
/// with the others, and the items its chains name are read again in phase 2.
#[test]
fn chains_in_the_middle_of_a_large_file_stream_as_they_check_whole() {
    let from = root().join("tests/fixtures/streaming");
    let dir = tempfile::tempdir().unwrap();
    let padding = format!("# {}\n", "-".repeat(98)).repeat(800);
    for name in ["a.yaml", "b.yaml", "c.yaml", "d.yaml"] {
        let mut text = std::fs::read_to_string(from.join(name)).unwrap();
        if name == "c.yaml" {
            assert!(text.contains("\nchains:\n"));
            text = format!("{padding}{}{padding}", text.replacen("\nchains:\n", &format!("\nchains:\n{padding}"), 1));
        }
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let d = corpus::discover(&[dir.path().to_path_buf()], None).unwrap();
    let guesses: Vec<(String, bool)> = d
        .paths()
        .enumerate()
        .map(|(i, p)| (p.file_name().unwrap().to_string_lossy().into_owned(), d.may_hold_chains(i, &HashMap::new())))
        .collect();
    assert!(guesses.contains(&("c.yaml".to_string(), false)), "{guesses:?}");
    assert_same(&[dir.path()]);
    let report = stream_json(&[dir.path()], &[PolicySource::Builtin], (check::BATCH, check::KEEP));
    for cross in ["\"QD108\"", "\"QD302\"", "\"QD902\""] {
        assert!(report.contains(cross), "{cross} missing");
    }
}

#[test]
fn generated_corpus_streams_as_it_checks_whole() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 1500, 7, 3, None);
    let whole = check_json(&[dir.path()]).unwrap();
    for sizes in [(check::BATCH, check::KEEP), (50, 40_000), (50, 0)] {
        let streamed = stream_json(&[dir.path()], &[PolicySource::Builtin], sizes);
        assert!(whole == streamed, "batch and keep {sizes:?}: {}", first_difference(&whole, &streamed));
    }
    // The generator plants cross-file findings: the comparison covers phase 2.
    for cross in ["\"QD108\"", "\"QD302\""] {
        assert!(whole.contains(cross), "{cross} not planted");
    }
}

/// Phase 2's batches are shared out among the workers and checked at once (a corpus of 6,000
/// items has some 600 pieces to check again: two or three batches): the report is the one of
/// the whole corpus with one worker, two, three and eight.
#[test]
fn phase_two_batches_checked_at_once_report_as_one() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 6000, 40, 11, None);
    let whole = check_json(&[dir.path()]).unwrap();
    for workers in [1, 2, 3, 8] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(workers).build().unwrap();
        let streamed =
            pool.install(|| stream_json(&[dir.path()], &[PolicySource::Builtin], (check::BATCH, check::KEEP)));
        assert!(whole == streamed, "{workers} workers: {}", first_difference(&whole, &streamed));
    }
    for cross in ["\"QD108\"", "\"QD302\""] {
        assert!(whole.contains(cross), "{cross} not planted");
    }
}

/// A rule that reads `items` as a value needs the whole corpus: the check loads it whole. (Each
/// file of the fixture holds at most four items; the rule fires only when it sees all ten.)
#[test]
fn a_rule_over_all_items_checks_the_whole_corpus() {
    let policies = tempfile::tempdir().unwrap();
    std::fs::write(
        policies.path().join("QX001.qd"),
        r#"rule QX001 large-corpus {
  title    zh "清单库超过五个事项" en "More than five items"
  severity info
  cites    xzxkf.第三十条 "在办公场所公示"
  when count(items) > 5
  at item.name
  message  zh "「{item.name}」所在清单库超过五个事项" en "`{item.name}` is in a corpus of more than five items"
  help     zh "仅用于测试" en "a test rule"
  example fail { items: [{code: "A-1", name: 甲}, {code: "A-2", name: 乙}, {code: "A-3", name: 丙}, {code: "A-4", name: 丁}, {code: "A-5", name: 戊}, {code: "A-6", name: 己}] }
  example pass { items: [{code: "A-1", name: 甲}] }
}
"#,
    )
    .unwrap();
    let dir = root().join("tests/fixtures/streaming");
    let sources = [PolicySource::Builtin, PolicySource::Dir(policies.path().to_path_buf())];
    let d = corpus::discover(std::slice::from_ref(&dir), None).unwrap();
    let refs = corpus::references(&d).unwrap();
    let program = policy::load(&sources, &refs).unwrap();
    let rule = program.rules.iter().find(|r| r.id == "QX001").unwrap();
    assert_eq!(rule.scope(), qingdan::compile::scope::Scope::Corpus);
    let report = stream_json(&[&dir], &sources, (check::BATCH, check::KEEP));
    assert_eq!(report.matches("\"rule\": \"QX001\"").count(), 10, "{report}");
}

/// The conditions the compiler lowers for the evaluator (`compile::cond`) report exactly what the
/// expressions they came from report, on the sample corpus, the cross-file fixture and a
/// generated corpus with every kind of flaw.
#[test]
fn lowered_conditions_report_what_their_expressions_do() {
    let generated = tempfile::tempdir().unwrap();
    generate(generated.path(), 1500, 5, 11, None);
    for dir in [root().join("corpus"), root().join("tests/fixtures/streaming"), generated.path().to_path_buf()] {
        let d = corpus::discover(std::slice::from_ref(&dir), None).unwrap();
        let refs = corpus::references(&d).unwrap();
        let lowered = policy::load(&[PolicySource::Builtin], &refs).unwrap();
        let mut plain = lowered.clone();
        cond::restore_program(&mut plain);
        let count = |p: &Program| format!("{:?}", p.rules).matches("Cond(").count();
        assert!(count(&lowered) > 20, "only {} lowered conditions", count(&lowered));
        assert_eq!(count(&plain), 0);
        let (a, b) = (
            program_json(&d, &refs, &lowered, (check::BATCH, check::KEEP)),
            program_json(&d, &refs, &plain, (check::BATCH, check::KEEP)),
        );
        assert!(a == b, "{}: {}", dir.display(), first_difference(&b, &a));
        assert!(a.matches("\"rule\"").count() > 5, "{}: too few findings to compare", dir.display());
    }
}

/// Items phase 1 keeps for phase 2 drop the fields no rule run again reads: a chain rule that
/// reads every one of them (by name, and the bases through `citations`) reports from kept items
/// what it reports from the same items read again in phase 2 (nothing kept).
#[test]
fn kept_items_keep_every_field_a_chain_rule_reads() {
    let policies = tempfile::tempdir().unwrap();
    std::fs::write(
        policies.path().join("QX003.qd"),
        r#"rule QX003 every-field {
  title    zh "一件事环节的材料" en "Materials of chain steps"
  severity info
  cites    xzxkf.第三十条 "在办公场所公示"
  for c in chains
  for s in c.steps
  when exists(s.item)
  for m in s.item.materials
  let note = m.note ?? "-"
  let provider = m.provider ?? "-"
  let department = s.item.department ?? "-"
  let fee = s.item.fee ?? "-"
  let superior = s.item.superior ?? "-"
  at m.name
  message  zh "{note}|{provider}|{count(m.basis)}|{department}|{count(s.item.departments)}|{fee}|{superior}|{count(s.item.complex)}|{count(s.item.basis)}|{count(citations(s.item))}"
           en "{note}"
  help     zh "仅用于测试" en "a test rule"
  example fail file "x.yaml"
  example pass file "y.yaml"
}
"#,
    )
    .unwrap();
    for (name, text) in [
        ("x.yaml", "items: [{code: A-1, name: 甲, materials: [表]}]\nchains: [{name: 链, steps: [A-1]}]\n"),
        ("y.yaml", "items: [{code: A-1, name: 甲}]\nchains: [{name: 链, steps: [A-1]}]\n"),
    ] {
        std::fs::write(policies.path().join(name), text).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 800, 4, 5, None);
    let sources = [PolicySource::Dir(policies.path().to_path_buf())];
    let kept = stream_json(&[dir.path()], &sources, (check::BATCH, check::KEEP));
    let read_again = stream_json(&[dir.path()], &sources, (check::BATCH, 0));
    assert!(kept == read_again, "{}", first_difference(&read_again, &kept));
    let report: serde_json::Value = serde_json::from_str(&kept).unwrap();
    let messages: Vec<&str> =
        report["diagnostics"].as_array().unwrap().iter().map(|d| d["message"].as_str().unwrap()).collect();
    // The generated chains' steps have some of each (the generator gives them no superior).
    let field = |k: usize| messages.iter().filter(|m| !matches!(m.split('|').nth(k), Some("-" | "0"))).count();
    let empty: Vec<usize> = (0..10).filter(|&k| field(k) == 0).collect();
    assert_eq!(empty, [6], "fields empty in every finding");
}
