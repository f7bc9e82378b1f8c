//! `qingdan import FILE.xlsx|FILE.csv [-o list.yaml]`, and spreadsheets given to `check` directly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use super::{Cli, Outcome};
use crate::diag::{Problems, SourceError};
use crate::import::{self, Imported, Layout, Level, Options, Origins, Problem};
use crate::tr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// One row per item when every item takes one row, else one row per material.
    Auto,
    /// One row per material (item columns repeated, merged or blank).
    Material,
    /// One row per item (materials in one cell, separated by 、；; or new lines).
    Item,
}

impl From<LayoutArg> for Layout {
    fn from(l: LayoutArg) -> Layout {
        match l {
            LayoutArg::Auto => Layout::Auto,
            LayoutArg::Material => Layout::Material,
            LayoutArg::Item => Layout::Item,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The spreadsheet: .xlsx .xlsm .xlsb .xls .ods, or .csv (UTF-8 with or without BOM, or GB18030).
    pub file: PathBuf,
    /// Write the YAML list to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A mapping file for unusual headers and values (`columns:`, `values:`; see the README).
    #[arg(long = "map", value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Import only this sheet (repeatable; default: every sheet with a recognisable header).
    #[arg(long, value_name = "NAME")]
    pub sheet: Vec<String>,
    /// The header's row number, 1-based (default: found automatically).
    #[arg(long, value_name = "N")]
    pub header_row: Option<u32>,
    /// How rows relate to items.
    #[arg(long, value_enum, default_value = "auto")]
    pub layout: LayoutArg,
    /// The list's title (default: a title row above the header).
    #[arg(long)]
    pub title: Option<String>,
    /// The list's region (地区), e.g. 大庆市: citations are checked for its jurisdiction.
    #[arg(long)]
    pub region: Option<String>,
    /// Print only problems and the summary, not the notes.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn print_problems(problems: &[Problem], quiet: bool) {
    let warnings: Vec<SourceError> =
        problems.iter().filter(|p| p.level == Level::Warning).map(Problem::to_error).collect();
    if !warnings.is_empty() {
        let color = std::env::var_os("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stderr());
        let rendered = crate::report::render_problems(&Problems::new(String::new(), warnings), color);
        eprint!("{rendered}");
    }
    if !quiet {
        for p in problems.iter().filter(|p| p.level == Level::Note) {
            eprintln!("{}", tr!("注意：{}", "note: {}", p.line()));
        }
    }
}

/// `qingdan import`.
pub fn run(_cli: &Cli, args: &ImportArgs) -> Result<Outcome, Problems> {
    let opts = Options {
        mapping: args.map.clone(),
        sheets: args.sheet.clone(),
        header_row: args.header_row,
        layout: args.layout.into(),
        title: args.title.clone(),
        region: args.region.clone(),
        annotate_every_line: false,
    };
    let imported = import::import_file(&args.file, &opts)?;
    imported.verify()?;
    write_output(args.output.as_deref(), &imported.yaml)?;
    print_problems(&imported.problems, args.quiet);
    let warnings = imported.warnings();
    let target =
        args.output.as_ref().map_or_else(|| tr!("标准输出", "standard output"), |p| format!("`{}`", p.display()));
    eprintln!(
        "{}",
        tr!(
            "已从「{}」导入 {} 个事项、{} 份材料，写入 {}；{} 处问题",
            "imported {1} items and {2} materials from `{0}` to {3}; {4} problems",
            imported.file_name,
            imported.items,
            imported.materials,
            target,
            warnings
        )
    );
    if !args.quiet {
        for s in &imported.sheets {
            eprintln!("  {s}");
        }
    }
    Ok(if warnings > 0 { Outcome::Findings } else { Outcome::Clean })
}

/// Spreadsheets among the paths given to `check`, imported in memory.
#[derive(Debug, Default)]
pub struct SpreadsheetInputs {
    /// Path as given → the YAML text to check instead of the file's bytes; pass it to
    /// `corpus::load_with_overrides`. Every YAML line carries a `# 来源: sheet!cell` comment, so
    /// every snippet in a finding shows its cell.
    pub overrides: HashMap<PathBuf, String>,
    /// Path as given → which YAML line came from which cell.
    pub origins: HashMap<PathBuf, Origins>,
    /// What the import could not carry over (unmapped columns, unparsable cells…): print them as
    /// notes before the findings.
    pub problems: Vec<(PathBuf, Problem)>,
}

impl SpreadsheetInputs {
    /// `事项总表!J5`: the spreadsheet cell behind a 1-based line of an imported file, for findings
    /// (`file` as the finding names it: the path as given).
    #[must_use]
    pub fn locate(&self, file: &str, line: usize) -> Option<String> {
        self.origins
            .iter()
            .find(|(p, _)| p.display().to_string() == file)
            .and_then(|(_, o)| o.locate(line))
            .map(ToString::to_string)
    }

    /// Prints the import problems on standard error, one line each.
    pub fn print_notes(&self) {
        for (path, p) in &self.problems {
            eprintln!("{}", tr!("注意：{}：{}", "note: {}: {}", path.display(), p.line()));
        }
    }
}

/// For `check`: imports every path that [`import::is_spreadsheet`] accepts (a file given
/// directly; directories are still searched for YAML only), with the default options.
///
/// Use: `let sheets = spreadsheet_inputs(&args.paths)?;` then discover as usual (an explicit file
/// path is kept whatever its extension) and load with
/// `corpus::load_with_overrides(&discovery, &refs, &tick, &sheets.overrides)`; findings then name
/// the spreadsheet path and a line of the generated YAML, and `sheets.locate(file, line)` gives the
/// cell. `Err` (exit 2) when a spreadsheet cannot be imported at all.
pub fn spreadsheet_inputs(paths: &[PathBuf]) -> Result<SpreadsheetInputs, Problems> {
    let mut out = SpreadsheetInputs::default();
    let opts = Options { annotate_every_line: true, ..Options::default() };
    for path in paths.iter().filter(|p| p.is_file() && import::is_spreadsheet(p)) {
        let imported: Imported = import::import_file(path, &opts)?;
        out.problems.extend(imported.problems.iter().cloned().map(|p| (path.clone(), p)));
        out.origins.insert(path.clone(), imported.origins);
        out.overrides.insert(path.clone(), imported.yaml);
    }
    Ok(out)
}

/// True when a path given to `check` is a spreadsheet file.
#[must_use]
pub fn is_spreadsheet_path(path: &Path) -> bool {
    path.is_file() && import::is_spreadsheet(path)
}

fn write_output(path: Option<&Path>, text: &str) -> Result<(), Problems> {
    match path {
        Some(p) => std::fs::write(p, text).map_err(|e| {
            Problems::from(
                SourceError::new("qingdan::io", tr!("无法写入 `{}`：{}", "cannot write `{}`: {}", p.display(), e))
                    .help(tr!("检查输出路径", "check the output path")),
            )
        }),
        None => {
            use std::io::Write;
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            Ok(())
        }
    }
}
