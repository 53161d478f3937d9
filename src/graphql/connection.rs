//! Relay connections over the domain's keyset pages: the paging arguments every list takes,
//! the connection type, and what lists cost the complexity limit (pages and the other lists).

use async_graphql::{OutputType, SimpleObject, connection::PageInfo};

use super::{
    accounts::User,
    admin::AuditEntry,
    trading::{CashTransaction, Order, Trade},
};
use crate::domain::{
    Result,
    market::MAX_CANDLES,
    page::{DEFAULT_PAGE, MAX_PAGE, Page, PageRequest},
};

// Our own connection types rather than async-graphql's: those cannot carry a description,
// and every type of the schema has one (a test holds the SDL to it). One macro writes the
// concrete pair per listed type; `Conn<N>` names the connection of `N`.

/// A type listed through connections: names its connection type.
pub trait Listed: OutputType + Clone + Sized {
    type Connection: OutputType;
    /// The connection of one page.
    fn connection(
        edges: Vec<(String, Self)>,
        page_info: PageInfo,
        total_count: u64,
    ) -> Self::Connection;
}

/// The connection type of `N`.
pub type Conn<N> = <N as Listed>::Connection;

macro_rules! connections {
    ($($node:ty => $conn:ident, $edge:ident, $what:literal;)*) => {$(
        #[doc = concat!("One page of ", $what, " (a Relay cursor connection), newest first, with")]
        /// the list's total. Page forward with `first`/`after: pageInfo.endCursor`, backward
        /// with `last`/`before: pageInfo.startCursor`.
        #[derive(SimpleObject)]
        pub struct $conn {
            /// The page's items with their cursors.
            pub edges: Vec<$edge>,
            /// The page's items, when the cursors are not needed.
            pub nodes: Vec<$node>,
            /// Where this page sits in the list.
            pub page_info: PageInfo,
            /// How many items the whole list holds, across all its pages.
            pub total_count: u64,
        }

        #[doc = concat!("One item of a page of ", $what, ", with its cursor.")]
        #[derive(SimpleObject)]
        pub struct $edge {
            /// Opaque: pass it as `after` or `before` to page from this item.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        impl Listed for $node {
            type Connection = $conn;
            fn connection(
                edges: Vec<(String, Self)>,
                page_info: PageInfo,
                total_count: u64,
            ) -> $conn {
                $conn {
                    nodes: edges.iter().map(|(_, node)| node.clone()).collect(),
                    edges: edges
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info,
                    total_count,
                }
            }
        }
    )*};
}

connections! {
    Order => OrderConnection, OrderEdge, "orders";
    Trade => TradeConnection, TradeEdge, "trades";
    CashTransaction => CashTransactionConnection, CashTransactionEdge, "cash ledger entries";
    User => UserConnection, UserEdge, "accounts";
    AuditEntry => AuditEntryConnection, AuditEntryEdge, "audit log entries";
}

/// The paging arguments of a list field, as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        PageArgs {
            first,
            after,
            last,
            before,
        }
    }

    /// The domain's page request (BAD_USER_INPUT for sizes out of range or foreign cursors).
    pub fn request(&self) -> Result<PageRequest> {
        PageRequest::parse(
            self.first,
            self.after.as_deref(),
            self.last,
            self.before.as_deref(),
        )
    }
}

/// A Relay connection from a domain page.
pub fn connection<T, N: Listed>(page: Page<T>, node: impl Fn(T) -> N) -> Conn<N> {
    let page_info = PageInfo {
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
        start_cursor: page.items.first().map(|(c, _)| c.clone()),
        end_cursor: page.items.last().map(|(c, _)| c.clone()),
    };
    let edges = page
        .items
        .into_iter()
        .map(|(cursor, item)| (cursor, node(item)))
        .collect();
    N::connection(edges, page_info, page.total_count)
}

/// What a page of a connection costs the complexity limit: its size (`first` or `last`, else
/// the default) times what each item costs, so `orders(first: 100)` counts a hundred orders. A
/// size out of range counts as one: the field refuses it with BAD_USER_INPUT saying why, which
/// helps more than a refusal of the whole document for its cost.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = match first.or(last) {
        None => DEFAULT_PAGE,
        Some(n) if n >= 1 && n as u64 <= MAX_PAGE => n as u64,
        Some(_) => 1,
    };
    list_cost(size as usize, child_complexity)
}

/// The size counted for a list without a cap of its own: every stock, an account's positions
/// (one per stock), a tick round's stocks, the holidays. Stocks are not capped, so this is a
/// nominal figure, about ten times what the demo lists; such lists are read whole.
pub const UNCAPPED_LIST: usize = 100;

/// What a candle window costs: `last` (1–2000), else the 2000 a window may hold, times what
/// each candle costs. Out of range counts as one, as in [`cost`].
pub fn candles_cost(last: Option<i32>, child_complexity: usize) -> usize {
    let size = match last {
        None => MAX_CANDLES,
        Some(n) if n >= 1 && n as u64 <= MAX_CANDLES => n as u64,
        Some(_) => 1,
    };
    list_cost(size as usize, child_complexity)
}

/// Never counted above this, whatever the nesting: async-graphql adds the costs of sibling
/// fields with a plain `+`, which must not overflow (a document holds at most a thousand
/// selections, so the sum stays far below `usize::MAX`). Still far above any sensible limit.
const COST_CEILING: usize = 1 << 40;

/// A list field's cost: one for the field, plus `size` items of `child_complexity` each.
pub fn list_cost(size: usize, child_complexity: usize) -> usize {
    size.saturating_mul(child_complexity)
        .saturating_add(1)
        .min(COST_CEILING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_cost_their_size_times_their_items() {
        assert_eq!(cost(None, None, 3), 1 + 20 * 3);
        assert_eq!(cost(Some(100), None, 3), 301);
        assert_eq!(cost(None, Some(5), 3), 16);
        assert_eq!(cost(Some(101), None, 3), 4, "refused by the field");
        assert_eq!(candles_cost(None, 5), 10_001);
        assert_eq!(candles_cost(Some(150), 5), 751);
        assert_eq!(candles_cost(Some(0), 5), 6);
        assert_eq!(list_cost(UNCAPPED_LIST, 7), 701);
    }

    #[test]
    fn nesting_cannot_overflow_the_sum() {
        let mut cost = 1;
        for _ in 0..16 {
            cost = candles_cost(None, cost);
        }
        assert_eq!(cost, COST_CEILING);
        assert!(COST_CEILING.checked_mul(10_000).is_some());
    }
}
