//! The corpus loader: the loaded model, every kind of bad input with its location, encodings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use std::path::Path;

use common::{render_problems, root};
use qingdan::corpus::load::LoadOptions;
use qingdan::corpus::reference::References;
use qingdan::corpus::{self, Corpus};

fn refs() -> References {
    References::builtin().expect("built-in tables load")
}

/// Loads one file through discovery, as `qingdan check FILE` does.
fn load_file(path: &Path) -> Result<Corpus, String> {
    let d = corpus::discover(&[path.to_path_buf()], None).map_err(|e| e.message)?;
    let refs = corpus::references(&d).map_err(|p| render_problems(&p))?;
    corpus::load(&d, &refs).map_err(|p| render_problems(&p))
}

#[test]
fn bad_input_is_one_located_error() {
    insta::glob!("fixtures/load/err/*.yaml", |path| {
        let rel = path.strip_prefix(root()).unwrap();
        let started = std::time::Instant::now();
        let err = load_file(rel).expect_err("bad input must not load");
        assert!(started.elapsed().as_secs() < 5, "{} took too long", rel.display());
        insta::assert_snapshot!(err);
    });
}

#[test]
fn gbk_is_decoded_with_a_note() {
    let text = "items:\n  - code: \"230600-XK-0001\"\n    name: 道路运输从业人员从业资格认定\n    materials: [{name: 其他相关材料}]\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "the fixture must not be UTF-8");
    let (src, note) = corpus::decode("gbk.yaml", &bytes).expect("GBK decodes");
    assert_eq!(src.text(), text);
    let note = note.expect("a note says how it was decoded");
    assert!(note.contains("GB18030"), "{note}");
}

#[test]
fn utf8_bom_is_stripped() {
    let (src, note) = corpus::decode("bom.yaml", b"\xEF\xBB\xBFitems: []\n").unwrap();
    assert_eq!(src.text(), "items: []\n");
    assert!(note.is_none());
}

#[test]
fn binary_is_refused() {
    let err = corpus::decode("x.yaml", b"items:\0\0\0").unwrap_err();
    assert_eq!(err.code, "qingdan::load::binary");
}

/// A compact, stable view of the model for snapshots.
fn describe(c: &Corpus) -> String {
    let mut out = String::new();
    for item in &c.items {
        let (lc, _) = c.sources.line_col(item.code.span);
        out.push_str(&format!(
            "{}:{} {} {} type={:?} dept={:?} handling={:?} promise={:?} legal={:?} promised={:?} visits={:?} online={:?} depts={:?} complex={:?} region={:?}\n",
            c.sources.name(item.code.span.file),
            lc,
            item.code.value,
            item.name.value,
            item.item_type.as_ref().map(|v| v.value),
            item.department.as_ref().map(|v| &v.value),
            item.handling.as_ref().map(|v| v.value),
            item.promise.as_ref().map(|v| v.value),
            item.legal_days.as_ref().map(|v| v.value),
            item.promised_days.as_ref().map(|v| v.value),
            item.visits.as_ref().map(|v| v.value),
            item.online.as_ref().map(|v| v.value),
            item.departments.iter().map(|d| d.value.as_str()).collect::<Vec<_>>(),
            item.complex.iter().map(|d| d.value).collect::<Vec<_>>(),
            c.list(item).and_then(|l| l.region.as_deref()),
        ));
        for b in &item.basis {
            out.push_str(&format!("  basis {:?} statute={:?} article={:?}\n", b.text.value, b.statute, b.article));
        }
        for m in &item.materials {
            let (lc, _) = c.sources.line_col(m.name.span);
            out.push_str(&format!(
                "  {} material {:?} norm={:?} kind={:?} source={:?} acquisition={:?} basis={:?}\n",
                lc,
                m.name.value,
                m.norm_name,
                m.kind.as_ref().map(|v| v.value),
                m.source.as_ref().map(|v| v.value),
                m.acquisition.as_ref().map(|v| v.value),
                m.basis.iter().map(|b| b.text.value.as_str()).collect::<Vec<_>>(),
            ));
        }
        for w in &item.waivers {
            out.push_str(&format!(
                "  waiver {} reason={:?} expires={:?}\n",
                w.rule.value,
                w.reason.as_ref().map(|r| &r.value),
                w.expires.as_ref().map(|e| e.value.to_string())
            ));
        }
    }
    for ch in &c.chains {
        out.push_str(&format!(
            "chain {} {:?}\n",
            ch.name.value,
            ch.steps.iter().map(|s| s.value.as_str()).collect::<Vec<_>>()
        ));
    }
    out
}

#[test]
fn loaded_model() {
    insta::glob!("fixtures/load/ok/*.yaml", |path| {
        let rel = path.strip_prefix(root()).unwrap();
        let c = load_file(rel).unwrap_or_else(|e| panic!("{e}"));
        insta::assert_snapshot!(describe(&c));
    });
}

#[test]
fn the_whole_sample_corpus_loads() {
    let c = load_file(Path::new("corpus")).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.items.len() >= 60, "{} items", c.items.len());
    let departments: std::collections::BTreeSet<_> =
        c.items.iter().filter_map(|i| i.department.as_ref()).map(|d| &d.value).collect();
    assert!(departments.len() >= 3);
    assert!(!c.chains.is_empty());
}

#[test]
fn spans_point_at_values_with_unicode_columns() {
    let text = "items:\n  - 事项编码: \"230600-XK-0001\"\n    事项名称: 道路运输\n    申请材料:\n      - 材料名称: 其他相关材料\n";
    let c = Corpus::from_text("t.yaml", text, &refs(), None, LoadOptions::default()).unwrap();
    let m = &c.items[0].materials[0];
    let (start, end) = c.sources.line_col(m.name.span);
    assert_eq!((start.line, start.column, end.line, end.column), (5, 15, 5, 21));
    assert_eq!(c.sources.slice(m.name.span), "其他相关材料");
    assert_eq!(c.sources.slice(c.items[0].code.span), "\"230600-XK-0001\"");
}

#[test]
fn traditional_enum_values_are_accepted() {
    let text = "items:\n  - code: A\n    name: 測試\n    handling: 承辦件\n    type: 行政許可\n    materials: [{name: 其他相關材料, acquisition: 申請人提交}]\n";
    let c = Corpus::from_text("t.yaml", text, &refs(), None, LoadOptions::default()).unwrap();
    assert_eq!(c.items[0].handling.as_ref().map(|h| h.value), Some("承办件"));
    assert_eq!(c.items[0].item_type.as_ref().map(|h| h.value), Some("行政许可"));
    assert_eq!(&*c.items[0].materials[0].norm_name, "其他相关材料");
}
