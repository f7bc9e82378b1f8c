//! The policy language: parse and check errors, and evaluation of each construct.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use std::path::PathBuf;

use common::{as_of, render_problems, root};
use qingdan::corpus::Corpus;
use qingdan::corpus::config::PolicySource;
use qingdan::corpus::load::LoadOptions;
use qingdan::corpus::reference::References;
use qingdan::eval::{self, RunOptions};
use qingdan::policy;

fn refs() -> References {
    References::builtin().unwrap()
}

#[test]
fn invalid_policies_are_reported_with_spans() {
    insta::glob!("fixtures/policy/err/*.qd", |path| {
        let rel = path.strip_prefix(root()).unwrap().to_path_buf();
        let err =
            policy::load(&[PolicySource::Builtin, PolicySource::Dir(rel)], &refs()).expect_err("must not compile");
        insta::assert_snapshot!(render_problems(&err));
    });
}

#[test]
fn valid_local_policy_compiles() {
    let dir = PathBuf::from("tests/fixtures/policy/ok");
    let p = policy::load(&[PolicySource::Builtin, PolicySource::Dir(dir)], &refs()).unwrap();
    assert!(p.rule("DQ001").is_some());
    assert!(p.lists.iter().any(|l| l.name == "慢事项"));
}

/// Compiles one rule (with the built-in pack) and returns the messages it produces on `yaml`.
fn fire(rule_src: &str, yaml: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.qd"), rule_src).unwrap();
    let r = refs();
    let program = policy::load(&[PolicySource::Builtin, PolicySource::Dir(dir.path().to_path_buf())], &r)
        .unwrap_or_else(|e| panic!("{}", render_problems(&e)));
    let corpus = Corpus::from_text("t.yaml", yaml, &r, Some("大庆市"), LoadOptions::default()).unwrap();
    let findings = eval::run(&program, &corpus, &r, &RunOptions::all(&program, as_of()));
    let idx = program.rules.iter().position(|x| x.id == "TT001").unwrap();
    findings.iter().filter(|f| f.rule == idx).map(|f| f.message.clone()).collect()
}

fn rule(body: &str, message: &str) -> String {
    format!(
        "rule TT001 test-rule {{\n title zh \"t\" en \"t\"\n severity error\n cites xzxkf.第三十条\n{body}\n message zh \"{message}\" en \"{message}\"\n help zh \"h\" en \"h\"\n example pass {{ name: a }}\n example fail {{ name: b }}\n}}\n"
    )
}

const ITEMS: &str = r#"
items:
  - code: "230600-XK-0001"
    name: 甲
    legal_days: 20
    promised_days: 5
    materials: [{name: 营业执照复印件}, {name: 其他相关材料, note: 视情况提供}, {name: 申请表, kind: 申请表}]
  - code: "230600-XK-0002"
    name: 乙
    visits: 2
    materials: []
"#;

#[test]
fn eval_constructs() {
    let cases: &[(&str, &str, &[&str])] = &[
        // Item scope, narrowing with exists() and `and`.
        ("when exists(item.legal_days) and item.legal_days - (item.promised_days ?? 0) > 10", "{item.name}", &["甲"]),
        // `??` gives absence a meaning.
        ("when (item.visits ?? 1) > 1", "{item.name} {item.visits}", &["乙 2"]),
        // Material scope, `let`, a reference-table look-up and interpolation of a record field.
        (
            "for m in item.materials\n let s = shared(m.name)\n when exists(s)",
            "{m.name}→{s.name}/{s.channel}",
            &["营业执照复印件→营业执照/电子证照"],
        ),
        // Phrase matching returns what matched.
        (
            "for m in item.materials\n let hit = catch_all(m.name) ?? catch_all(m.note)\n when exists(hit)",
            "{hit}",
            &["其他相关材料"],
        ),
        // Quantifiers.
        (
            "when count(m in item.materials where (m.kind ?? \"其他\") == \"申请表\") == 1",
            "{item.code}",
            &["230600-XK-0001"],
        ),
        (
            "when all(m in item.materials where m.name != \"x\") and not any(m in item.materials where m.name == \"x\")",
            "{item.code}",
            &["230600-XK-0001", "230600-XK-0002"],
        ),
        ("let f = first(m in item.materials where m.norm_name == \"营业执照\")\n when exists(f)", "{f.index}", &["0"]),
        // if / then / else with narrowing in the branch.
        ("let d = if exists(item.visits) then item.visits else 0\n when d == 0", "{item.name}", &["甲"]),
        // in / not in / contains / matches / + on lists and strings.
        (
            "when item.code in [\"230600-XK-0002\"] and item.name not in [\"甲\"] and item.code contains \"XK\" and item.code matches \"^\\\\d{6}\"",
            "{item.name}",
            &["乙"],
        ),
        ("let xs = [\"a\"] + [\"b\"]\n when count(xs) == 2 and item.name + \"!\" == \"甲!\"", "{xs}", &["a、b"]),
        // Narrowing holds inside a quantifier's condition.
        (
            "when exists(item.promised_days) and any(m in item.materials where item.promised_days > 1)",
            "{item.name}",
            &["甲"],
        ),
        // A `for` over plain values still locates the finding at its item.
        ("for d in [\"x\"]\n when d == \"x\" and (item.visits ?? 0) > 1", "{item.code}", &["230600-XK-0002"]),
        // Corpus-wide index and preceding().
        ("for m in item.materials\n when count(preceding(m)) == 2", "{m.name}", &["申请表"]),
        (
            "when count(same_code(item)) == 0 and in_jurisdiction(item, \"黑龙江省\")",
            "{item.region}",
            &["大庆市", "大庆市"],
        ),
    ];
    for (body, message, expected) in cases {
        let got = fire(&rule(body, message), ITEMS);
        assert_eq!(&got, expected, "rule body:\n{body}");
    }
}

#[test]
fn determinism_across_thread_counts() {
    let r = refs();
    let program = policy::load(&[PolicySource::Builtin], &r).unwrap();
    let d = qingdan::corpus::discover(&[root().join("corpus")], None).unwrap();
    let refs = qingdan::corpus::references(&d).unwrap();
    let corpus = qingdan::corpus::load(&d, &refs).unwrap();
    let opts = RunOptions::all(&program, as_of());
    let run_with = |n: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
        pool.install(|| {
            eval::run(&program, &corpus, &refs, &opts)
                .iter()
                .map(|f| format!("{:?} {} {} {}", f.span, f.rule, f.message, f.waived_by.is_some()))
                .collect::<Vec<_>>()
        })
    };
    let one = run_with(1);
    assert!(!one.is_empty());
    for n in [2, 3, 8] {
        assert_eq!(one, run_with(n), "{n} threads");
    }
}
