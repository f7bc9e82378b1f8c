//! Property tests (proptest): normalisation is idempotent; the output of a check does not depend on
//! the thread count or on the order the files are given in; the loader and the policy parser and
//! checker never panic, whatever the input, and refuse bad input with located errors.
//!
//! `PROPTEST_CASES=20000 cargo test --release --test properties` runs more cases than the defaults.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::as_of;
use proptest::prelude::*;
use proptest::sample::select;
use qingdan::compile::{self, ParsedPolicy, Program};
use qingdan::corpus::config::PolicySource;
use qingdan::corpus::load::LoadOptions;
use qingdan::corpus::reference::References;
use qingdan::corpus::{self, Corpus, normalize};
use qingdan::diag::Problems;
use qingdan::eval::{self, RunOptions};
use qingdan::report::{self, Report};
use qingdan::source::{FileId, SourceFile, SourceMap};
use qingdan::syntax;

fn refs() -> &'static References {
    static REFS: OnceLock<References> = OnceLock::new();
    REFS.get_or_init(|| References::builtin().unwrap())
}

fn builtin() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| qingdan::policy::load(&[PolicySource::Builtin], refs()).unwrap())
}

/// A list with items, chains, waivers and flawed materials, to run fuzzed rules on.
fn sample() -> &'static Corpus {
    static SAMPLE: OnceLock<Corpus> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let text = std::fs::read_to_string(common::root().join("tests/fixtures/rules/QD108.yaml")).unwrap();
        Corpus::from_text("sample.yaml", &text, refs(), Some("大庆市"), LoadOptions::default()).unwrap()
    })
}

/// Every problem of a refused input points into it and says what to do.
fn assert_located(p: &Problems) {
    assert!(!p.problems.is_empty(), "refused without a reason");
    for e in &p.problems {
        assert!(e.span.is_some() && e.src.is_some(), "no location: {} ({})", e.message, e.code);
        assert!(e.help.is_some(), "no help line: {} ({})", e.message, e.code);
    }
    assert!(!report::render_problems(p, false).is_empty());
}

/// `cases` cases, or `PROPTEST_CASES` when it is set. Failing cases are kept beside this file
/// (`properties.proptest-regressions`) and tried first next time.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    let persistence = proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions");
    ProptestConfig { cases, failure_persistence: Some(Box::new(persistence)), ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/// Pieces that normalisation treats specially: suffixes, brackets, quotes, full-width and
/// Traditional forms, white space.
const NAME_PIECES: &[&str] = &[
    "复印件",
    "原件",
    "扫描件",
    "电子件",
    "原件及复印件",
    "（",
    "）",
    "(",
    ")",
    "加盖公章",
    "（加盖公章）",
    "一份",
    "及",
    "、",
    "，",
    "《",
    "》",
    "「",
    "」",
    "\"",
    "'",
    "“",
    "”",
    "〔",
    "〕",
    "[",
    "]",
    "【",
    "】",
    "·",
    " ",
    "\u{3000}",
    "\t",
    "營業執照",
    "营业执照",
    "身份證",
    "ＣＡＤ",
    "ａｂｃ１２３",
    "申请表",
    "行政许可法",
    "第三十条",
    "乾",
    "乾隆",
    "著",
    "後",
    "髮",
    "發",
    "麵",
    "x",
    "1",
];

fn name_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(select(NAME_PIECES), 0..10).prop_map(|v| v.concat()),
        // CJK (Traditional and Simplified), full-width ASCII and the ideographic space.
        prop::collection::vec(
            prop_oneof![
                prop::char::range('\u{4e00}', '\u{9fff}'),
                prop::char::range('\u{ff01}', '\u{ff5e}'),
                Just('\u{3000}'),
                Just('（'),
                Just('）'),
            ],
            0..12
        )
        .prop_map(|v| v.into_iter().collect()),
    ]
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn normalising_a_name_twice_changes_nothing(s in name_like()) {
        let once = normalize::name(&s);
        prop_assert_eq!(normalize::name(&once), once);
    }

    #[test]
    fn normalising_a_citation_twice_changes_nothing(s in name_like()) {
        let once = normalize::citation(&s);
        prop_assert_eq!(normalize::citation(&once), once);
    }

    #[test]
    fn normalising_a_token_twice_changes_nothing(s in name_like()) {
        let once = normalize::token(&s);
        prop_assert_eq!(normalize::token(&once), once);
    }
}

// ---------------------------------------------------------------------------------------------
// Determinism: thread counts and file orders

const CODES: &[&str] = &["230600-XK-0001", "230600-XK-0002", "230600-XK-0003", "230600-QR-0004", "XK 5"];
const ITEM_NAMES: &[&str] = &["道路运输从业资格认定", "开办饭店", "食品经营许可", "建设工程规划许可证核发"];
const MATERIALS: &[&str] = &[
    "{name: 申请表, kind: 申请表}",
    "{name: 营业执照复印件, kind: 证照}",
    "{name: 营业执照, kind: 证照, acquisition: 内部共享, provider: 市市场监督管理局}",
    "{name: 其他相关材料, note: 视情况提供}",
    "{name: 居民身份证, kind: 证件, source: 申请人}",
    "{name: 營業執照, kind: 证照}",
    "{name: 公司章程, basis: [市场主体登记管理条例 第十六条]}",
    "{name: 无犯罪记录证明, kind: 证明, source: 其他部门}",
    "{name: 税务登记证, kind: 证照}",
    "{name: 经营场所租赁合同, kind: 合同协议, waivers: [{rule: QD101, reason: 地方规定, expires: 2025-01-01}]}",
    "机动车驾驶证",
];
/// Item fields, one group per key (a key appears at most once in an item).
const ITEM_FIELDS: &[&[&str]] = &[
    &["type: 行政许可", "type: 公共服务"],
    &["basis: [道路运输条例 第二十二条]", "basis: [行政许可法 第三十条, 不存在的条例 第一条]"],
    &["legal_days: 20"],
    &["promised_days: 25", "promised_days: 5"],
    &["promise: 即收即办"],
    &["visits: 2", "visits: 1"],
    &["online: 全程网办"],
    &["handling: 承办件"],
    &["waivers: [{rule: QD203, reason: 需现场核验}]"],
];

#[derive(Debug, Clone)]
struct GenItem {
    code: &'static str,
    name: &'static str,
    fields: Vec<&'static str>,
    materials: Vec<&'static str>,
}

fn gen_item() -> impl Strategy<Value = GenItem> {
    (
        select(CODES),
        select(ITEM_NAMES),
        ITEM_FIELDS.iter().map(|g| prop::option::of(select(*g))).collect::<Vec<_>>(),
        prop::collection::vec(select(MATERIALS), 0..6),
    )
        .prop_map(|(code, name, fields, materials)| GenItem {
            code,
            name,
            fields: fields.into_iter().flatten().collect(),
            materials,
        })
}

fn render_file(region: &str, items: &[GenItem], chain: bool) -> String {
    let mut s = format!("list: {{title: 清单, region: {region}, department: 市交通运输局}}\nitems:\n");
    for it in items {
        s.push_str(&format!("  - code: \"{}\"\n    name: {}\n", it.code, it.name));
        for f in &it.fields {
            s.push_str(&format!("    {f}\n"));
        }
        s.push_str(&format!("    materials: [{}]\n", it.materials.join(", ")));
    }
    if items.is_empty() {
        s = format!("list: {{region: {region}}}\nitems: []\n");
    }
    if chain && items.len() > 1 {
        let steps: Vec<String> = items.iter().map(|i| format!("\"{}\"", i.code)).collect();
        s.push_str(&format!("chains:\n  - {{name: 我要开饭店, steps: [{}]}}\n", steps.join(", ")));
    }
    s
}

/// Checks `paths` in a pool of `threads` threads; the JSON and the human report.
fn check_in_pool(paths: &[PathBuf], threads: usize) -> String {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let d = corpus::discover(paths, None).unwrap();
        let corpus = corpus::load(&d, refs()).unwrap_or_else(|p| panic!("{}", common::render_problems(&p)));
        let program = builtin();
        let findings = eval::run(program, &corpus, refs(), &RunOptions::all(program, as_of()));
        let r = Report::new(&corpus, refs(), program, &findings);
        format!("{}\n{}", report::json::render(&r), report::human::render(&r, false, 100, false))
    })
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn output_does_not_depend_on_threads_or_file_order(
        files in prop::collection::vec(
            (select(&["大庆市", "安阳市", "云浮市", "上海市"][..]), prop::collection::vec(gen_item(), 0..5), any::<bool>()),
            1..4,
        ),
        order in any::<prop::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (i, (region, items, chain)) in files.iter().enumerate() {
            let p = dir.path().join(format!("list-{i}.yaml"));
            std::fs::write(&p, render_file(region, items, *chain)).unwrap();
            paths.push(p);
        }
        let reference = check_in_pool(&[dir.path().to_path_buf()], 1);
        let mut reversed = paths.clone();
        reversed.reverse();
        let mut rotated = paths.clone();
        rotated.rotate_left(order.index(paths.len()));
        for (threads, given) in [(2, &paths), (4, &reversed), (3, &rotated), (1, &reversed)] {
            let got = check_in_pool(given, threads);
            prop_assert!(got == reference, "{threads} threads, files {given:?}:\n{got}\n--- vs one thread over the directory:\n{reference}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The loader never panics

/// Tokens a YAML file is made of, valid and not.
const YAML_PIECES: &[&str] = &[
    "items:",
    "list:",
    "chains:",
    "事项:",
    "清单:",
    "\n",
    "\n  ",
    "\n    ",
    "  ",
    " ",
    "- ",
    "-",
    ": ",
    ":",
    "{",
    "}",
    "[",
    "]",
    ", ",
    "&a ",
    "*a",
    "&b ",
    "*b",
    "<<: *a",
    "!!str ",
    "!!map ",
    "!tag ",
    "'",
    "''",
    "\"",
    "\\",
    "\\u00e9",
    "|\n  ",
    ">-\n  ",
    "# c",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "? ",
    "\t",
    "\r\n",
    "~",
    "null",
    "true",
    "0x1F",
    "1e3",
    "-1",
    "99999999999999999999",
    "code: \"230600-XK-0001\"",
    "name: 甲",
    "materials:",
    "basis: [行政许可法 第三十条]",
    "legal_days: 20",
    "promised_days: 5",
    "visits: 1",
    "waivers: [{rule: QD203, reason: r, expires: 2027-02-30}]",
    "steps: [a, b]",
    "名称",
    "營業執照",
    "\u{feff}",
    "\u{0}",
    "\u{85}",
    "\u{2028}",
    "\u{1F600}",
];

/// A valid list that the mutations start from.
const VALID: &str = "list: {title: 清单, region: 大庆市}\nitems:\n  - code: \"230600-XK-0001\"\n    name: 甲\n    legal_days: 20\n    promised_days: 5\n    materials: [{name: 申请表, kind: 申请表}, {name: 其他相关材料}, 身份证]\n    waivers: [{rule: QD203, reason: r}]\nchains:\n  - {name: 链, steps: [\"230600-XK-0001\"]}\n";

fn yaml_like() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(select(YAML_PIECES), 0..40).prop_map(|v| v.concat()),
        // A valid list with pieces spliced in and spans cut out.
        (prop::collection::vec((any::<prop::sample::Index>(), select(YAML_PIECES), 0usize..8), 1..6)).prop_map(
            |edits| {
                let mut s: Vec<char> = VALID.chars().collect();
                for (at, piece, cut) in edits {
                    let i = at.index(s.len() + 1);
                    let end = (i + cut).min(s.len());
                    s.splice(i..end, piece.chars());
                }
                s.into_iter().collect()
            }
        ),
        any::<String>(),
    ]
}

fn load_str(text: &str) {
    match Corpus::from_text("p.yaml", text, refs(), Some("大庆市"), LoadOptions::default()) {
        Ok(c) => {
            // What loads is checked and rendered too.
            let findings = eval::run(builtin(), &c, refs(), &RunOptions::all(builtin(), as_of()));
            let r = Report::new(&c, refs(), builtin(), &findings);
            let _ = report::json::render(&r);
            let _ = report::human::render(&r, false, 100, false);
        }
        Err(p) => assert_located(&p),
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn the_loader_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        match corpus::decode("p.yaml", &bytes) {
            Ok((src, _)) => load_str(src.text()),
            Err(e) => prop_assert!(!e.message.is_empty() && e.help.is_some()),
        }
    }

    #[test]
    fn the_loader_takes_any_yaml_like_text(text in yaml_like()) {
        load_str(&text);
    }
}

// ---------------------------------------------------------------------------------------------
// The policy parser and checker never panic

const QD_PIECES: &[&str] = &[
    "rule ",
    "QD999 ",
    "x-y ",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "\"s\"",
    "/re/",
    "/[/",
    "title zh \"t\" en \"t\"\n",
    "severity error\n",
    "severity nope\n",
    "cites xzxkf.第三十条\n",
    "cites nope.第一条 \"x\"\n",
    "for m in item.materials\n",
    "for c in chains\n",
    "for s in c.steps\n",
    "let x = ",
    "when ",
    "at ",
    "message zh \"{m.name}\" en \"{x}\"\n",
    "help zh \"h\" en \"h\"\n",
    "fix safe remove m\n",
    "fix unsafe set m.kind = \"证照\"\n",
    "example pass { name: a }\n",
    "example fail \"../x.yaml\"\n",
    "item.",
    "m.",
    "name",
    "norm_name",
    "promised_days",
    "legal_days",
    "materials",
    "basis",
    "exists(",
    "count(",
    "first(",
    "any(",
    "all(",
    "same_code(",
    "preceding(",
    "catch_all(",
    "shared(",
    "certificate(",
    "covers(",
    "used(",
    "in_jurisdiction(",
    "x in ",
    " where ",
    " and ",
    " or ",
    "not ",
    " == ",
    " != ",
    " < ",
    " >= ",
    " + ",
    " - ",
    " * ",
    " / ",
    " % ",
    " ?? ",
    "0",
    "1",
    "-1",
    "9223372036854775807",
    "99999999999999999999",
    "true",
    "false",
    "{item.name}",
    "{",
    "}",
    "\n",
    " ",
    "//",
    "/// doc\n",
    "#",
    "list L { }",
    "in L",
    ".index",
    ".location",
];

fn policy_like() -> impl Strategy<Value = String> {
    let builtins: Vec<&'static str> =
        qingdan::policy::builtin::FILES.iter().filter(|(p, _)| p.ends_with(".qd")).map(|(_, t)| *t).collect();
    prop_oneof![
        prop::collection::vec(select(QD_PIECES), 0..60).prop_map(|v| v.concat()),
        // A built-in rule with pieces spliced in and spans cut out.
        (select(builtins), prop::collection::vec((any::<prop::sample::Index>(), select(QD_PIECES), 0usize..12), 1..6))
            .prop_map(|(text, edits)| {
                let mut s: Vec<char> = text.chars().collect();
                for (at, piece, cut) in edits {
                    let i = at.index(s.len() + 1);
                    let end = (i + cut).min(s.len());
                    s.splice(i..end, piece.chars());
                }
                s.into_iter().collect()
            }),
        any::<String>(),
    ]
}

fn compile_str(text: &str) {
    let src = SourceFile::new("p.qd", text);
    let mut map = SourceMap::new();
    let file: FileId = map.add(src.clone());
    let ast = match syntax::parse(&src, file) {
        Ok(ast) => ast,
        Err(e) => return assert_located(&Problems::new("syntax", e)),
    };
    match compile::compile(vec![ParsedPolicy { src, file, ast }], refs(), map) {
        Ok(program) => {
            let findings = eval::run(&program, sample(), refs(), &RunOptions::all(&program, as_of()));
            let r = Report::new(sample(), refs(), &program, &findings);
            let _ = report::json::render(&r);
            let _ = report::human::render(&r, false, 100, false);
        }
        Err(e) => assert_located(&Problems::new("check", e)),
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn the_policy_parser_and_checker_take_any_text(text in policy_like()) {
        compile_str(&text);
    }
}

// ---------------------------------------------------------------------------------------------
// fix, then check: a fixed finding is not reported again

/// Findings counted by (rule, item, material name, message).
fn fingerprints(corpus: &Corpus, findings: &[eval::Finding]) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for f in findings {
        let item = f.item.and_then(|i| corpus.items.get(i as usize));
        let material = item.zip(f.material).and_then(|(it, m)| it.materials.get(m as usize)).map(|m| &*m.name.value);
        let key = format!("{} | {:?} | {:?} | {}", builtin().rules[f.rule].id, f.item, material, f.message);
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn fixed_findings_are_not_reported_again(items in prop::collection::vec(gen_item(), 1..5), chain in any::<bool>()) {
        let text = render_file("大庆市", &items, chain);
        let program = builtin();
        let run = |c: &Corpus| eval::run(program, c, refs(), &RunOptions::all(program, as_of()));
        let before = Corpus::from_text("f.yaml", &text, refs(), Some("大庆市"), LoadOptions::default()).unwrap();
        let findings = run(&before);
        let mut edits = Vec::new();
        let mut owners = Vec::new(); // for each edit, the finding it fixes
        for (k, f) in findings.iter().enumerate() {
            let Some(fx) = &f.fix else { continue };
            if fx.applicability == qingdan::syntax::ast::Applicability::Display || f.waived_by.is_some() || f.eval_error {
                continue;
            }
            for e in qingdan::fix::edits(&before, fx) {
                edits.push(e);
                owners.push(k);
            }
        }
        let (after_text, applied) = qingdan::fix::apply(&text, &edits);
        // A finding is fixed when every edit it asked for was applied.
        let mut fixed = std::collections::BTreeMap::<String, usize>::new();
        for (k, f) in findings.iter().enumerate() {
            let mine: Vec<usize> = owners.iter().enumerate().filter(|(_, o)| **o == k).map(|(i, _)| i).collect();
            if !mine.is_empty() && mine.iter().all(|i| applied.contains(i)) {
                for (key, n) in fingerprints(&before, std::slice::from_ref(f)) {
                    *fixed.entry(key).or_insert(0) += n;
                }
            }
        }
        // The fixed text still loads…
        let after = Corpus::from_text("f.yaml", &after_text, refs(), Some("大庆市"), LoadOptions::default());
        prop_assert!(after.is_ok(), "the fixed text does not load:\n{after_text}\n{}", after.err().map(|p| common::render_problems(&p)).unwrap_or_default());
        let after = after.unwrap();
        // …and no fixed finding comes back.
        let was = fingerprints(&before, &findings);
        let now = fingerprints(&after, &run(&after));
        for (key, n) in &fixed {
            let left = was.get(key).copied().unwrap_or(0).saturating_sub(*n);
            let again = now.get(key).copied().unwrap_or(0);
            prop_assert!(again <= left, "fixed, yet reported again: {key}\n--- before:\n{text}\n--- after:\n{after_text}");
        }
    }
}
