//! The layering rule of docs/ARCHITECTURE.md ("Layers of `src/`"), checked on the source: each
//! top-level module of `src/` imports only from modules of lower layers (test code aside), so
//! there is no cycle.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// Top-level modules by layer, lowest first; a module may use only modules of lower layers.
const LAYERS: &[&[&str]] = &[
    &["error"],
    &["support"],
    &["http"],
    &["jose"],
    &["registry"],
    &["ports", "config"],
    &["context", "testing"],
    &["oauth", "admin"],
    &["router"],
    &["shell"],
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| {
            panic!("module '{module}' is in no layer: add it to LAYERS and docs/ARCHITECTURE.md")
        })
}

/// The source files of a top-level module (`src/x.rs` or everything under `src/x/`).
fn files(src: &Path, module: &str) -> Vec<std::path::PathBuf> {
    let single = src.join(format!("{module}.rs"));
    if single.exists() {
        return vec![single];
    }
    let mut out = Vec::new();
    let mut dirs = vec![src.join(module)];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// The top-level modules a file's non-test code names as `crate::x`.
fn uses(path: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(path).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for part in line.split("crate::").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.insert(name);
        }
        if let Some(rest) = line.trim_start().strip_prefix("use crate::{") {
            for name in rest
                .split(['{', '}', ',', ';', ' '])
                .filter(|n| !n.is_empty())
            {
                out.insert(name.split("::").next().unwrap_or(name).to_string());
            }
        }
    }
    out
}

#[test]
fn top_level_modules_import_only_from_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules: Vec<String> = fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_string();
            (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(name)
        })
        .filter(|n| n != "lib")
        .collect();
    modules.sort();
    modules.dedup();
    assert!(
        modules.len() <= 14,
        "{} top-level modules: {modules:?}",
        modules.len()
    );
    let mut violations = Vec::new();
    for module in &modules {
        let mine = layer_of(module);
        for file in files(&src, module) {
            for used in uses(&file) {
                if used != *module && modules.contains(&used) && layer_of(&used) >= mine {
                    violations.push(format!("{} uses crate::{used}", file.display()));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "upward or sideways imports:\n{}",
        violations.join("\n")
    );
}
