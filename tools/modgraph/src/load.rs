//! Reads a crate's module tree from its root file: follows `mod name;` to `name.rs` or
//! `name/mod.rs` and `mod name { .. }` inline, drops `#[cfg(test)]` code without reading its
//! files, and groups the remaining items by top-level module, the nodes of the import graph.

use std::fs;
use std::path::{Path, PathBuf};

use syn::{Item, ItemMod};

use crate::attrs;
use crate::error::Error;

/// A crate's code outside tests, by top-level module (the root file's own items are left out).
#[derive(Debug)]
pub struct Crate {
    pub modules: Vec<TopModule>,
}

/// A direct child module of the crate root, with the code of it and all its submodules.
#[derive(Debug)]
pub struct TopModule {
    pub name: String,
    pub sources: Vec<Source>,
}

/// The items of one module body (a file, or an inline `mod { .. }`), its submodules taken out.
pub struct Source {
    pub file: PathBuf,
    /// 1 for a top-level module, 2 for its children, and so on.
    pub depth: usize,
    pub items: Vec<Item>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("file", &self.file)
            .field("depth", &self.depth)
            .field("items", &self.items.len())
            .finish()
    }
}

/// Reads the crate whose root file (`src/lib.rs`, `src/main.rs`) is `root`.
pub fn load(root: &Path) -> Result<Crate, Error> {
    let file = parse(root)?;
    let mut modules = Vec::new();
    if attrs::is_test_only(&file.attrs) {
        return Ok(Crate { modules });
    }
    // A crate root finds its submodules next to itself, like a `mod.rs`.
    let dir = root.parent().unwrap_or(Path::new(""));
    for item in file.items {
        let Item::Mod(module) = item else { continue };
        if attrs::is_test_only(&module.attrs) {
            continue;
        }
        let name = module.ident.to_string();
        let mut sources = Vec::new();
        load_module(module, root, dir, 1, &mut sources)?;
        modules.push(TopModule { name, sources });
    }
    Ok(Crate { modules })
}

/// Loads `module`, declared in `file` at `depth`, whose parent keeps its submodules in `dir`.
fn load_module(
    module: ItemMod,
    file: &Path,
    dir: &Path,
    depth: usize,
    out: &mut Vec<Source>,
) -> Result<(), Error> {
    let name = module.ident.to_string();
    let line = module.ident.span().start().line;
    if module.attrs.iter().any(|attr| attr.path().is_ident("path")) {
        return Err(Error::PathAttribute {
            declared_in: file.to_path_buf(),
            line,
            module: name,
        });
    }
    // `name.rs`, `name/mod.rs` and an inline `mod name { .. }` all keep submodules in `name/`.
    let own_dir = dir.join(&name);
    match module.content {
        Some((_, items)) => load_items(items, file, &own_dir, depth, out),
        None => {
            let own_file = find_file(file, line, dir, &name)?;
            let parsed = parse(&own_file)?;
            if attrs::is_test_only(&parsed.attrs) {
                return Ok(());
            }
            load_items(parsed.items, &own_file, &own_dir, depth, out)
        }
    }
}

/// Records a module body's items, then loads its submodules (in declaration order).
fn load_items(
    items: Vec<Item>,
    file: &Path,
    dir: &Path,
    depth: usize,
    out: &mut Vec<Source>,
) -> Result<(), Error> {
    let mut kept = Vec::new();
    let mut submodules = Vec::new();
    for item in items {
        if attrs::is_test_only(attrs::of_item(&item)) {
            continue;
        }
        match item {
            Item::Mod(module) => submodules.push(module),
            other => kept.push(other),
        }
    }
    out.push(Source {
        file: file.to_path_buf(),
        depth,
        items: kept,
    });
    for module in submodules {
        load_module(module, file, dir, depth + 1, out)?;
    }
    Ok(())
}

/// The file of `mod name;` (declared at `declared_in:line`): `dir/name.rs` or `dir/name/mod.rs`.
fn find_file(declared_in: &Path, line: usize, dir: &Path, name: &str) -> Result<PathBuf, Error> {
    let file = dir.join(format!("{name}.rs"));
    let mod_rs = dir.join(name).join("mod.rs");
    match (file.is_file(), mod_rs.is_file()) {
        (true, false) => Ok(file),
        (false, true) => Ok(mod_rs),
        (true, true) => Err(Error::AmbiguousModule {
            declared_in: declared_in.to_path_buf(),
            line,
            module: name.to_string(),
            file,
            mod_rs,
        }),
        (false, false) => Err(Error::MissingModule {
            declared_in: declared_in.to_path_buf(),
            line,
            module: name.to_string(),
            file,
            mod_rs,
        }),
    }
}

fn parse(path: &Path) -> Result<syn::File, Error> {
    let text = fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    syn::parse_file(&text).map_err(|error| {
        let start = error.span().start();
        Error::Parse {
            path: path.to_path_buf(),
            line: start.line,
            column: start.column + 1,
            message: error.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixture;

    fn files_of(krate: &Crate, module: &str) -> Vec<String> {
        let module = krate.modules.iter().find(|m| m.name == module).unwrap();
        module
            .sources
            .iter()
            .map(|source| format!("{}@{}", source.file.display(), source.depth))
            .collect()
    }

    #[test]
    fn follows_file_mod_rs_and_non_mod_rs_children() {
        let dir = fixture(&[
            ("src/lib.rs", "mod a; mod b; fn root() {}"),
            ("src/a.rs", "mod c; fn a() {}"),
            ("src/a/c.rs", "mod d;"),
            ("src/a/c/d/mod.rs", "fn d() {}"),
            ("src/b/mod.rs", "mod e;"),
            ("src/b/e.rs", ""),
        ]);
        let krate = load(&dir.path().join("src/lib.rs")).unwrap();
        let root = dir.path().display().to_string();
        let strip = |files: Vec<String>| -> Vec<String> {
            files
                .into_iter()
                .map(|f| f.replacen(&format!("{root}/"), "", 1))
                .collect()
        };
        assert_eq!(
            strip(files_of(&krate, "a")),
            ["src/a.rs@1", "src/a/c.rs@2", "src/a/c/d/mod.rs@3"]
        );
        assert_eq!(
            strip(files_of(&krate, "b")),
            ["src/b/mod.rs@1", "src/b/e.rs@2"]
        );
    }

    #[test]
    fn inline_modules_keep_their_children_in_a_directory_of_their_name() {
        let dir = fixture(&[
            ("src/lib.rs", "mod a { mod inner { mod leaf; } }"),
            ("src/a/inner/leaf.rs", "fn leaf() {}"),
        ]);
        let krate = load(&dir.path().join("src/lib.rs")).unwrap();
        let depths: Vec<usize> = krate.modules[0].sources.iter().map(|s| s.depth).collect();
        assert_eq!(depths, [1, 2, 3]);
        assert!(
            krate.modules[0].sources[2]
                .file
                .ends_with("src/a/inner/leaf.rs")
        );
    }

    #[test]
    fn test_only_modules_are_not_read() {
        let dir = fixture(&[
            (
                "src/lib.rs",
                "mod a; #[cfg(test)] mod missing; #[cfg(test)] mod inline { mod gone; }",
            ),
            ("src/a.rs", "#[cfg(test)] mod tests;"),
        ]);
        let krate = load(&dir.path().join("src/lib.rs")).unwrap();
        assert_eq!(krate.modules.len(), 1);
        assert_eq!(krate.modules[0].sources.len(), 1);
    }

    #[test]
    fn a_path_attribute_is_an_error_naming_the_file() {
        let dir = fixture(&[
            ("src/lib.rs", "mod a;"),
            ("src/a.rs", "\n#[path = \"elsewhere.rs\"]\nmod b;"),
        ]);
        let error = load(&dir.path().join("src/lib.rs")).unwrap_err();
        assert!(matches!(&error, Error::PathAttribute { line: 3, module, .. } if module == "b"));
        let message = error.to_string();
        assert!(
            message.contains("src/a.rs:3: module `b` has a #[path] attribute"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_or_unparsable_file_is_an_error_naming_the_file() {
        let dir = fixture(&[("src/lib.rs", "mod a;\nmod b;"), ("src/a.rs", "fn ok() {}")]);
        let message = load(&dir.path().join("src/lib.rs"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("src/lib.rs:2: `mod b;`: neither "),
            "{message}"
        );

        let dir = fixture(&[("src/lib.rs", "mod a;"), ("src/a.rs", "fn broken( {}")]);
        let error = load(&dir.path().join("src/lib.rs")).unwrap_err();
        assert!(matches!(&error, Error::Parse { path, .. } if path.ends_with("src/a.rs")));

        let error = load(&dir.path().join("src/none.rs")).unwrap_err();
        assert!(
            error.to_string().contains("src/none.rs: cannot read"),
            "{error}"
        );
    }

    #[test]
    fn both_a_file_and_a_mod_rs_is_an_error() {
        let dir = fixture(&[
            ("src/lib.rs", "mod a;"),
            ("src/a.rs", ""),
            ("src/a/mod.rs", ""),
        ]);
        let error = load(&dir.path().join("src/lib.rs")).unwrap_err();
        assert!(matches!(error, Error::AmbiguousModule { .. }), "{error}");
    }
}
