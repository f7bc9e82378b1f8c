//! Opt-in timings of a check, for work on its speed (BENCHMARKS.md). With `QINGDAN_TIMINGS=1`
//! in the environment, `qingdan check` prints to stderr, after its report, how long each phase
//! took and how long each rule ran: its screen (`eval::screen`) and the interpreter. Policy
//! authors see which of their rules cost the most; whoever works on speed sees where a check's
//! time goes beyond loading (target (b) of SPEC §10), which perf's samples only suggest.
//!
//! Phases that run on every worker at once (loading, the rules, the reports) are CPU time summed
//! over the workers; the others are the wall time of the thread that runs them. A rule's time
//! counts both phases of the streaming check. With more than one worker, a worker that waits
//! inside one file's rules may run another file's work meanwhile, which then counts twice: the
//! sums are exact with `--jobs 1`. Off — the default — a timed section costs one load of a flag
//! read once per process.
//!
//! Developer output: English only, and no part of any report format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The environment variable that turns timings on (any value but empty or `0`).
pub const ENV: &str = "QINGDAN_TIMINGS";

/// What a check spends its time on, in the order it does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Finding the files, reading the reference tables, compiling the policies.
    Setup,
    /// Searching each file for chains, to check those files first.
    ChainGuess,
    /// Reading and parsing each list file into items (every worker).
    Load,
    /// Running the rules on a file's items (every worker).
    Rules,
    /// Turning a file's findings into diagnostics (every worker).
    Reports,
    /// Noting where items and chains are written and keeping what phase 2 needs (every worker).
    Keep,
    /// Freeing a file's items (every worker).
    Release,
    /// Grouping what phase 2 checks again.
    Plan,
    /// Checking items across files again: chains, shared codes.
    Phase2,
    /// Merging and sorting the diagnostics.
    Merge,
    /// Writing the report.
    Render,
}

const PHASES: [(Phase, &str, bool); 11] = [
    (Phase::Setup, "setup", false),
    (Phase::ChainGuess, "chain-file guess", false),
    (Phase::Load, "load", true),
    (Phase::Rules, "rules", true),
    (Phase::Reports, "diagnostics", true),
    (Phase::Keep, "keep for phase 2", true),
    (Phase::Release, "release", true),
    (Phase::Plan, "plan phase 2", false),
    (Phase::Phase2, "phase 2", false),
    (Phase::Merge, "merge and sort", false),
    (Phase::Render, "render", false),
];

static ON: LazyLock<bool> = LazyLock::new(|| std::env::var_os(ENV).is_some_and(|v| !v.is_empty() && v != "0"));

static SPENT: [AtomicU64; PHASES.len()] = [const { AtomicU64::new(0) }; PHASES.len()];

/// Per rule (by its index in the program): nanoseconds in its screen and in the interpreter.
static RULES: Mutex<Vec<[u64; 2]>> = Mutex::new(Vec::new());

/// The rules' ids, by index in the program.
static RULE_IDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Whether timings are on.
#[must_use]
pub fn on() -> bool {
    *ON
}

/// Runs `f`, adding its time to `phase` when timings are on.
pub fn time<T>(phase: Phase, f: impl FnOnce() -> T) -> T {
    if !on() {
        return f();
    }
    let start = Instant::now();
    let out = f();
    add(phase, start.elapsed());
    out
}

/// Adds `d` to `phase` (a section timed by hand: see [`time`]).
pub fn add(phase: Phase, d: Duration) {
    if let Some(slot) = PHASES.iter().position(|(p, _, _)| *p == phase).and_then(|i| SPENT.get(i)) {
        slot.fetch_add(nanos(d), Ordering::Relaxed);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// What a worker measured of one rule: time in its screen and in the interpreter.
pub fn add_rule(rule: usize, screen: Duration, interpreter: Duration) {
    let mut rules = RULES.lock().unwrap_or_else(PoisonError::into_inner);
    if rules.len() <= rule {
        rules.resize(rule.saturating_add(1), [0, 0]);
    }
    if let Some(r) = rules.get_mut(rule) {
        r[0] = r[0].saturating_add(nanos(screen));
        r[1] = r[1].saturating_add(nanos(interpreter));
    }
}

/// Names the rules of the program being run, in order (when timings are on).
pub fn name_rules(ids: impl Iterator<Item = String>) {
    if on() {
        *RULE_IDS.lock().unwrap_or_else(PoisonError::into_inner) = ids.collect();
    }
}

/// The table printed at the end of a timed check: the phases that took any time, then the
/// rules that ran.
#[must_use]
pub fn table() -> String {
    let ms = |n: u64| n as f64 / 1e6;
    let mut out = format!("qingdan timings ({ENV}), in ms: \"cpu\" is summed over the workers, \"wall\" is elapsed\n");
    for ((_, name, cpu), spent) in PHASES.iter().zip(&SPENT) {
        let n = spent.load(Ordering::Relaxed);
        if n > 0 {
            let _ = writeln!(out, "  {name:<18} {:<4} {:>9.1}", if *cpu { "cpu" } else { "wall" }, ms(n));
        }
    }
    let rules = RULES.lock().unwrap_or_else(PoisonError::into_inner);
    let ids = RULE_IDS.lock().unwrap_or_else(PoisonError::into_inner);
    if rules.iter().any(|r| r.iter().any(|&n| n > 0)) {
        let _ = writeln!(out, "  {:<10} {:>10} {:>14}", "rule (cpu)", "screen", "interpreter");
        let (mut screens, mut interpreter) = (0u64, 0u64);
        for (i, [s, e]) in rules.iter().enumerate() {
            if *s == 0 && *e == 0 {
                continue;
            }
            let id = ids.get(i).cloned().unwrap_or_else(|| format!("#{i}"));
            let _ = writeln!(out, "  {id:<10} {:>10.1} {:>14.1}", ms(*s), ms(*e));
            screens = screens.saturating_add(*s);
            interpreter = interpreter.saturating_add(*e);
        }
        let _ = writeln!(out, "  {:<10} {:>10.1} {:>14.1}", "all", ms(screens), ms(interpreter));
    }
    out
}
