//! The command line: the only user of clap. Each command returns an [`Outcome`]; `main` maps it
//! to the exit code (0 clean, 1 findings at or above `--fail-on`, 2 could not run).

pub mod examples;
pub mod import;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::compile::Program;
use crate::corpus::config::{Level, PolicySource};
use crate::corpus::model::Date;
use crate::corpus::reference::References;
use crate::corpus::{self, Corpus, Discovery};
use crate::diag::{Problems, SourceError};
use crate::eval::{self, RunOptions};
use crate::i18n::Lang;
use crate::report::baseline::Baseline;
use crate::report::{Report, github, human, json, junit, markdown, sarif};
use crate::timings::{self, Phase};
use crate::{policy, tr};

/// qingdan (清单) — 政务服务事项清单合规检查 / compliance checker for government service item lists.
#[derive(Debug, Parser)]
#[command(name = "qingdan", version, about, long_about = None)]
pub struct Cli {
    /// qingdan.yaml to use instead of the one found at the corpus root.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Language of messages: zh (default) or en. Statute texts stay Chinese.
    #[arg(long, global = true, value_enum, default_value = "zh")]
    pub lang: Lang,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check lists against the rules.
    Check(CheckArgs),
    /// Validate policy files or run their examples.
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
    /// The table of rules.
    Rules(RulesArgs),
    /// Explain a rule (QD103), or every rule's verdict on an item (its code).
    Explain(ExplainArgs),
    /// The nine lists and the 四办 lists.
    Lists(ListsArgs),
    /// The reduction report between an old and a new version of a list.
    Diff(DiffArgs),
    /// Apply safe fixes as text edits (and unsafe ones with --unsafe).
    Fix(FixArgs),
    /// Import a spreadsheet (事项总表, .xlsx or .csv) as a YAML list.
    Import(import::ImportArgs),
    /// The public-comment report: one self-contained HTML file.
    Report(ReportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// List files or directories.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// The HTML file to write (default: standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The report's title (default: the list's title, else a generic one).
    #[arg(long)]
    pub title: Option<String>,
    #[command(flatten)]
    pub run: RunOpts,
}

#[derive(Debug, clap::Args)]
pub struct FixArgs {
    /// List files or directories.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Print a unified diff and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also apply unsafe fixes (legal judgements: removing a catch-all or a material without basis).
    #[arg(long = "unsafe")]
    pub unsafe_fixes: bool,
    /// Only fix findings of rules whose id starts with one of these.
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not fix findings of these rules.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    #[command(flatten)]
    pub run: RunOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListsFormat {
    Human,
    Yaml,
    Csv,
    Markdown,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ListsArgs {
    /// List files or directories.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListsFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Human,
    Markdown,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The list before the reform (file or directory).
    pub old: PathBuf,
    /// The list after it.
    pub new: PathBuf,
    #[arg(long, value_enum, default_value = "human")]
    pub format: DiffFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunOpts,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A rule id (QD103) or an item code (230600-XK-0001).
    pub target: String,
    /// Where to look for the item (default `.`).
    pub paths: Vec<PathBuf>,
    /// Only this material of the item (its name).
    #[arg(long, value_name = "NAME")]
    pub material: Option<String>,
    /// Output format: human or json.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    #[command(flatten)]
    pub run: RunOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
    Junit,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

impl From<FailOn> for Level {
    fn from(f: FailOn) -> Level {
        match f {
            FailOn::Error => Level::Error,
            FailOn::Warning => Level::Warning,
            FailOn::Info => Level::Info,
        }
    }
}

/// Policies and the check date: shared by the commands that check before they do something else.
#[derive(Debug, clap::Args, Clone, Default)]
pub struct RunOpts {
    #[command(flatten)]
    pub policies: PolicyOpts,
    /// The check date: statutes must be in force and waivers unexpired at it (YYYY-MM-DD; default today).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,
}

/// Options shared by commands that load a corpus and policies.
#[derive(Debug, clap::Args, Clone, Default)]
pub struct PolicyOpts {
    /// Extra policy directories (added to the built-in pack).
    #[arg(long = "policy", value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    /// Do not use the built-in policy pack.
    #[arg(long)]
    pub no_builtin: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// List files or directories (searched recursively for *.yaml / *.yml).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only run rules whose id starts with one of these (comma-separated: QD1,QD203).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not run rules whose id starts with one of these.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Exit with code 1 when a finding at or above this severity is not waived.
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub policies: PolicyOpts,
    /// Print only the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print the number of findings per rule.
    #[arg(long)]
    pub statistics: bool,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// The date statutes must be in force and waivers unexpired at (YYYY-MM-DD; default today).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Report only findings that are not in this baseline (see --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record today's findings in FILE, to be used with --baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Only load the lists and print their size (a benchmark baseline: SPEC §10).
    #[arg(long, hide = true)]
    pub load_only: bool,
}

#[derive(Debug, Subcommand)]
pub enum PolicyAction {
    /// Parse and check policy files (default: the built-in pack).
    Check(PolicyDirs),
    /// Run every `example pass` / `example fail` block.
    Test(PolicyDirs),
}

#[derive(Debug, clap::Args)]
pub struct PolicyDirs {
    /// Policy directories or files; without any, the built-in pack.
    pub dirs: Vec<PathBuf>,
    /// Also load the built-in pack when directories are given (their rules may depend on it).
    #[arg(long)]
    pub with_builtin: bool,
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub policies: PolicyOpts,
    /// List the registry's quotable articles that no rule cites.
    #[arg(long)]
    pub coverage: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).ok_or_else(|| tr!("日期应写作 YYYY-MM-DD：`{}`", "expected a date YYYY-MM-DD, got `{}`", s))
}

/// How a command ended.
#[derive(Debug)]
pub enum Outcome {
    Clean,
    Findings,
}

/// Everything loaded for a run.
pub struct Session {
    pub discovery: Discovery,
    pub refs: References,
    pub corpus: Corpus,
    pub program: Program,
}

fn policy_sources(config_policies: &[PolicySource], opts: &PolicyOpts) -> Vec<PolicySource> {
    let mut sources: Vec<PolicySource> =
        if config_policies.is_empty() { vec![PolicySource::Builtin] } else { config_policies.to_vec() };
    sources.extend(opts.policy.iter().cloned().map(PolicySource::Dir));
    if opts.no_builtin {
        sources.retain(|s| *s != PolicySource::Builtin);
    }
    sources
}

/// Files from which a run shows a progress bar (when standard error is a terminal).
const PROGRESS_FROM_FILES: usize = 20;

/// Loads configuration, reference tables, policies and the corpus.
pub fn load_session(paths: &[PathBuf], config: Option<&Path>, opts: &PolicyOpts) -> Result<Session, Problems> {
    load_session_with(paths, config, opts, &std::collections::HashMap::new())
}

/// [`load_session`], reading the texts in `overrides` instead of those files (spreadsheets given
/// to `check` are imported in memory).
pub fn load_session_with(
    paths: &[PathBuf],
    config: Option<&Path>,
    opts: &PolicyOpts,
    overrides: &std::collections::HashMap<PathBuf, String>,
) -> Result<Session, Problems> {
    let (discovery, refs, program) = load_setup(paths, config, opts)?;
    let bar = progress_bar(discovery.file_count());
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let corpus = corpus::load_with_overrides(&discovery, &refs, &tick, overrides);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    Ok(Session { discovery, refs, corpus: corpus?, program })
}

/// Configuration, reference tables and policies: everything but the list files.
fn load_setup(
    paths: &[PathBuf],
    config: Option<&Path>,
    opts: &PolicyOpts,
) -> Result<(Discovery, References, Program), Problems> {
    let discovery = corpus::discover(paths, config).map_err(Problems::from)?;
    // The two slow parts of start-up, side by side.
    let (refs, parsed) = rayon::join(
        || corpus::references(&discovery),
        || policy::parse(&policy_sources(&discovery.config.policies, opts)),
    );
    let refs = refs?;
    let program = parsed?.compile(&refs)?;
    Ok((discovery, refs, program))
}

/// A progress bar over `n` files, on a terminal and for enough files to be worth one.
fn progress_bar(n: usize) -> Option<indicatif::ProgressBar> {
    (n >= PROGRESS_FROM_FILES && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(u64::try_from(n).unwrap_or(u64::MAX));
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}") {
            bar.set_style(style);
        }
        bar.set_message(tr!("检查清单", "checking lists"));
        bar
    })
}

/// Per-rule levels from the configuration and the command line. A `select` or `ignore` entry
/// that is no rule id's prefix is an error: a typo (`QD10l`) or an empty entry (`QD101,`, whose
/// empty prefix matches every id) would otherwise run no rule, or every rule, and a CI gate
/// would pass without checking what it was meant to. So is a `severity` key that is no rule id.
fn levels_for(
    program: &Program,
    cfg: &crate::corpus::config::Config,
    args: &CheckArgs,
) -> Result<Vec<Option<Level>>, Problems> {
    let select: &[String] = if args.select.is_empty() { &cfg.select } else { &args.select };
    let ignore: Vec<&String> = cfg.ignore.iter().chain(&args.ignore).collect();
    let listed =
        [("--select", &args.select), ("--ignore", &args.ignore), ("select", &cfg.select), ("ignore", &cfg.ignore)];
    let matches = |p: &str| !p.is_empty() && program.rules.iter().any(|r| r.id.starts_with(p));
    let problem = |message: String, p: &str, otherwise: String| {
        SourceError::new("qingdan::unknown_rule", message).help(
            match crate::diag::did_you_mean(p, program.rules.iter().map(|r| r.id.as_str())) {
                Some(id) if !p.is_empty() => tr!(
                    "是否指 {}？`qingdan rules` 列出全部规则",
                    "did you mean {}? `qingdan rules` lists the rules",
                    id
                ),
                _ => otherwise,
            },
        )
    };
    let mut unknown: Vec<SourceError> = listed
        .iter()
        .flat_map(|(whence, prefixes)| prefixes.iter().map(move |p| (*whence, p.trim())))
        .filter(|(_, p)| !matches(p))
        .map(|(whence, p)| {
            let what = if whence.starts_with("--") {
                whence.to_string()
            } else {
                tr!("配置文件的 `{}`", "`{}` of the configuration file", whence)
            };
            let message = if p.is_empty() {
                tr!("{} 中有空项", "{} has an empty entry", what)
            } else {
                tr!("{} 中的 `{}` 不是任何规则编号的前缀", "`{1}` in {0} is not the prefix of any rule id", what, p)
            };
            let otherwise = tr!(
                "`qingdan rules` 列出全部规则；多个前缀用逗号分隔，不留空项（如 QD1,QD203）",
                "`qingdan rules` lists the rules; separate prefixes with commas, without empty entries (QD1,QD203)"
            );
            problem(message, p, otherwise)
        })
        .collect();
    // `severity` names whole rule ids: a typo would leave the rule at its own level, silently.
    unknown.extend(cfg.severity.keys().filter(|id| !program.rules.iter().any(|r| r.id == **id)).map(|id| {
        problem(
            tr!(
                "配置文件的 `severity` 中的 `{}` 不是规则编号",
                "`{}` in `severity` of the configuration file is not a rule id",
                id
            ),
            id,
            tr!("`qingdan rules` 列出全部规则编号", "`qingdan rules` lists the rule ids"),
        )
    }));
    // `--select ,` has two empty entries: one problem.
    unknown.dedup_by(|a, b| a.message == b.message);
    if unknown.len() > 1 {
        return Err(Problems::new(tr!("规则选择有误", "invalid rule selection"), unknown));
    }
    if let Some(e) = unknown.into_iter().next() {
        return Err(Problems::from(e));
    }
    Ok(program
        .rules
        .iter()
        .map(|r| {
            let selected = select.is_empty() || select.iter().any(|p| r.id.starts_with(p.trim()));
            let ignored = ignore.iter().any(|p| r.id.starts_with(p.trim()));
            if !selected || ignored {
                return None;
            }
            match cfg.severity.get(&r.id) {
                Some(over) => *over,
                None => Some(eval::default_level(r.severity)),
            }
        })
        .collect())
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
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            Ok(())
        }
    }
}

fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

fn check(cli: &Cli, args: &CheckArgs) -> Result<Outcome, Problems> {
    let outcome = run_check(cli, args);
    if timings::on() {
        eprint!("{}", timings::table());
    }
    outcome
}

fn run_check(cli: &Cli, args: &CheckArgs) -> Result<Outcome, Problems> {
    if let Some(n) = args.jobs {
        // A pool that is already built (tests) is fine: the thread count never changes output.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global();
    }
    // Spreadsheets given directly are imported in memory and checked like lists.
    let sheets = import::spreadsheet_inputs(&args.paths)?;
    sheets.print_notes();
    let (discovery, refs, program) =
        timings::time(Phase::Setup, || load_setup(&args.paths, cli.config.as_deref(), &args.policies))?;
    timings::name_rules(program.rules.iter().map(|r| r.id.clone()));
    let as_of = args.as_of.unwrap_or_else(Date::today);
    let run_opts = RunOptions::new(as_of, levels_for(&program, &discovery.config, args)?);
    let bar = progress_bar(discovery.file_count());
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let opts = crate::check::CheckOptions {
        run: &run_opts,
        with_edits: matches!(args.format, Format::Json | Format::Sarif),
        overrides: &sheets.overrides,
        tick: &tick,
        batch: crate::check::BATCH,
        keep: crate::check::KEEP,
    };
    if args.load_only {
        let s = on_pool(|| crate::check::load_only(&discovery, &refs, &opts));
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        let s = s?;
        println!("{} files, {} items, {} materials", s.files, s.items, s.materials);
        return Ok(Outcome::Clean);
    }
    let checked = on_pool(|| crate::check::check(&discovery, &refs, &program, &opts));
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let checked = checked?;
    for note in &checked.notes {
        eprintln!("{}", tr!("注意：{}", "note: {}", note));
    }
    let mut report = checked.report;
    if let Some(path) = &args.write_baseline {
        let b = Baseline::of(&report);
        b.write(path).map_err(Problems::from)?;
        eprintln!(
            "{}",
            tr!("基线已写入 `{}`：{} 个问题", "wrote baseline `{}`: {} findings", path.display(), b.findings.len())
        );
    }
    let baseline_path = args.baseline.clone().or_else(|| discovery.config.baseline.clone());
    if let Some(path) = baseline_path.filter(|_| args.write_baseline.is_none()) {
        let b = Baseline::read(&path).map_err(Problems::from)?;
        let gone = b.apply(&mut report);
        if !args.quiet {
            eprintln!(
                "{}",
                tr!(
                    "基线 `{}`：{} 个已知问题未报告，{} 个已修复",
                    "baseline `{}`: {} known findings not reported, {} fixed",
                    path.display(),
                    report.summary.baselined.unwrap_or(0),
                    gone.len()
                )
            );
            for g in &gone {
                eprintln!("  {}", tr!("已修复：{} {} {}", "fixed: {} {} {}", g.rule, g.file, g.message));
            }
        }
    }
    timings::time(Phase::Render, || {
        let text = match args.format {
            // Written as they are serialised, as the human format is as it is rendered.
            Format::Json => return write_output_with(args.output.as_deref(), &mut |w| json::render_to(&report, w)),
            Format::Sarif => {
                return write_output_with(args.output.as_deref(), &mut |w| sarif::render_to(&report, &refs, w));
            }
            Format::Github => github::render(&report),
            Format::Junit => return write_output_with(args.output.as_deref(), &mut |w| junit::render_to(&report, w)),
            Format::Markdown => markdown::render(&report),
            Format::Human => {
                // Written as it is rendered: the findings of a national corpus run to gigabytes.
                let color = args.output.is_none() && use_color();
                return write_output_with(args.output.as_deref(), &mut |w| {
                    human::render_to(&report, color, 110, args.quiet, w)?;
                    if args.statistics {
                        w.write_all(human::statistics(&report).as_bytes())?;
                    }
                    Ok(())
                });
            }
        };
        write_output(args.output.as_deref(), &text)
    })?;
    let outcome = if report.fails(args.fail_on.into()) { Outcome::Findings } else { Outcome::Clean };
    // Freeing the findings (a national corpus has a million) is left to a pool thread: the
    // process is about to end, and its exit does not wait for them.
    let diagnostics = std::mem::take(&mut report.diagnostics);
    rayon::spawn(move || drop(diagnostics));
    Ok(outcome)
}

/// Runs `f` on a thread of the pool, the calling thread waiting asleep. A check's steps between
/// its parallel ones (the plan of phase 2, merging) then run on a worker, not on a thread that
/// has to be woken and scheduled while the pool's threads, just idle, still spin on every core.
fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| f())
}

/// Writes through `f` to the file `path`, or to standard output, buffered.
fn write_output_with(
    path: Option<&Path>,
    f: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Problems> {
    let failed = |p: &Path, e: std::io::Error| {
        Problems::from(
            SourceError::new("qingdan::io", tr!("无法写入 `{}`：{}", "cannot write `{}`: {}", p.display(), e))
                .help(tr!("检查输出路径", "check the output path")),
        )
    };
    match path {
        Some(p) => {
            let file = std::fs::File::create(p).map_err(|e| failed(p, e))?;
            let mut w = std::io::BufWriter::new(file);
            f(&mut w).and_then(|()| w.flush()).map_err(|e| failed(p, e))
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = f(&mut w).and_then(|()| w.flush());
            Ok(())
        }
    }
}

fn rules(cli: &Cli, args: &RulesArgs) -> Result<Outcome, Problems> {
    let discovery = corpus::discover(&[PathBuf::from(".")], cli.config.as_deref()).map_err(Problems::from)?;
    let refs = corpus::references(&discovery)?;
    let program = policy::load(&policy_sources(&discovery.config.policies, &args.policies), &refs)?;
    if args.coverage {
        let rows = crate::explain::coverage(&program, &refs);
        let text = match args.format {
            Format::Json => {
                let rows: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|(id, title, a)| serde_json::json!({"statute": id, "title": title, "article": a}))
                    .collect();
                let mut s = serde_json::to_string_pretty(&serde_json::json!({"version": 1, "uncited": rows}))
                    .unwrap_or_default();
                s.push('\n');
                s
            }
            _ => {
                let mut s = tr!(
                    "法规库中未被任何规则引用的条文（{} 条）：\n",
                    "registry articles no rule cites ({}):\n",
                    rows.len()
                );
                for (id, title, a) in rows {
                    s.push_str(&format!("  {id:<12} 《{title}》{a}\n"));
                }
                s
            }
        };
        write_output(None, &text)?;
        return Ok(Outcome::Clean);
    }
    let text = match args.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = program
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "name": r.name,
                        "severity": eval::default_level(r.severity).as_str(),
                        "title": r.title.get(),
                        "statutes": r.cites.iter().filter_map(|c| refs.registry.get(c.statute).map(|s| format!("《{}》{}", s.title, c.article))).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let mut s =
                serde_json::to_string_pretty(&serde_json::json!({"version": 1, "rules": rows})).unwrap_or_default();
            s.push('\n');
            s
        }
        _ => {
            let mut s = String::new();
            for r in &program.rules {
                let statutes: Vec<String> = r
                    .cites
                    .iter()
                    .filter_map(|c| {
                        refs.registry
                            .get(c.statute)
                            .filter(|s| s.is_national())
                            .map(|s| format!("《{}》{}", s.short.first().unwrap_or(&s.title), c.article))
                    })
                    .collect();
                s.push_str(&format!(
                    "{}  {:<28} {:<8} {}  {}\n",
                    r.id,
                    r.name,
                    eval::default_level(r.severity).as_str(),
                    r.title.get(),
                    statutes.join("、")
                ));
            }
            s
        }
    };
    write_output(None, &text)?;
    Ok(Outcome::Clean)
}

fn policy_cmd(cli: &Cli, action: &PolicyAction) -> Result<Outcome, Problems> {
    let (dirs, with_builtin, test) = match action {
        PolicyAction::Check(d) => (&d.dirs, d.with_builtin, false),
        PolicyAction::Test(d) => (&d.dirs, d.with_builtin, true),
    };
    let discovery = corpus::discover(&[PathBuf::from(".")], cli.config.as_deref()).map_err(Problems::from)?;
    let refs = corpus::references(&discovery)?;
    let mut sources: Vec<PolicySource> = dirs.iter().cloned().map(PolicySource::Dir).collect();
    if sources.is_empty() || with_builtin {
        sources.insert(0, PolicySource::Builtin);
    }
    let program = policy::load(&sources, &refs)?;
    if !test {
        println!(
            "{}",
            tr!(
                "策略检查通过：{} 条规则，{} 个清单定义",
                "policies are valid: {} rules, {} lists",
                program.rules.len(),
                program.lists.len()
            )
        );
        return Ok(Outcome::Clean);
    }
    let results = examples::run_all(&program, &refs);
    let failed = results.iter().filter(|r| !r.ok).count();
    for r in &results {
        if !r.ok || std::env::var_os("QINGDAN_VERBOSE").is_some() {
            println!("{}", r.line());
        }
    }
    println!("{} passed, {} failed", results.len() - failed, failed);
    Ok(if failed == 0 { Outcome::Clean } else { Outcome::Findings })
}

fn explain(cli: &Cli, args: &ExplainArgs) -> Result<Outcome, Problems> {
    let is_rule_id = |t: &str| {
        let letters = t.chars().take_while(char::is_ascii_uppercase).count();
        letters > 0 && t.len() > letters && t.chars().skip(letters).all(|c| c.is_ascii_digit())
    };
    if is_rule_id(&args.target) {
        let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
        let discovery = corpus::discover(&paths, cli.config.as_deref()).map_err(Problems::from)?;
        let refs = corpus::references(&discovery)?;
        let program = policy::load(&policy_sources(&discovery.config.policies, &args.run.policies), &refs)?;
        let Some(rule) = program.rule(&args.target) else {
            let ids: Vec<&str> = program.rules.iter().map(|r| r.id.as_str()).collect();
            let hint = crate::diag::did_you_mean(&args.target, ids.iter().copied())
                .map(|g| tr!("是不是 {}？", "did you mean {}?", g))
                .unwrap_or_default();
            return Err(Problems::from(
                SourceError::new("qingdan::explain::unknown_rule", tr!("没有规则 {}", "no rule {}", args.target))
                    .help(format!("{hint}{}", tr!("qingdan rules 列出全部规则", "`qingdan rules` lists them all"))),
            ));
        };
        let text = match args.format {
            Format::Json => {
                let cites: Vec<serde_json::Value> = rule
                    .cites
                    .iter()
                    .filter_map(|c| {
                        let s = refs.registry.get(c.statute)?;
                        Some(serde_json::json!({
                            "statute": s.title, "number": s.number, "article": c.article,
                            "text": s.quotable(&c.article), "verification": s.verification, "jurisdiction": s.jurisdiction,
                        }))
                    })
                    .collect();
                let sections: Vec<serde_json::Value> = crate::explain::sections(rule)
                    .into_iter()
                    .map(|(h, b)| serde_json::json!({"heading": h, "text": b.trim()}))
                    .collect();
                let mut s = serde_json::to_string_pretty(&serde_json::json!({
                    "version": 1, "id": rule.id, "name": rule.name, "title": rule.title.get(),
                    "severity": eval::default_level(rule.severity).as_str(), "sections": sections, "cites": cites,
                }))
                .unwrap_or_default();
                s.push('\n');
                s
            }
            _ => crate::explain::rule_text(&program, &refs, rule),
        };
        write_output(None, &text)?;
        return Ok(Outcome::Clean);
    }
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let session = load_session(&paths, cli.config.as_deref(), &args.run.policies)?;
    let as_of = args.run.as_of.unwrap_or_else(Date::today);
    let Some(&idx) = session.corpus.items_with_code(&args.target).first() else {
        let near = crate::explain::nearest_codes(&session.corpus, &args.target);
        return Err(Problems::from(
            SourceError::new(
                "qingdan::explain::unknown_item",
                tr!("找不到事项编码 `{}`", "no item with code `{}`", args.target),
            )
            .help(tr!("最接近的编码：{}", "nearest codes: {}", near.join(", "))),
        ));
    };
    let opts = RunOptions::all(&session.program, as_of);
    let findings = eval::run(&session.program, &session.corpus, &session.refs, &opts);
    let Some(trace) = crate::explain::item_trace(
        &session.corpus,
        &session.refs,
        &session.program,
        &findings,
        idx,
        args.material.as_deref(),
        as_of,
    ) else {
        return Ok(Outcome::Clean);
    };
    if args.material.is_some() && trace.materials.is_empty() {
        let names: Vec<String> = session
            .corpus
            .items
            .get(idx as usize)
            .map(|i| i.materials.iter().map(|m| m.name.value.to_string()).collect())
            .unwrap_or_default();
        return Err(Problems::from(
            SourceError::new(
                "qingdan::explain::unknown_material",
                tr!("事项没有材料「{}」", "the item has no material `{}`", args.material.as_deref().unwrap_or("")),
            )
            .help(tr!("该事项的材料：{}", "its materials: {}", names.join("、"))),
        ));
    }
    let text = match args.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&trace).unwrap_or_default();
            s.push('\n');
            s
        }
        _ => crate::explain::trace_text(&trace),
    };
    write_output(None, &text)?;
    Ok(Outcome::Clean)
}

fn lists(cli: &Cli, args: &ListsArgs) -> Result<Outcome, Problems> {
    let session = load_session(&args.paths, cli.config.as_deref(), &args.run.policies)?;
    let as_of = args.run.as_of.unwrap_or_else(Date::today);
    let findings =
        eval::run(&session.program, &session.corpus, &session.refs, &RunOptions::all(&session.program, as_of));
    let l = crate::lists::build(&session.program, &session.corpus, &session.refs, &findings, as_of);
    let text = match args.format {
        ListsFormat::Json => crate::lists::json(&l),
        ListsFormat::Yaml => crate::lists::yaml(&l),
        ListsFormat::Csv => crate::lists::csv(&l),
        ListsFormat::Markdown => crate::lists::markdown(&l),
        ListsFormat::Human => crate::lists::human(&l),
    };
    write_output(args.output.as_deref(), &text)?;
    Ok(Outcome::Clean)
}

fn diff(cli: &Cli, args: &DiffArgs) -> Result<Outcome, Problems> {
    let old = load_session(std::slice::from_ref(&args.old), cli.config.as_deref(), &args.run.policies)?;
    let new = load_session(std::slice::from_ref(&args.new), cli.config.as_deref(), &args.run.policies)?;
    let as_of = args.run.as_of.unwrap_or_else(Date::today);
    let findings = eval::run(&old.program, &old.corpus, &old.refs, &RunOptions::all(&old.program, as_of));
    let flagged = |code: &str, material: &str| -> Vec<String> {
        let mut rules: Vec<String> = findings
            .iter()
            .filter(|f| f.waived_by.is_none())
            .filter_map(|f| {
                let item = old.corpus.items.get(f.item? as usize)?;
                let m = item.materials.get(f.material? as usize)?;
                (item.code.value == code && &*m.name.value == material)
                    .then(|| old.program.rules.get(f.rule).map(|r| r.id.clone()))?
            })
            .collect();
        rules.sort();
        rules.dedup();
        rules
    };
    let d = crate::diff::diff(&old.corpus, &new.corpus, &flagged);
    let text = match args.format {
        DiffFormat::Json => crate::diff::json(&d),
        DiffFormat::Markdown | DiffFormat::Human => crate::diff::markdown(&d),
    };
    write_output(args.output.as_deref(), &text)?;
    Ok(Outcome::Clean)
}

fn report_cmd(cli: &Cli, args: &ReportArgs) -> Result<Outcome, Problems> {
    let session = load_session(&args.paths, cli.config.as_deref(), &args.run.policies)?;
    let as_of = args.run.as_of.unwrap_or_else(Date::today);
    let opts =
        RunOptions::new(as_of, levels_for(&session.program, &session.discovery.config, &CheckArgs::defaults(as_of))?);
    let findings = eval::run(&session.program, &session.corpus, &session.refs, &opts);
    let report = Report::new(&session.corpus, &session.refs, &session.program, &findings);
    let lists = crate::lists::build(&session.program, &session.corpus, &session.refs, &findings, as_of);
    let title = args.title.clone().or_else(|| {
        let titles: Vec<&str> =
            session.corpus.lists.iter().filter_map(|l| l.header.title.as_ref()).map(|t| t.value.as_str()).collect();
        (titles.len() == 1).then(|| titles.first().map(|t| (*t).to_string())).flatten()
    });
    let html = crate::report::html::render(&report, &session.corpus, &lists, as_of, title.as_deref());
    write_output(args.output.as_deref(), &html)?;
    if let Some(p) = &args.output {
        eprintln!("{}", tr!("报告已写入 `{}`", "report written to `{}`", p.display()));
    }
    Ok(Outcome::Clean)
}

impl CheckArgs {
    /// The options of a plain `check` (for commands that check before they do something else).
    fn defaults(as_of: Date) -> CheckArgs {
        CheckArgs {
            paths: Vec::new(),
            format: Format::Human,
            output: None,
            select: Vec::new(),
            ignore: Vec::new(),
            fail_on: FailOn::Error,
            policies: PolicyOpts::default(),
            quiet: true,
            statistics: false,
            jobs: None,
            as_of: Some(as_of),
            baseline: None,
            write_baseline: None,
            load_only: false,
        }
    }
}

/// Passes of `fix` at most: each applies the edits that do not overlap and checks again.
const FIX_PASSES: usize = 8;

fn fix(cli: &Cli, args: &FixArgs) -> Result<Outcome, Problems> {
    use std::collections::{BTreeMap, HashMap};

    use crate::syntax::ast::Applicability;

    let discovery = corpus::discover(&args.paths, cli.config.as_deref()).map_err(Problems::from)?;
    let refs = corpus::references(&discovery)?;
    let program = policy::load(&policy_sources(&discovery.config.policies, &args.run.policies), &refs)?;
    let as_of = args.run.as_of.unwrap_or_else(Date::today);
    let paths: Vec<PathBuf> = discovery.paths().map(Path::to_path_buf).collect();
    let check_args = CheckArgs {
        paths: args.paths.clone(),
        format: Format::Human,
        output: None,
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        fail_on: FailOn::Error,
        policies: args.run.policies.clone(),
        quiet: true,
        statistics: false,
        jobs: None,
        as_of: Some(as_of),
        baseline: None,
        write_baseline: None,
        load_only: false,
    };
    let mut overrides: HashMap<PathBuf, String> = HashMap::new();
    let mut originals: HashMap<PathBuf, crate::source::SourceFile> = HashMap::new();
    let mut fixed: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..FIX_PASSES {
        let corpus = corpus::load_with_overrides(&discovery, &refs, &|| {}, &overrides)?;
        if originals.is_empty() {
            for (id, src) in corpus.sources.files() {
                if let Some(p) = paths.get(id.0 as usize) {
                    originals.insert(p.clone(), src.clone());
                }
            }
        }
        let levels = levels_for(&program, &discovery.config, &check_args)?;
        let opts = RunOptions::new(as_of, levels);
        let findings = eval::run(&program, &corpus, &refs, &opts);
        let mut per_file: BTreeMap<usize, Vec<(crate::fix::Edit, String, usize)>> = BTreeMap::new();
        for (k, f) in findings.iter().enumerate() {
            let Some(fx) = &f.fix else { continue };
            let wanted = match fx.applicability {
                Applicability::Safe => true,
                Applicability::Unsafe => args.unsafe_fixes,
                Applicability::Display => false,
            };
            if !wanted || f.waived_by.is_some() || f.eval_error {
                continue;
            }
            let rule = program.rules.get(f.rule).map(|r| r.id.clone()).unwrap_or_default();
            for e in crate::fix::edits(&corpus, fx) {
                per_file.entry(e.file.0 as usize).or_default().push((e, rule.clone(), k));
            }
        }
        let mut applied_any = false;
        for (file, edits) in per_file {
            let Some(path) = paths.get(file) else { continue };
            let Some(src) = corpus.sources.get(crate::source::FileId(u32::try_from(file).unwrap_or(u32::MAX))) else {
                continue;
            };
            let plain: Vec<crate::fix::Edit> = edits.iter().map(|(e, _, _)| e.clone()).collect();
            let (text, applied) = crate::fix::apply(src.text(), &plain);
            if !applied.is_empty() && text != src.text() {
                applied_any = true;
                // A finding counts once, however many edits its fix made.
                let mut done: Vec<usize> = Vec::new();
                for i in applied {
                    if let Some((_, rule, k)) = edits.get(i)
                        && !done.contains(k)
                    {
                        done.push(*k);
                        *fixed.entry(rule.clone()).or_default() += 1;
                    }
                }
                overrides.insert(path.clone(), text);
            }
        }
        if !applied_any {
            break;
        }
    }
    let mut out = String::new();
    let mut changed: Vec<&PathBuf> = overrides.keys().collect();
    changed.sort();
    for path in changed {
        let (Some(after), Some(before)) = (overrides.get(path), originals.get(path)) else { continue };
        if args.dry_run {
            out.push_str(&crate::fix::unified_diff(&path.display().to_string(), before.text(), after));
        } else {
            let bytes = std::fs::read(path).unwrap_or_default();
            if std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)).is_err() {
                eprintln!(
                    "{}",
                    tr!(
                        "跳过 `{}`：文件不是 UTF-8，fix 只写 UTF-8；请先另存为 UTF-8",
                        "skipped `{}`: not UTF-8, and fix writes UTF-8 only; save it as UTF-8 first",
                        path.display()
                    )
                );
                continue;
            }
            crate::fix::write_atomically(path, before, after).map_err(Problems::from)?;
        }
    }
    let total: usize = fixed.values().sum();
    let detail: Vec<String> = fixed.iter().map(|(r, n)| format!("{r} ×{n}")).collect();
    let verb = if args.dry_run { tr!("可修复", "would fix") } else { tr!("已修复", "fixed") };
    out.push_str(&tr!(
        "{} {} 处：{}\n",
        "{} {} finding(s): {}\n",
        verb,
        total,
        if detail.is_empty() { "—".to_string() } else { detail.join("、") }
    ));
    write_output(None, &out)?;
    Ok(Outcome::Clean)
}

/// Runs the command.
pub fn run(cli: &Cli) -> Result<Outcome, Problems> {
    crate::i18n::set_lang(cli.lang);
    match &cli.command {
        Command::Check(args) => check(cli, args),
        Command::Policy { action } => policy_cmd(cli, action),
        Command::Rules(args) => rules(cli, args),
        Command::Explain(args) => explain(cli, args),
        Command::Lists(args) => lists(cli, args),
        Command::Diff(args) => diff(cli, args),
        Command::Fix(args) => fix(cli, args),
        Command::Report(args) => report_cmd(cli, args),
        Command::Import(args) => import::run(cli, args),
    }
}
