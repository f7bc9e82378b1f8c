//! The binary as users run it: exit codes, output formats, the sample corpus end to end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use common::{AS_OF, qingdan, stderr, stdout};

#[test]
fn corpus_human_report() {
    let o = qingdan(&["check", "corpus", "--as-of", AS_OF]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn corpus_json_report() {
    let o = qingdan(&["check", "corpus", "--as-of", AS_OF, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["version"], 1);
    insta::assert_snapshot!(text);
}

#[test]
fn corpus_english() {
    let o = qingdan(&["--lang", "en", "check", "corpus/daqing/transport.yaml", "--as-of", AS_OF]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn yaml_syntax_errors_in_each_language() {
    // saphyr-parser words its errors in English: Chinese output says them in Chinese and keeps
    // the parser's words after them; English output shows the parser's words alone.
    let file = "tests/fixtures/load/err/malformed.yaml";
    let zh = stderr(&qingdan(&["check", file]));
    assert!(zh.contains("列表中缺少 `- `"), "{zh}");
    assert!(zh.contains("（while parsing a block collection, did not find expected '-' indicator）"), "{zh}");
    let o = qingdan(&["--lang", "en", "check", file]);
    assert_eq!(o.status.code(), Some(2));
    let en = stderr(&o);
    assert!(en.contains("── while parsing a block collection, did not find expected '-' indicator\n"), "{en}");
    assert!(!en.contains("列表"), "{en}");
}

#[test]
fn exit_0_when_clean() {
    let o = qingdan(&["check", "tests/fixtures/load/ok/chinese-keys.yaml", "--as-of", AS_OF, "--select", "QD2"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn exit_1_only_at_or_above_fail_on() {
    // transport.yaml has errors and warnings; with only warning rules selected, exit depends on --fail-on.
    let args = ["check", "corpus/daqing/transport.yaml", "--as-of", AS_OF, "--select", "QD203,QD204,QD303,QD107", "-q"];
    let o = qingdan(&args);
    assert_eq!(o.status.code(), Some(0), "warnings do not fail by default: {}", stdout(&o));
    let mut with = args.to_vec();
    with.extend(["--fail-on", "warning"]);
    let o = qingdan(&with);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn exit_2_on_bad_input() {
    let o = qingdan(&["check", "tests/fixtures/load/err/wrong-type.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("wrong-type.yaml:5:13"), "{err}");
    assert!(stdout(&o).is_empty());
}

/// Problems of several files are reported in the files' order, whichever worker loads which
/// file first (the second file here is the larger), with `check` and `--load-only`.
#[test]
fn problems_of_several_files_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let first = std::fs::read_to_string("tests/fixtures/load/err/wrong-type.yaml").unwrap();
    let second = std::fs::read_to_string("tests/fixtures/load/err/malformed.yaml").unwrap() + &"# …\n".repeat(2000);
    std::fs::write(dir.path().join("a.yaml"), first).unwrap();
    std::fs::write(dir.path().join("b.yaml"), second).unwrap();
    for load_only in [false, true] {
        let mut args = vec!["check", dir.path().to_str().unwrap()];
        if load_only {
            args.push("--load-only");
        }
        let o = qingdan(&args);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        let (a, b) = (err.find("a.yaml:"), err.find("b.yaml:"));
        assert!(a.is_some() && b.is_some() && a < b, "load-only {load_only}: {err}");
    }
}

#[test]
fn exit_2_on_missing_path() {
    let o = qingdan(&["check", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/dir"));
}

#[test]
fn exit_2_on_bad_arguments() {
    let o = qingdan(&["check", "--format", "pdf"]);
    assert_eq!(o.status.code(), Some(2));
    let o = qingdan(&["check", "--as-of", "yesterday"]);
    assert_eq!(o.status.code(), Some(2));
}

/// A `--select`/`--ignore` entry (or the configuration's `select`/`ignore`) that is no rule id's
/// prefix stops the run: a typo would run no rule, and an empty entry (a trailing comma) matches
/// every id, so `--ignore QD101,` ran nothing and exited 0. So does a `severity` key that is no
/// rule id.
#[test]
fn exit_2_on_a_selection_that_matches_no_rule() {
    for (args, said) in [
        (&["--select", "QD101,"][..], "--select 中有空项"),
        (&["--ignore", "QD101,"][..], "--ignore 中有空项"),
        (&["--select", "QD10l"][..], "`QD10l` 不是任何规则编号的前缀"),
        (&["--select", "QD1", "--ignore", "QD1,qd2"][..], "`qd2` 不是任何规则编号的前缀"),
    ] {
        let o = qingdan(&[&["check", "corpus/", "--as-of", AS_OF, "--format", "json"][..], args].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stdout(&o).is_empty(), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains("qingdan::unknown_rule") && err.contains(said), "{args:?}: {err}");
    }
    // Two empty entries are one problem.
    let o = qingdan(&["check", "corpus/", "--as-of", AS_OF, "--select", ","]);
    assert_eq!(stderr(&o).matches("中有空项").count(), 1, "{}", stderr(&o));
    let o = qingdan(&["check", "corpus/", "--as-of", AS_OF, "--select", "QD10l", "--lang", "en"]);
    assert!(stderr(&o).contains("did you mean QD101?"), "{}", stderr(&o));
    // The configuration file's lists likewise.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy("corpus/daqing/transport.yaml", dir.path().join("transport.yaml")).unwrap();
    std::fs::write(dir.path().join("qingdan.yaml"), "ignore: [QD4, QD9x]\n").unwrap();
    let o = qingdan(&["check", dir.path().to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("配置文件的 `ignore` 中的 `QD9x`"), "{}", stderr(&o));
    // `severity` names whole ids: a typo there left the rule at its own level.
    std::fs::write(dir.path().join("qingdan.yaml"), "severity: {QD10l: off, qd203: error}\n").unwrap();
    let o = qingdan(&["check", dir.path().to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("配置文件的 `severity` 中的 `QD10L` 不是规则编号") && err.contains("QD101"), "{err}");
    assert!(!err.contains("QD203"), "{err}");
    std::fs::write(dir.path().join("qingdan.yaml"), "severity: {QD101: off, qd203: error}\n").unwrap();
    let o = qingdan(&["check", dir.path().to_str().unwrap(), "--as-of", AS_OF, "-q"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // Prefixes that name rules still select them.
    let o = qingdan(&["check", "corpus/", "--as-of", AS_OF, "--select", "QD1,QD203", "--ignore", "QD108", "-q"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// `QINGDAN_TIMINGS` adds a table of phases and rules to stderr, after the report, and changes
/// nothing else; `0` leaves it off.
#[test]
fn timings_go_to_stderr_only_when_asked() {
    let timed = |value: &str, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_qingdan"))
            .args(["check", "corpus", "--as-of", AS_OF])
            .args(extra)
            .current_dir(common::root())
            .env("NO_COLOR", "1")
            .env(qingdan::timings::ENV, value)
            .output()
            .expect("run qingdan")
    };
    for format in ["json", "human"] {
        let plain = qingdan(&["check", "corpus", "--as-of", AS_OF, "--format", format]);
        let on = timed("1", &["--format", format]);
        assert_eq!(on.status.code(), Some(1));
        assert_eq!(stdout(&on), stdout(&plain), "{format}");
        let err = stderr(&on);
        let (before, table) = err.split_once("qingdan timings").expect("a table");
        assert_eq!(before, stderr(&plain), "{format}: stderr keeps what it had, then the table");
        for phase in ["setup", "chain-file guess", "load", "rules", "diagnostics", "phase 2", "render"] {
            assert!(table.contains(&format!("\n  {phase} ")), "{phase} in {table}");
        }
        // Every rule ran on the sample corpus: each has its row, then the total.
        let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("  QD")).collect();
        assert_eq!(rows.len(), 21, "{table}");
        assert!(table.lines().last().is_some_and(|l| l.starts_with("  all ")), "{table}");
        let off = timed("0", &["--format", format]);
        assert_eq!(stderr(&off), stderr(&plain));
    }
    let load = stderr(&timed("1", &["--load-only"]));
    assert!(load.contains("\n  load ") && !load.contains("\n  rules "), "{load}");
}

#[test]
fn exit_2_on_bad_policy() {
    let o = qingdan(&["check", "corpus", "--policy", "tests/fixtures/policy/err/unknown-field.qd"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown-field.qd"));
}

#[test]
fn policy_test_runs_every_example() {
    let o = qingdan(&["policy", "test"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    let last = out.lines().last().unwrap_or("");
    assert!(last.ends_with(" passed, 0 failed"), "{out}");
    let passed: usize = last.split_whitespace().next().unwrap().parse().unwrap();
    assert!(passed >= 42, "every rule has a passing and a failing example: {passed}");
}

#[test]
fn policy_test_reports_a_failing_example() {
    let o = qingdan(&["policy", "test", "tests/fixtures/policy/bad-example", "--with-builtin"]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn output_is_identical_across_thread_counts() {
    let one = qingdan(&["check", "corpus", "--as-of", AS_OF, "--format", "json", "--jobs", "1"]);
    let many = qingdan(&["check", "corpus", "--as-of", AS_OF, "--format", "json", "--jobs", "8"]);
    assert_eq!(one.stdout, many.stdout);
}

#[test]
fn output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let o = qingdan(&["check", "corpus", "--as-of", AS_OF, "--format", "json", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert!(v["summary"]["errors"].as_u64().unwrap() > 0);
}

#[test]
fn statistics_and_quiet() {
    let o = qingdan(&["check", "corpus", "--as-of", AS_OF, "-q", "--statistics"]);
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn rules_table() {
    let o = qingdan(&["rules"]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!(stdout(&o));
}

/// Every flaw planted in the sample corpus is marked `# flaw: QDnnn` on the line the finding
/// points at; the findings must be exactly those (precision and recall on the corpus).
#[test]
fn corpus_findings_are_exactly_the_planted_flaws() {
    let o = qingdan(&["check", "corpus", "--as-of", AS_OF, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let mut found: Vec<(String, u64, String)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    let mut planted = Vec::new();
    let mut files: Vec<_> = glob_yaml(&common::root().join("corpus"));
    files.sort();
    for path in files {
        let rel = path.strip_prefix(common::root()).unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            let Some(pos) = line.find("# flaw:") else { continue };
            for word in line[pos + 7..].split(|c: char| !c.is_ascii_alphanumeric()) {
                if word.len() == 5 && word.starts_with("QD") {
                    planted.push((rel.clone(), i as u64 + 1, word.to_string()));
                }
            }
        }
    }
    planted.sort();
    assert_eq!(found, planted);
}

fn glob_yaml(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(glob_yaml(&p));
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
    out
}

#[test]
fn extending_a_builtin_statute_keeps_its_other_fields() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("qingdan.yaml"), "extend: {statutes: local.yaml}\n").unwrap();
    // Same title as a built-in entry, giving only a note: verification and articles must survive.
    std::fs::write(
        dir.path().join("local.yaml"),
        "statutes:\n  - {id: yhyshj, title: 优化营商环境条例, level: 行政法规, note: 本地备注}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("list.yaml"),
        "items:\n  - {code: \"230600-XK-0001\", name: 甲, basis: [优化营商环境条例 第三十五条]}\n",
    )
    .unwrap();
    let o = qingdan(&["check", dir.path().to_str().unwrap(), "--as-of", AS_OF, "--select", "QD401"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}
