//! Bounds on a document, checked before it is validated or run (over HTTP and WebSocket
//! alike): its size, its aliases and its root fields. Depth and complexity are the schema's
//! own limits (set in `build_schema`); this extension gives their errors a code and puts each
//! executed query's or mutation's cost in `extensions.cost`.
//!
//! A document refused before execution answers one of these codes (nothing runs):
//! - [`DOCUMENT_TOO_LARGE`]: too many bytes, aliases, root fields, or selections once
//!   fragments are expanded;
//! - [`QUERY_TOO_COMPLEX`]: its complexity is over the limit (`extensions.limit` says which);
//! - [`QUERY_TOO_DEEP`]: its selections nest deeper than the limit (`extensions.limit`).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_graphql::{
    Response, ServerError, ServerResult, ValidationResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
    },
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
    value,
};

use super::error::coded_error;
use crate::config::GraphqlLimits;

/// The extension that enforces [`GraphqlLimits`], and refuses introspection when it is off
/// (the schema alone would answer `__schema` with a silent null; an error tells the client).
pub struct DocumentLimits {
    pub limits: GraphqlLimits,
    pub introspection: bool,
}

/// The document's size: bytes, aliases, root fields or selections.
pub const DOCUMENT_TOO_LARGE: &str = "DOCUMENT_TOO_LARGE";
/// Complexity over `GRAPHQL_MAX_COMPLEXITY`.
pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
/// Selections nested deeper than `GRAPHQL_MAX_DEPTH`.
pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimitsCheck {
            limits: self.limits,
            introspection: self.introspection,
            seen: Mutex::default(),
        })
    }
}

/// One request's extension (the factory makes one per request, or per subscription).
struct DocumentLimitsCheck {
    limits: GraphqlLimits,
    introspection: bool,
    seen: Mutex<Seen>,
}

/// What the hooks before execution learnt, for the `execute` hook.
#[derive(Default)]
struct Seen {
    /// Each operation's name (`None`: the anonymous one) and type.
    operations: Vec<(Option<String>, OperationType)>,
    /// The validated document's complexity.
    complexity: Option<usize>,
}

impl DocumentLimitsCheck {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        // Nothing panics while holding it; a poisoned lock still holds plain data.
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// async-graphql's own depth and complexity errors carry no code and no limit: add both.
    fn coded(&self, mut error: ServerError) -> ServerError {
        let (code, limit) = if error.message.starts_with("Query is too complex") {
            (QUERY_TOO_COMPLEX, self.limits.max_complexity)
        } else if error.message.starts_with("Query is nested too deep") {
            (QUERY_TOO_DEEP, self.limits.max_depth)
        } else {
            return error;
        };
        let ext = error.extensions.get_or_insert_with(Default::default);
        ext.set("code", code);
        ext.set("limit", limit);
        error
    }
}

#[async_trait::async_trait]
impl Extension for DocumentLimitsCheck {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let limits = self.limits;
        if query.len() > limits.max_document_bytes {
            return Err(too_big(format!(
                "the document is {} bytes; the limit is {}",
                query.len(),
                limits.max_document_bytes
            )));
        }
        // Checked on our own parse, before async-graphql's: its recursion-depth check expands
        // every fragment spread, which nested spreads turn into exponential work. (Parsing
        // itself is safe: the parser stops at 64 levels of nesting.)
        let doc = async_graphql::parser::parse_query(query)?;
        let aliases = count_aliases(&doc);
        if aliases > limits.max_aliases {
            return Err(too_big(format!(
                "the document has {aliases} aliases; the limit is {}",
                limits.max_aliases
            )));
        }
        let (roots, fields) =
            operation_sizes(&doc).map_err(|problem| coded_error(problem, "BAD_USER_INPUT"))?;
        if roots > limits.max_root_fields {
            return Err(too_big(format!(
                "an operation makes {roots} root selections; the limit is {}",
                limits.max_root_fields
            )));
        }
        // Also caught by the complexity limit, but only after validation has expanded every
        // fragment spread: a few kilobytes of nested spreads would take it a very long time.
        if fields > limits.max_complexity {
            return Err(too_big(format!(
                "an operation makes {fields} selections once fragments are expanded; the limit is {}",
                limits.max_complexity
            )));
        }
        if !self.introspection && introspects(&doc) {
            return Err(coded_error(
                "introspection is disabled on this server",
                "FORBIDDEN",
            ));
        }
        self.seen().operations = doc
            .operations
            .iter()
            .map(|(name, op)| (name.map(|n| n.to_string()), op.node.ty))
            .collect();
        next.run(ctx, query, variables).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        match next.run(ctx).await {
            Ok(result) => {
                self.seen().complexity = Some(result.complexity);
                Ok(result)
            }
            Err(errors) => Err(errors.into_iter().map(|e| self.coded(e)).collect()),
        }
    }

    /// Adds `extensions.cost` to a query's or mutation's response. Not to subscription events:
    /// the cost was checked once at subscribe time, and a feed's every frame would carry it.
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let cost = {
            let seen = self.seen();
            let kind = seen
                .operations
                .iter()
                .find(|(name, _)| name.as_deref() == operation_name)
                .map(|(_, kind)| *kind);
            seen.complexity
                .filter(|_| kind != Some(OperationType::Subscription))
        };
        if let Some(requested) = cost {
            let limit = self.limits.max_complexity;
            response.extensions.insert(
                "cost".to_string(),
                value!({ "requested": requested, "limit": limit }),
            );
        }
        response
    }
}

/// Whether an operation asks for `__schema` or `__type` (root fields, fragments included).
fn introspects(doc: &ExecutableDocument) -> bool {
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

fn too_big(message: String) -> ServerError {
    coded_error(message, DOCUMENT_TOO_LARGE)
}

/// Aliased fields anywhere in the document (operations and fragments).
fn count_aliases(doc: &ExecutableDocument) -> usize {
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
fn operation_sizes(doc: &ExecutableDocument) -> Result<(usize, usize), String> {
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
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, parser::parse_query};

    use super::*;

    struct Toy;

    #[Object]
    impl Toy {
        /// Costs its page size times its selection, as a weighted list does.
        #[graphql(complexity = "first.max(0) as usize * child_complexity")]
        async fn items(&self, first: i32) -> Vec<Item> {
            (0..first).map(|_| Item).collect()
        }
    }

    struct Item;

    #[Object]
    impl Item {
        async fn a(&self) -> i32 {
            1
        }
        async fn b(&self) -> Item {
            Item
        }
    }

    fn toy_schema(
        max_complexity: usize,
        max_depth: usize,
    ) -> Schema<Toy, EmptyMutation, EmptySubscription> {
        let limits = GraphqlLimits {
            max_depth,
            max_complexity,
            max_aliases: 30,
            max_root_fields: 20,
            max_document_bytes: 16384,
            max_batch: 10,
        };
        Schema::build(Toy, EmptyMutation, EmptySubscription)
            .limit_complexity(max_complexity)
            .limit_depth(max_depth)
            .extension(DocumentLimits {
                limits,
                introspection: true,
            })
            .finish()
    }

    fn code_and_limit(response: &Response) -> (String, String) {
        let ext = response.errors[0].extensions.as_ref().expect("extensions");
        let get = |k| ext.get(k).map(|v| v.to_string()).unwrap_or_default();
        (get("code"), get("limit"))
    }

    #[tokio::test]
    async fn the_cost_is_in_the_response_and_grows_with_the_page_size() {
        let schema = toy_schema(1000, 10);
        let cost = |first: i32| {
            let schema = &schema;
            async move {
                let r = schema
                    .execute(format!("{{ items(first: {first}) {{ a }} }}"))
                    .await;
                assert!(r.errors.is_empty(), "{:?}", r.errors);
                r.extensions["cost"].clone().into_json().unwrap()
            }
        };
        let five = cost(5).await;
        let fifty = cost(50).await;
        assert_eq!(five, serde_json::json!({ "requested": 5, "limit": 1000 }));
        assert_eq!(fifty, serde_json::json!({ "requested": 50, "limit": 1000 }));
    }

    #[tokio::test]
    async fn refused_documents_have_a_code_each() {
        let schema = toy_schema(100, 3);
        let complex = schema.execute("{ items(first: 101) { a } }").await;
        assert_eq!(
            code_and_limit(&complex),
            ("\"QUERY_TOO_COMPLEX\"".into(), "100".into())
        );
        assert!(!complex.extensions.contains_key("cost"));

        let deep = schema
            .execute("{ items(first: 1) { b { b { a } } } }")
            .await;
        assert_eq!(
            code_and_limit(&deep),
            ("\"QUERY_TOO_DEEP\"".into(), "3".into())
        );

        let aliases: String = (0..31)
            .map(|i| format!("x{i}: items(first: 1) {{ a }} "))
            .collect();
        let wide = schema.execute(format!("{{ {aliases} }}")).await;
        assert_eq!(code_and_limit(&wide).0, "\"DOCUMENT_TOO_LARGE\"");

        // Other validation errors keep no code here (the HTTP layer gives them BAD_USER_INPUT).
        let unknown = schema.execute("{ nope }").await;
        assert!(unknown.errors[0].extensions.is_none());
        let unknown_fragment = schema.execute("{ ...Nope }").await;
        assert_eq!(code_and_limit(&unknown_fragment).0, "\"BAD_USER_INPUT\"");
    }

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
