//! Embeds the built-in policy pack (`policies/**/*.qd` and their example files) in the binary,
//! so `qingdan check FILE` works from any directory with no setup; and the built-in reference
//! tables (`policies/*.yaml`) also as JSON, which starts up faster.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "qd")
            || p.parent().and_then(Path::file_name).is_some_and(|n| n == "examples")
        {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let policies = root.join("policies");
    println!("cargo:rerun-if-changed=policies");
    let mut files = Vec::new();
    collect(&policies, &mut files);
    let mut code = String::from(
        "/// Built-in policy files: path relative to `policies/`, and text.\npub const FILES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&policies).unwrap_or(f).to_string_lossy().replace('\\', "/");
        let _ = writeln!(code, "    ({rel:?}, include_str!({:?})),", f.display().to_string());
    }
    code.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    write(&out_dir.join("builtin_policies.rs"), &code);
    tables_as_json(&policies, &out_dir);
}

fn write(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        println!("cargo:warning=cannot write {}: {e}", path.display());
    }
}

/// The built-in reference tables as JSON: serde_yaml reads the 110 kB of them at ~160
/// instructions a byte, a third of a small check's start-up; serde_json reads the same values
/// several times faster. A table that does not convert is embedded as `None`, and the binary
/// reads its YAML (`corpus::reference` tests that both readings agree).
fn tables_as_json(policies: &Path, out_dir: &Path) {
    let mut code = String::from("// The built-in reference tables as JSON (build.rs).\n");
    for name in ["statutes", "regions", "certificates", "shared", "covers", "phrases"] {
        let yaml = policies.join(format!("{name}.yaml"));
        println!("cargo:rerun-if-changed={}", yaml.display());
        let json = std::fs::read_to_string(&yaml)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_yaml::from_str::<serde_json::Value>(&t).map_err(|e| e.to_string()))
            .and_then(|v| serde_json::to_string(&v).map_err(|e| e.to_string()));
        let constant = name.to_uppercase();
        match json {
            Ok(json) => {
                let path = out_dir.join(format!("{name}.json"));
                write(&path, &json);
                let _ = writeln!(
                    code,
                    "pub const {constant}: Option<&str> = Some(include_str!({:?}));",
                    path.display().to_string()
                );
            }
            Err(e) => {
                println!("cargo:warning=policies/{name}.yaml is embedded as YAML only: {e}");
                let _ = writeln!(code, "pub const {constant}: Option<&str> = None;");
            }
        }
    }
    write(&out_dir.join("builtin_tables.rs"), &code);
}
