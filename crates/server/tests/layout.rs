//! The layout's import rules, read from the source: every module belongs to one layer and
//! imports only from its own layer or those below; no domain imports another domain. A reader
//! checks the same by grepping `use crate::` in a folder.
//!
//! | layer | modules |
//! |---|---|
//! | 0 base | config, error, ids, validation, paging, calendar, telemetry, signals |
//! | 1 reads | views |
//! | 2 the mutation rule | state, work, timeline |
//! | 3 delivery | notifications (the outbox an alert transition writes to, in its own unit of work) |
//! | 4 domains | systems, checks, objectives, incidents, maintenance, alerts, bookkeeping, tokens |
//! | 5 edge | http, router, openapi, each domain's `routes`, jobs, probes, demo, startup, lib, main |

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const DOMAINS: &[&str] = &[
    "systems",
    "checks",
    "objectives",
    "incidents",
    "maintenance",
    "alerts",
    "bookkeeping",
    "tokens",
];

/// The layer of a module key (`work`, `systems`, `systems::routes`).
fn layer(module: &str) -> Option<u8> {
    if module.ends_with("::routes") {
        return Some(5);
    }
    Some(match module {
        "config" | "error" | "ids" | "validation" | "paging" | "calendar" | "telemetry"
        | "signals" => 0,
        "views" => 1,
        "state" | "work" | "timeline" => 2,
        "notifications" => 3,
        m if DOMAINS.contains(&m) => 4,
        "http" | "router" | "openapi" | "jobs" | "probes" | "demo" | "startup" | "lib" | "main" => {
            5
        }
        _ => return None,
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file belongs to: `work.rs` -> `work`, `systems/routes.rs` ->
/// `systems::routes`, `views/statuses.rs` -> `views`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative: Vec<String> = file
        .strip_prefix(src)
        .unwrap()
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        })
        .collect();
    match relative.as_slice() {
        [single] => single.clone(),
        [folder, file] if file == "routes" => format!("{folder}::routes"),
        [folder, ..] => folder.clone(),
        [] => unreachable!(),
    }
}

/// The modules a file names through `crate::...` in code (`use` lines and paths alike; not in
/// comments, where naming another module is documentation).
fn imports(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let first: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if first.is_empty() {
            continue;
        }
        let after = &rest[first.len()..];
        let routes = after.starts_with("::routes");
        out.insert(if routes {
            format!("{first}::routes")
        } else {
            first
        });
    }
    out
}

#[test]
fn modules_import_only_their_own_layer_or_below_and_no_domain_imports_another() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let source = std::fs::read_to_string(file).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        edges.extend(imports(&source).into_iter().filter(|m| *m != module));
    }
    let mut broken = Vec::new();
    for (module, imported) in &graph {
        let Some(own) = layer(module) else {
            broken.push(format!(
                "{module} belongs to no layer: add it to this test's table"
            ));
            continue;
        };
        for target in imported {
            let base = target.split("::").next().unwrap();
            let Some(theirs) = layer(target).or_else(|| layer(base)) else {
                broken.push(format!(
                    "{module} imports {target}, which belongs to no layer"
                ));
                continue;
            };
            if theirs > own {
                broken.push(format!(
                    "{module} (layer {own}) imports {target} (layer {theirs})"
                ));
            }
            if DOMAINS.contains(&module.as_str()) && DOMAINS.contains(&base) && base != module {
                broken.push(format!("domain {module} imports domain {target}"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "the layout's rules are broken:\n{}",
        broken.join("\n")
    );
    assert!(graph.len() > 20, "the test saw the source: {graph:?}");
}

#[test]
fn signals_are_emitted_only_by_units_of_work() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let emitting: Vec<String> = files
        .iter()
        .filter(|f| std::fs::read_to_string(f).unwrap().contains(".emit("))
        .map(|f| module_of(&src, f))
        .collect();
    for module in &emitting {
        assert!(
            ["work", "signals"].contains(&module.as_str()),
            "{module} emits a signal itself; only a unit of work (work.rs) may"
        );
    }
}
