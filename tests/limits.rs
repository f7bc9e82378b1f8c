//! Limits against broken or hostile input: each is refused with exit code 2 and one located
//! error with a help line, quickly and in bounded memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{root, stderr};
use qingdan::corpus::Corpus;
use qingdan::corpus::load::{LoadOptions, MAX_ERRORS, MAX_ITEMS};
use qingdan::corpus::reference::References;

fn check(path: &Path, env: &[(&str, &str)]) -> (Output, Duration) {
    let started = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qingdan"));
    cmd.args(["check", &path.display().to_string()]).current_dir(root()).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out, started.elapsed())
}

const ITEM: &str = "  - {code: \"230600-XK-0001\", name: 甲, materials: [申请表]}\n";

fn refused(out: &Output, code: &str) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(code), "expected {code}:\n{err}");
    assert!(err.contains("help:"), "no help line:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn file_size_is_limited_and_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    std::fs::write(&path, format!("items:\n{}", ITEM.repeat(100))).unwrap();
    let (out, _) = check(&path, &[("QINGDAN_MAX_FILE_BYTES", "1K")]);
    let err = refused(&out, "qingdan::load::too_large");
    assert!(err.contains("QINGDAN_MAX_FILE_BYTES"), "the help names the setting:\n{err}");
    // Raised, the same file loads.
    let (out, _) = check(&path, &[("QINGDAN_MAX_FILE_BYTES", "1M")]);
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    // A setting that is not a size is an error, not ignored.
    let (out, _) = check(&path, &[("QINGDAN_MAX_FILE_BYTES", "lots")]);
    refused(&out, "qingdan::limits");
}

#[cfg(unix)]
#[test]
fn a_device_that_never_ends_is_refused() {
    // /dev/zero has no size; qingdan reads one byte past the limit and stops.
    let (out, took) = check(Path::new("/dev/zero"), &[("QINGDAN_MAX_FILE_BYTES", "64K")]);
    refused(&out, "qingdan::load::too_large");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn items_per_file_are_limited() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.yaml");
    std::fs::write(&path, format!("items:\n{}", ITEM.repeat(MAX_ITEMS + 1))).unwrap();
    let (out, took) = check(&path, &[]);
    let err = refused(&out, "qingdan::load::too_many_items");
    assert!(err.contains("many.yaml:2:3"), "located at the list of items:\n{err}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn a_value_is_limited_in_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.yaml");
    let name = "长".repeat(400_000); // 1.2 MB
    std::fs::write(&path, format!("items:\n  - {{code: \"230600-XK-0001\", name: {name}}}\n")).unwrap();
    let (out, _) = check(&path, &[]);
    let err = refused(&out, "qingdan::yaml::too_long");
    assert!(err.contains("long.yaml:2:"), "{}", err.chars().take(2000).collect::<String>());
}

#[test]
fn problems_per_file_are_capped() {
    let mut text = String::from("items:\n  - code: \"230600-XK-0001\"\n    name: 甲\n");
    for i in 0..MAX_ERRORS + 50 {
        writeln!(text, "    unknown_{i}: x").unwrap();
    }
    let refs = References::builtin().unwrap();
    let err = Corpus::from_text("t.yaml", &text, &refs, None, LoadOptions::default()).err().unwrap();
    assert_eq!(err.problems.len(), MAX_ERRORS + 1);
    let last = err.problems.last().unwrap();
    assert_eq!(last.code, "qingdan::load::more");
    assert!(last.message.contains("50"), "{}", last.message);
    assert!(last.span.is_some() && last.help.is_some());
}

#[test]
fn problems_across_many_items_are_capped_in_file_order() {
    // 1,500 items, loaded in parallel chunks, three problems each: the first 200 in file order
    // are shown, and the last line counts the 4,300 others and points at the very last one.
    let mut text = String::from("items:\n");
    for i in 0..1_500 {
        writeln!(text, "  - code: \"230600-XK-{i:04}\"\n    name: 甲\n    a_{i}: x\n    b_{i}: x\n    c_{i}: x")
            .unwrap();
    }
    let refs = References::builtin().unwrap();
    let err = Corpus::from_text("t.yaml", &text, &refs, None, LoadOptions::default()).err().unwrap();
    assert_eq!(err.problems.len(), MAX_ERRORS + 1);
    let lines: Vec<usize> =
        err.problems.iter().filter_map(|p| p.span).map(|s| text[..s.start as usize].lines().count()).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "problems out of file order: {lines:?}");
    assert!(err.problems[0].message.contains("a_0"), "{}", err.problems[0].message);
    assert!(err.problems[MAX_ERRORS - 1].message.contains("b_66"), "{}", err.problems[MAX_ERRORS - 1].message);
    let last = err.problems.last().unwrap();
    assert_eq!(last.code, "qingdan::load::more");
    assert!(last.message.contains("4300"), "{}", last.message);
    let at = last.span.unwrap().start as usize;
    assert!(text[at..].starts_with("c_1499"), "{}", &text[at..at + 20]);
}

#[test]
fn nested_anchors_do_not_multiply_memory() {
    // Sixty nested anchors around a list of 200,000 values (a 400 kB file) once made sixty copies
    // of the list: gigabytes and half a minute. Now it is refused as not a list, at once.
    let inner = vec!["x"; 200_000].join(",");
    let opens: String = (0..60).map(|i| format!("&a{i} [")).collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("anchors.yaml");
    std::fs::write(&path, format!("items: {opens}[{inner}]{}\n", "]".repeat(60))).unwrap();
    let (out, took) = check(&path, &[]);
    refused(&out, "qingdan::load::");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn a_file_on_one_line_is_shown_in_windows() {
    // 300 items on one line (flow style, as JSON exports are): every finding once printed the
    // whole line, so the output grew with findings × line length (116 MB for a 40 kB file).
    let items: Vec<String> = (0..300)
        .map(|i| format!("{{code: \"230600-XK-{i:04}\", name: 甲{i}, materials: [{{name: 其他相关材料}}]}}"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one-line.yaml");
    std::fs::write(&path, format!("{{items: [{}]}}\n", items.join(", "))).unwrap();
    let (out, took) = check(&path, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    let findings = shown.matches("one-line.yaml:1:").count();
    assert!(findings >= 300, "{findings} findings");
    assert!(shown.len() / findings < 8_000, "{} bytes for {findings} findings", shown.len());
    // The window still shows the material the finding is about, with its column.
    let first = &items[0];
    let column = "{items: [".chars().count() + first.find("其他").map(|b| first[..b].chars().count()).unwrap() + 1;
    assert!(shown.contains(&format!("one-line.yaml:1:{column}]")), "{}", shown.chars().take(3000).collect::<String>());
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

/// A policy with `when` (or a message hole) replaced.
fn deep_policy(when: &str, hole: &str) -> String {
    format!(
        "rule DQ001 deep {{\n title zh \"t\" en \"t\"\n severity error\n cites xzxkf.第三十条 \"在办公场所公示\"\n when {when}\n at item.name\n message zh \"{{{hole}}}\" en \"m\"\n help zh \"h\" en \"h\"\n example pass {{ name: a }}\n example fail {{ name: b }}\n}}\n"
    )
}

#[test]
fn policies_nested_absurdly_deep_are_refused_not_a_stack_overflow() {
    // Each of these once overflowed the stack (an abort, exit code 134) in the parser, the
    // lowering or the checker: 1,000 brackets were enough in a debug build.
    let n = 20_000;
    let cases = [
        ("brackets", deep_policy(&format!("{}true{}", "(".repeat(n), ")".repeat(n)), "item.name")),
        (
            "a long chain",
            deep_policy(&format!("(item.promised_days ?? 0) > {}", vec!["1"; n].join(" + ")), "item.name"),
        ),
        ("?? chain", deep_policy(&format!("exists({}item.name)", "item.name ?? ".repeat(n)), "item.name")),
        ("not not …", deep_policy(&format!("{}true", "not ".repeat(n)), "item.name")),
        ("else if …", deep_policy(&format!("{}true", "if true then true else ".repeat(n)), "item.name")),
        ("fields", deep_policy(&format!("exists(item{})", ".name".repeat(n)), "item.name")),
        ("interpolation", deep_policy("true", &format!("{}1{}", "(".repeat(n), ")".repeat(n)))),
        (
            "mixed",
            deep_policy(
                &format!("{}true{}", format!("{}(", "not ".repeat(31)).repeat(30), ")".repeat(30)),
                "item.name",
            ),
        ),
    ];
    for (what, text) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("deep.qd"), &text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_qingdan"))
            .args(["policy", "check", &dir.path().display().to_string()])
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{what}: {}", err.chars().take(2000).collect::<String>());
        assert!(err.contains("qingdan::policy::too_complex"), "{what}: {}", err.chars().take(2000).collect::<String>());
    }
    // Ordinary nesting is fine: the built-in pack and this rule compile.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.qd"), deep_policy("((((item.promised_days ?? 0) > 1 + 2 + 3)))", "item.name"))
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qingdan"))
        .args(["policy", "check", &dir.path().display().to_string()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("too_complex"), "{}", stderr(&out));
}
