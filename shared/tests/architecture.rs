//! The layering of `shared/src`: its top-level modules (`config`, `delivery`, `layout`, …) form
//! a graph without cycles, and the leaf modules import no other module of the crate.
//!
//! What counts as an import of module `m` by module `n`: a path `crate::m…` anywhere in the
//! code of a file under `n` (a `use crate::m::…` line, a grouped `use crate::{m::…, …}` spread
//! over several lines, or an inline `crate::m::f(…)`), and `super::…` chains that climb out of
//! `n` to the crate root. Not counted, because they are not part of the library as built:
//! - test code: files named `tests.rs`, `test_support.rs` or `testing.rs`, and every item
//!   marked `#[cfg(test)]` (a `mod tests { … }` block, a `mod tests;` line, a test-only use);
//! - comments, doc comments included (an intra-doc link is not a dependency).
//!
//! Run with `--nocapture` to print the edge list.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Modules every other module may build on; each imports only the modules listed with it.
const LEAVES: &[(&str, &[&str])] = &[
    ("clock", &[]),
    ("ids", &[]),
    ("invalid", &[]),
    ("json_key", &[]),
    ("names", &[]),
    ("layout", &["clock"]),
];

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn top_level_modules_form_a_graph_without_cycles() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    println!("{}", edge_list(&graph));
    let cycles = cycles(&graph);
    assert!(
        cycles.is_empty(),
        "module cycles in shared/src:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn leaf_modules_import_only_what_they_are_allowed() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    for (leaf, allowed) in LEAVES {
        assert!(graph.contains_key(*leaf), "no module {leaf}");
        let imports: Vec<&str> = graph[*leaf].iter().map(String::as_str).collect();
        let extra: Vec<&str> = imports
            .iter()
            .copied()
            .filter(|module| !allowed.contains(module))
            .collect();
        assert!(
            extra.is_empty(),
            "{leaf} is a leaf but imports {}",
            extra.join(", ")
        );
    }
}

#[test]
fn cycles_are_found_and_named() {
    let graph: Graph = [
        ("config", &["trail", "filter"][..]),
        ("trail", &["selectors"][..]),
        ("selectors", &["config"][..]),
        ("filter", &[][..]),
    ]
    .into_iter()
    .map(|(module, imports)| {
        (
            module.to_owned(),
            imports.iter().map(|i| (*i).to_owned()).collect(),
        )
    })
    .collect();
    assert_eq!(cycles(&graph), ["config -> trail -> selectors -> config"]);
}

#[test]
fn imports_are_read_from_use_lines_groups_and_inline_paths_but_not_tests() {
    let source = r#"
//! Docs naming crate::docs_only.
use std::fmt;
use crate::alpha::A;
pub(crate) use crate::{
    beta::{self, B},
    gamma,
};
fn f() { crate::delta::run(); super::super::epsilon::x(); }
#[cfg(test)]
mod tests {
    use crate::test_only::T;
}
#[cfg(test)]
use crate::test_only_use;
"#;
    let found = imports_of(source, &["m".to_owned(), "sub".to_owned()]);
    let expected: BTreeSet<String> = ["alpha", "beta", "gamma", "delta", "epsilon"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(found, expected);
}

/// Each top-level module with the top-level modules it imports (itself left out).
fn module_graph(src: &Path) -> Graph {
    let mut graph = Graph::new();
    for file in rust_files(src) {
        let relative = file.strip_prefix(src).expect("under src");
        let name = relative.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if matches!(
            name,
            "lib.rs" | "tests.rs" | "test_support.rs" | "testing.rs"
        ) {
            continue;
        }
        let path = module_path(relative);
        let module = path[0].clone();
        let text = fs::read_to_string(&file).expect("readable source");
        let imports = graph.entry(module.clone()).or_default();
        imports.extend(
            imports_of(&text, &path)
                .into_iter()
                .filter(|import| *import != module),
        );
    }
    graph
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// `filter/json/program.rs` is `filter::json::program`, `filter/mod.rs` is `filter`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    if last != "mod.rs" {
        parts.push(last.trim_end_matches(".rs").to_owned());
    }
    parts
}

/// The top-level modules `text`, the file of module `path`, names outside its test code.
fn imports_of(text: &str, path: &[String]) -> BTreeSet<String> {
    let code = without_tests(&without_comments(text));
    let mut imports = BTreeSet::new();
    // Grouped uses: `crate::{a::…, b, …}`; every name at the group's first level.
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::{") {
        let group = &rest[at + "crate::{".len()..];
        let mut depth = 0usize;
        let mut item_start = true;
        let mut name = String::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    if !name.is_empty() {
                        imports.insert(std::mem::take(&mut name));
                    }
                    item_start = true;
                }
                c if item_start && (c.is_alphanumeric() || c == '_') => name.push(c),
                _ if item_start && !name.is_empty() => {
                    imports.insert(std::mem::take(&mut name));
                    item_start = false;
                }
                _ => {}
            }
        }
        if !name.is_empty() {
            imports.insert(name);
        }
        rest = &group[1..];
    }
    // Paths: `crate::a…` and `super::…::a…` climbing to the crate root.
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .collect();
    for word in words {
        let segments: Vec<&str> = word.split("::").collect();
        if segments.first() == Some(&"crate") {
            if let Some(module) = segments.get(1).filter(|s| !s.is_empty()) {
                imports.insert((*module).to_owned());
            }
        } else if segments.first() == Some(&"super") {
            let climbs = segments.iter().take_while(|s| **s == "super").count();
            // A file's own module is `path`; climbing all of it reaches the crate root.
            if climbs == path.len()
                && let Some(module) = segments.get(climbs).filter(|s| !s.is_empty())
            {
                imports.insert((*module).to_owned());
            }
        }
    }
    imports.remove("self");
    imports
}

/// `text` without `//` comments (line and doc comments alike).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` without the items marked `#[cfg(test)]`: the item after the attribute runs to its
/// `;` or to the brace that closes its body.
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at + "#[cfg(test)]".len()..];
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, c) in item.char_indices() {
            match c {
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// One line per edge, `from -> to`, sorted.
fn edge_list(graph: &Graph) -> String {
    graph
        .iter()
        .flat_map(|(from, imports)| imports.iter().map(move |to| format!("{from} -> {to}")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every cycle found by a depth-first walk, as `a -> b -> a`, each named once (from its
/// smallest module).
fn cycles(graph: &Graph) -> Vec<String> {
    fn walk(
        graph: &Graph,
        module: &str,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut BTreeSet<String>,
    ) {
        if let Some(at) = stack.iter().position(|m| m == module) {
            let mut cycle: Vec<String> = stack[at..].to_vec();
            let start = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, m)| m.as_str())
                .map(|(i, _)| i)
                .unwrap_or(0);
            cycle.rotate_left(start);
            cycle.push(cycle[0].clone());
            found.insert(cycle.join(" -> "));
            return;
        }
        if done.contains(module) {
            return;
        }
        stack.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            walk(graph, next, stack, done, found);
        }
        stack.pop();
        done.insert(module.to_owned());
    }
    let mut found = BTreeSet::new();
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        walk(graph, module, &mut Vec::new(), &mut done, &mut found);
    }
    found.into_iter().collect()
}
