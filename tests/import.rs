//! `qingdan import`: spreadsheets (xlsx generated here, CSV fixtures in tests/fixtures/import/)
//! → YAML lists that qingdan loads, with every problem reported by sheet, row and column.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use std::path::{Path, PathBuf};

use common::{AS_OF, qingdan, render_problems, root, stderr, stdout};
use qingdan::import::{self, Imported, Layout, Level, Options};
use rust_xlsxwriter::{Format, Workbook};

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/import").join(name)
}

fn import_with(path: &Path, opts: &Options) -> Imported {
    let imported = import::import_file(path, opts).unwrap_or_else(|p| panic!("{}", render_problems(&p)));
    imported
        .verify()
        .unwrap_or_else(|p| panic!("the imported YAML must load:\n{}\n{}", render_problems(&p), imported.yaml));
    imported
}

fn import(path: &Path) -> Imported {
    import_with(path, &Options::default())
}

/// The YAML and every problem, as one text for a snapshot.
fn report(imp: &Imported) -> String {
    let mut s = imp.yaml.clone();
    s.push_str("\n──── problems ────\n");
    for p in &imp.problems {
        let level = match p.level {
            Level::Warning => "warning",
            Level::Note => "note",
        };
        s.push_str(&format!("{level} {} {}\n    help: {}\n", p.code, p.line(), p.help));
    }
    s
}

/// Checks a YAML text with the binary: it must load (exit 0 or 1, never 2).
fn check_yaml(yaml: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imported.yaml");
    std::fs::write(&path, yaml).unwrap();
    let o = qingdan(&["check", path.to_str().unwrap(), "--as-of", AS_OF, "-q"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "check must load the import:\n{}\n{yaml}", stderr(&o));
    o
}

const HEADERS: [&str; 17] = [
    "事项编码",
    "事项名称",
    "事项类型",
    "实施主体",
    "设定依据",
    "法定办结时限",
    "承诺办结时限",
    "到现场次数",
    "办件类型",
    "网办深度",
    "材料名称",
    "材料类型",
    "材料来源",
    "获取方式",
    "材料依据",
    "备注",
    "联系电话",
];

/// A 事项总表 as departments send it: a merged title row, a two-row header (办结时限 over 法定 and
/// 承诺), one row per material with the item columns merged down, 材料来源 merged over two
/// materials, numbers stored as numbers, an instructions sheet and a hidden option sheet.
fn write_workbook(path: &Path) {
    let mut wb = Workbook::new();
    let plain = Format::new();
    let ws = wb.add_worksheet();
    ws.set_name("事项总表").unwrap();
    ws.merge_range(0, 0, 0, 16, "大庆市市级政务服务事项总表", &plain).unwrap();
    // Header: rows 2–3. Columns other than the two time limits are merged down.
    for (c, h) in HEADERS.iter().enumerate() {
        let c = u16::try_from(c).unwrap();
        if c == 5 || c == 6 {
            continue;
        }
        ws.merge_range(1, c, 2, c, h, &plain).unwrap();
    }
    ws.merge_range(1, 5, 1, 6, "办结时限（工作日）", &plain).unwrap();
    ws.write_string(2, 5, "法定").unwrap();
    ws.write_string(2, 6, "承诺").unwrap();
    // Item 1: rows 4–6 (0-based 3–5).
    let item1: [(u16, &str); 5] = [
        (0, "230600-XK-0101"),
        (1, "道路运输从业人员从业资格认定"),
        (2, "行政许可"),
        (3, "市交通运输局"),
        (4, "《道路运输条例》第九条"),
    ];
    for (c, v) in item1 {
        ws.merge_range(3, c, 5, c, v, &plain).unwrap();
    }
    for (c, n) in [(5u16, 10.0), (6, 5.0), (7, 1.0)] {
        ws.merge_range(3, c, 5, c, "", &plain).unwrap();
        ws.write_number(3, c, n).unwrap();
    }
    ws.merge_range(3, 8, 5, 8, "承办件", &plain).unwrap();
    ws.merge_range(3, 9, 5, 9, "网上预审", &plain).unwrap();
    let mats1: [[&str; 6]; 3] = [
        ["道路运输从业资格考试申请表", "申请表", "申请人", "申请人提交", "", ""],
        ["居民身份证", "证件", "", "申请人提交", "《道路运输条例》第九条", "核验后退还"],
        ["机动车驾驶证", "证照", "其他部门", "内部共享", "《道路运输条例》第九条", ""],
    ];
    for (r, m) in mats1.iter().enumerate() {
        let r = 3 + u32::try_from(r).unwrap();
        for (c, v) in m.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r, 10 + u16::try_from(c).unwrap(), *v).unwrap();
            }
        }
    }
    // 材料来源 merged over the first two materials.
    ws.merge_range(3, 12, 4, 12, "申请人", &plain).unwrap();
    ws.write_string(3, 16, "0459-6123456").unwrap();
    // Item 2: row 7 (0-based 6), one material, an unknown 网办深度.
    let item2 = ["230600-XK-0102", "巡游出租汽车经营许可", "行政许可", "市交通运输局", "国务院令第412号"];
    for (c, v) in item2.iter().enumerate() {
        ws.write_string(6, u16::try_from(c).unwrap(), *v).unwrap();
    }
    ws.write_number(6, 5, 20.0).unwrap();
    ws.write_number(6, 6, 25.0).unwrap();
    ws.write_string(6, 7, "两次").unwrap();
    ws.write_string(6, 8, "承办件").unwrap();
    ws.write_string(6, 9, "四级").unwrap();
    ws.write_string(6, 10, "巡游出租汽车经营申请表").unwrap();
    ws.write_string(6, 11, "申请表").unwrap();

    let notes = wb.add_worksheet();
    notes.set_name("填表说明").unwrap();
    notes.write_string(0, 0, "1. 每份材料占一行；同一事项的事项信息可合并单元格。").unwrap();
    notes.write_string(1, 0, "2. 办结时限以工作日计。").unwrap();

    let options = wb.add_worksheet();
    options.set_name("选项").unwrap();
    options.write_string(0, 0, "即办件").unwrap();
    options.write_string(1, 0, "承办件").unwrap();
    options.set_hidden(true);
    wb.save(path).unwrap();
}

#[test]
fn xlsx_with_merged_cells_and_a_two_row_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("事项总表.xlsx");
    write_workbook(&path);
    let imp = import(&path);
    assert_eq!((imp.items, imp.materials), (2, 4));
    // Merged item cells carry over to every material row; the merged 材料来源 to both materials.
    assert!(imp.yaml.contains("legal_days: 10\n    promised_days: 5"), "{}", imp.yaml);
    assert_eq!(imp.yaml.matches("source: 申请人\n").count(), 2, "{}", imp.yaml);
    insta::assert_snapshot!(report(&imp));
    check_yaml(&imp.yaml);
}

#[test]
fn xlsx_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("事项总表.xlsx");
    write_workbook(&xlsx);
    let out = dir.path().join("list.yaml");
    let o = qingdan(&["import", xlsx.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "problems were reported: {}", stderr(&o));
    assert!(stdout(&o).is_empty(), "with -o the YAML goes to the file");
    let err = stderr(&o);
    assert!(err.contains("事项总表!Q2"), "the unmapped column is located: {err}");
    assert!(err.contains("事项总表!J7"), "the unparsable cell is located: {err}");
    assert!(err.contains("填表说明"), "the skipped sheet is named: {err}");
    let yaml = std::fs::read_to_string(&out).unwrap();
    let o = qingdan(&["check", out.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // The finding's snippet shows where in the spreadsheet the item came from.
    assert!(stdout(&o).contains("# 来源: 事项总表!7"), "{}", stdout(&o));
    assert!(yaml.contains("# 来源: 事项总表!4:6"), "{yaml}");
}

#[test]
fn csv_one_row_per_material() {
    let imp = import(&fixture("per-material.csv"));
    assert_eq!((imp.items, imp.materials), (3, 9));
    insta::assert_snapshot!(report(&imp));
    let o = check_yaml(&imp.yaml);
    assert_eq!(o.status.code(), Some(1), "the fixture has flaws on purpose");
}

#[test]
fn csv_one_row_per_item() {
    let imp = import(&fixture("per-item.csv"));
    assert_eq!((imp.items, imp.materials), (3, 8));
    insta::assert_snapshot!(report(&imp));
    check_yaml(&imp.yaml);
}

#[test]
fn layout_can_be_forced() {
    // Read as one row per material, the per-item sheet keeps each materials cell whole.
    let opts = Options { layout: Layout::Material, ..Options::default() };
    let imp = import_with(&fixture("per-item.csv"), &opts);
    assert_eq!((imp.items, imp.materials), (3, 3));
}

#[test]
fn gb18030_csv_is_decoded_with_a_note() {
    let text = std::fs::read_to_string(fixture("per-material.csv")).unwrap();
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "the fixture must not be UTF-8");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("per-material.csv");
    std::fs::write(&path, &bytes).unwrap();
    let gbk = import(&path);
    let utf8 = import(&fixture("per-material.csv"));
    assert_eq!(gbk.yaml, utf8.yaml, "GB18030 reads exactly as UTF-8 does");
    let note = gbk.problems.iter().find(|p| p.code == "qingdan::import::encoding").expect("a note names the encoding");
    assert_eq!(note.level, Level::Note);
    assert!(note.message.contains("GB18030"), "{}", note.message);
}

#[test]
fn utf8_bom_is_stripped() {
    let text = std::fs::read(fixture("per-material.csv")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("per-material.csv");
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(&text);
    std::fs::write(&path, with_bom).unwrap();
    assert_eq!(import(&path).yaml, import(&fixture("per-material.csv")).yaml);
}

#[test]
fn mapping_file_for_unusual_headers_and_values() {
    let opts = Options { mapping: Some(fixture("unusual-map.yaml")), ..Options::default() };
    let imp = import_with(&fixture("unusual.csv"), &opts);
    assert_eq!(imp.warnings(), 0, "{}", report(&imp));
    insta::assert_snapshot!(report(&imp));
    // Without the mapping no header row is recognised: a clear error that shows the first row.
    let err = import::import_file(&fixture("unusual.csv"), &Options::default()).expect_err("no header");
    let text = render_problems(&err);
    assert!(text.contains("--map") && text.contains("主项编码"), "{text}");
    // With a mapping that names only the item columns, every other column is reported.
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("map.yaml");
    std::fs::write(&map, "columns: {主项编码: code, 主项名称: name}\n").unwrap();
    let partial = import_with(&fixture("unusual.csv"), &Options { mapping: Some(map), ..Options::default() });
    let unmapped: Vec<String> = partial
        .problems
        .iter()
        .filter(|p| p.code == "qingdan::import::unmapped_column")
        .map(|p| p.location.to_string())
        .collect();
    assert_eq!(
        unmapped,
        [
            "unusual.csv!D1",
            "unusual.csv!E1",
            "unusual.csv!F1",
            "unusual.csv!G1",
            "unusual.csv!H1",
            "unusual.csv!I1",
            "unusual.csv!J1",
            "unusual.csv!K1",
            "unusual.csv!L1",
            "unusual.csv!M1"
        ]
    );
}

#[test]
fn invalid_mapping_file() {
    let opts = Options { mapping: Some(fixture("bad-map.yaml")), ..Options::default() };
    let err = import::import_file(&fixture("unusual.csv"), &opts).expect_err("a bad mapping file stops the import");
    insta::assert_snapshot!(render_problems(&err).replace(&root().display().to_string(), "<root>"));
}

#[test]
fn every_problem_is_located() {
    let imp = import(&fixture("errors.csv"));
    insta::assert_snapshot!(report(&imp));
    for p in imp.problems.iter().filter(|p| p.level == Level::Warning) {
        assert!(p.location.row.is_some(), "{} has a row", p.line());
        assert!(!p.help.is_empty(), "{} has a help line", p.line());
    }
    check_yaml(&imp.yaml);
}

#[test]
fn exit_codes() {
    // Clean import: 0, YAML on standard output.
    let o =
        qingdan(&["import", "tests/fixtures/import/unusual.csv", "--map", "tests/fixtures/import/unusual-map.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("# "), "{}", stdout(&o));
    // Problems: 1.
    let o = qingdan(&["import", "tests/fixtures/import/errors.csv", "-q"]);
    assert_eq!(o.status.code(), Some(1));
    // Could not run: 2.
    for args in [
        &["import", "no/such/file.xlsx"][..],
        &["import", "tests/fixtures/import/bad-map.yaml"],
        &["import", "tests/fixtures/import/unusual.csv", "--map", "tests/fixtures/import/bad-map.yaml"],
        &["import", "tests/fixtures/import/unusual.csv", "--sheet", "事项"],
        &["import", "tests/fixtures/import/unusual.csv", "--header-row", "40"],
    ] {
        let o = qingdan(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty());
        assert!(stderr(&o).contains("help"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn english_messages() {
    let o = qingdan(&["--lang", "en", "import", "tests/fixtures/import/per-item.csv"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("`进驻` is not yes/no"), "{err}");
    assert!(err.contains("imported 3 items and 8 materials"), "{err}");
    // The origin comments stay Chinese: tools read them.
    assert!(stdout(&o).contains("# 来源: per-item.csv!L2"), "{}", stdout(&o));
}

#[test]
fn check_can_take_a_spreadsheet() {
    use qingdan::cli::import::spreadsheet_inputs;
    use qingdan::corpus;

    let path = PathBuf::from("tests/fixtures/import/per-material.csv");
    let abs = root().join(&path);
    let sheets = spreadsheet_inputs(std::slice::from_ref(&abs)).unwrap_or_else(|p| panic!("{}", render_problems(&p)));
    let d = corpus::discover(std::slice::from_ref(&abs), None).unwrap();
    let refs = corpus::references(&d).unwrap();
    let c = corpus::load_with_overrides(&d, &refs, &|| {}, &sheets.overrides)
        .unwrap_or_else(|p| panic!("{}", render_problems(&p)));
    assert_eq!((c.items.len(), c.material_count()), (3, 9));
    // Every line carries its cell, and `locate` maps a finding's line back to it.
    let item = &c.items[1];
    let src = c.sources.get(item.code.span.file).unwrap();
    let line = src.line_col(item.code.span.start as usize).line;
    assert_eq!(sheets.locate(&abs.display().to_string(), line).as_deref(), Some("per-material.csv!B6"));
    let legal = item.legal_days.as_ref().unwrap();
    let line = src.line_col(legal.span.start as usize).line;
    assert_eq!(sheets.locate(&abs.display().to_string(), line).as_deref(), Some("per-material.csv!G6"));
    assert!(src.text().lines().nth(line - 1).unwrap().ends_with("# 来源: per-material.csv!G6"));
}

#[test]
fn csv_two_row_header() {
    // In CSV a group heading is written once, with blanks to its right.
    let text = "事项编码,事项名称,办结时限,,申请材料,,\n,,法定,承诺,名称,类型,来源\n\
                230600-XK-0001,甲事项,20,5,申请书,申请表,申请人\n,,,,居民身份证,证件,申请人\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two-rows.csv");
    std::fs::write(&path, text).unwrap();
    let imp = import(&path);
    assert_eq!(imp.warnings(), 0, "{}", report(&imp));
    assert_eq!((imp.items, imp.materials), (1, 2));
    assert!(imp.yaml.contains("legal_days: 20\n    promised_days: 5"), "{}", imp.yaml);
    assert!(imp.yaml.contains("- name: 居民身份证\n        kind: 证件\n        source: 申请人"), "{}", imp.yaml);
}
