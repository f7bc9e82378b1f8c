//! The built-in rule pack: documentation, examples, phrase precision, per-rule fixtures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use common::{SPEC_RULES, check_json, root};
use qingdan::corpus::config::PolicySource;
use qingdan::corpus::reference::References;
use qingdan::policy;

#[test]
fn every_spec_rule_is_written_in_the_policy_language() {
    let refs = References::builtin().unwrap();
    let p = policy::load(&[PolicySource::Builtin], &refs).unwrap();
    let ids: Vec<&str> = p.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, SPEC_RULES);
    for r in &p.rules {
        for section in [
            "## 检查什么",
            "## What it checks",
            "## 为什么",
            "## Why",
            "## 示例",
            "## Example",
            "## 怎么改",
            "## Remediation",
        ] {
            assert!(r.docs.iter().any(|d| d.trim() == section), "{} lacks the section `{section}`", r.id);
        }
        assert!(!r.cites.is_empty(), "{} cites nothing", r.id);
        assert!(r.examples.iter().any(|e| e.pass) && r.examples.iter().any(|e| !e.pass), "{}", r.id);
        for c in &r.cites {
            let s = refs.registry.get(c.statute).unwrap();
            assert!(
                matches!(s.verification, "VERIFIED" | "VERIFIED-SECONDARY"),
                "{} cites unverified {}",
                r.id,
                s.title
            );
            let text = s.quotable(&c.article).unwrap();
            assert!(
                text.contains(c.key_sentence.trim_end_matches(['。', '；'])),
                "{}: key sentence not in {}",
                r.id,
                c.article
            );
        }
    }
}

#[test]
fn phrase_matcher_catches_and_keeps_its_examples() {
    let refs = References::builtin().unwrap();
    let ex = &refs.phrases.examples;
    assert!(ex.catch.len() >= 20 && ex.keep.len() >= 20);
    let missed: Vec<&String> = ex.catch.iter().filter(|n| refs.phrases.find(n).is_none()).collect();
    assert!(missed.is_empty(), "not caught: {missed:?}");
    let wrongly: Vec<(&String, String)> =
        ex.keep.iter().filter_map(|n| refs.phrases.find(n).map(|hit| (n, hit))).collect();
    assert!(wrongly.is_empty(), "caught but specific: {wrongly:?}");
}

#[test]
fn verified_texts_are_verbatim_from_statutes_md() {
    // Every quoted article must occur verbatim (paragraph by paragraph) in ../shared/statutes.md.
    let Ok(md) = std::fs::read_to_string(root().join("../shared/statutes.md")) else {
        eprintln!("skipped: ../shared/statutes.md is not beside the checkout");
        return;
    };
    let refs = References::builtin().unwrap();
    for s in &refs.registry.statutes {
        for (article, text) in &s.articles {
            for para in text.lines().filter(|l| !l.trim().is_empty()) {
                let para = para.trim().trim_end_matches('…').trim_end_matches("……");
                assert!(md.contains(para), "《{}》{article}: paragraph not in statutes.md: {para}", s.title);
            }
        }
    }
}

#[test]
fn per_rule_fixtures() {
    insta::glob!("fixtures/rules/*.yaml", |path| {
        let rel = path.strip_prefix(root()).unwrap();
        insta::assert_snapshot!(check_json(&[rel]).unwrap_or_else(|e| e));
    });
}

#[test]
fn precision_fixtures() {
    insta::glob!("fixtures/precision/*.yaml", |path| {
        let rel = path.strip_prefix(root()).unwrap();
        insta::assert_snapshot!(check_json(&[rel]).unwrap_or_else(|e| e));
    });
}
