//! Which code is test-only: items under `#[cfg(test)]` (or `#[cfg(all(test, ..))]`) are not
//! part of the import graph, so the loader and the reference collector both skip them.

use syn::punctuated::Punctuated;
use syn::{Attribute, Item, Meta, Token};

/// Whether these attributes compile the item only in tests.
pub(crate) fn is_test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<Meta>()
                .is_ok_and(|predicate| predicate_is_test_only(&predicate))
    })
}

/// `test`, or an `all(..)` with a test-only predicate in it.
fn predicate_is_test_only(predicate: &Meta) -> bool {
    match predicate {
        Meta::Path(path) => path.is_ident("test"),
        Meta::List(list) if list.path.is_ident("all") => list
            .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .is_ok_and(|all| all.iter().any(predicate_is_test_only)),
        _ => false,
    }
}

/// The outer attributes of an item (none for verbatim tokens).
pub(crate) fn of_item(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(item) => &item.attrs,
        Item::Enum(item) => &item.attrs,
        Item::ExternCrate(item) => &item.attrs,
        Item::Fn(item) => &item.attrs,
        Item::ForeignMod(item) => &item.attrs,
        Item::Impl(item) => &item.attrs,
        Item::Macro(item) => &item.attrs,
        Item::Mod(item) => &item.attrs,
        Item::Static(item) => &item.attrs,
        Item::Struct(item) => &item.attrs,
        Item::Trait(item) => &item.attrs,
        Item::TraitAlias(item) => &item.attrs,
        Item::Type(item) => &item.attrs,
        Item::Union(item) => &item.attrs,
        Item::Use(item) => &item.attrs,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(source: &str) -> Item {
        syn::parse_str(source).unwrap()
    }

    #[test]
    fn cfg_test_and_all_with_test_are_test_only() {
        assert!(is_test_only(of_item(&item("#[cfg(test)] mod tests {}"))));
        assert!(is_test_only(of_item(&item(
            "#[cfg(all(unix, test))] fn f() {}"
        ))));
        assert!(is_test_only(of_item(&item(
            "#[allow(dead_code)] #[cfg(test)] use crate::a::B;"
        ))));
    }

    #[test]
    fn other_cfgs_are_not_test_only() {
        assert!(!is_test_only(of_item(&item("#[cfg(not(test))] fn f() {}"))));
        assert!(!is_test_only(of_item(&item(
            "#[cfg(any(test, unix))] fn f() {}"
        ))));
        assert!(!is_test_only(of_item(&item("#[cfg(unix)] fn f() {}"))));
        assert!(!is_test_only(of_item(&item("#[test] fn f() {}"))));
    }
}
