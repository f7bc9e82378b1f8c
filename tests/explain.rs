//! `explain` and `rules`: rule documentation, item traces, coverage, English.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use common::{AS_OF, SPEC_RULES as RULES, qingdan, stderr, stdout};

#[test]
fn explain_every_rule() {
    for rule in RULES {
        let o = qingdan(&["explain", rule]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = stdout(&o);
        for heading in ["## 检查什么", "## 为什么", "## 示例", "## 怎么改", "## 依据"] {
            assert!(text.contains(heading), "{rule}: {heading}");
        }
        insta::assert_snapshot!(format!("explain_{rule}"), text);
    }
}

#[test]
fn explain_rule_in_english() {
    let o = qingdan(&["--lang", "en", "explain", "QD103"]);
    let text = stdout(&o);
    assert!(text.contains("## What it checks") && !text.contains("## 检查什么"));
    insta::assert_snapshot!(text);
}

#[test]
fn explain_flawed_and_clean_items() {
    for code in ["230600-XK-0312", "230600-XK-0311", "230600-BA-0401"] {
        let o = qingdan(&["explain", code, "corpus", "--as-of", AS_OF]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        insta::assert_snapshot!(format!("explain_item_{code}"), stdout(&o));
    }
}

#[test]
fn explain_item_json_and_material() {
    let o = qingdan(&[
        "explain",
        "230600-XK-0203",
        "corpus",
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--material",
        "申请事由的相关材料",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let m = &v["materials"].as_array().unwrap()[0];
    assert_eq!(m["catch_all"], "相关材料");
    assert!(m["verdicts"].as_array().unwrap().iter().any(|x| x["rule"] == "QD102" && x["verdict"] == "fail"));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn explain_unknown_code_suggests_nearest() {
    let o = qingdan(&["explain", "230600-XK-031", "corpus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("230600-XK-0311"), "{}", stderr(&o));
    let o = qingdan(&["explain", "QD109"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn rules_coverage_and_json() {
    let o = qingdan(&["rules", "--coverage"]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!(stdout(&o));
    let o = qingdan(&["rules", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["rules"].as_array().unwrap().len(), 21);
    let o = qingdan(&["--lang", "en", "rules"]);
    insta::assert_snapshot!(stdout(&o));
}
