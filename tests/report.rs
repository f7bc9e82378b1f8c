//! The public-comment report: structure, escaping, and a real browser.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may fail loudly"
)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{AS_OF, qingdan, stderr};

fn report(paths: &[&str], out: &Path) -> String {
    let mut args = vec!["report"];
    args.extend(paths);
    args.extend(["--as-of", AS_OF, "-o", out.to_str().unwrap()]);
    let o = qingdan(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::read_to_string(out).unwrap()
}

/// Headings and counts: the structure of the report without its bulk.
fn structure(html: &str) -> String {
    let re = regex::Regex::new(r"<(h[1-4])[^>]*>(.*?)</h[1-4]>").unwrap();
    let tags = regex::Regex::new(r"<[^>]+>").unwrap();
    let mut out: Vec<String> =
        re.captures_iter(html).map(|c| format!("{} {}", &c[1], tags.replace_all(&c[2], ""))).collect();
    out.push(format!("findings: {}", html.matches("class=\"finding\"").count()));
    out.push(format!("items with findings: {}", html.matches("<article class=\"item\"").count()));
    out.join("\n")
}

fn injected_corpus(dir: &Path) -> std::path::PathBuf {
    let list = dir.join("evil.yaml");
    std::fs::write(
        &list,
        "list: {title: \"<b>清单</b>\", region: 大庆市, department: \"市<i>局</i>\"}\nitems:\n  - code: \"230600-XK-0001\"\n    name: \"<script>alert(1)</script>\"\n    materials:\n      - {name: \"<img src=x onerror=alert(2)>其他相关材料\"}\n",
    )
    .unwrap();
    list
}

#[test]
fn structure_of_the_sample_corpus_report() {
    let dir = tempfile::tempdir().unwrap();
    let html = report(&["corpus"], &dir.path().join("r.html"));
    insta::assert_snapshot!(structure(&html));
    // Self-contained: no fetches of any kind.
    for bad in ["src=", "href=", "@import", "url(", "https://"] {
        assert!(!html.contains(bad), "the report must not fetch anything: found `{bad}`");
    }
    assert!(html.contains("Content-Security-Policy"));
}

#[test]
fn english_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    let o = qingdan(&["--lang", "en", "report", "corpus", "--as-of", AS_OF, "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let html = std::fs::read_to_string(out).unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Findings by item"));
}

#[test]
fn every_value_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let list = injected_corpus(dir.path());
    let html = report(&[list.to_str().unwrap()], &dir.path().join("r.html"));
    assert!(!html.contains("<script>alert(1)"), "an item name became markup");
    assert!(!html.contains("<img src=x"), "a material name became markup");
    assert!(!html.contains("<b>清单</b>") && !html.contains("<i>局</i>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(html.matches("<script>").count(), 1, "only the report's own filter script");
    assert!(!html.contains("onerror=alert") || html.contains("onerror=alert(2)&gt;"));
}

/// Opens the report in headless Chromium: it renders, runs its script, logs no errors and makes
/// no requests, and the injected name shows as text.
#[test]
fn renders_in_a_real_browser() {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
    else {
        eprintln!("skipped: no chromium on this machine (.ci/run installs Debian's chromium package)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let list = injected_corpus(dir.path());
    let out = dir.path().join("r.html");
    report(&["corpus", list.to_str().unwrap()], &out);
    let url = format!("file://{}", out.display());
    let profile = dir.path().join("profile");
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let shot = dir.path().join("shot.png");
    let o = Command::new(chromium)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--window-size=1280,2000", &format!("--screenshot={}", shot.display()), &url])
        .output()
        .unwrap();
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 30_000, "the screenshot is too small to be a rendered page: {size} bytes");
    let log = String::from_utf8_lossy(&o.stderr);
    let console: Vec<&str> =
        log.lines().filter(|l| l.contains("CONSOLE") || l.contains("Refused to") || l.contains("Uncaught")).collect();
    assert!(console.is_empty(), "console output: {console:#?}");

    let o = Command::new(chromium)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the injected name is text");
    let count = regex::Regex::new(r#"<span id="filter-count">(\d+)</span>"#).unwrap();
    let shown: usize = count.captures(&dom).expect("the filter script ran")[1].parse().unwrap();
    assert!(shown > 20, "{shown}");
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(!log.contains("Refused to") && !log.contains("Uncaught"), "{log}");
}
