//! What the two live transports share, WebSocket (`/graphql/ws`) and Server-Sent Events
//! (`/graphql/stream`): the shared executions of public feeds, the sessions of logged-in
//! connections, and starting one subscription with its place in the live counters and metrics.
//! Each transport keeps only its wire format and its connection's life cycle.

pub mod feeds;
pub mod sessions;

use std::{pin::Pin, sync::Arc};

use async_graphql::{
    Data, Request,
    parser::{
        parse_query,
        types::{ExecutableDocument, OperationType, Selection, SelectionSet},
    },
};
use futures_util::{Stream, stream};

pub use self::{feeds::Feeds, sessions::Sessions};
use crate::{
    graphql::{
        Caller, ClientAddr,
        feeds::{PUBLIC_FEEDS, SUBSCRIPTION_FIELDS},
        live::Counted,
    },
    http::AppState,
    infra::metrics::GaugeGuard,
};

/// What a subscription yields, already serialized.
#[derive(Debug, Clone)]
pub enum Out {
    /// A GraphQL response (`{"data":…}`), as JSON text.
    Next(Arc<str>),
    /// Request errors (`[{"message":…}]`), as JSON text; ends the subscription.
    Error(Arc<str>),
    /// The subscription ended.
    Complete,
}

/// One subscription's outputs.
pub type SubStream = Pin<Box<dyn Stream<Item = Out> + Send>>;

/// What a running subscription holds: one unit of the live subscription count (admin
/// statistics) and, by root field, of `zebrat_subscriptions_active`. Dropped when it ends.
pub struct Held {
    _counted: Counted,
    _fields: Vec<GaugeGuard>,
}

/// Starts `request` for `caller`. A persisted-query hash is expanded first (so a public feed
/// sent by hash still shares its execution); a subscription made only of public feeds joins
/// the shared execution for its document and variables; anything else runs on its own with
/// the caller and their address in its context.
pub fn start(
    state: &AppState,
    caller: Caller,
    peer: ClientAddr,
    request: Request,
) -> (SubStream, Held) {
    let counted = Counted::new(&state.live, |l| &l.subscriptions);
    let request = match state.persisted.expand(request) {
        Ok(request) => request,
        Err(error) => {
            let errors = serde_json::to_string(&[error]).unwrap_or_else(|_| "[]".into());
            let held = Held {
                _counted: counted,
                _fields: Vec::new(),
            };
            return (Box::pin(stream::iter([Out::Error(errors.into())])), held);
        }
    };
    let held = Held {
        _counted: counted,
        _fields: feeds::root_fields(&request)
            .into_iter()
            .map(|field| {
                GaugeGuard::new(metrics::gauge!("zebrat_subscriptions_active", "field" => field))
            })
            .collect(),
    };
    let stream = match feeds::shareable(&request) {
        Some(key) => state.feeds.join(key, request, &state.schema),
        None => feeds::individual(&state.schema, request, caller_data(caller, peer)),
    };
    (stream, held)
}

/// Request data for an execution on behalf of `caller`.
pub fn caller_data(caller: Caller, peer: ClientAddr) -> Data {
    let mut data = Data::default();
    data.insert(caller);
    data.insert(peer);
    data
}

/// A one-error array with a code, as JSON.
pub fn errors_json(message: &str, code: &str) -> String {
    serde_json::json!([{ "message": message, "extensions": { "code": code } }]).to_string()
}

/// Whether `request` is a subscription to an account or admin feed (`orderUpdates`,
/// `portfolio`, `adminStats`): those need a logged-in caller. Fragments on the root are
/// followed; a document that does not parse, or names no such field, needs none (execution
/// reports what is wrong with it).
pub fn needs_caller(request: &Request) -> bool {
    let Ok(doc) = parse_query(&request.query) else {
        return false;
    };
    let op = crate::http::graphql::operation(&doc, request.operation_name.as_deref());
    let Some(op) = op.filter(|op| op.node.ty == OperationType::Subscription) else {
        return false;
    };
    names_private_feed(&doc, &op.node.selection_set.node, 0)
}

/// Fragments nest at most this deep on the root before we stop looking (validation refuses
/// cycles; this only bounds the walk).
const MAX_FRAGMENT_NESTING: usize = 8;

fn names_private_feed(doc: &ExecutableDocument, set: &SelectionSet, depth: usize) -> bool {
    if depth > MAX_FRAGMENT_NESTING {
        return false;
    }
    set.items.iter().any(|item| match &item.node {
        Selection::Field(f) => {
            let name = f.node.name.node.as_str();
            SUBSCRIPTION_FIELDS.contains(&name) && !PUBLIC_FEEDS.contains(&name)
        }
        Selection::InlineFragment(inline) => {
            names_private_feed(doc, &inline.node.selection_set.node, depth + 1)
        }
        Selection::FragmentSpread(spread) => doc
            .fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|f| names_private_feed(doc, &f.node.selection_set.node, depth + 1)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_feeds_need_a_caller_wherever_they_hide() {
        let needs = |q: &str| needs_caller(&Request::new(q));
        assert!(needs("subscription { orderUpdates { id } }"));
        assert!(needs(
            "subscription { ticks { at } p: portfolio { totalValue } }"
        ));
        assert!(needs(
            "subscription { ...F } fragment F on Subscription { adminStats { users } }"
        ));
        assert!(needs(
            "subscription { ... on Subscription { orderUpdates { id } } }"
        ));
        assert!(!needs("subscription { ticks { at } }"));
        assert!(!needs(
            "subscription { ...F } fragment F on Subscription { marketState { isOpen } }"
        ));
        assert!(!needs("{ viewer { id } }"), "queries answer in-band");
        assert!(!needs("subscription {"));
        let two = "subscription A { ticks { at } } subscription B { orderUpdates { id } }";
        assert!(!needs_caller(&Request::new(two).operation_name("A")));
        assert!(needs_caller(&Request::new(two).operation_name("B")));
    }
}
