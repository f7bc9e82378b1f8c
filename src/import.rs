//! `qingdan import`: the spreadsheets departments already fill (事项总表) → YAML lists (SPEC §2).
//!
//! Stages: read the file into [`Grid`]s (one per sheet: xlsx/xls/ods through calamine, with merged
//! regions filled from their top-left cell; CSV in UTF-8 with or without BOM, UTF-16 with a BOM,
//! or GB18030); find each sheet's header row (one or two rows) and map every column to a field
//! through the header table below or a mapping file; group the data rows into items — one row per
//! material (item columns repeated, merged or left blank) or one row per item (materials in one
//! cell separated by 、；; or new lines); parse every cell with the loader's enumerated domains; write
//! YAML with `# 来源: sheet!row` comments.
//!
//! Nothing is dropped silently: every unmapped column, every cell that cannot be parsed, every
//! conflict between rows of one item and every row that could not be placed is a [`Problem`] with
//! its sheet, row and column. Unparsable values are also kept as comments in the YAML.

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::corpus::model::{
    ACQUISITION, COMPLEX, Domain, FORMAT, HANDLING, ITEM_TYPE, MATERIAL_KIND, ONLINE, PROMISE, SOURCE,
};
use crate::corpus::normalize;
use crate::corpus::yaml::{self, Node, NodeKind};
use crate::diag::{Problems, SourceError, did_you_mean};
use crate::source::{FileId, SourceFile, Span};
use crate::tr;

/// Largest spreadsheet read (bytes).
pub const MAX_SPREADSHEET_BYTES: u64 = 256 * 1024 * 1024;

/// Rows searched for the header.
const HEADER_SEARCH_ROWS: usize = 30;

/// The comment that points a YAML line back to the spreadsheet. Not translated: tools parse it.
pub const ORIGIN_PREFIX: &str = "# 来源: ";

// ───────────────────────────── fields and headers ─────────────────────────────

/// How a cell of a field is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One line of text (line breaks inside the cell are joined).
    Text,
    /// Free text that keeps its line breaks.
    Note,
    /// Working days: 20, 20个工作日, 二十日, 即办 (0).
    Days,
    /// Visits: 1, 1次, 最多跑一次, 不见面 (0).
    Visits,
    /// A count: 3, 3个, 2份.
    Count,
    Bool,
    Enum(&'static Domain),
    EnumList(&'static Domain),
    TextList,
    Citations,
}

/// A field of SPEC §2.1 that a column can fill.
struct Field {
    /// The YAML key.
    key: &'static str,
    /// A material's field (else the item's).
    material: bool,
    /// The Chinese name, for messages.
    zh: &'static str,
    kind: Kind,
    /// Header spellings, already in the form of [`header_key`].
    headers: &'static [&'static str],
}

const FIELDS: &[Field] = &[
    Field {
        key: "code",
        material: false,
        zh: "事项编码",
        kind: Kind::Text,
        headers: &[
            "事项编码",
            "编码",
            "事项代码",
            "事项编号",
            "实施编码",
            "实施清单编码",
            "基本编码",
            "权力编码",
            "权力事项编码",
            "事项实施编码",
        ],
    },
    Field {
        key: "name",
        material: false,
        zh: "事项名称",
        kind: Kind::Text,
        headers: &[
            "事项名称",
            "名称",
            "事项",
            "事项名",
            "服务事项名称",
            "政务服务事项名称",
            "权力事项名称",
            "权力名称",
            "实施清单名称",
        ],
    },
    Field {
        key: "type",
        material: false,
        zh: "事项类型",
        kind: Kind::Enum(&ITEM_TYPE),
        headers: &["事项类型", "事项类别", "权力类型", "权力类别", "职权类型", "职权类别", "类型", "类别"],
    },
    Field {
        key: "department",
        material: false,
        zh: "实施主体",
        kind: Kind::Text,
        headers: &[
            "实施主体",
            "实施主体名称",
            "实施机关",
            "实施部门",
            "实施单位",
            "部门",
            "责任部门",
            "责任单位",
            "主管部门",
            "受理部门",
            "受理单位",
        ],
    },
    Field {
        key: "basis",
        material: false,
        zh: "设定依据",
        kind: Kind::Citations,
        headers: &[
            "设定依据",
            "依据",
            "法律依据",
            "实施依据",
            "法定依据",
            "设定和实施依据",
            "设立依据",
            "法律法规依据",
        ],
    },
    Field {
        key: "handling",
        material: false,
        zh: "办件类型",
        kind: Kind::Enum(&HANDLING),
        headers: &["办件类型", "办件类别", "办理类型"],
    },
    Field {
        key: "promise",
        material: false,
        zh: "四办类别",
        kind: Kind::Enum(&PROMISE),
        headers: &["四办类别", "四办类型", "四办"],
    },
    Field {
        key: "legal_days",
        material: false,
        zh: "法定办结时限",
        kind: Kind::Days,
        headers: &["法定办结时限", "法定时限", "法定期限", "法定办理时限", "法定办结期限", "法定办结时间"],
    },
    Field {
        key: "promised_days",
        material: false,
        zh: "承诺办结时限",
        kind: Kind::Days,
        headers: &["承诺办结时限", "承诺时限", "承诺期限", "承诺办理时限", "承诺办结期限", "承诺办结时间"],
    },
    Field {
        key: "visits",
        material: false,
        zh: "到现场次数",
        kind: Kind::Visits,
        headers: &[
            "到现场次数",
            "到办事现场次数",
            "到现场办理次数",
            "现场次数",
            "跑动次数",
            "最多跑动次数",
            "跑腿次数",
        ],
    },
    Field {
        key: "online",
        material: false,
        zh: "网办深度",
        kind: Kind::Enum(&ONLINE),
        headers: &["网办深度", "网上办理深度", "网办程度", "网上办理程度"],
    },
    Field {
        key: "departments",
        material: false,
        zh: "办理部门",
        kind: Kind::TextList,
        headers: &["办理部门", "联办部门"],
    },
    Field {
        key: "steps",
        material: false,
        zh: "办理环节",
        kind: Kind::Count,
        headers: &["办理环节", "办理环节数", "环节数", "办理环节个数"],
    },
    Field {
        key: "in_hall",
        material: false,
        zh: "入驻服务大厅",
        kind: Kind::Bool,
        headers: &[
            "入驻大厅",
            "入驻服务大厅",
            "是否入驻大厅",
            "是否入驻服务大厅",
            "是否进驻大厅",
            "进驻大厅",
            "是否入驻政务服务大厅",
        ],
    },
    Field {
        key: "extendable",
        material: false,
        zh: "可向基层延伸",
        kind: Kind::Bool,
        headers: &["基层延伸", "可向基层延伸", "是否可向基层延伸", "可延伸办理", "是否可延伸办理"],
    },
    Field {
        key: "citywide",
        material: false,
        zh: "同城通办",
        kind: Kind::Bool,
        headers: &["同城通办", "是否同城通办"],
    },
    Field {
        key: "complex", material: false, zh: "复杂情形", kind: Kind::EnumList(&COMPLEX), headers: &["复杂情形"]
    },
    Field {
        key: "superior",
        material: false,
        zh: "上级机关",
        kind: Kind::Text,
        headers: &["上级机关", "代办上级机关"],
    },
    Field {
        key: "fee",
        material: false,
        zh: "收费",
        kind: Kind::Text,
        headers: &["收费", "是否收费", "收费情况", "收费标准"],
    },
    Field {
        key: "name",
        material: true,
        zh: "材料名称",
        kind: Kind::Text,
        headers: &[
            "材料名称",
            "申请材料",
            "申请材料名称",
            "申请材料目录",
            "所需材料",
            "材料",
            "申报材料",
            "提交材料",
            "材料清单",
            "materials",
        ],
    },
    Field {
        key: "kind",
        material: true,
        zh: "材料类型",
        kind: Kind::Enum(&MATERIAL_KIND),
        headers: &["材料类型", "材料类别", "申请材料类型"],
    },
    Field {
        key: "source",
        material: true,
        zh: "材料来源",
        kind: Kind::Enum(&SOURCE),
        headers: &["材料来源", "来源", "来源渠道", "材料来源渠道", "申请材料来源"],
    },
    Field {
        key: "acquisition",
        material: true,
        zh: "获取方式",
        kind: Kind::Enum(&ACQUISITION),
        headers: &["获取方式", "材料获取方式"],
    },
    Field {
        key: "provider",
        material: true,
        zh: "获取部门",
        kind: Kind::Text,
        headers: &[
            "获取部门",
            "材料获取部门",
            "出具单位",
            "出具部门",
            "材料出具单位",
            "材料出具部门",
            "来源部门",
            "提供部门",
        ],
    },
    Field {
        key: "basis",
        material: true,
        zh: "材料依据",
        kind: Kind::Citations,
        headers: &["材料依据", "材料设定依据", "材料法律依据", "申请材料依据"],
    },
    Field {
        key: "copies", material: true, zh: "份数", kind: Kind::Count, headers: &["份数", "材料份数", "数量"]
    },
    Field {
        key: "format",
        material: true,
        zh: "形式",
        kind: Kind::Enum(&FORMAT),
        headers: &["形式", "材料形式", "原件复印件"],
    },
    Field {
        key: "note",
        material: true,
        zh: "备注",
        kind: Kind::Note,
        headers: &["备注", "材料备注", "说明", "材料说明"],
    },
];

/// Headers of row-number columns: recognised and not imported (reported as a note).
const ROW_NUMBER_HEADERS: &[&str] = &["序号", "行号", "no", "no."];
/// Targets that say "do not import this column" in a mapping file.
const IGNORE_TARGETS: &[&str] = &["ignore", "忽略", "不导入", "-"];

/// What a column fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// An index into [`FIELDS`].
    Field(usize),
    /// Not imported, on purpose (a mapping file's `ignore`, or a row-number column).
    Ignore,
}

fn field(i: usize) -> Option<&'static Field> {
    FIELDS.get(i)
}

fn material_name_field() -> usize {
    FIELDS.iter().position(|f| f.material && f.key == "name").unwrap_or(0)
}

fn field_index(material: bool, key: &str) -> Option<usize> {
    FIELDS.iter().position(|f| f.material == material && f.key == key)
}

/// The comparison form of a header: Simplified, half-width, no spaces, no bracketed remarks
/// (（工作日）, (是/否)), no required-field marks, ASCII lower case.
fn header_key(s: &str) -> String {
    let t = normalize::token(s);
    let mut out = String::with_capacity(t.len());
    let mut depth = 0usize;
    for c in t.chars() {
        match c {
            '(' | '[' | '【' | '〔' => depth += 1,
            ')' | ']' | '】' | '〕' => depth = depth.saturating_sub(1),
            '*' | '※' | ':' | '：' | '★' => {}
            _ if depth == 0 => out.push(c.to_ascii_lowercase()),
            _ => {}
        }
    }
    out
}

/// Like [`header_key`] but keeping bracketed text: `办理时限(法定)` and `办理时限(承诺)` differ.
fn header_key_full(s: &str) -> String {
    normalize::token(s)
        .chars()
        .filter(|c| !matches!(c, '*' | '※' | ':' | '：' | '★'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The built-in mapping of a header, or of a mapping file's target.
fn lookup_target(text: &str) -> Option<Target> {
    let k = header_key(text);
    if k.is_empty() {
        return None;
    }
    if IGNORE_TARGETS.contains(&k.as_str()) || ROW_NUMBER_HEADERS.contains(&k.as_str()) {
        return Some(Target::Ignore);
    }
    if let Some(rest) = k.strip_prefix("material.").or_else(|| k.strip_prefix("materials.")) {
        return field_index(true, rest).map(Target::Field);
    }
    if let Some(rest) = k.strip_prefix("item.") {
        return field_index(false, rest).map(Target::Field);
    }
    if k == "material" {
        return Some(Target::Field(material_name_field()));
    }
    // English keys: the item's first (`name`, `basis`), then the material's (`kind`, `note`).
    if let Some(i) = FIELDS.iter().position(|f| f.key == k) {
        return Some(Target::Field(i));
    }
    FIELDS.iter().position(|f| f.headers.contains(&k.as_str()) || f.zh == k).map(Target::Field)
}

fn all_header_names() -> impl Iterator<Item = &'static str> {
    FIELDS.iter().flat_map(|f| f.headers.iter().copied())
}

// ───────────────────────────── locations and problems ─────────────────────────────

/// A place in the spreadsheet: sheet, 1-based row, 0-based column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    pub sheet: String,
    pub row: Option<u32>,
    pub column: Option<u32>,
    /// Last row, for a range of rows (an item over several rows).
    pub last_row: Option<u32>,
}

impl Location {
    fn sheet(sheet: &str) -> Self {
        Location { sheet: sheet.to_string(), row: None, column: None, last_row: None }
    }

    fn row(sheet: &str, row: u32) -> Self {
        Location { sheet: sheet.to_string(), row: Some(row), column: None, last_row: None }
    }

    fn cell(sheet: &str, row: u32, column: u32) -> Self {
        Location { sheet: sheet.to_string(), row: Some(row), column: Some(column), last_row: None }
    }

    fn rows(sheet: &str, first: u32, last: u32) -> Self {
        Location { sheet: sheet.to_string(), row: Some(first), column: None, last_row: (last > first).then_some(last) }
    }

    fn column(sheet: &str, row: u32, column: u32) -> Self {
        Location::cell(sheet, row, column)
    }
}

/// Excel's column letters: 0 → A, 25 → Z, 26 → AA.
#[must_use]
pub fn column_letters(mut col: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(char::from(b'A' + u8::try_from(col % 26).unwrap_or(0)));
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.iter().rev().collect()
}

fn sheet_ref(sheet: &str) -> String {
    // Quoted only where the reference would be ambiguous (Excel quotes more: `per-item` too).
    let needs_quotes = sheet.is_empty() || sheet.chars().any(|c| c.is_whitespace() || matches!(c, '!' | '\'' | ':'));
    if needs_quotes { format!("'{}'", sheet.replace('\'', "''")) } else { sheet.to_string() }
}

impl fmt::Display for Location {
    /// `事项总表!J5`, `事项总表!5`, `事项总表!3:5`, `'My sheet'!J5` (Excel's notation).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&sheet_ref(&self.sheet))?;
        match (self.row, self.column, self.last_row) {
            (Some(r), Some(c), _) => write!(f, "!{}{}", column_letters(c), r),
            (Some(r), None, Some(last)) => write!(f, "!{r}:{last}"),
            (Some(r), None, None) => write!(f, "!{r}"),
            (None, Some(c), _) => write!(f, "!{}", column_letters(c)),
            (None, None, _) => Ok(()),
        }
    }
}

/// How much a problem matters: warnings make `import` exit with 1, notes do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Note,
    Warning,
}

/// Something the importer could not carry over faithfully, with where it is.
#[derive(Debug, Clone)]
pub struct Problem {
    pub level: Level,
    pub code: &'static str,
    pub location: Location,
    pub message: String,
    pub help: String,
}

impl Problem {
    fn warning(code: &'static str, location: Location, message: String, help: String) -> Self {
        Problem { level: Level::Warning, code, location, message, help }
    }

    fn note(code: &'static str, location: Location, message: String, help: String) -> Self {
        Problem { level: Level::Note, code, location, message, help }
    }

    /// `事项总表!J5：message` — the one-line form.
    #[must_use]
    pub fn line(&self) -> String {
        tr!("{}：{}", "{}: {}", self.location, self.message)
    }

    /// The problem as a diagnostic (no source snippet: a spreadsheet has no text to show).
    #[must_use]
    pub fn to_error(&self) -> SourceError {
        SourceError::new(self.code, self.line()).help(self.help.clone())
    }
}

/// Which YAML line came from which cell: for tracing findings back to the spreadsheet.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// (1-based YAML line, location), in line order.
    lines: Vec<(usize, Location)>,
}

impl Origins {
    /// The spreadsheet location of a 1-based YAML line: the nearest recorded line at or above it.
    #[must_use]
    pub fn locate(&self, line: usize) -> Option<&Location> {
        let i = self.lines.partition_point(|(l, _)| *l <= line);
        self.lines.get(i.checked_sub(1)?).map(|(_, loc)| loc)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

// ───────────────────────────── options and result ─────────────────────────────

/// How rows relate to items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// One row per item when every item takes one row, else one row per material.
    #[default]
    Auto,
    /// One row per material; item columns repeated, merged or blank on the following rows.
    Material,
    /// One row per item; the materials cell lists every material.
    Item,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A mapping file (see [`Mapping`]).
    pub mapping: Option<PathBuf>,
    /// Import only these sheets (default: every sheet with a recognisable header).
    pub sheets: Vec<String>,
    /// 1-based header row (default: found automatically).
    pub header_row: Option<u32>,
    pub layout: Layout,
    /// `list.title` (default: a title row above the header).
    pub title: Option<String>,
    /// `list.region`.
    pub region: Option<String>,
    /// Put a `# 来源:` comment on every field line, not only on items and materials (for `check`,
    /// so that every snippet in a finding shows its cell).
    pub annotate_every_line: bool,
}

/// The outcome of an import.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The spreadsheet's file name (no directory), as the YAML comments name it.
    pub file_name: String,
    pub yaml: String,
    pub problems: Vec<Problem>,
    pub origins: Origins,
    pub items: usize,
    pub materials: usize,
    /// One line per imported sheet: where the header is and which layout was used.
    pub sheets: Vec<String>,
}

impl Imported {
    /// Problems that make `import` exit with 1.
    #[must_use]
    pub fn warnings(&self) -> usize {
        self.problems.iter().filter(|p| p.level == Level::Warning).count()
    }

    /// Loads the YAML with the real loader: the importer promises output that qingdan loads.
    pub fn verify(&self) -> Result<(), Problems> {
        let refs = crate::corpus::reference::References::builtin().map_err(Problems::from)?;
        let name = format!("{}.yaml", self.file_name);
        crate::corpus::Corpus::from_text(&name, &self.yaml, &refs, None, crate::corpus::load::LoadOptions::default())
            .map(|_| ())
            .map_err(|p| {
                Problems::new(
                    tr!(
                        "内部错误：导入生成的 YAML 无法载入（请报告此问题）",
                        "internal error: the imported YAML does not load (please report this)"
                    ),
                    p.problems,
                )
            })
    }
}

/// Files `import` (and `check`) read as spreadsheets.
#[must_use]
pub fn is_spreadsheet(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
        Some("xlsx" | "xlsm" | "xlsb" | "xls" | "ods" | "csv" | "tsv")
    )
}

fn is_text_table(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
        Some("csv" | "tsv" | "txt")
    )
}

// ───────────────────────────── reading ─────────────────────────────

/// One sheet as text cells, merged regions filled from their top-left cell.
#[derive(Debug, Default)]
struct Grid {
    name: String,
    hidden: bool,
    /// Absolute rows and columns (0-based).
    cells: Vec<Vec<String>>,
    /// Cells holding an Excel error (#N/A, #REF!): (row, column) → the error.
    errors: HashMap<(u32, u32), String>,
    /// Merged regions: (first row, first column, last row, last column).
    merges: Vec<(u32, u32, u32, u32)>,
}

impl Grid {
    fn get(&self, row: usize, col: usize) -> &str {
        self.cells.get(row).and_then(|r| r.get(col)).map_or("", String::as_str)
    }

    fn width(&self) -> usize {
        self.cells.iter().map(Vec::len).max().unwrap_or(0)
    }

    fn fill_merges(&mut self) {
        for &(r1, c1, r2, c2) in &self.merges {
            let value = self.get(r1 as usize, c1 as usize).to_string();
            if value.is_empty() {
                continue;
            }
            for r in r1..=r2 {
                for c in c1..=c2 {
                    let Some(row) = self.cells.get_mut(r as usize) else { continue };
                    if row.len() <= c as usize {
                        row.resize(c as usize + 1, String::new());
                    }
                    if let Some(cell) = row.get_mut(c as usize) {
                        cell.clone_from(&value);
                    }
                }
            }
        }
    }

    /// True when the cell lies in a merged region wider than one column.
    fn merged_across(&self, row: usize, col: usize) -> bool {
        self.merges.iter().any(|&(r1, c1, r2, c2)| {
            c2 > c1 && (r1 as usize..=r2 as usize).contains(&row) && (c1 as usize..=c2 as usize).contains(&col)
        })
    }
}

fn io_error(path: &Path, e: &dyn fmt::Display) -> SourceError {
    SourceError::new("qingdan::io", tr!("无法读取 `{}`：{}", "cannot read `{}`: {}", path.display(), e))
        .help(tr!("检查路径是否存在、是否有读取权限", "check that the path exists and is readable"))
}

fn read_grids(path: &Path) -> Result<(Vec<Grid>, Vec<Problem>), SourceError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if meta.is_dir() {
        return Err(SourceError::new(
            "qingdan::import::not_a_file",
            tr!("`{}` 是目录，不是表格文件", "`{}` is a directory, not a spreadsheet", path.display()),
        )
        .help(tr!("给出一个 .xlsx 或 .csv 文件", "give one .xlsx or .csv file")));
    }
    if meta.len() > MAX_SPREADSHEET_BYTES {
        return Err(SourceError::new(
            "qingdan::import::too_large",
            tr!(
                "`{}` 过大（{} 字节，上限 {} 字节）",
                "`{}` is too large ({} bytes; the limit is {})",
                path.display(),
                meta.len(),
                MAX_SPREADSHEET_BYTES
            ),
        )
        .help(tr!("按部门拆成多个表格", "split it into one spreadsheet per department")));
    }
    if is_text_table(path) {
        let bytes = std::fs::read(path).map_err(|e| io_error(path, &e))?;
        let name = file_name(path);
        let (grid, note) = read_csv(&name, &bytes)?;
        let notes = note
            .map(|n| {
                Problem::note(
                    "qingdan::import::encoding",
                    Location::sheet(&name),
                    n,
                    tr!("另存为 UTF-8 可免去此提示", "save it as UTF-8 to avoid this note"),
                )
            })
            .into_iter()
            .collect();
        return Ok((vec![grid], notes));
    }
    read_workbook(path)
}

#[must_use]
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Decodes a text table: UTF-8 (BOM or not), UTF-16 with a BOM, else GB18030; never garbage.
fn decode_text(name: &str, bytes: &[u8]) -> Result<(String, Option<String>), SourceError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest).map(|s| (s.to_string(), None)).map_err(|e| bad_encoding(name, rest, &e));
    }
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_with_bom_removal(bytes);
        if !had_errors {
            let note = tr!("`{}` 按 {} 编码读取", "`{}` was decoded as {}", name, enc.name());
            return Ok((text.into_owned(), Some(note)));
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((text.to_string(), None)),
        Err(utf8_err) => match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
            Some(text) if !text.contains('\0') => {
                let note = tr!(
                    "`{}` 不是 UTF-8，已按 GB18030（兼容 GBK）解码",
                    "`{}` is not UTF-8; it was decoded as GB18030 (a superset of GBK)",
                    name
                );
                Ok((text.into_owned(), Some(note)))
            }
            _ => Err(bad_encoding(name, bytes, &utf8_err)),
        },
    }
}

fn bad_encoding(name: &str, bytes: &[u8], e: &std::str::Utf8Error) -> SourceError {
    let at = e.valid_up_to();
    let line = bytes.get(..at).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) + 1;
    SourceError::new(
        "qingdan::import::encoding",
        tr!(
            "`{}` 不是 UTF-8，也不是 GB18030/GBK 编码（第 {} 行，第 {} 字节处）",
            "`{}` is neither UTF-8 nor GB18030/GBK (line {}, byte {})",
            name,
            line,
            at
        ),
    )
    .help(tr!(
        "在 Excel/WPS 中另存为「CSV UTF-8（逗号分隔）」，或直接导入 .xlsx",
        "save it as \"CSV UTF-8 (comma delimited)\" in Excel/WPS, or import the .xlsx itself"
    ))
}

fn read_csv(name: &str, bytes: &[u8]) -> Result<(Grid, Option<String>), SourceError> {
    let (text, note) = decode_text(name, bytes)?;
    if text.contains('\0') {
        return Err(SourceError::new(
            "qingdan::import::binary",
            tr!("`{}` 是二进制文件，不是 CSV 文本", "`{}` is a binary file, not CSV text", name),
        )
        .help(tr!("Excel 文件请使用 .xlsx/.xls 扩展名", "give Excel files their .xlsx/.xls extension")));
    }
    let delimiter = sniff_delimiter(&text);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut grid = Grid { name: name.to_string(), ..Grid::default() };
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            SourceError::new(
                "qingdan::import::csv",
                tr!("`{}` 第 {} 行无法按 CSV 读取：{}", "`{}` row {} is not valid CSV: {}", name, i + 1, e),
            )
            .help(tr!("检查该行的引号是否成对", "check that the quotes on that row are paired"))
        })?;
        grid.cells.push(record.iter().map(|s| s.trim().to_string()).collect());
    }
    Ok((grid, note))
}

/// Comma, tab or semicolon: whichever the first line has most of (outside quotes).
fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let mut counts = [(b',', 0usize), (b'\t', 0), (b';', 0)];
    let mut quoted = false;
    for c in first.bytes() {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(entry) = counts.iter_mut().find(|(d, _)| *d == c) {
            entry.1 += 1;
        }
    }
    counts.iter().max_by_key(|(d, n)| (*n, *d == b',')).map_or(b',', |(d, _)| *d)
}

fn read_workbook(path: &Path) -> Result<(Vec<Grid>, Vec<Problem>), SourceError> {
    use calamine::{Data, Reader, SheetType, SheetVisible, Sheets};

    let mut wb = calamine::open_workbook_auto(path).map_err(|e| {
        let head = std::fs::read(path).ok().map(|b| b.into_iter().take(512).collect::<Vec<u8>>()).unwrap_or_default();
        let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let help = if text.trim_start().starts_with('<') {
            tr!(
                "这个文件其实是网页（HTML）表格：在 Excel/WPS 中打开后另存为 .xlsx",
                "this file is really an HTML table: open it in Excel/WPS and save it as .xlsx"
            )
        } else {
            tr!(
                "确认它是 Excel/WPS 表格（.xlsx .xlsm .xlsb .xls .ods）；CSV 文件请用 .csv 扩展名",
                "make sure it is an Excel/WPS workbook (.xlsx .xlsm .xlsb .xls .ods); give CSV files a .csv extension"
            )
        };
        SourceError::new(
            "qingdan::import::workbook",
            tr!("无法读取表格 `{}`：{}", "cannot read the spreadsheet `{}`: {}", path.display(), e),
        )
        .help(help)
    })?;
    let metas: Vec<calamine::Sheet> = wb.sheets_metadata().to_vec();
    let name = file_name(path);
    let mut grids = Vec::new();
    let mut notes = Vec::new();
    for meta in metas {
        if meta.typ != SheetType::WorkSheet {
            notes.push(Problem::note(
                "qingdan::import::not_a_worksheet",
                Location::sheet(&meta.name),
                tr!("不是工作表（图表或宏表），未导入", "not a worksheet (a chart or macro sheet); not imported"),
                tr!("事项请放在普通工作表中", "keep items on ordinary worksheets"),
            ));
            continue;
        }
        let range = wb.worksheet_range(&meta.name).map_err(|e| io_error(path, &e))?;
        let merges = match &mut wb {
            Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(&meta.name).unwrap_or_default(),
            Sheets::Xls(x) => x.merge_cells_by_sheet_name(&meta.name).unwrap_or_default(),
            Sheets::Xlsb(_) | Sheets::Ods(_) => Vec::new(),
        };
        let mut grid = Grid {
            name: meta.name.clone(),
            hidden: meta.visible != SheetVisible::Visible,
            cells: Vec::new(),
            errors: HashMap::new(),
            merges: merges.iter().map(|d| (d.start.0, d.start.1, d.end.0, d.end.1)).collect(),
        };
        if let (Some((r0, c0)), Some((r1, _))) = (range.start(), range.end()) {
            grid.cells = vec![Vec::new(); r1 as usize + 1];
            for (dr, row) in range.rows().enumerate() {
                let r = r0 as usize + dr;
                let mut out = vec![String::new(); c0 as usize];
                for (dc, cell) in row.iter().enumerate() {
                    let c = c0 as usize + dc;
                    let text = match cell {
                        Data::Empty => String::new(),
                        Data::String(s) => s.trim().to_string(),
                        Data::Int(i) => i.to_string(),
                        Data::Float(f) => format_float(*f),
                        Data::Bool(b) => b.to_string(),
                        Data::DateTime(d) => {
                            let (y, mo, day, h, mi, s, _) = d.to_ymd_hms_milli();
                            if d.is_datetime() && (h, mi, s) == (0, 0, 0) {
                                format!("{y:04}-{mo:02}-{day:02}")
                            } else {
                                cell.to_string()
                            }
                        }
                        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                        Data::Error(e) => {
                            grid.errors.insert(
                                (u32::try_from(r).unwrap_or(u32::MAX), u32::try_from(c).unwrap_or(u32::MAX)),
                                e.to_string(),
                            );
                            String::new()
                        }
                    };
                    out.push(text);
                }
                while out.last().is_some_and(String::is_empty) {
                    out.pop();
                }
                if let Some(slot) = grid.cells.get_mut(r) {
                    *slot = out;
                }
            }
        }
        grid.fill_merges();
        grids.push(grid);
    }
    if grids.is_empty() {
        return Err(SourceError::new(
            "qingdan::import::no_sheets",
            tr!("`{}` 中没有工作表", "`{}` has no worksheet", name),
        )
        .help(tr!("把事项放在普通工作表中", "put the items on an ordinary worksheet")));
    }
    Ok((grids, notes))
}

/// 20.0 → "20"; other numbers as Rust prints them.
fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        // |f| < 1e15: a whole number that fits an i64 exactly.
        (f as i64).to_string()
    } else {
        f.to_string()
    }
}

// ───────────────────────────── the mapping file ─────────────────────────────

/// A mapping file: for headers and values the built-in table does not know.
///
/// ```yaml
/// sheet: 事项总表          # 工作表 — only these sheets (a name or a list)
/// header_row: 2           # 表头行 — 1-based
/// layout: material        # 版式 — material | item | auto
/// columns:                # 列 — header text (or column letter) → field
///   主项名称: name
///   联系电话: ignore
///   材料提交形式: material.format
/// values:                 # 取值 — per field: spreadsheet value → list value
///   handling: {承诺件: 承办件}
/// ```
#[derive(Debug, Default)]
pub struct Mapping {
    /// (header as written, target, where the entry is written).
    columns: Vec<(String, Target, String)>,
    /// Field index → (value token → replacement).
    values: HashMap<usize, HashMap<String, String>>,
    sheets: Vec<String>,
    header_row: Option<u32>,
    layout: Option<Layout>,
}

const MAPPING_KEYS: &[(&str, &[&str])] = &[
    ("sheet", &["工作表", "sheets"]),
    ("header_row", &["表头行"]),
    ("layout", &["版式"]),
    ("columns", &["列"]),
    ("values", &["取值"]),
];

fn mapping_error(src: &SourceFile, span: Span, message: String, label: String, help: String) -> SourceError {
    SourceError::new("qingdan::import::mapping", message).at(src, span, label).help(help)
}

fn target_help() -> String {
    let items: Vec<&str> = FIELDS.iter().filter(|f| !f.material).map(|f| f.key).collect();
    let mats: Vec<String> = FIELDS.iter().filter(|f| f.material).map(|f| format!("material.{}", f.key)).collect();
    tr!(
        "可用的字段：{}；{}；或 ignore（不导入）。也可写中文名，如 事项名称、材料名称",
        "valid fields: {}; {}; or ignore. Chinese names such as 事项名称 and 材料名称 work too",
        items.join(", "),
        mats.join(", ")
    )
}

impl Mapping {
    /// Reads a mapping file; every problem in it is reported with its line and column.
    pub fn read(path: &Path) -> Result<Mapping, Problems> {
        let bytes = std::fs::read(path).map_err(|e| Problems::from(io_error(path, &e)))?;
        let (src, _) = crate::corpus::decode(&path.display().to_string(), &bytes).map_err(Problems::from)?;
        Mapping::parse(&src)
    }

    /// Parses the text of a mapping file.
    pub fn parse(src: &SourceFile) -> Result<Mapping, Problems> {
        let root = yaml::parse(src, FileId(u32::MAX - 100), yaml::Limits::default()).map_err(Problems::from)?;
        let mut m = Mapping::default();
        let mut errors = Vec::new();
        let Some(root) = root.filter(|r| !r.is_null()) else { return Ok(m) };
        let NodeKind::Map(entries) = &root.kind else {
            return Err(Problems::from(mapping_error(
                src,
                root.span,
                tr!("映射文件的顶层应是映射", "the top level of a mapping file must be a mapping"),
                tr!("这里", "here"),
                tr!("写成 `columns: {{表头: 字段}}`", "write `columns: {{header: field}}`"),
            )));
        };
        for (k, v) in entries {
            let key = k.as_str().map(normalize::token).unwrap_or_default();
            let Some(canonical) =
                MAPPING_KEYS.iter().find(|(en, zh)| *en == key || zh.contains(&key.as_str())).map(|(en, _)| *en)
            else {
                let all = MAPPING_KEYS.iter().flat_map(|(en, zh)| std::iter::once(*en).chain(zh.iter().copied()));
                let hint =
                    did_you_mean(&key, all).map(|s| tr!("是不是 `{}`？", "did you mean `{}`? ", s)).unwrap_or_default();
                errors.push(mapping_error(
                    src,
                    k.span,
                    tr!("映射文件中未知的键 `{}`", "unknown key `{}` in the mapping file", key),
                    tr!("未知的键", "unknown key"),
                    format!(
                        "{hint}{}",
                        tr!(
                            "可用的键：sheet、header_row、layout、columns、values",
                            "valid keys: sheet, header_row, layout, columns, values"
                        )
                    ),
                ));
                continue;
            };
            match canonical {
                "sheet" => match &v.kind {
                    NodeKind::Seq(items) => {
                        m.sheets.extend(items.iter().filter_map(|n| n.as_str()).map(str::to_string))
                    }
                    _ => m.sheets.extend(v.as_str().map(str::to_string)),
                },
                "header_row" => match v.as_str().and_then(|s| s.trim().parse::<u32>().ok()).filter(|n| *n > 0) {
                    Some(n) => m.header_row = Some(n),
                    None => errors.push(mapping_error(
                        src,
                        v.span,
                        tr!("`header_row` 应是正整数", "`header_row` must be a whole number ≥ 1"),
                        tr!("这里", "here"),
                        tr!(
                            "写表头所在的行号，如 `header_row: 2`",
                            "give the header's row number, e.g. `header_row: 2`"
                        ),
                    )),
                },
                "layout" => match v.as_str().map(normalize::token).as_deref() {
                    Some("material" | "材料" | "每行一份材料") => m.layout = Some(Layout::Material),
                    Some("item" | "事项" | "每行一个事项") => m.layout = Some(Layout::Item),
                    Some("auto" | "自动") => m.layout = Some(Layout::Auto),
                    _ => errors.push(mapping_error(
                        src,
                        v.span,
                        tr!("`layout` 的值无效", "invalid `layout`"),
                        tr!("这里", "here"),
                        tr!("可选值：material | item | auto", "valid values: material | item | auto"),
                    )),
                },
                "columns" => m.read_columns(src, v, &mut errors),
                "values" => m.read_values(src, v, &mut errors),
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(m)
        } else {
            Err(Problems::new(
                tr!("映射文件有误：{} 处问题", "invalid mapping file: {} problems", errors.len()),
                errors,
            ))
        }
    }

    fn read_columns(&mut self, src: &SourceFile, v: &Node, errors: &mut Vec<SourceError>) {
        let NodeKind::Map(pairs) = &v.kind else {
            if !v.is_null() {
                errors.push(mapping_error(
                    src,
                    v.span,
                    tr!("`columns` 应是映射", "`columns` must be a mapping"),
                    tr!("这里", "here"),
                    tr!("写成 `columns: {{表头: 字段}}`", "write `columns: {{header: field}}`"),
                ));
            }
            return;
        };
        for (h, t) in pairs {
            let (Some(header), Some(target_text)) = (h.as_str(), t.as_str()) else {
                errors.push(mapping_error(
                    src,
                    t.span,
                    tr!("列映射应是「表头: 字段」", "a column mapping is `header: field`"),
                    tr!("这里", "here"),
                    target_help(),
                ));
                continue;
            };
            match lookup_target(target_text) {
                Some(target) => {
                    let line = src.line_col(h.span.start as usize).line;
                    self.columns.push((
                        header.to_string(),
                        target,
                        tr!("映射文件第 {} 行", "mapping file line {}", line),
                    ));
                }
                None => {
                    let names: Vec<String> = FIELDS
                        .iter()
                        .map(|f| if f.material { format!("material.{}", f.key) } else { f.key.to_string() })
                        .chain(all_header_names().map(str::to_string))
                        .collect();
                    let typed = header_key_full(target_text);
                    // `item_code` → `code`: a key at the end of what was typed, else the nearest name.
                    let material = typed.starts_with("mat");
                    let by_suffix = FIELDS
                        .iter()
                        .filter(|f| f.material == material && typed.len() > f.key.len() && typed.ends_with(f.key))
                        .map(|f| if material { format!("material.{}", f.key) } else { f.key.to_string() })
                        .next();
                    let hint = by_suffix
                        .or_else(|| did_you_mean(&typed, names.iter().map(String::as_str)).map(str::to_string))
                        .map(|s| tr!("是不是 `{}`？", "did you mean `{}`? ", s))
                        .unwrap_or_default();
                    errors.push(mapping_error(
                        src,
                        t.span,
                        tr!("未知的字段 `{}`", "unknown field `{}`", target_text),
                        tr!("不是清单的字段", "not a field of a list"),
                        format!("{hint}{}", target_help()),
                    ));
                }
            }
        }
    }

    fn read_values(&mut self, src: &SourceFile, v: &Node, errors: &mut Vec<SourceError>) {
        let NodeKind::Map(pairs) = &v.kind else {
            if !v.is_null() {
                errors.push(mapping_error(
                    src,
                    v.span,
                    tr!("`values` 应是映射", "`values` must be a mapping"),
                    tr!("这里", "here"),
                    tr!(
                        "写成 `values: {{handling: {{承诺件: 承办件}}}}`",
                        "write `values: {{handling: {{承诺件: 承办件}}}}`"
                    ),
                ));
            }
            return;
        };
        for (f, table) in pairs {
            let Some(Target::Field(i)) = f.as_str().and_then(lookup_target) else {
                errors.push(mapping_error(
                    src,
                    f.span,
                    tr!("未知的字段 `{}`", "unknown field `{}`", f.as_str().unwrap_or("")),
                    tr!("不是清单的字段", "not a field of a list"),
                    target_help(),
                ));
                continue;
            };
            let NodeKind::Map(subs) = &table.kind else {
                errors.push(mapping_error(
                    src,
                    table.span,
                    tr!("取值替换应是映射", "value replacements must be a mapping"),
                    tr!("这里", "here"),
                    tr!("写成 `{{表格中的值: 清单中的值}}`", "write `{{spreadsheet value: list value}}`"),
                ));
                continue;
            };
            let entry = self.values.entry(i).or_default();
            for (from, to) in subs {
                if let (Some(from), Some(to)) = (from.as_str(), to.as_str()) {
                    entry.insert(normalize::token(from), to.trim().to_string());
                }
            }
        }
    }

    /// The mapping file's entry (its index and target) for a column, by header or by column letters.
    ///
    /// An entry matches a header written the same way; an entry without brackets also matches a
    /// header whose bracketed remark differs (`承诺办结时限` matches `承诺办结时限（工作日）`); an
    /// entry in column letters (`P`) matches that column.
    fn target(&self, header: &str, alternatives: &[String], column: u32) -> Option<(usize, Target)> {
        let letters = column_letters(column).to_ascii_lowercase();
        let full = header_key_full(header);
        let key = header_key(header);
        let exact = |(k, _, _): &(String, Target, String)| header_key_full(k) == full;
        let loose = |(k, _, _): &(String, Target, String)| {
            let (kf, ks) = (header_key_full(k), header_key(k));
            kf == ks && !ks.is_empty() && (ks == key || alternatives.contains(&ks))
        };
        let by_letter = |(k, _, _): &(String, Target, String)| header_key_full(k) == letters;
        let i = self
            .columns
            .iter()
            .position(exact)
            .or_else(|| self.columns.iter().position(loose))
            .or_else(|| self.columns.iter().position(by_letter))?;
        self.columns.get(i).map(|(_, t, _)| (i, *t))
    }
}

// ───────────────────────────── header detection ─────────────────────────────

#[derive(Debug, Clone)]
struct Column {
    index: u32,
    /// The header as written (two-row headers: `办结时限/法定`).
    header: String,
    target: Option<Target>,
    /// The mapping file's entry that gave the target.
    mapping_entry: Option<usize>,
}

struct Header {
    /// 0-based row of the (first) header row.
    row: usize,
    /// 1 or 2.
    height: usize,
    columns: Vec<Column>,
}

fn candidates(parent: &str, child: &str) -> Vec<String> {
    let p = header_key(parent);
    let c = header_key(child);
    let p_short = p.strip_prefix("申请").unwrap_or(&p).to_string();
    vec![format!("{p}{c}"), format!("{p_short}{c}"), format!("{c}{p}"), c]
}

fn map_header(mapping: &Mapping, text: &str, alternatives: &[String], column: u32) -> (Option<Target>, Option<usize>) {
    if let Some((entry, t)) = mapping.target(text, alternatives, column) {
        return (Some(t), Some(entry));
    }
    let builtin = lookup_target(text).or_else(|| alternatives.iter().find_map(|a| lookup_target(a)));
    (builtin, None)
}

/// Fields a row maps to (distinct), for choosing the header row.
fn score_row(grid: &Grid, mapping: &Mapping, row: usize) -> (usize, bool) {
    let mut seen = HashSet::new();
    for c in 0..grid.cells.get(row).map_or(0, Vec::len) {
        let text = grid.get(row, c);
        if text.is_empty() {
            continue;
        }
        if let (Some(Target::Field(i)), _) = map_header(mapping, text, &[], u32::try_from(c).unwrap_or(u32::MAX)) {
            seen.insert(i);
        }
    }
    let identity = seen.iter().any(|&i| field(i).is_some_and(|f| !f.material && matches!(f.key, "code" | "name")));
    (seen.len(), identity)
}

fn find_header(grid: &Grid, mapping: &Mapping, fixed: Option<u32>) -> Option<Header> {
    let row = match fixed {
        Some(r) => {
            let r = usize::try_from(r).ok()?.checked_sub(1)?;
            grid.cells.get(r).filter(|cells| cells.iter().any(|c| !c.is_empty()))?;
            r
        }
        None => {
            let mut best: Option<(usize, usize)> = None;
            for r in 0..grid.cells.len().min(HEADER_SEARCH_ROWS) {
                let (score, identity) = score_row(grid, mapping, r);
                if score >= 2 && identity && best.is_none_or(|(_, s)| score > s) {
                    best = Some((r, score));
                }
            }
            best?.0
        }
    };
    let width = grid.width();
    // A second header row: cells under a group heading (merged across, or blank in CSV).
    let parent_of = |c: usize| -> String {
        let own = grid.get(row, c);
        if !own.is_empty() {
            return own.to_string();
        }
        (0..c).rev().map(|l| grid.get(row, l)).find(|t| !t.is_empty()).unwrap_or("").to_string()
    };
    // Under a group heading: merged across (xlsx), blank with the heading on its left (CSV), or
    // the heading's own first column when the next one is blank above a sub-heading (CSV).
    let grouped = |c: usize| {
        grid.merged_across(row, c)
            || grid.get(row, c).is_empty()
            || (grid.get(row, c + 1).is_empty() && !grid.get(row + 1, c + 1).is_empty())
    };
    let mut sub = 0usize;
    let mut sub_mapped = 0usize;
    let mut identity_clash = false;
    for c in 0..width {
        let child = grid.get(row + 1, c);
        if child.is_empty() || child == grid.get(row, c) && !grid.merged_across(row, c) {
            continue;
        }
        if !grouped(c) {
            identity_clash = true;
            continue;
        }
        sub += 1;
        let col = u32::try_from(c).unwrap_or(u32::MAX);
        let parent = parent_of(c);
        let (t, _) = map_header(mapping, &format!("{parent}/{child}"), &candidates(&parent, child), col);
        if t.is_some() {
            sub_mapped += 1;
        }
    }
    let two_rows = sub_mapped > 0 && sub_mapped * 2 >= sub && !identity_clash;
    let mut columns = Vec::new();
    for c in 0..width {
        let col = u32::try_from(c).unwrap_or(u32::MAX);
        let top = grid.get(row, c);
        let child = if two_rows { grid.get(row + 1, c) } else { "" };
        let is_sub = two_rows && !child.is_empty() && grouped(c) && child != top;
        let (header, (target, mapping_entry)) = if is_sub {
            let parent = parent_of(c);
            let display = format!("{parent}/{child}");
            // The display form, then parent+child, child+parent, and the child alone, in that order.
            let mapped = map_header(mapping, &display, &candidates(&parent, child), col);
            (display, mapped)
        } else {
            (top.to_string(), map_header(mapping, top, &[], col))
        };
        let height = if two_rows { 2 } else { 1 };
        let has_data = || (row + height..grid.cells.len()).any(|r| !grid.get(r, c).is_empty());
        if header.is_empty() && target.is_none() && !has_data() {
            continue;
        }
        columns.push(Column { index: col, header, target, mapping_entry });
    }
    Some(Header { row, height: if two_rows { 2 } else { 1 }, columns })
}

// ───────────────────────────── values ─────────────────────────────

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(String),
    Int(i64),
    Bool(bool),
    Enum(&'static str),
    List(Vec<String>),
    EnumList(Vec<&'static str>),
}

/// Why a cell could not be imported, and what to do.
struct Bad {
    reason: String,
    help: String,
}

/// Cell texts that mean "nothing here".
fn is_blank_marker(s: &str) -> bool {
    matches!(
        normalize::token(s).as_str(),
        "" | "无" | "/" | "-" | "--" | "—" | "——" | "暂无" | "空" | "n/a" | "N/A" | "不涉及"
    )
}

/// Joins the lines of a cell: no space between Chinese characters, one between others.
fn join_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let cjk_join =
            out.chars().last().is_some_and(|c| !c.is_ascii()) || line.chars().next().is_some_and(|c| !c.is_ascii());
        if !out.is_empty() && !cjk_join {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

const OPEN: &[char] = &['(', '（', '《', '【', '[', '「', '“', '〔', '『'];
const CLOSE: &[char] = &[')', '）', '》', '】', ']', '」', '”', '〕', '』'];

/// Splits a list cell at 、；; and line breaks outside brackets; drops numbering (1. ① （一）).
fn split_list(s: &str) -> Vec<String> {
    let seps = |c: char| matches!(c, '、' | '；' | ';' | '\n' | '\r');
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        if OPEN.contains(&c) {
            depth += 1;
        } else if CLOSE.contains(&c) {
            depth -= 1;
        }
        // `3、申请表`: a 、 right after a number at the start of an entry is numbering.
        let numbering = c == '、' && {
            let t = cur.trim();
            !t.is_empty() && t.chars().all(|d| d.is_ascii_digit() || "一二三四五六七八九十".contains(d))
        };
        // `①申请书②章程`: a circled number starts a new entry.
        let circled = ('\u{2460}'..='\u{2473}').contains(&c) && !cur.trim().is_empty() && depth <= 0;
        if circled {
            parts.push(std::mem::take(&mut cur));
        }
        if seps(c) && depth <= 0 && !numbering {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    if depth > 0 {
        // Unbalanced brackets: split everywhere rather than swallow the rest of the cell.
        parts = s.split(seps).map(str::to_string).collect();
    }
    parts
        .iter()
        .map(|p| strip_numbering(p.trim()).trim_end_matches(['。', '，', ',', '；', ';']).trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// `1.` `1、` `1）` `(1)` `（一）` `①` `一、` at the start of a list entry.
fn strip_numbering(s: &str) -> &str {
    let s = s.trim_start();
    let mut chars = s.char_indices().peekable();
    // ①–⑳
    if let Some((_, c)) = chars.peek().copied()
        && ('\u{2460}'..='\u{2473}').contains(&c)
    {
        return s.get(c.len_utf8()..).unwrap_or(s).trim_start();
    }
    // (1) （一）
    if let Some(rest) = s.strip_prefix(['(', '（']) {
        let end = rest.find([')', '）']);
        if let Some(end) = end {
            let inner = rest.get(..end).unwrap_or("");
            if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit() || "一二三四五六七八九十".contains(c))
            {
                let close_len = rest.get(end..).and_then(|r| r.chars().next()).map_or(1, char::len_utf8);
                return rest.get(end + close_len..).unwrap_or("").trim_start();
            }
        }
        return s;
    }
    // 1. 1、 1） 一、
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit() || "一二三四五六七八九十".contains(*c)).collect();
    if digits.is_empty() {
        return s;
    }
    let rest = s.get(digits.len()..).unwrap_or("");
    let mut rc = rest.chars();
    match rc.next() {
        Some(sep @ ('.' | '．' | '、' | ')' | '）')) => {
            let after = rest.get(sep.len_utf8()..).unwrap_or("");
            let arabic = digits.chars().all(|c| c.is_ascii_digit());
            // `1.5米` is a number, not numbering; `一、` needs 、.
            if after.chars().next().is_some_and(|c| c.is_ascii_digit()) || (!arabic && sep != '、') {
                s
            } else {
                after.trim_start()
            }
        }
        _ => s,
    }
}

/// Citations in a basis cell: one per line or per 《…》; `《X》第三十条、第三十一条` → two.
/// Returns the citations and whether quoted article text (after ：) was dropped.
fn split_citations(s: &str) -> (Vec<String>, bool) {
    let mut quoted = false;
    let mut out = Vec::new();
    for line in s.split(['\n', '\r', '；', ';']) {
        // Split before every 《 that follows a 》.
        let mut segments: Vec<String> = Vec::new();
        let mut cur = String::new();
        for c in line.chars() {
            if c == '《' && cur.contains('》') {
                segments.push(std::mem::take(&mut cur));
            }
            cur.push(c);
        }
        segments.push(cur);
        for seg in segments {
            let mut seg = strip_numbering(seg.trim()).to_string();
            // `《X》第三十条：行政机关应当……` — keep the citation, not the quoted text.
            if let Some(pos) = seg.find(['：', ':']) {
                let before = seg.get(..pos).unwrap_or("");
                if before.contains('条') || before.contains('》') {
                    quoted = true;
                    seg = before.to_string();
                }
            }
            let seg = seg.trim().trim_end_matches(['、', '，', ',', '。', '及', '和', '与']).trim();
            if seg.is_empty() || is_blank_marker(seg) {
                continue;
            }
            out.extend(expand_articles(seg));
        }
    }
    (out, quoted)
}

/// `《X》第三十条、第三十一条第一款` → [`《X》第三十条`, `《X》第三十一条第一款`].
fn expand_articles(seg: &str) -> Vec<String> {
    static ARTICLE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"第[零〇一二三四五六七八九十百千0-9]+条(?:第[零〇一二三四五六七八九十百千0-9]+[款项])*").ok()
    });
    if !seg.contains('第') {
        return vec![seg.to_string()];
    }
    let Some(re) = ARTICLE.as_ref() else { return vec![seg.to_string()] };
    let matches: Vec<regex::Match<'_>> = re.find_iter(seg).collect();
    let Some(first) = matches.first() else { return vec![seg.to_string()] };
    if matches.len() < 2 {
        return vec![seg.to_string()];
    }
    let statute = seg.get(..first.start()).unwrap_or("");
    let mut rest = seg.get(first.start()..).unwrap_or("").to_string();
    for m in &matches {
        rest = rest.replacen(m.as_str(), "", 1);
    }
    let connectors_only = rest.chars().all(|c| matches!(c, '、' | '，' | ',' | '和' | '及' | '与' | ' ' | '以' | '至'));
    if statute.is_empty() || !connectors_only || rest.contains('至') {
        return vec![seg.to_string()];
    }
    matches.iter().map(|m| format!("{statute}{}", m.as_str())).collect()
}

fn parse_bool(s: &str) -> Option<bool> {
    match normalize::token(s).to_lowercase().as_str() {
        "是" | "true" | "y" | "yes" | "√" | "✓" | "✔" | "1" => Some(true),
        "否" | "false" | "n" | "no" | "×" | "✗" | "✘" | "0" => Some(false),
        _ => None,
    }
}

/// Whole numbers with the units a 事项总表 writes: 20, 20个工作日, 二十日, 1次, 2份.
fn parse_count(s: &str, kind: Kind) -> Option<i64> {
    let t = normalize::token(s);
    let zero_words: &[&str] = match kind {
        Kind::Days => &["即办", "即时办结", "当场办结", "立即办结", "当即办结", "即时", "当场", "即来即办"],
        Kind::Visits => &["不见面", "零跑腿", "零次", "0跑", "不需要到现场", "无需到现场"],
        _ => &[],
    };
    if zero_words.contains(&t.as_str()) {
        return Some(0);
    }
    let mut core = t.as_str();
    if kind == Kind::Visits {
        core = core.strip_prefix("最多跑").or_else(|| core.strip_prefix("跑")).unwrap_or(core);
    }
    let units: &[&str] = match kind {
        Kind::Days => &["个工作日", "工作日", "日", "天"],
        Kind::Visits => &["次"],
        _ => &["个", "份", "项", "次"],
    };
    for u in units {
        if let Some(stripped) = core.strip_suffix(u) {
            core = stripped;
            break;
        }
    }
    let core = core.replace('两', "二");
    normalize::parse_number(&core).map(i64::from)
}

/// A cell's text split off a trailing remark: `20个工作日（不含专家评审时间）` → (`20个工作日`, remark).
fn split_remark(s: &str) -> (&str, Option<&str>) {
    let t = s.trim();
    if t.ends_with([')', '）'])
        && let Some(open) = t.rfind(['(', '（'])
        && open > 0
    {
        return (t.get(..open).unwrap_or(t).trim(), t.get(open..));
    }
    (t, None)
}

/// Parses one cell for a field. `Ok(None)` is an empty cell; the `String` is a note (a remark
/// that was dropped).
fn parse_cell(
    f: &Field,
    raw: &str,
    synonyms: Option<&HashMap<String, String>>,
) -> Result<Option<(Value, Option<String>)>, Bad> {
    let replaced = synonyms.and_then(|s| s.get(&normalize::token(raw))).map(String::as_str);
    let raw = replaced.unwrap_or(raw).trim();
    if raw.is_empty() || (f.key != "fee" && is_blank_marker(raw)) {
        return Ok(None);
    }
    let invalid = |expected: String, help: String| Bad { reason: expected, help };
    match f.kind {
        Kind::Text => Ok(Some((Value::Text(join_lines(raw)), None))),
        Kind::Note => Ok(Some((Value::Text(raw.to_string()), None))),
        Kind::Days | Kind::Visits | Kind::Count => {
            if let Some(n) = parse_count(raw, f.kind) {
                return Ok(Some((Value::Int(n), None)));
            }
            let (core, remark) = split_remark(raw);
            match (parse_count(core, f.kind), remark) {
                (Some(n), Some(r)) => Ok(Some((
                    Value::Int(n),
                    Some(tr!("只导入了 {}，备注「{}」未导入", "imported {}; the remark `{}` was not", n, r)),
                ))),
                _ => Err(invalid(
                    tr!("「{}」不是整数", "`{}` is not a whole number", raw),
                    match f.kind {
                        Kind::Days => tr!(
                            "写工作日数，如 20 或 20个工作日；当场办结写 0",
                            "write the number of working days, e.g. 20 or 20个工作日; 0 for on the spot"
                        ),
                        Kind::Visits => tr!("写次数，如 0、1", "write the number of visits, e.g. 0 or 1"),
                        _ => tr!("写一个整数", "write a whole number"),
                    },
                )),
            }
        }
        Kind::Bool => parse_bool(raw).map(|b| Some((Value::Bool(b), None))).ok_or_else(|| {
            invalid(
                tr!("「{}」不是 是/否", "`{}` is not yes/no (是/否)", raw),
                tr!(
                    "写 是 或 否；其他写法可在映射文件的 values 中替换",
                    "write 是 or 否; map other spellings in the mapping file's `values`"
                ),
            )
        }),
        Kind::Enum(domain) => enum_value(domain, raw, f).map(|v| Some((Value::Enum(v), None))),
        Kind::EnumList(domain) => {
            let mut out = Vec::new();
            for part in split_list(&raw.replace(['，', ','], "、")) {
                let part = synonyms.and_then(|s| s.get(&normalize::token(&part))).cloned().unwrap_or(part);
                if is_blank_marker(&part) {
                    continue;
                }
                out.push(enum_value(domain, &part, f)?);
            }
            Ok((!out.is_empty()).then_some((Value::EnumList(out), None)))
        }
        Kind::TextList => {
            let parts = split_list(&raw.replace(['，', ','], "、"));
            Ok((!parts.is_empty()).then_some((Value::List(parts), None)))
        }
        Kind::Citations => {
            let (parts, quoted) = split_citations(raw);
            let note = quoted.then(|| {
                tr!(
                    "依据后引用的条文内容未导入，只保留了法规名称和条款",
                    "the quoted article text after the citation was not imported; only the statute and article were"
                )
            });
            Ok((!parts.is_empty()).then_some((Value::List(parts), note)))
        }
    }
}

fn enum_value(domain: &'static Domain, raw: &str, f: &Field) -> Result<&'static str, Bad> {
    let token = normalize::token(raw);
    if let Some(v) = domain.find(&token) {
        return Ok(v);
    }
    let guess = did_you_mean(&token, domain.values.iter().copied());
    let first = guess.map(|g| tr!("是不是「{}」？", "did you mean `{}`? ", g)).unwrap_or_default();
    Err(Bad {
        reason: tr!("「{}」不是有效的{}", "`{}` is not a valid {}", raw, domain.name),
        help: tr!(
            "{}可选值：{}。表格的写法不同时，在映射文件中替换：values: {{{}: {{{}: {}}}}}",
            "{}valid values: {}. If the spreadsheet spells it differently, map it in the mapping file: values: {{{}: {{{}: {}}}}}",
            first,
            domain.values.join(" | "),
            if f.material { format!("material.{}", f.key) } else { f.key.to_string() },
            raw,
            guess.unwrap_or_else(|| domain.values.first().copied().unwrap_or(""))
        ),
    })
}

// ───────────────────────────── building items ─────────────────────────────

/// A parsed value with the cell it came from.
#[derive(Debug, Clone)]
struct Cell {
    value: Value,
    raw: String,
    at: Location,
}

/// A value that could not be imported: kept as a comment in the YAML.
#[derive(Debug, Clone)]
struct Rejected {
    field: usize,
    raw: String,
    at: Location,
}

#[derive(Debug, Default)]
struct MaterialOut {
    at: Option<Location>,
    fields: Vec<(usize, Cell)>,
    rejected: Vec<Rejected>,
}

#[derive(Debug)]
struct ItemOut {
    sheet: String,
    first_row: u32,
    last_row: u32,
    fields: Vec<(usize, Cell)>,
    rejected: Vec<Rejected>,
    materials: Vec<MaterialOut>,
}

impl ItemOut {
    fn get(&self, key: &str) -> Option<&Cell> {
        self.fields.iter().find(|(i, _)| field(*i).is_some_and(|f| !f.material && f.key == key)).map(|(_, c)| c)
    }
}

/// The mapped cells of one data row.
struct RowCells {
    row: u32,
    /// (field, raw text, column).
    cells: Vec<(usize, String, u32)>,
}

impl RowCells {
    fn raw(&self, key: &str) -> &str {
        self.cells
            .iter()
            .find(|(i, _, _)| field(*i).is_some_and(|f| !f.material && f.key == key))
            .map_or("", |(_, s, _)| s.as_str())
    }
}

struct SheetImport<'a> {
    grid: &'a Grid,
    mapping: &'a Mapping,
    problems: &'a mut Vec<Problem>,
    items: Vec<ItemOut>,
    /// Department from a 填报单位 row above the header.
    department: Option<Cell>,
    title: Option<String>,
}

impl SheetImport<'_> {
    fn warn(&mut self, code: &'static str, at: Location, message: String, help: String) {
        self.problems.push(Problem::warning(code, at, message, help));
    }

    fn note(&mut self, code: &'static str, at: Location, message: String, help: String) {
        self.problems.push(Problem::note(code, at, message, help));
    }

    /// Rows above the header: a title, a 填报单位; anything else is reported.
    fn preamble(&mut self, header_row: usize) {
        let re = regex::Regex::new(r"^(?:填报|报送|责任)?(?:单位|部门)(?:名称)?[:：]\s*(.+)$").ok();
        for r in 0..header_row {
            let mut seen: Vec<(String, u32)> = Vec::new();
            for c in 0..self.grid.cells.get(r).map_or(0, Vec::len) {
                let t = self.grid.get(r, c);
                if !t.is_empty() && !seen.iter().any(|(s, _)| s == t) {
                    seen.push((t.to_string(), u32::try_from(c).unwrap_or(u32::MAX)));
                }
            }
            let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (text, col) in seen {
                let dept = re
                    .as_ref()
                    .and_then(|re| re.captures(&text))
                    .and_then(|c| c.get(1))
                    .and_then(|m| m.as_str().split_whitespace().next());
                if let Some(d) = dept.filter(|d| !d.is_empty()) {
                    self.department = Some(Cell {
                        value: Value::Text(d.to_string()),
                        raw: text.clone(),
                        at: Location::cell(&self.grid.name, row, col),
                    });
                } else if self.title.is_none() && seen_is_title(&text) {
                    self.title = Some(join_lines(&text));
                } else {
                    self.note(
                        "qingdan::import::preamble",
                        Location::cell(&self.grid.name, row, col),
                        tr!("表头上方的「{}」未导入", "`{}` above the header was not imported", clip(&text)),
                        tr!(
                            "表头上方只识别标题和「填报单位：…」",
                            "above the header only a title and `填报单位：…` are understood"
                        ),
                    );
                }
            }
        }
    }

    fn check_columns(&mut self, header: &Header) {
        let mut used: HashMap<usize, (u32, String)> = HashMap::new();
        let header_row = u32::try_from(header.row + 1).unwrap_or(u32::MAX);
        let name = self.grid.name.clone();
        for col in &header.columns {
            let at = Location::column(&name, header_row, col.index);
            match col.target {
                None => {
                    let suggestion = did_you_mean(&header_key(&col.header), all_header_names());
                    let hint = suggestion.map(|s| tr!("是不是「{}」？", "did you mean `{}`? ", s)).unwrap_or_default();
                    let filled = self.filled_below(header, col.index);
                    let key = if col.header.is_empty() { column_letters(col.index) } else { yaml_scalar(&col.header) };
                    let example = format!(
                        "columns: {{{}: {}}}",
                        key,
                        suggestion.map_or("ignore", |s| {
                            match lookup_target(s) {
                                Some(Target::Field(i)) => {
                                    field(i).map_or("ignore", |f| if f.material { f.zh } else { f.key })
                                }
                                _ => "ignore",
                            }
                        })
                    );
                    self.warn(
                        "qingdan::import::unmapped_column",
                        at,
                        if col.header.is_empty() {
                            tr!(
                                "没有表头的列（{} 个非空单元格）未导入",
                                "a column without a header ({} non-empty cells) was not imported",
                                filled
                            )
                        } else {
                            tr!(
                                "列「{}」无法对应到清单字段，未导入（{} 个非空单元格）",
                                "column `{}` matches no list field and was not imported ({} non-empty cells)",
                                col.header,
                                filled
                            )
                        },
                        tr!(
                            "{}在映射文件（--map）中指明它对应的字段，或写 ignore 表示不导入：{}",
                            "{}say which field it is in a mapping file (--map), or `ignore` it: {}",
                            hint,
                            example
                        ),
                    );
                }
                Some(Target::Ignore) if col.mapping_entry.is_none() => {
                    self.note(
                        "qingdan::import::row_numbers",
                        at,
                        tr!("列「{}」是行号，未导入", "column `{}` holds row numbers and was not imported", col.header),
                        tr!("不需要处理", "nothing to do"),
                    );
                }
                Some(Target::Ignore) => {}
                Some(Target::Field(i)) => {
                    if let Some((first, first_header)) = used.get(&i) {
                        let fname = field(i).map_or("", |f| f.zh);
                        self.warn(
                            "qingdan::import::duplicate_column",
                            at,
                            tr!(
                                "列「{}」与 {} 列「{}」都对应「{}」，只导入了前者",
                                "column `{}` and column {1} (`{2}`) both map to {3}; only column {1} was imported",
                                col.header,
                                column_letters(*first),
                                first_header,
                                fname
                            ),
                            tr!(
                                "在映射文件中把其中一列映射到别的字段或 ignore",
                                "map one of them to another field, or to ignore, in a mapping file"
                            ),
                        );
                    } else {
                        used.insert(i, (col.index, col.header.clone()));
                    }
                }
            }
        }
    }

    fn filled_below(&self, header: &Header, col: u32) -> usize {
        (header.row + header.height..self.grid.cells.len())
            .filter(|&r| !self.grid.get(r, col as usize).is_empty())
            .count()
    }

    /// The data rows with their mapped cells (first column of each field only).
    fn rows(&mut self, header: &Header) -> Vec<RowCells> {
        let mut first_col: HashMap<usize, u32> = HashMap::new();
        for col in &header.columns {
            if let Some(Target::Field(i)) = col.target {
                first_col.entry(i).or_insert(col.index);
            }
        }
        let mut fields: Vec<(usize, u32)> = first_col.into_iter().collect();
        fields.sort_unstable();
        let mut out = Vec::new();
        for r in header.row + header.height..self.grid.cells.len() {
            let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
            let mut cells = Vec::new();
            for &(i, c) in &fields {
                let key = (u32::try_from(r).unwrap_or(u32::MAX), c);
                if let Some(err) = self.grid.errors.get(&key) {
                    let fname = field(i).map_or("", |f| f.zh);
                    let at = Location::cell(&self.grid.name, row, c);
                    self.warn(
                        "qingdan::import::cell_error",
                        at,
                        tr!(
                            "{}单元格是 Excel 错误值 {}，未导入",
                            "the {} cell holds the Excel error {}; not imported",
                            fname,
                            err
                        ),
                        tr!("在表格中修正公式或填入数值", "fix the formula or type the value in the spreadsheet"),
                    );
                    continue;
                }
                let text = self.grid.get(r, c as usize);
                if !text.is_empty() {
                    cells.push((i, text.to_string(), c));
                }
            }
            if !cells.is_empty() {
                out.push(RowCells { row, cells });
            }
        }
        out
    }

    fn parse(&mut self, i: usize, raw: &str, at: &Location) -> Result<Option<Value>, Rejected> {
        let Some(f) = field(i) else { return Ok(None) };
        match parse_cell(f, raw, self.mapping.values.get(&i)) {
            Ok(Some((v, note))) => {
                if let Some(n) = note {
                    self.note(
                        "qingdan::import::remark",
                        at.clone(),
                        n,
                        tr!("需要时手工补入 YAML", "add it to the YAML by hand if needed"),
                    );
                }
                Ok(Some(v))
            }
            Ok(None) => Ok(None),
            Err(bad) => {
                self.warn(
                    "qingdan::import::cell",
                    at.clone(),
                    tr!("{}：{}，未导入", "{}: {}; not imported", f.zh, bad.reason),
                    bad.help,
                );
                Err(Rejected { field: i, raw: raw.to_string(), at: at.clone() })
            }
        }
    }

    /// Groups rows into items and builds them.
    fn build(&mut self, rows: &[RowCells], layout: Layout) -> Layout {
        let mname = material_name_field();
        // Pass 1: which rows start an item.
        let mut starts: Vec<bool> = Vec::with_capacity(rows.len());
        let mut current: Option<(String, String)> = None;
        for r in rows {
            let code = r.raw("code");
            let name = r.raw("name");
            let new = match &current {
                None => true,
                Some((c, n)) => {
                    if !code.is_empty() {
                        code != c
                    } else if !name.is_empty() {
                        name != n
                    } else {
                        false
                    }
                }
            };
            if new {
                current = Some((code.to_string(), name.to_string()));
            }
            starts.push(new);
        }
        let multi_row = starts.iter().skip(1).any(|s| !s);
        let layout = match layout {
            Layout::Auto if multi_row => Layout::Material,
            Layout::Auto => Layout::Item,
            l => l,
        };
        // Pass 2: build.
        let sheet = self.grid.name.clone();
        let mut seen_codes: HashMap<String, u32> = HashMap::new();
        let mut item: Option<ItemOut> = None;
        for (r, &start) in rows.iter().zip(&starts) {
            if start || item.is_none() {
                if let Some(done) = item.take() {
                    self.finish(done, &mut seen_codes);
                }
                item = Some(ItemOut {
                    sheet: sheet.clone(),
                    first_row: r.row,
                    last_row: r.row,
                    fields: Vec::new(),
                    rejected: Vec::new(),
                    materials: Vec::new(),
                });
            }
            let Some(it) = item.as_mut() else { continue };
            it.last_row = r.row;
            let mut material_cells: Vec<(usize, String, u32)> = Vec::new();
            for (i, raw, c) in &r.cells {
                let Some(f) = field(*i) else { continue };
                if f.material {
                    material_cells.push((*i, raw.clone(), *c));
                    continue;
                }
                let at = Location::cell(&sheet, r.row, *c);
                let existing = it
                    .fields
                    .iter()
                    .find(|(j, _)| j == i)
                    .map(|(_, e)| (e.at.clone(), e.raw.clone()))
                    .or_else(|| it.rejected.iter().find(|x| x.field == *i).map(|x| (x.at.clone(), x.raw.clone())));
                if let Some((first_at, first_raw)) = existing {
                    if normalize::token(&first_raw) != normalize::token(raw) {
                        self.warn(
                            "qingdan::import::conflict",
                            at,
                            tr!(
                                "同一事项的{}与 {} 不同：「{}」≠「{}」，保留了前者",
                                "{} differs from {} of the same item: `{}` ≠ `{}`; the latter was kept",
                                f.zh,
                                first_at,
                                clip(raw),
                                clip(&first_raw)
                            ),
                            tr!(
                                "同一事项各行的事项信息应一致；若是不同事项，请给它不同的事项编码",
                                "the rows of one item must agree; if it is another item, give it its own code"
                            ),
                        );
                    }
                    continue;
                }
                match self.parse(*i, raw, &at) {
                    Ok(Some(value)) => it.fields.push((*i, Cell { value, raw: raw.clone(), at })),
                    Ok(None) => {}
                    Err(rej) => it.rejected.push(rej),
                }
            }
            if material_cells.is_empty() {
                continue;
            }
            let name_cell = material_cells.iter().find(|(i, _, _)| *i == mname).cloned();
            let Some((_, names_raw, name_col)) = name_cell else {
                let (_, raw, c) = material_cells.first().cloned().unwrap_or_default();
                self.warn(
                    "qingdan::import::material_without_name",
                    Location::cell(&sheet, r.row, c),
                    tr!(
                        "这一行有材料信息（「{}」）但没有材料名称，未导入",
                        "this row has material data (`{}`) but no material name; not imported",
                        clip(&raw)
                    ),
                    tr!(
                        "填上材料名称，或删除这行的材料信息",
                        "fill in the material name, or clear the row's material cells"
                    ),
                );
                continue;
            };
            let name_at = Location::cell(&sheet, r.row, name_col);
            let names: Vec<String> = if layout == Layout::Item {
                split_list(&names_raw)
            } else {
                let n = strip_numbering(&names_raw).trim().to_string();
                if n.is_empty() || is_blank_marker(&n) { Vec::new() } else { vec![n] }
            };
            if names.is_empty() {
                continue;
            }
            let mut mats: Vec<MaterialOut> = names
                .iter()
                .map(|n| MaterialOut {
                    at: Some(if layout == Layout::Item { name_at.clone() } else { Location::row(&sheet, r.row) }),
                    fields: vec![(
                        mname,
                        Cell { value: Value::Text(join_lines(n)), raw: n.clone(), at: name_at.clone() },
                    )],
                    rejected: Vec::new(),
                })
                .collect();
            for (i, raw, c) in material_cells.iter().filter(|(i, _, _)| *i != mname) {
                let at = Location::cell(&sheet, r.row, *c);
                let parts: Vec<String> = if mats.len() > 1 {
                    if field(*i).is_some_and(|f| f.kind == Kind::Citations) {
                        raw.split(['\n', '\r', '；', ';'])
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect()
                    } else {
                        split_list(raw)
                    }
                } else {
                    vec![raw.clone()]
                };
                if parts.len() != mats.len() {
                    let fname = field(*i).map_or("", |f| f.zh);
                    self.warn(
                        "qingdan::import::count_mismatch",
                        at.clone(),
                        tr!(
                            "{}有 {} 个值，而材料有 {} 份，无法一一对应，未导入",
                            "{} has {} values for {} materials; they cannot be paired, not imported",
                            fname,
                            parts.len(),
                            mats.len()
                        ),
                        tr!(
                            "每行一个事项时，材料的其他列要与材料名称一样按 、；或换行 分隔、个数相同；或改为每行一份材料",
                            "with one row per item, give the other material columns as many entries as the material names, separated the same way; or use one row per material"
                        ),
                    );
                    for m in &mut mats {
                        m.rejected.push(Rejected { field: *i, raw: raw.clone(), at: at.clone() });
                    }
                    continue;
                }
                for (m, part) in mats.iter_mut().zip(parts) {
                    match self.parse(*i, &part, &at) {
                        Ok(Some(value)) => m.fields.push((*i, Cell { value, raw: part, at: at.clone() })),
                        Ok(None) => {}
                        Err(rej) => m.rejected.push(rej),
                    }
                }
            }
            it.materials.extend(mats);
        }
        if let Some(done) = item.take() {
            self.finish(done, &mut seen_codes);
        }
        layout
    }

    fn finish(&mut self, mut it: ItemOut, seen_codes: &mut HashMap<String, u32>) {
        let rows = Location::rows(&it.sheet, it.first_row, it.last_row);
        if it.get("department").is_none()
            && let Some(d) = &self.department
            && let Some(di) = field_index(false, "department")
        {
            it.fields.push((di, d.clone()));
        }
        let code = it.get("code").and_then(|c| if let Value::Text(t) = &c.value { Some(t.clone()) } else { None });
        let name = it.get("name").map(|c| c.raw.clone());
        let Some(code) = code else {
            let what = name.map_or_else(|| tr!("（无名称）", "(no name)"), |n| format!("「{}」", clip(&n)));
            self.warn(
                "qingdan::import::item_without_code",
                rows,
                tr!(
                    "事项{}没有事项编码，未导入（含 {} 份材料）",
                    "item {} has no code and was not imported ({} materials)",
                    what,
                    it.materials.len()
                ),
                tr!(
                    "在表格中填上事项编码，或在映射文件中指明编码列",
                    "fill in the item code, or name the code column in a mapping file"
                ),
            );
            return;
        };
        if name.is_none() {
            self.warn(
                "qingdan::import::item_without_name",
                rows,
                tr!(
                    "事项 {} 没有事项名称，未导入（含 {} 份材料）",
                    "item {} has no name and was not imported ({} materials)",
                    code,
                    it.materials.len()
                ),
                tr!(
                    "在表格中填上事项名称，或在映射文件中指明名称列",
                    "fill in the item name, or name the name column in a mapping file"
                ),
            );
            return;
        }
        if let Some(first) = seen_codes.get(&code) {
            self.note(
                "qingdan::import::repeated_code",
                rows,
                tr!(
                    "事项编码 {} 在第 {} 行已出现过，这里作为另一个事项导入（check 会报告 QD302）",
                    "item code {} already appeared on row {}; imported here as another item (check reports QD302)",
                    code,
                    first
                ),
                tr!(
                    "同一事项的各行应当相邻；若是不同事项，请改正编码",
                    "keep the rows of one item together; if it is another item, correct the code"
                ),
            );
        } else {
            seen_codes.insert(code, it.first_row);
        }
        self.items.push(it);
    }
}

fn seen_is_title(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && t.chars().count() <= 120
}

fn clip(s: &str) -> String {
    let one: String = join_lines(s);
    if one.chars().count() > 40 { format!("{}…", one.chars().take(40).collect::<String>()) } else { one }
}

// ───────────────────────────── YAML output ─────────────────────────────

/// A YAML scalar: plain when that is unambiguous (it holds a non-ASCII letter and no YAML
/// syntax), else double-quoted with JSON escapes (a subset of YAML's).
fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.is_ascii()
        && s.trim() == s
        && !s.starts_with([
            '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`',
        ])
        && !s.contains([':', '#', '\n', '\r', '\t', '"', '\'', '[', ']', '{', '}', ','])
        && !s.chars().any(char::is_control)
        && !s.contains(['\u{feff}', '\u{2028}', '\u{2029}', '\u{85}']);
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.escape_default()))
    }
}

fn comment_text(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

struct Writer {
    out: String,
    line: usize,
    origins: Origins,
    every_line: bool,
}

impl Writer {
    fn line(&mut self, indent: usize, text: &str, at: Option<&Location>) {
        for _ in 0..indent {
            self.out.push(' ');
        }
        self.out.push_str(text);
        if self.every_line
            && let Some(at) = at
        {
            let _ = write!(self.out, "  {ORIGIN_PREFIX}{at}");
        }
        self.out.push('\n');
        self.line += 1;
        if let Some(at) = at {
            self.origins.lines.push((self.line, at.clone()));
        }
    }

    fn origin_comment(&mut self, indent: usize, at: &Location) {
        if self.every_line {
            return;
        }
        self.line(indent, &format!("{ORIGIN_PREFIX}{at}"), Some(at));
    }

    fn field(&mut self, indent: usize, key: &str, cell: &Cell, first: bool) {
        let dash = if first { "- " } else { "" };
        let indent = if first { indent.saturating_sub(2) } else { indent };
        match &cell.value {
            Value::Text(t) => self.line(indent, &format!("{dash}{key}: {}", yaml_scalar(t)), Some(&cell.at)),
            Value::Int(n) => self.line(indent, &format!("{dash}{key}: {n}"), Some(&cell.at)),
            Value::Bool(b) => self.line(indent, &format!("{dash}{key}: {b}"), Some(&cell.at)),
            Value::Enum(v) => self.line(indent, &format!("{dash}{key}: {}", yaml_scalar(v)), Some(&cell.at)),
            Value::List(items) => {
                self.line(indent, &format!("{dash}{key}:"), Some(&cell.at));
                let inner = if first { indent + 4 } else { indent + 2 };
                for v in items {
                    self.line(inner, &format!("- {}", yaml_scalar(v)), Some(&cell.at));
                }
            }
            Value::EnumList(items) => {
                let vals: Vec<String> = items.iter().map(|v| yaml_scalar(v)).collect();
                self.line(indent, &format!("{dash}{key}: [{}]", vals.join(", ")), Some(&cell.at));
            }
        }
    }

    fn rejected(&mut self, indent: usize, r: &Rejected) {
        let Some(f) = field(r.field) else { return };
        let text = tr!(
            "# 未导入 {}（{}）「{}」，见 {}",
            "# not imported: {} ({}) `{}`, see {}",
            f.key,
            f.zh,
            comment_text(&r.raw),
            r.at
        );
        self.line(indent, &text, Some(&r.at));
    }
}

fn write_yaml(
    file_name: &str,
    sheets: &[String],
    header: (Option<String>, Option<String>),
    items: &[ItemOut],
    unmapped: &[String],
    every_line: bool,
) -> (String, Origins) {
    let mut w = Writer { out: String::new(), line: 0, origins: Origins::default(), every_line };
    w.line(
        0,
        &tr!("# 由 qingdan import 从「{}」生成。", "# Generated by qingdan import from `{}`.", comment_text(file_name)),
        None,
    );
    for s in sheets {
        w.line(0, &format!("# {}", comment_text(s)), None);
    }
    w.line(
        0,
        &tr!(
            "# 「{}」注释指向表格中的工作表和行（列）。",
            "# `{}` comments point at the sheet and row (column) of the spreadsheet.",
            ORIGIN_PREFIX.trim_start_matches("# ").trim()
        ),
        None,
    );
    for u in unmapped {
        w.line(0, &format!("# {}", comment_text(u)), None);
    }
    let (title, region) = header;
    if title.is_some() || region.is_some() {
        w.line(0, "list:", None);
        if let Some(t) = title {
            w.line(2, &format!("title: {}", yaml_scalar(&t)), None);
        }
        if let Some(r) = region {
            w.line(2, &format!("region: {}", yaml_scalar(&r)), None);
        }
    }
    if items.is_empty() {
        w.line(0, "items: []", None);
        return (w.out, w.origins);
    }
    w.line(0, "items:", None);
    let mut last_sheet: Option<&str> = None;
    for it in items {
        if sheets.len() > 1 && last_sheet != Some(it.sheet.as_str()) {
            w.line(2, &tr!("# ── 工作表「{}」", "# ── sheet `{}`", comment_text(&it.sheet)), None);
            last_sheet = Some(&it.sheet);
        }
        let at = Location::rows(&it.sheet, it.first_row, it.last_row);
        w.origin_comment(2, &at);
        let mut fields: Vec<&(usize, Cell)> = it.fields.iter().collect();
        fields.sort_by_key(|(i, _)| *i);
        let mut first = true;
        for (i, cell) in fields {
            let Some(f) = field(*i) else { continue };
            w.field(4, f.key, cell, first);
            first = false;
        }
        for r in &it.rejected {
            w.rejected(4, r);
        }
        if !it.materials.is_empty() {
            w.line(4, "materials:", Some(&at));
            for m in &it.materials {
                if let Some(mat_at) = &m.at {
                    w.origin_comment(6, mat_at);
                }
                let mut mf: Vec<&(usize, Cell)> = m.fields.iter().collect();
                mf.sort_by_key(|(i, _)| *i);
                let mut first = true;
                for (i, cell) in mf {
                    let Some(f) = field(*i) else { continue };
                    w.field(8, f.key, cell, first);
                    first = false;
                }
                for r in &m.rejected {
                    w.rejected(8, r);
                }
            }
        }
    }
    (w.out, w.origins)
}

// ───────────────────────────── the entry point ─────────────────────────────

/// Imports a spreadsheet. `Err` when nothing could be imported (unreadable file, no header row,
/// an invalid mapping file); problems with single columns, rows and cells are in
/// [`Imported::problems`].
pub fn import_file(path: &Path, opts: &Options) -> Result<Imported, Problems> {
    let mapping = match &opts.mapping {
        Some(p) => Mapping::read(p)?,
        None => Mapping::default(),
    };
    let (grids, mut problems) = read_grids(path).map_err(Problems::from)?;
    let file_name = file_name(path);
    let wanted: Vec<String> = if opts.sheets.is_empty() { mapping.sheets.clone() } else { opts.sheets.clone() };
    for w in &wanted {
        if !grids.iter().any(|g| g.name == *w) {
            let names: Vec<&str> = grids.iter().map(|g| g.name.as_str()).collect();
            let hint = did_you_mean(w, names.iter().copied())
                .map(|s| tr!("是不是「{}」？", "did you mean `{}`? ", s))
                .unwrap_or_default();
            return Err(Problems::from(
                SourceError::new(
                    "qingdan::import::no_such_sheet",
                    tr!("`{}` 中没有工作表「{}」", "`{}` has no sheet `{}`", file_name, w),
                )
                .help(format!("{hint}{}", tr!("工作表：{}", "sheets: {}", names.join("、")))),
            ));
        }
    }
    let header_row = opts.header_row.or(mapping.header_row);
    let layout = if opts.layout == Layout::Auto { mapping.layout.unwrap_or_default() } else { opts.layout };
    let mut items = Vec::new();
    let mut summaries = Vec::new();
    let mut unmapped_lines = Vec::new();
    let mut title = opts.title.clone();
    let mut skipped = Vec::new();
    let mut used_entries: HashSet<usize> = HashSet::new();
    for grid in &grids {
        if !wanted.is_empty() && !wanted.contains(&grid.name) {
            continue;
        }
        let content = grid.cells.iter().any(|r| r.iter().any(|c| !c.is_empty()));
        let Some(header) = find_header(grid, &mapping, header_row) else {
            if content {
                skipped.push(grid);
            }
            continue;
        };
        let mut sheet = SheetImport {
            grid,
            mapping: &mapping,
            problems: &mut problems,
            items: Vec::new(),
            department: None,
            title: None,
        };
        used_entries.extend(header.columns.iter().filter_map(|c| c.mapping_entry));
        sheet.preamble(header.row);
        sheet.check_columns(&header);
        let rows = sheet.rows(&header);
        let used = sheet.build(&rows, layout);
        let mut sheet_items = std::mem::take(&mut sheet.items);
        let sheet_title = sheet.title.take();
        drop(sheet);
        let n_items = sheet_items.len();
        let n_mats: usize = sheet_items.iter().map(|i| i.materials.len()).sum();
        if let Some(t) = sheet_title {
            if title.is_none() {
                title = Some(t);
            } else if opts.title.is_none() {
                problems.push(Problem::note(
                    "qingdan::import::title",
                    Location::sheet(&grid.name),
                    tr!(
                        "标题「{}」未导入（清单只有一个标题）",
                        "title `{}` was not imported (a list has one title)",
                        clip(&t)
                    ),
                    tr!("用 --title 指定清单标题", "give the list's title with --title"),
                ));
            }
        }
        let header_rows = if header.height == 2 {
            format!("{}-{}", header.row + 1, header.row + 2)
        } else {
            (header.row + 1).to_string()
        };
        summaries.push(tr!(
            "工作表「{}」：表头在第 {} 行，{}，{} 个事项、{} 份材料",
            "sheet `{}`: header on row {}, {}, {} items and {} materials",
            grid.name,
            header_rows,
            match used {
                Layout::Item => tr!("每行一个事项", "one row per item"),
                _ => tr!("每行一份材料", "one row per material"),
            },
            n_items,
            n_mats
        ));
        for col in header.columns.iter().filter(|c| c.target.is_none()) {
            unmapped_lines.push(tr!(
                "未导入的列：「{}」（{}）",
                "column not imported: `{}` ({})",
                if col.header.is_empty() { tr!("无表头", "no header") } else { col.header.clone() },
                Location::column(&grid.name, u32::try_from(header.row + 1).unwrap_or(u32::MAX), col.index)
            ));
        }
        items.append(&mut sheet_items);
    }
    if summaries.is_empty() {
        let names: Vec<&str> = grids.iter().map(|g| g.name.as_str()).collect();
        // The first row with several cells: most likely the header that was not recognised.
        let first_row = grids
            .iter()
            .filter(|g| wanted.is_empty() || wanted.contains(&g.name))
            .flat_map(|g| g.cells.iter().take(HEADER_SEARCH_ROWS).map(move |r| (g, r)))
            .find(|(_, r)| r.iter().filter(|c| !c.is_empty()).count() >= 3)
            .map(|(g, r)| {
                let cells: Vec<&str> = r.iter().map(String::as_str).filter(|c| !c.is_empty()).take(8).collect();
                tr!("「{}」中的一行：{}…。", "a row of `{}`: {}…. ", g.name, cells.join("、"))
            })
            .unwrap_or_default();
        return Err(Problems::from(
            SourceError::new(
                "qingdan::import::no_header",
                tr!(
                    "`{}` 中找不到表头行（应含「事项编码」或「事项名称」等列）",
                    "no header row found in `{}` (it needs columns such as 事项编码 or 事项名称)",
                    file_name
                ),
            )
            .help(tr!(
                "{}工作表：{}。用 --header-row N 指定表头行，或用映射文件（--map）说明各列对应的字段，如 columns: {{主项编码: code, 主项名称: name}}",
                "{}sheets: {}. Give the header row with --header-row N, or say which column is which in a mapping file (--map), e.g. columns: {{主项编码: code, 主项名称: name}}",
                first_row,
                names.join("、")
            )),
        ));
    }
    for grid in skipped {
        let (code, level) = if grid.hidden {
            ("qingdan::import::hidden_sheet", Level::Note)
        } else {
            ("qingdan::import::skipped_sheet", Level::Warning)
        };
        problems.push(Problem {
            level,
            code,
            location: Location::sheet(&grid.name),
            message: tr!(
                "工作表「{}」找不到表头行，未导入",
                "sheet `{}` has no recognisable header row; not imported",
                grid.name
            ),
            help: tr!(
                "若它含有事项，用 --sheet 和 --header-row 或映射文件指明表头",
                "if it holds items, point at its header with --sheet and --header-row or a mapping file"
            ),
        });
    }
    // Mapping entries that matched no column: probably a typo.
    for (i, (key, _, whence)) in mapping.columns.iter().enumerate() {
        if !used_entries.contains(&i) {
            problems.push(Problem::note(
                "qingdan::import::unused_mapping",
                Location::sheet(&file_name),
                tr!("映射「{}」（{}）没有对应到任何列", "mapping `{}` ({}) matched no column", key, whence),
                tr!("检查表头的写法", "check how the header is spelled"),
            ));
        }
    }
    let materials = items.iter().map(|i| i.materials.len()).sum();
    let (yaml, origins) = write_yaml(
        &file_name,
        &summaries,
        (title, opts.region.clone()),
        &items,
        &unmapped_lines,
        opts.annotate_every_line,
    );
    Ok(Imported { file_name, yaml, problems, origins, items: items.len(), materials, sheets: summaries })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let name = |h: &str| match lookup_target(h) {
            Some(Target::Field(i)) => {
                field(i).map(|f| format!("{}{}", if f.material { "material." } else { "" }, f.key))
            }
            Some(Target::Ignore) => Some("ignore".into()),
            None => None,
        };
        assert_eq!(name("事项编码").as_deref(), Some("code"));
        assert_eq!(name(" 承诺办结时限\n（工作日）").as_deref(), Some("promised_days"));
        assert_eq!(name("*法定办结时限(日)").as_deref(), Some("legal_days"));
        assert_eq!(name("材料名称").as_deref(), Some("material.name"));
        assert_eq!(name("申请材料").as_deref(), Some("material.name"));
        assert_eq!(name("材料依据").as_deref(), Some("material.basis"));
        assert_eq!(name("設定依據").as_deref(), Some("basis"));
        assert_eq!(name("material.kind").as_deref(), Some("material.kind"));
        assert_eq!(name("ignore").as_deref(), Some("ignore"));
        assert_eq!(name("联系电话"), None);
        for f in FIELDS {
            for h in f.headers {
                assert_eq!(header_key(h), *h, "header spellings are stored normalised");
            }
        }
    }

    #[test]
    fn lists_split_outside_brackets() {
        assert_eq!(
            split_list("1.居民身份证；2.营业执照（副本、正本）\n3、申请表"),
            ["居民身份证", "营业执照（副本、正本）", "申请表"]
        );
        assert_eq!(split_list("①申请书、②身份证明"), ["申请书", "身份证明"]);
        assert_eq!(split_list("①登记申请书②章程草案"), ["登记申请书", "章程草案"]);
        assert_eq!(split_list("（一）申请书;(2)1.5米照片"), ["申请书", "1.5米照片"]);
        assert_eq!(split_list("二、申请书"), ["申请书"]);
    }

    #[test]
    fn citations_split_and_expand() {
        let (c, quoted) = split_citations(
            "1.《中华人民共和国行政许可法》第三十条、第三十一条\n2.《道路运输条例》第二十二条：从事货运经营的驾驶人员……",
        );
        assert_eq!(
            c,
            [
                "《中华人民共和国行政许可法》第三十条",
                "《中华人民共和国行政许可法》第三十一条",
                "《道路运输条例》第二十二条"
            ]
        );
        assert!(quoted);
        let (c, _) = split_citations("《城乡规划法》第四十条《行政许可法》第三十条");
        assert_eq!(c, ["《城乡规划法》第四十条", "《行政许可法》第三十条"]);
        let (c, _) = split_citations("国办发〔2015〕86号");
        assert_eq!(c, ["国办发〔2015〕86号"]);
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("20个工作日", Kind::Days), Some(20));
        assert_eq!(parse_count("二十日", Kind::Days), Some(20));
        assert_eq!(parse_count("即办", Kind::Days), Some(0));
        assert_eq!(parse_count("最多跑一次", Kind::Visits), Some(1));
        assert_eq!(parse_count("两份", Kind::Count), Some(2));
        assert_eq!(parse_count("20.5", Kind::Days), None);
        assert_eq!(format_float(230_600.0), "230600");
    }

    #[test]
    fn scalars_and_locations() {
        assert_eq!(yaml_scalar("居民身份证"), "居民身份证");
        assert_eq!(yaml_scalar("230600-XK-0001"), "\"230600-XK-0001\"");
        assert_eq!(yaml_scalar("承诺: 5日"), "\"承诺: 5日\"");
        assert_eq!(yaml_scalar("- 身份证"), "\"- 身份证\"");
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(Location::cell("事项总表", 5, 9).to_string(), "事项总表!J5");
        assert_eq!(Location::rows("My sheet", 3, 5).to_string(), "'My sheet'!3:5");
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff_delimiter("a,b,c\n"), b',');
        assert_eq!(sniff_delimiter("a\tb\tc\n"), b'\t');
        assert_eq!(sniff_delimiter("\"a,b\";c;d\n"), b';');
    }
}
