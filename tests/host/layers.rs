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
    &["services"],
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
    rust_files(&src.join(module))
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
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

/// A file's module path from `src/` (`["context"]` for `src/context/mod.rs`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The file that holds module `path` (`src/a/b.rs` or `src/a/b/mod.rs`), if there is one.
fn module_file(src: &Path, path: &[String]) -> Option<std::path::PathBuf> {
    if path.is_empty() {
        return Some(src.join("lib.rs"));
    }
    let joined: std::path::PathBuf = path.iter().collect();
    let single = src.join(&joined).with_extension("rs");
    let dir = src.join(&joined).join("mod.rs");
    [single, dir].into_iter().find(|p| p.exists())
}

/// Expands a `use` tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand(p).into_iter().map(move |e| format!("{prefix}{e}")))
        .collect()
}

/// The other files of `src/` whose items a file's non-test code uses: every `crate::`,
/// `super::` and `self::` path, and `use` of a child module, resolved to the deepest module
/// file it names. Declaring `mod x;` is not a use.
fn file_uses(src: &Path, file: &Path) -> BTreeSet<std::path::PathBuf> {
    let text = fs::read_to_string(file).unwrap();
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or("")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let here = module_path(src, file);
    let mut paths: Vec<String> = Vec::new();
    // `use` statements (each starts a line and ends at `;`), braces expanded.
    let mut lines = code.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_start();
        let body = ["pub use ", "pub(crate) use ", "pub(super) use ", "use "]
            .iter()
            .find_map(|p| line.strip_prefix(p));
        let Some(body) = body else { continue };
        let mut stmt = body.to_string();
        while !stmt.contains(';') {
            match lines.next() {
                Some(more) => stmt.push_str(more),
                None => break,
            }
        }
        let stmt: String = stmt
            .split(';')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        paths.extend(expand(&stmt));
    }
    // Paths written inline in code: from the crate root, the parent, or (in a `mod.rs`) one of
    // this module's own children.
    let children: Vec<String> = code
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_string)
        })
        .collect();
    let child_anchors: Vec<String> = children.iter().map(|c| format!("{c}::")).collect();
    let anchors = ["crate::".to_string(), "super::".to_string()];
    for anchor in anchors.iter().chain(&child_anchors) {
        let anchor = anchor.as_str();
        for (i, _) in code.match_indices(anchor) {
            let before = code[..i].chars().last();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = code[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push(path);
        }
    }
    let mut out = BTreeSet::new();
    for path in paths {
        let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let Some((&first, rest)) = segs.split_first() else {
            continue;
        };
        // `here` is the module of a mod.rs or of a single file alike.
        let mut base: Vec<String> = match first {
            "crate" => Vec::new(),
            "self" => here.clone(),
            "super" => here[..here.len().saturating_sub(1)].to_vec(),
            child => {
                // `use x::...` of a child module of this one (2018 relative paths).
                let mut p = here.clone();
                p.push(child.to_string());
                if module_file(src, &p).is_none()
                    || file
                        .file_name()
                        .is_some_and(|n| n != "mod.rs" && n != "lib.rs")
                {
                    continue;
                }
                p
            }
        };
        let mut rest = rest.to_vec();
        while rest.first() == Some(&"super") {
            base.pop();
            rest.remove(0);
        }
        let mut found = module_file(src, &base);
        for seg in rest {
            base.push(seg.to_string());
            match module_file(src, &base) {
                Some(f) => found = Some(f),
                None => break,
            }
        }
        if let Some(f) = found.filter(|f| f != file && !f.ends_with("lib.rs")) {
            out.insert(f);
        }
    }
    out
}

#[test]
fn no_import_cycle_between_files() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = rust_files(&src);
    all.sort();
    let graph: Vec<(std::path::PathBuf, BTreeSet<std::path::PathBuf>)> = all
        .iter()
        .map(|f| (f.clone(), file_uses(&src, f)))
        .collect();
    let edges = |f: &Path| {
        graph
            .iter()
            .find(|(g, _)| g == f)
            .map(|(_, e)| e.clone())
            .unwrap_or_default()
    };
    // Depth-first search for a back edge; report each cycle once, as the files in it.
    let mut cycles: BTreeSet<Vec<String>> = BTreeSet::new();
    for (start, _) in &graph {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            for next in edges(&node) {
                if next == *start {
                    let mut names: Vec<String> = path
                        .iter()
                        .map(|p| p.strip_prefix(&src).unwrap().display().to_string())
                        .collect();
                    names.sort();
                    cycles.insert(names);
                } else if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next, p));
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles between files of src/ (each line: the files of one cycle):\n{}",
        cycles
            .iter()
            .map(|c| c.join(" <-> "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
