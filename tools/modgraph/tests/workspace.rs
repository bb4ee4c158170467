//! The workspace's module-cycle ratchet: every crate root of every member (`src/lib.rs`,
//! `src/main.rs`) is analyzed, a cycle not in [`KNOWN_CYCLES`] fails the test, and so does a
//! listed cycle that no longer exists, so the list can only shrink.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Cycles that exist today, as (crate directory, sorted modules of the component).
/// Do not add to this list: break the cycle instead.
const KNOWN_CYCLES: &[(&str, &[&str])] = &[];

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .expect("tools/modgraph sits two levels under the workspace root")
        .to_path_buf()
}

/// Member directories (relative): each direct child, and each child of `tools/`, with a
/// Cargo.toml.
fn members(root: &Path) -> Vec<String> {
    let mut members = Vec::new();
    for parent in ["", "tools"] {
        let Ok(entries) = fs::read_dir(root.join(parent)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with('.') || name == "target" || !path.join("Cargo.toml").is_file() {
                continue;
            }
            members.push(if parent.is_empty() {
                name
            } else {
                format!("{parent}/{name}")
            });
        }
    }
    members.sort();
    members
}

#[test]
fn workspace_has_no_new_module_cycle() {
    let root = workspace_root();
    let members = members(&root);
    assert!(
        members.iter().any(|m| m == "harness") && members.iter().any(|m| m == "tools/modgraph"),
        "members found under {}: {members:?}",
        root.display()
    );

    let mut found = BTreeSet::new();
    let mut new_cycles = Vec::new();
    for member in &members {
        for file in ["src/lib.rs", "src/main.rs"] {
            let crate_root = root.join(member).join(file);
            if !crate_root.is_file() {
                continue;
            }
            let graph = modgraph::analyze(&crate_root).unwrap_or_else(|error| panic!("{error}"));
            for cycle in graph.cycles() {
                let known = KNOWN_CYCLES
                    .iter()
                    .any(|(dir, modules)| dir == member && *modules == cycle.modules);
                if !known {
                    new_cycles.push(format!(
                        "{member}/{file}: {}",
                        cycle.describe(&root).replace('\n', "\n    ")
                    ));
                }
                found.insert((member.clone(), cycle.modules));
            }
        }
    }

    let gone: Vec<String> = KNOWN_CYCLES
        .iter()
        .filter(|(dir, modules)| {
            !found
                .iter()
                .any(|(member, found)| member == dir && found == modules)
        })
        .map(|(dir, modules)| format!("({dir:?}, &{modules:?})"))
        .collect();

    let mut failures = Vec::new();
    if !new_cycles.is_empty() {
        failures.push(format!(
            "module import cycle(s) not in KNOWN_CYCLES; break this import cycle (move the shared \
             item to the module that owns it, or to a small module both use):\n  {}",
            new_cycles.join("\n  ")
        ));
    }
    if !gone.is_empty() {
        failures.push(format!(
            "KNOWN_CYCLES lists cycle(s) that no longer exist; remove them from KNOWN_CYCLES in {}:\n  {}",
            file!(),
            gone.join("\n  ")
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
