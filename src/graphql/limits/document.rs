//! The shape of a parsed document, measured before async-graphql validates it: aliases,
//! selections with fragments expanded (without expanding them), introspection.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// Whether an operation asks for `__schema` or `__type` (root fields, fragments included).
pub(super) fn introspects(doc: &ExecutableDocument) -> bool {
    fn walk(doc: &ExecutableDocument, set: &SelectionSet, depth: usize) -> bool {
        depth < 8
            && set.items.iter().any(|item| match &item.node {
                Selection::Field(f) => matches!(f.node.name.node.as_str(), "__schema" | "__type"),
                Selection::InlineFragment(f) => walk(doc, &f.node.selection_set.node, depth + 1),
                Selection::FragmentSpread(s) => doc
                    .fragments
                    .get(&s.node.fragment_name.node)
                    .is_some_and(|f| walk(doc, &f.node.selection_set.node, depth + 1)),
            })
    }
    doc.operations
        .iter()
        .any(|(_, op)| walk(doc, &op.node.selection_set.node, 0))
}

/// Aliased fields anywhere in the document (operations and fragments).
pub(super) fn count_aliases(doc: &ExecutableDocument) -> usize {
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some()) + walk(&f.node.selection_set.node)
                }
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    doc.operations
        .iter()
        .map(|(_, op)| walk(&op.node.selection_set.node))
        .chain(
            doc.fragments
                .values()
                .map(|f| walk(&f.node.selection_set.node)),
        )
        .sum()
}

/// Counts the selections of a document with fragment spreads expanded, remembering each
/// fragment's count so fragments that spread each other many times cost linear time. Every
/// selection counts (fields, spreads, inline fragments), so no expansion can hide behind
/// selections that are not fields.
struct Expansion<'a> {
    doc: &'a ExecutableDocument,
    /// Per fragment: (root selections, all selections); `None` while being counted.
    memo: HashMap<&'a str, Option<(usize, usize)>>,
    /// A spread of an unknown fragment, or a fragment that spreads itself: async-graphql's own
    /// depth check would expand these before its validation rejects them.
    malformed: Option<String>,
}

impl<'a> Expansion<'a> {
    fn new(doc: &'a ExecutableDocument) -> Self {
        Expansion {
            doc,
            memo: HashMap::new(),
            malformed: None,
        }
    }

    /// (selections at this level, selections at every level), saturating.
    fn count(&mut self, set: &'a SelectionSet) -> (usize, usize) {
        let (mut here, mut all) = (0usize, 0usize);
        for item in &set.items {
            let (h, below) = match &item.node {
                Selection::Field(f) => (1, self.count(&f.node.selection_set.node).1),
                Selection::InlineFragment(f) => self.count(&f.node.selection_set.node),
                Selection::FragmentSpread(s) => self.fragment(s.node.fragment_name.node.as_str()),
            };
            here = here.saturating_add(h);
            all = all.saturating_add(below).saturating_add(1);
        }
        (here, all)
    }

    fn fragment(&mut self, name: &'a str) -> (usize, usize) {
        match self.memo.get(name) {
            Some(Some(known)) => return *known,
            Some(None) => {
                self.malformed = Some(format!("fragment {name} spreads itself"));
                return (0, 0);
            }
            None => {}
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            self.malformed = Some(format!("unknown fragment {name}"));
            return (0, 0);
        };
        self.memo.insert(name, None);
        let counted = self.count(&fragment.node.selection_set.node);
        self.memo.insert(name, Some(counted));
        counted
    }
}

/// The most (root selections, selections in all) any one operation makes, fragments expanded;
/// an error for unknown or self-spreading fragments.
pub(super) fn operation_sizes(doc: &ExecutableDocument) -> Result<(usize, usize), String> {
    let mut expansion = Expansion::new(doc);
    let sizes = doc
        .operations
        .iter()
        .map(|(_, op)| expansion.count(&op.node.selection_set.node))
        .fold((0, 0), |(r, a), (r2, a2)| (r.max(r2), a.max(a2)));
    match expansion.malformed {
        Some(problem) => Err(problem),
        None => Ok(sizes),
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    #[test]
    fn counts_aliases_and_root_fields() {
        let doc = parse_query(
            "query { a: stocks { id } b: stocks { x: id } ...F } fragment F on Query { me { id } c: me { id } }",
        )
        .unwrap();
        assert_eq!(count_aliases(&doc), 4);
        assert_eq!(operation_sizes(&doc), Ok((4, 9)));
    }

    #[test]
    fn fragment_cycles_and_unknown_fragments_are_refused() {
        let cycle =
            "query { ...A } fragment A on Query { ...B ...B } fragment B on Query { ...A ...A }";
        assert!(operation_sizes(&parse_query(cycle).unwrap()).is_err());
        // Spreads of an unknown fragment, multiplied: no fields, but a huge expansion.
        let mut doc = String::from("query { ...F10 } fragment F0 on Query { ...Nope }");
        for level in 1..=10 {
            let spreads = format!("...F{} ", level - 1).repeat(20);
            doc.push_str(&format!(" fragment F{level} on Query {{ {spreads} }}"));
        }
        assert!(operation_sizes(&parse_query(&doc).unwrap()).is_err());
    }

    #[test]
    fn nested_fragment_spreads_are_counted_without_expanding_them() {
        // Ten levels of 20 spreads each: 20^10 fields if expanded naively.
        let mut doc = String::from("query { ...F0 }");
        for level in 0..10 {
            let spreads = format!("...F{} ", level + 1).repeat(20);
            doc.push_str(&format!(" fragment F{level} on Query {{ {spreads} }}"));
        }
        doc.push_str(" fragment F10 on Query { me { id } }");
        let doc = parse_query(&doc).unwrap();
        let (roots, fields) = operation_sizes(&doc).unwrap();
        assert_eq!(roots, 20usize.pow(10));
        assert!(fields > 1_000_000);
    }
}
