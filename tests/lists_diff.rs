//! `lists` and `diff`: the nine lists, the 四办 lists, and the reduction report.
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
fn diff_hand_computed() {
    let o = qingdan(&[
        "diff",
        "tests/fixtures/diff/old.yaml",
        "tests/fixtures/diff/new.yaml",
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let t = &v["totals"];
    let expect = [
        ("items_old", 3.0),
        ("items_new", 3.0),
        ("added", 1.0),
        ("removed", 1.0),
        ("kept", 2.0),
        // Kept items: 甲 4 → 2 (无违法承诺书 and 其他相关材料 gone; 营业执照复印件 = 营业执照), 乙 2 → 3.
        ("materials_old", 6.0),
        ("materials_new", 5.0),
        ("materials_removed", 2.0),
        ("materials_added", 1.0),
        ("steps_old", 8.0),
        ("steps_new", 6.0),
        ("steps_removed", 2.0),
        ("promised_days_old", 30.0),
        ("promised_days_new", 15.0),
        ("days_saved", 15.0),
        ("compression_pct", 50.0),
        ("visits_old", 3.0),
        ("visits_new", 1.0),
        ("visits_saved", 2.0),
    ];
    for (k, want) in expect {
        assert_eq!(t[k].as_f64(), Some(want), "{k}");
    }
    assert_eq!(
        v["headline"],
        "共梳理3个事项，减少办事环节2个、精简材料2份，累计压缩时限15个工作日，较原承诺时限压缩50.0%"
    );
    let deps = v["departments"].as_array().unwrap();
    let yi = deps.iter().find(|d| d["department"] == "市乙局").unwrap();
    assert_eq!((yi["added"].as_u64(), yi["removed"].as_u64(), yi["kept"].as_u64()), (Some(1), Some(1), Some(0)));
    let removed: Vec<(String, Vec<String>)> = v["removed_materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["material"].as_str().unwrap().to_string(),
                r["rules"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(
        removed,
        [
            ("无违法承诺书".to_string(), vec!["QD101".to_string()]),
            ("其他相关材料".to_string(), vec!["QD102".to_string()])
        ]
    );
    let o = qingdan(&["diff", "tests/fixtures/diff/old.yaml", "tests/fixtures/diff/new.yaml", "--as-of", AS_OF]);
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn lists_of_the_corpus() {
    let o = qingdan(&["lists", "corpus", "--as-of", AS_OF, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let names: Vec<&str> = v["lists"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "单一事项",
            "联办事项",
            "不见面事项",
            "跑一次事项",
            "复杂事项",
            "网上办理事项",
            "入驻服务大厅事项",
            "可延伸办理事项",
            "同城通办事项"
        ]
    );
    let sibian = v["sibian"].as_array().unwrap();
    assert_eq!(sibian.len(), 4);
    assert!(sibian.iter().any(|s| !s["mismatched"].as_array().unwrap().is_empty()), "QD202's items are mismatched");
    for l in v["lists"].as_array().unwrap() {
        assert_eq!(l["count"].as_u64().unwrap() as usize, l["items"].as_array().unwrap().len());
    }
    insta::assert_snapshot!("lists_json", stdout(&o));
    let o = qingdan(&["lists", "corpus", "--as-of", AS_OF, "--format", "markdown"]);
    insta::assert_snapshot!("lists_markdown", stdout(&o));
}

#[test]
fn lists_csv_opens_in_excel() {
    let o = qingdan(&["lists", "corpus", "--as-of", AS_OF, "--format", "csv"]);
    assert!(o.stdout.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with a byte-order mark");
    let text = stdout(&o);
    let mut r = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(r.headers().unwrap().len(), 7);
    assert!(r.records().count() > 85);
}
