//! The CI gate: SARIF (schema-valid), GitHub annotations, JUnit, Markdown, baselines.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use common::{AS_OF, qingdan, root, stderr, stdout};

fn corpus(format: &str) -> String {
    let o = qingdan(&["check", "corpus", "--as-of", AS_OF, "--format", format]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    stdout(&o)
}

#[test]
fn sarif_validates_against_the_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/sarif-schema-2.1.0.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let text = corpus("sarif");
    let log: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Written result by result as it is serialised, the log is laid out exactly as the whole log
    // pretty-printed at once (keys sorted, two-space indent).
    let pretty = serde_json::to_string_pretty(&log).unwrap() + "\n";
    assert!(text == pretty, "{}", common::first_difference(&text, &pretty));
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 21);
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 59);
    assert!(results.iter().all(|r| r["partialFingerprints"]["qingdan/v1"].as_str().is_some_and(|f| f.len() == 16)));
    assert_eq!(
        results.iter().filter(|r| r.get("suppressions").is_some()).count(),
        2,
        "waived findings are suppressions"
    );
}

#[test]
fn sarif_of_one_file() {
    let o = qingdan(&[
        "check",
        "tests/fixtures/load/ok/traditional.yaml",
        "--as-of",
        AS_OF,
        "--format",
        "sarif",
        "--select",
        "QD102",
    ]);
    let log: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    insta::assert_json_snapshot!(log["runs"][0]["results"]);
}

#[test]
fn github_annotations() {
    insta::assert_snapshot!(corpus("github"));
}

#[test]
fn junit_is_well_formed() {
    let xml = corpus("junit");
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut failures = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(e)) if e.name().as_ref() == b"failure" => failures += 1,
            Ok(_) => {}
            Err(e) => panic!("malformed XML at {}: {e}", reader.buffer_position()),
        }
    }
    assert_eq!(failures, 57);
    insta::assert_snapshot!(xml);
}

#[test]
fn markdown_summary() {
    insta::assert_snapshot!(corpus("markdown"));
}

#[test]
fn baseline_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("transport.yaml");
    std::fs::copy(root().join("corpus/daqing/transport.yaml"), &list).unwrap();
    let baseline = dir.path().join("baseline.json");
    let (l, b) = (list.to_str().unwrap(), baseline.to_str().unwrap());

    let o = qingdan(&["check", l, "--as-of", AS_OF, "--write-baseline", b, "-q"]);
    assert_eq!(o.status.code(), Some(1), "writing a baseline still reports today's findings");
    let o = qingdan(&["check", l, "--as-of", AS_OF, "--baseline", b]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // Lines move: the fingerprints survive.
    let text = std::fs::read_to_string(&list).unwrap();
    std::fs::write(&list, format!("# a new comment\n# and another\n{text}")).unwrap();
    let o = qingdan(&["check", l, "--as-of", AS_OF, "--baseline", b, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["summary"]["gone"], 0);

    // A new flaw: only it is reported.
    let text = std::fs::read_to_string(&list).unwrap();
    let flawed =
        text.replacen("materials:\n", "materials:\n      - {name: 其他相关材料, basis: [行政许可法 第三十条]}\n", 1);
    assert_ne!(flawed, text, "the fixture has a block `materials:`");
    std::fs::write(&list, &flawed).unwrap();
    let o = qingdan(&["check", l, "--as-of", AS_OF, "--baseline", b, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let diags = v["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["rule"], "QD102");

    // A baselined finding fixed: reported as gone.
    let fixed = text.replace("note: 必要时提供停车场地平面图", "note: 提供停车场地平面图");
    assert_ne!(fixed, text);
    std::fs::write(&list, &fixed).unwrap();
    let o = qingdan(&["check", l, "--as-of", AS_OF, "--baseline", b, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["summary"]["gone"], 1);
    assert!(stderr(&o).contains("QD102"), "{}", stderr(&o));
}

#[test]
fn severity_overrides_and_off_from_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("corpus/daqing/transport.yaml"), dir.path().join("t.yaml")).unwrap();
    std::fs::write(dir.path().join("qingdan.yaml"), "severity: {QD203: error, QD101: off}\nignore: [QD4]\n").unwrap();
    let o = qingdan(&["check", dir.path().to_str().unwrap(), "--as-of", AS_OF, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let diags = v["diagnostics"].as_array().unwrap();
    assert!(diags.iter().all(|d| d["rule"] != "QD101" && !d["rule"].as_str().unwrap().starts_with("QD4")));
    assert!(diags.iter().any(|d| d["rule"] == "QD203" && d["severity"] == "error"));
}
