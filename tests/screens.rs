//! Screens (`qingdan::eval::screen`) decide where the interpreter runs a rule, never what it
//! finds: every rule, with and without screens, gives the same findings and the same evaluation
//! errors — on the sample corpus, every fixture, a generated corpus and a probe policy built to
//! make screens give up — and on a realistic corpus the screens clear most items.
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

use common::{as_of, first_difference, generate, root};
use qingdan::check::{self, CheckOptions};
use qingdan::compile::Program;
use qingdan::corpus::config::PolicySource;
use qingdan::corpus::reference::References;
use qingdan::corpus::{self, Corpus};
use qingdan::eval::{self, RunOptions};
use qingdan::policy;
use qingdan::report::{Report, json};

/// The JSON report of the streaming check of `paths`, with screens on or off.
fn check_json(paths: &[PathBuf], policies: &[PolicySource], screens: bool) -> String {
    let d = corpus::discover(paths, None).unwrap();
    let refs = corpus::references(&d).unwrap();
    let program = policy::load(policies, &refs).unwrap();
    let mut run = RunOptions::all(&program, as_of());
    run.screens = screens;
    let overrides = HashMap::new();
    let opts = CheckOptions { with_edits: true, ..CheckOptions::new(&run, &overrides) };
    let checked = check::check(&d, &refs, &program, &opts).unwrap_or_else(|p| panic!("{p:?}"));
    json::render(&checked.report)
}

fn assert_same(paths: &[PathBuf], policies: &[PolicySource]) -> String {
    let screened = check_json(paths, policies, true);
    let plain = check_json(paths, policies, false);
    assert!(screened == plain, "{paths:?}: screens (left) change the report: {}", first_difference(&screened, &plain));
    screened
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn screens_change_nothing_on_the_sample_corpus_and_the_fixtures() {
    let report = assert_same(&[root().join("corpus")], &[PolicySource::Builtin]);
    assert!(report.contains("\"QD102\""), "the sample corpus has findings to keep");
    assert_same(&[root().join("tests/fixtures/streaming")], &[PolicySource::Builtin]);
    let fixtures = root().join("tests/fixtures");
    let files: Vec<PathBuf> =
        yaml_files(&fixtures.join("rules")).into_iter().chain(yaml_files(&fixtures.join("precision"))).collect();
    assert!(files.len() > 20);
    for f in files {
        assert_same(&[f], &[PolicySource::Builtin]);
    }
}

/// Writes a generated corpus of `items` items in `files` files into `dir`.
#[test]
fn screens_change_nothing_on_a_generated_corpus() {
    let dir = tempfile::tempdir().unwrap();
    // Flaws everywhere (every rule reports, many items twice), and chains across ten files.
    generate(dir.path(), 1000, 10, 11, Some("0.9"));
    let report = assert_same(&[dir.path().to_path_buf()], &[PolicySource::Builtin]);
    for rule in common::SPEC_RULES {
        assert!(report.contains(&format!("\"{rule}\"")), "{rule} never reports on the generated corpus");
    }
}

/// A probe policy whose rules make screens give up in every way they can (evaluation errors,
/// texts made at run time, lists made at run time, what other rules found) and use every kind
/// of list a screen walks, over items with fields missing, empty and odd.
const PROBES: &str = r#"
rule QX001 probe-underflow {
  title zh "探针" en "probe"
  severity error
  cites yhyshj.第三十五条 "没有法律、法规、规章依据"
  when item.code == "230600-XK-0003" and (item.legal_days ?? 0) - 9223372036854775807 - 9 < 0
  at item.code
  message zh "x" en "x"
  help zh "x" en "x"
  example pass { code: "230600-XK-0001" }
  example fail { code: "230600-XK-0003" }
}
rule QX002 probe-overflow {
  title zh "探针" en "probe"
  severity error
  cites yhyshj.第三十五条 "没有法律、法规、规章依据"
  when (item.legal_days ?? 0) + 9223372036854775807 > 0 and (item.visits ?? 0) > 5
  at item.code
  message zh "x" en "x"
  help zh "x" en "x"
  example pass { visits: 1 }
  example fail { visits: 9 }
}
rule QX003 probe-made-text {
  title zh "探针" en "probe"
  severity error
  cites yhyshj.第三十五条 "没有法律、法规、规章依据"
  for m in item.materials
  let n = norm(m.name)
  when n == "营业执照" or (catch_all(m.name) ?? "") == "其他相关材料" or empty(norm(m.note ?? ""))
  at m.name
  message zh "{m.name}" en "{m.name}"
  help zh "x" en "x"
  example pass { materials: [{name: 身份证, note: 有}] }
  example fail { materials: [{name: 营业执照}] }
}
rule QX004 probe-lists {
  title zh "探针" en "probe"
  severity warning
  cites yhyshj.第三十五条 "没有法律、法规、规章依据"
  for m in item.materials
  let same_kind = count(x in preceding(m) where (x.kind ?? "其他") == (m.kind ?? "其他"))
  let covered = any(c in covers(m.name) where not c.obsolete)
  let cert = certificate(m.name)
  let shared_ = shared(m.name)
  when same_kind > 1 or covered or (exists(cert) and item.code in cert.items) or count(same_code(item)) > 0
   or (exists(shared_) and shared_.channel == "电子证照" and m.index == 0)
   or count(x in citations(item) where exists(x.statute) and x.statute.level == "法律") > 3
   or any(w in waivers(item) where w.rule contains "QD9")
  at m.name
  message zh "{m.name}" en "{m.name}"
  help zh "x" en "x"
  example pass { materials: [{name: 身份证}] }
  example fail { materials: [{name: 营业执照, kind: 证照}, {name: 税务登记证, kind: 证照}, {name: 组织机构代码证, kind: 证照}] }
}
rule QX005 probe-made-lists {
  title zh "探针" en "probe"
  severity info
  cites yhyshj.第三十五条 "没有法律、法规、规章依据"
  let l = (if empty(item.fee) then ["fee"] else []) + [item.name] + (if exists(item.steps) then [] else ["steps"])
  when count(l) > 2 or "fee" in l or item.name in [item.code, "x"]
  at item.code
  message zh "{l}" en "{l}"
  help zh "x" en "x"
  example pass { fee: 不收费, steps: 1 }
  example fail { }
}
rule QX006 probe-used {
  title zh "探针" en "probe"
  severity info
  cites yhyshj.第三十五条 "没有法律、法规、规章依据"
  for w in waivers(item)
  when not used(w) or in_jurisdiction(item, "黑龙江省")
  at w.rule
  message zh "{w.rule}" en "{w.rule}"
  help zh "x" en "x"
  example pass { }
  example fail { waivers: [{rule: QD203, reason: 试点}] }
}
rule QX007 probe-material-tests {
  title zh "探针" en "probe"
  severity info
  cites yhyshj.第三十五条 "没有法律、法规、规章依据"
  for m in item.materials
  when (m.kind ?? "其他") != "申请表" and (empty(m.note) or (m.source ?? "申请人") in ["本部门", "其他部门"] or m.name matches "证$")
  let k = m.kind ?? "其他"
  when not exists(m.provider) and (empty(m.basis) or (m.acquisition ?? "申请人提交") == "告知承诺" or exists(m.format))
  at m.name
  message zh "{m.name} {k}" en "{m.name} {k}"
  help zh "x" en "x"
  example pass { materials: [{name: 申请表, kind: 申请表}] }
  example fail { materials: [{name: 营业执照, kind: 证照}] }
}
"#;

const PROBE_ITEMS: &str = r#"items:
  - code: "230600-XK-0001"
    name: 有法定时限的事项
    legal_days: 20
    visits: 9
    fee: ""
    basis: [行政许可法 第三十条, 行政许可法 第三十一条, 城市房屋拆迁管理条例 第十六条, 某某办法 第一条]
    materials:
      - {name: 营业执照, kind: 证照, basis: [行政许可法 第三十条, 行政许可法 第三十一条]}
      - {name: 其他相关材料, note: ""}
      - {name: 营業執照副本, kind: 证照}
      - {name: 居民户口簿, kind: 证照, note: 视情况提供}
      - {name: 无犯罪记录证明, kind: 证明}
      - {name: 房屋租赁合同, note: "  ", source: 本部门, basis: [行政许可法 第三十条]}
      - {name: 委托书, note: 原件, provider: 公证处, format: 原件}
  - code: "230600-XK-0002"
    name: 没有时限的事项
    steps: 2
    waivers:
      - {rule: QD203, reason: 试点}
    materials:
      - {name: 申请表, kind: 申请表, note: 有}
      - name: 组织机构代码证
        acquisition: 告知承诺
        waivers:
          - {rule: QD101, reason: 告知承诺, expires: 2025-01-01}
  - code: "230600-XK-0002"
    name: 同一编码的事项
  - code: "230600-XK-0003"
    name: 没有材料的事项
    legal_days: 5
  - code: "230600-XK-0004"
    name: 备注只有空格的事项
    materials:
      - {name: 房屋租赁合同, note: "  "}
"#;

#[test]
fn screens_give_up_where_they_cannot_be_sure() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("probes.qd"), PROBES).unwrap();
    std::fs::write(dir.path().join("items.yaml"), PROBE_ITEMS).unwrap();
    let policies = [PolicySource::Builtin, PolicySource::Dir(dir.path().to_path_buf())];
    let report = assert_same(&[dir.path().join("items.yaml")], &policies);
    // The probes do report, errors included: the comparison above compared something.
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    let diags = v["diagnostics"].as_array().unwrap();
    let of = |rule: &str| diags.iter().filter(|d| d["rule"] == rule).collect::<Vec<_>>();
    for rule in ["QX001", "QX002", "QX003", "QX004", "QX005", "QX006", "QX007"] {
        assert!(!of(rule).is_empty(), "{rule} reports nothing: {report}");
    }
    let errors =
        |rule: &str| of(rule).iter().filter(|d| d["message"].as_str().unwrap().contains("无法在此求值")).count();
    // QX001 on the item whose difference underflows, QX002 on the two with a time limit.
    assert_eq!(errors("QX001"), 1, "{report}");
    assert_eq!(errors("QX002"), 2, "{report}");
}

/// Loads `dir` whole.
fn load(dir: &Path) -> (Corpus, References, Program) {
    let d = corpus::discover(&[dir.to_path_buf()], None).unwrap();
    let refs = corpus::references(&d).unwrap();
    let program = policy::load(&[PolicySource::Builtin], &refs).unwrap();
    let corpus = corpus::load(&d, &refs).unwrap();
    (corpus, refs, program)
}

#[test]
fn screens_clear_most_items_of_a_realistic_corpus() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 800, 2, 11, Some("0.25"));
    let (corpus, refs, program) = load(dir.path());
    let opts = RunOptions::all(&program, as_of());
    let n = u32::try_from(corpus.items.len()).unwrap();
    let mut env = Vec::new();
    for rule in &program.rules {
        let Some(screen) = &rule.screen else {
            // Only the chain rule runs unscreened: every item rule has a `when`.
            assert_eq!(rule.id, "QD108", "{} has no screen", rule.id);
            continue;
        };
        let cleared = (0..n).filter(|&i| !screen.may_report(&corpus, &refs, &opts, i, &mut env)).count();
        // QD902 needs what the other rules found (`used`): its screen clears only items
        // without a valid waiver.
        let floor = if rule.id == "QD902" { 0.5 } else { 0.85 };
        assert!(cleared as f64 >= floor * f64::from(n), "{} clears {cleared} of {n} items", rule.id);
    }
    // And the items they let through hold every finding: the whole-corpus run agrees.
    let screened = eval::run(&program, &corpus, &refs, &opts);
    let plain = eval::run(&program, &corpus, &refs, &RunOptions { screens: false, ..opts.clone() });
    let show = |f: &[eval::Finding]| json::render(&Report::with_edits(&corpus, &refs, &program, f, true));
    assert!(!screened.is_empty());
    assert_eq!(show(&screened), show(&plain));
}
