//! `fix`: edits on the original text, safety tiers, passes, atomic writes, dry runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use std::path::{Path, PathBuf};

use common::{AS_OF, qingdan, root, stderr, stdout};

fn copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::copy(root().join("tests/fixtures/fix").join(name), &path).unwrap();
    (dir, path)
}

fn run(args: &[&str], path: &Path) -> std::process::Output {
    let mut a = args.to_vec();
    let p = path.to_str().unwrap();
    a.extend([p, "--as-of", AS_OF]);
    qingdan(&a)
}

fn findings(path: &Path) -> Vec<(String, String)> {
    let o = run(&["check", "--format", "json"], path);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["rule"].as_str().unwrap().to_string(), d["material"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[test]
fn safe_fixes_then_check_is_clean_of_them() {
    let (_dir, path) = copy("mixed.yaml");
    let before = findings(&path);
    let o = run(&["fix"], &path);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("mixed_summary", stdout(&o));
    let text = std::fs::read_to_string(&path).unwrap();
    insta::assert_snapshot!("mixed_after", text);
    let after = findings(&path);
    for rule in ["QD103", "QD106", "QD107"] {
        assert!(before.iter().any(|(r, _)| r == rule), "{rule} was there before");
        assert!(!after.iter().any(|(r, _)| r == rule), "{rule} is fixed: {after:?}");
    }
    // Nothing new: every finding after the fix was there before.
    for f in &after {
        assert!(before.contains(f), "new finding {f:?}");
    }
    // Unsafe findings are untouched without --unsafe.
    assert!(after.iter().any(|(r, _)| r == "QD102"));
    // Comments and layout outside the edits survive.
    for kept in ["# Should fix (safe)", "# 企业设立", "      # The form.", "# shareable", "      - 承诺书\n"] {
        assert!(text.contains(kept), "lost `{kept}`");
    }
    // A second run changes nothing.
    let o = run(&["fix"], &path);
    assert!(stdout(&o).contains(" 0 "), "{}", stdout(&o));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn unsafe_fixes_need_the_flag() {
    let (_dir, path) = copy("mixed.yaml");
    let o = run(&["fix", "--unsafe"], &path);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = findings(&path);
    assert!(!after.iter().any(|(r, _)| r == "QD102" || r == "QD101"), "{after:?}");
    insta::assert_snapshot!("mixed_after_unsafe", std::fs::read_to_string(&path).unwrap());
}

#[test]
fn dry_run_prints_a_diff_and_changes_nothing() {
    let (_dir, path) = copy("mixed.yaml");
    let before = std::fs::read_to_string(&path).unwrap();
    let o = run(&["fix", "--dry-run"], &path);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    let out = stdout(&o);
    assert!(out.contains("+++ ") && out.contains("-      - {name: 组织机构代码证"), "{out}");
    insta::assert_snapshot!("mixed_dry_run", out.replace(path.to_str().unwrap(), "mixed.yaml"));
}

#[test]
fn chinese_keys_get_chinese_keys() {
    let (_dir, path) = copy("chinese-keys.yaml");
    run(&["fix"], &path);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("        获取方式: 内部共享\n") && text.contains("        获取部门: "), "{text}");
    assert!(text.contains("# 申请人的"));
    assert!(findings(&path).iter().all(|(r, _)| r != "QD103"));
}

#[test]
fn the_sample_corpus_is_fixed_in_passes_without_new_findings() {
    let dir = tempfile::tempdir().unwrap();
    for entry in ["daqing", "traditional"] {
        let to = dir.path().join(entry);
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(root().join("corpus").join(entry)).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
        }
    }
    let baseline = dir.path().join("b.json");
    let d = dir.path().to_str().unwrap();
    qingdan(&["check", d, "--as-of", AS_OF, "--write-baseline", baseline.to_str().unwrap(), "-q"]);
    let o = qingdan(&["fix", d, "--as-of", AS_OF]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("corpus_summary", stdout(&o));
    // Against the baseline: nothing new, and the fixed findings are gone.
    let o = qingdan(&["check", d, "--as-of", AS_OF, "--baseline", baseline.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let new: Vec<_> = v["diagnostics"].as_array().unwrap().iter().filter(|d| d["waived"] == false).collect();
    assert!(new.is_empty(), "{new:#?}");
    // 17 fixed, and a finding on a removed duplicate goes with it.
    assert!(v["summary"]["gone"].as_u64().unwrap() >= 17, "{}", v["summary"]);
}

#[test]
fn a_file_changed_since_it_was_read_is_not_overwritten() {
    let (_dir, path) = copy("mixed.yaml");
    let refs = qingdan::corpus::reference::References::builtin().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let src = qingdan::source::SourceFile::new(path.display().to_string(), text.as_str());
    let _ = refs;
    std::fs::write(&path, format!("{text}# edited meanwhile\n")).unwrap();
    let err = qingdan::fix::write_atomically(&path, &src, "items: []\n").unwrap_err();
    assert_eq!(err.code, "qingdan::fix::changed");
    assert!(std::fs::read_to_string(&path).unwrap().ends_with("# edited meanwhile\n"));
}
