//! Finds import cycles between the top-level modules of a crate: reads the module tree from
//! the crate's root file ([`load`]), collects each module's references to the others
//! ([`refs`]) and reports the strongly connected components of the resulting graph
//! ([`graph`]). Test-only code (`#[cfg(test)]`) is not part of the graph.

pub mod attrs;
pub mod error;
pub mod graph;
pub mod load;
pub mod refs;

use std::path::Path;

pub use error::Error;
pub use graph::{Cycle, Evidence, ModuleGraph, Step};

/// The import graph between the top-level modules of the crate whose root file is `root`
/// (`src/lib.rs`, `src/main.rs`); evidence paths are `root`'s directory joined with the file.
pub fn analyze(root: &Path) -> Result<ModuleGraph, Error> {
    let krate = load::load(root)?;
    let mut graph = ModuleGraph::new(krate.modules.iter().map(|module| module.name.clone()));
    for module in &krate.modules {
        for source in &module.sources {
            for reference in refs::references(source) {
                let evidence = Evidence {
                    file: source.file.clone(),
                    line: reference.line,
                };
                graph.add_reference(&module.name, &reference.target, evidence);
            }
        }
    }
    Ok(graph)
}

/// Fixture crates written into a temporary directory.
#[cfg(test)]
pub(crate) mod testkit {
    use std::fs;

    /// A temporary directory holding `files` (path relative to it, contents).
    pub(crate) fn fixture(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, contents) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, contents).unwrap();
        }
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixture;

    fn cycles(files: &[(&str, &str)]) -> Vec<String> {
        let dir = fixture(files);
        let graph = analyze(&dir.path().join("src/lib.rs")).unwrap();
        graph
            .cycles()
            .iter()
            .map(|cycle| cycle.describe(dir.path()))
            .collect()
    }

    #[test]
    fn a_two_module_cycle_is_found_with_its_evidence() {
        let found = cycles(&[
            ("src/lib.rs", "pub mod a;\npub mod b;\npub struct Root;"),
            (
                "src/a.rs",
                "use crate::Root;\n\nuse crate::b::B;\npub struct A;",
            ),
            (
                "src/b.rs",
                "pub struct B;\n\n\npub fn f() -> crate::a::A { crate::a::A }",
            ),
        ]);
        assert_eq!(
            found,
            ["a -> b -> a\n  a -> b: src/a.rs:3\n  b -> a: src/b.rs:4"]
        );
    }

    #[test]
    fn a_three_module_cycle_is_found() {
        let found = cycles(&[
            ("src/lib.rs", "mod a; mod b; mod c;"),
            ("src/a.rs", "use crate::b::B;"),
            ("src/b.rs", "use crate::c::C;"),
            ("src/c.rs", "fn f() { crate::a::g() }"),
        ]);
        assert_eq!(
            found,
            ["a -> b -> c -> a\n  a -> b: src/a.rs:1\n  b -> c: src/b.rs:1\n  c -> a: src/c.rs:1"]
        );
    }

    #[test]
    fn grouped_use_trees_make_edges() {
        let found = cycles(&[
            ("src/lib.rs", "mod a; mod b; mod c;"),
            ("src/a.rs", "use crate::{\n    c::C,\n    b::{self, B},\n};"),
            ("src/b.rs", "use crate::a;"),
            ("src/c.rs", ""),
        ]);
        assert_eq!(
            found,
            ["a -> b -> a\n  a -> b: src/a.rs:3\n  b -> a: src/b.rs:1"]
        );
    }

    #[test]
    fn references_inside_format_and_matches_count() {
        let found = cycles(&[
            ("src/lib.rs", "mod a; mod b;"),
            (
                "src/a.rs",
                "fn f() -> String {\n    format!(\"{}\", crate::b::NAME)\n}",
            ),
            (
                "src/b.rs",
                "fn g(x: &X) -> bool {\n    matches!(x, crate::a::X::One)\n}",
            ),
        ]);
        assert_eq!(
            found,
            ["a -> b -> a\n  a -> b: src/a.rs:2\n  b -> a: src/b.rs:2"]
        );
    }

    #[test]
    fn references_in_test_modules_do_not_count() {
        let found = cycles(&[
            ("src/lib.rs", "mod a; mod b; #[cfg(test)] mod testkit;"),
            ("src/a.rs", "use crate::b::B;"),
            (
                "src/b.rs",
                "pub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\n#[cfg(test)]\nmod more;",
            ),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn nested_submodule_files_count_for_their_top_level_module() {
        let found = cycles(&[
            ("src/lib.rs", "mod a; mod b;"),
            ("src/a.rs", "mod inner;"),
            ("src/a/inner.rs", "mod deep;"),
            ("src/a/inner/deep/mod.rs", "\nuse crate::b::B;"),
            ("src/b/mod.rs", "mod c;"),
            ("src/b/c.rs", "use crate::a::A;"),
        ]);
        assert_eq!(
            found,
            ["a -> b -> a\n  a -> b: src/a/inner/deep/mod.rs:2\n  b -> a: src/b/c.rs:1"]
        );
    }

    #[test]
    fn inline_modules_count_for_their_top_level_module() {
        let found = cycles(&[(
            "src/lib.rs",
            "mod a { mod x { use crate::b::B; } }\nmod b {\n    pub fn f() { crate::a::g() }\n}",
        )]);
        assert_eq!(
            found,
            ["a -> b -> a\n  a -> b: src/lib.rs:1\n  b -> a: src/lib.rs:3"]
        );
    }

    #[test]
    fn a_path_attribute_is_an_error() {
        let dir = fixture(&[
            ("src/lib.rs", "#[path = \"other.rs\"]\nmod a;"),
            ("src/other.rs", ""),
        ]);
        let error = analyze(&dir.path().join("src/lib.rs")).unwrap_err();
        assert!(
            matches!(error, Error::PathAttribute { line: 2, .. }),
            "{error}"
        );
    }

    #[test]
    fn no_cycle_gives_no_cycles_but_keeps_the_edges() {
        let dir = fixture(&[
            ("src/lib.rs", "mod a; mod b; mod c; pub use b::B;"),
            ("src/a.rs", "use crate::b::B; use crate::c;"),
            ("src/b.rs", "use crate::c::C; use crate::B as Again;"),
            ("src/c.rs", "use crate::B;"),
        ]);
        let graph = analyze(&dir.path().join("src/lib.rs")).unwrap();
        assert!(graph.cycles().is_empty());
        let edges: Vec<_> = graph.edges().map(|(from, to, _)| (from, to)).collect();
        assert_eq!(edges, [("a", "b"), ("a", "c"), ("b", "c")]);
    }
}
