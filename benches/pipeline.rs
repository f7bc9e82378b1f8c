//! `cargo bench`: the stages of a check, in process, over a generated corpus (SPEC §10, issue 10).
//!
//! ```sh
//! cargo bench                                  # 20,000 items in 100 files (~36 MB)
//! QINGDAN_BENCH_ITEMS=2000 QINGDAN_BENCH_FILES=1 cargo bench
//! QINGDAN_BENCH_RULES=1 cargo bench --bench pipeline   # also each rule's evaluation, one thread
//! cargo bench --bench pipeline -- --quick      # a smoke run: 300 items, one sample
//! ```
//!
//! Stages: `load` (files → item model, whole corpus in memory), `eval` (the 21 rules over the
//! loaded corpus), `report` (findings → diagnostics → JSON), `check` (the streaming check the CLI
//! runs: load, check and drop each file, then the cross-file phase), `human` (that check's findings
//! laid out in the default format, files re-read to quote them) and `check-1-thread` (the check
//! on a one-thread pool). Each prints the median and the fastest of its samples, and MB/s of input.
//! Whole-process figures (process start included, and the Python peer) come from `benches/run.sh`.
//!
//! A plain harness (`harness = false`): a few stages over a corpus of tens of megabytes need no
//! statistics library, and CI compiles this file with `clippy --all-targets`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    reason = "a benchmark fails loudly"
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use qingdan::check::{self, CheckOptions};
use qingdan::corpus;
use qingdan::corpus::config::PolicySource;
use qingdan::corpus::model::Date;
use qingdan::eval::{self, RunOptions};
use qingdan::policy;
use qingdan::report::{Report, human, json};

// The binary's allocator (see Cargo.toml), so that these figures are the CLI's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `f` `samples` times (after one warm-up) and prints the median and the fastest.
fn measure<T>(name: &str, bytes: u64, samples: usize, mut f: impl FnMut() -> T) -> Duration {
    std::hint::black_box(f());
    let mut times: Vec<Duration> = (0..samples)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let mb = bytes as f64 / 1e6;
    println!(
        "{name:<16} median {:>9.1} ms   fastest {:>9.1} ms   {:>7.1} MB/s",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        mb / median.as_secs_f64()
    );
    median
}

fn generate(dir: &Path, items: usize, files: usize) -> u64 {
    let out = Command::new(env!("CARGO_BIN_EXE_qingdan-gen"))
        .args(["--items", &items.to_string(), "--files", &files.to_string(), "--seed", "1", "--out"])
        .arg(dir)
        .output()
        .expect("run qingdan-gen");
    assert!(out.status.success(), "qingdan-gen failed: {}", String::from_utf8_lossy(&out.stderr));
    walk_bytes(dir)
}

fn walk_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { walk_bytes(&p) } else { std::fs::metadata(&p).map_or(0, |m| m.len()) })
        .sum()
}

fn main() {
    // `cargo bench` passes `--bench`; anything else we ignore except `--quick`.
    let quick = std::env::args().any(|a| a == "--quick");
    let (items, files, samples) = if quick {
        (300, 3, 1)
    } else {
        (
            env_usize("QINGDAN_BENCH_ITEMS", 20_000),
            env_usize("QINGDAN_BENCH_FILES", 100),
            env_usize("QINGDAN_BENCH_SAMPLES", 5),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let bytes = generate(dir.path(), items, files);
    println!(
        "corpus: {items} items in {files} files, {:.1} MB; {samples} samples; {} threads",
        bytes as f64 / 1e6,
        rayon::current_num_threads()
    );

    let paths: Vec<PathBuf> = vec![dir.path().to_path_buf()];
    let d = corpus::discover(&paths, None).unwrap();
    let refs = corpus::references(&d).unwrap();
    let program = policy::load(&[PolicySource::Builtin], &refs).unwrap();
    let run = RunOptions::all(&program, Date::parse("2026-01-01").unwrap());

    let load = measure("load", bytes, samples, || corpus::load(&d, &refs).unwrap());
    let loaded = corpus::load(&d, &refs).unwrap();
    let eval = measure("eval", bytes, samples, || eval::run(&program, &loaded, &refs, &run));
    let findings = eval::run(&program, &loaded, &refs, &run);
    if std::env::var_os("QINGDAN_BENCH_RULES").is_some() {
        // Each rule alone over the loaded corpus, on one thread: where evaluation time goes.
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        for (i, rule) in program.rules.iter().enumerate() {
            let mut one = RunOptions::all(&program, run.as_of);
            for (j, level) in one.levels.iter_mut().enumerate() {
                if j != i {
                    *level = None;
                }
            }
            measure(&format!("eval {}", rule.id), bytes, samples, || {
                pool.install(|| eval::run(&program, &loaded, &refs, &one))
            });
        }
    }
    measure("report", bytes, samples, || json::render(&Report::with_edits(&loaded, &refs, &program, &findings, true)));
    drop(loaded);
    let overrides = HashMap::new();
    let opts = CheckOptions::new(&run, &overrides);
    let streaming =
        measure("check", bytes, samples, || check::check(&d, &refs, &program, &opts).unwrap().report.diagnostics.len());
    let checked = check::check(&d, &refs, &program, &opts).unwrap();
    measure("human", bytes, samples, || human::render(&checked.report, false, 110, false).len());
    drop(checked);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let one = measure("check-1-thread", bytes, samples, || {
        pool.install(|| check::check(&d, &refs, &program, &opts).unwrap().report.diagnostics.len())
    });
    println!(
        "check / load = {:.2}   eval / load = {:.2}   1 thread / {} threads = {:.2}",
        streaming.as_secs_f64() / load.as_secs_f64(),
        eval.as_secs_f64() / load.as_secs_f64(),
        rayon::current_num_threads(),
        one.as_secs_f64() / streaming.as_secs_f64()
    );
}
