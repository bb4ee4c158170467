//! Finds, in one module body, every path that can name a top-level module of the same crate:
//! `crate::x..` (and `super::..::x` from deep enough to reach the root) in `use` trees, in
//! code and types, and in the tokens of macro invocations (`format!`, `matches!`), which syn
//! leaves unparsed. Test-only items are skipped; which names are modules is the graph's call.

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{ImplItem, ItemMod, ItemUse, Macro, Path, TraitItem, UseTree};

use crate::attrs;
use crate::load::Source;

/// A path naming `target` at the crate root, on `line` of the source's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub target: String,
    pub line: usize,
}

/// The references in `source`, in source order.
pub fn references(source: &Source) -> Vec<Reference> {
    let mut collector = Collector {
        depth: source.depth,
        found: Vec::new(),
    };
    for item in &source.items {
        collector.visit_item(item);
    }
    collector.found
}

/// A path as identifiers with the line each is on.
type Segments = Vec<(String, usize)>;

struct Collector {
    /// How many `super`s reach the crate root from here.
    depth: usize,
    found: Vec<Reference>,
}

impl Collector {
    /// Records the root-level name a path starts with, if it starts at the root.
    fn path(&mut self, segments: &[(String, usize)]) {
        let Some((first, _)) = segments.first() else {
            return;
        };
        let at = if first == "crate" {
            1
        } else {
            let supers = segments.iter().take_while(|(s, _)| s == "super").count();
            if supers == 0 || supers != self.depth {
                return;
            }
            supers
        };
        if let Some((target, line)) = segments.get(at)
            && target != "self"
            && target != "super"
        {
            self.found.push(Reference {
                target: target.clone(),
                line: *line,
            });
        }
    }

    /// Every path of a `use` tree, each one ending at a name, a rename or a glob.
    fn use_tree(&mut self, tree: &UseTree, prefix: &mut Segments) {
        match tree {
            UseTree::Path(path) => {
                prefix.push(segment(&path.ident));
                self.use_tree(&path.tree, prefix);
                prefix.pop();
            }
            UseTree::Name(name) => self.use_leaf(prefix, segment(&name.ident)),
            UseTree::Rename(rename) => self.use_leaf(prefix, segment(&rename.ident)),
            UseTree::Glob(_) => self.path(prefix),
            UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(tree, prefix);
                }
            }
        }
    }

    fn use_leaf(&mut self, prefix: &mut Segments, last: (String, usize)) {
        prefix.push(last);
        self.path(prefix);
        prefix.pop();
    }

    /// Paths in a macro's tokens: `crate` or `super` not after `::`, then `:: ident` pairs.
    fn tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (at, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Ident(ident)
                    if (ident == "crate" || ident == "super")
                        && !after_path_separator(&tokens, at) =>
                {
                    let mut segments = vec![segment(ident)];
                    let mut next = at + 1;
                    while let Some(ident) = path_separator_then_ident(&tokens, next) {
                        segments.push(segment(ident));
                        next += 3;
                    }
                    self.path(&segments);
                }
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !attrs::is_test_only(attrs::of_item(item)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast ImplItem) {
        let attrs = match item {
            ImplItem::Const(item) => &item.attrs,
            ImplItem::Fn(item) => &item.attrs,
            ImplItem::Type(item) => &item.attrs,
            ImplItem::Macro(item) => &item.attrs,
            _ => return visit::visit_impl_item(self, item),
        };
        if !attrs::is_test_only(attrs) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_trait_item(&mut self, item: &'ast TraitItem) {
        let attrs = match item {
            TraitItem::Const(item) => &item.attrs,
            TraitItem::Fn(item) => &item.attrs,
            TraitItem::Type(item) => &item.attrs,
            TraitItem::Macro(item) => &item.attrs,
            _ => return visit::visit_trait_item(self, item),
        };
        if !attrs::is_test_only(attrs) {
            visit::visit_trait_item(self, item);
        }
    }

    /// An inline module inside a function body is one `super` further from the root (the
    /// loader has already taken out the module-level ones).
    fn visit_item_mod(&mut self, module: &'ast ItemMod) {
        if module.content.is_some() {
            self.depth += 1;
            visit::visit_item_mod(self, module);
            self.depth -= 1;
        }
    }

    fn visit_item_use(&mut self, item: &'ast ItemUse) {
        if item.leading_colon.is_none() {
            self.use_tree(&item.tree, &mut Vec::new());
        }
    }

    fn visit_path(&mut self, path: &'ast Path) {
        if path.leading_colon.is_none() {
            let segments: Segments = path.segments.iter().map(|s| segment(&s.ident)).collect();
            self.path(&segments);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        visit::visit_macro(self, mac);
        self.tokens(mac.tokens.clone());
    }
}

fn segment(ident: &proc_macro2::Ident) -> (String, usize) {
    (ident.to_string(), ident.span().start().line)
}

/// A `:`; the first of a `::` is joined to the next.
fn is_colon(token: Option<&TokenTree>, joint: bool) -> bool {
    matches!(token, Some(TokenTree::Punct(p)) if p.as_char() == ':' && (!joint || p.spacing() == Spacing::Joint))
}

/// Whether `tokens[at]` follows a `::` (then it does not start a path).
fn after_path_separator(tokens: &[TokenTree], at: usize) -> bool {
    at >= 2 && is_colon(tokens.get(at - 2), true) && is_colon(tokens.get(at - 1), false)
}

/// The identifier after a `::` that starts at `tokens[at]`.
fn path_separator_then_ident(tokens: &[TokenTree], at: usize) -> Option<&proc_macro2::Ident> {
    if !is_colon(tokens.get(at), true) || !is_colon(tokens.get(at + 1), false) {
        return None;
    }
    match tokens.get(at + 2) {
        Some(TokenTree::Ident(ident)) => Some(ident),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn found(depth: usize, code: &str) -> Vec<(String, usize)> {
        let source = Source {
            file: PathBuf::from("x.rs"),
            depth,
            items: syn::parse_file(code).unwrap().items,
        };
        references(&source)
            .into_iter()
            .map(|r| (r.target, r.line))
            .collect()
    }

    fn targets(depth: usize, code: &str) -> Vec<String> {
        found(depth, code).into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn grouped_use_trees_name_each_module_on_its_line() {
        let code = "use crate::{\n    a::B,\n    b::{self, C},\n    d as e,\n};\nuse crate::f::*;";
        assert_eq!(
            found(1, code),
            [
                ("a".to_string(), 2),
                ("b".to_string(), 3),
                ("b".to_string(), 3),
                ("d".to_string(), 4),
                ("f".to_string(), 6)
            ]
        );
    }

    #[test]
    fn paths_in_code_and_types_count() {
        let code =
            "fn f(x: crate::a::T) -> Vec<crate::b::U> { crate::c::g(); <X as crate::d::Tr>::h() }";
        assert_eq!(targets(1, code), ["a", "b", "c", "d"]);
    }

    #[test]
    fn paths_inside_macro_tokens_count() {
        let code = r#"
            fn f(x: &E) -> bool {
                let _ = format!("{}", crate::a::name());
                matches!(x, crate::b::E::One | crate::b::E::Two)
            }
            macro_rules! m { () => { $crate::c::go() }; }
            fn g() { vec![std::crate_name::x, ::crate::no] ; }
        "#;
        assert_eq!(targets(1, code), ["a", "b", "b", "c"]);
    }

    #[test]
    fn test_only_items_do_not_count() {
        let code = r#"
            use crate::a::A;
            #[cfg(test)]
            use crate::b::B;
            #[cfg(test)]
            fn helper() { crate::c::x(); }
            impl A {
                #[cfg(test)]
                fn only_in_tests() { crate::d::x(); }
            }
        "#;
        assert_eq!(targets(1, code), ["a"]);
    }

    #[test]
    fn super_counts_only_when_it_reaches_the_root() {
        let code = "use super::a::X; use super::super::b::Y; fn f() { super::super::c::g() }";
        assert_eq!(targets(1, code), ["a"]);
        assert_eq!(targets(2, code), ["b", "c"]);
        assert_eq!(targets(3, code), Vec::<String>::new());
        let in_macro = "fn f() { println!(\"{}\", super::super::a::X); }";
        assert_eq!(targets(2, in_macro), ["a"]);
    }

    #[test]
    fn an_inline_module_in_a_function_is_one_level_deeper() {
        let code = "fn f() { mod inner { use super::super::a::X; } }";
        assert_eq!(targets(1, code), ["a"]);
    }

    #[test]
    fn other_paths_do_not_count() {
        let code =
            "use std::fmt; use self::x::Y; use ::crate_x::a; fn f() { crate::g(); x::crate_y(); }";
        assert_eq!(targets(1, code), ["g"]);
    }
}
