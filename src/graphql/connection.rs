//! Relay connections over the domain's keyset pages: the paging arguments every list takes,
//! the connection type, and the list cost the complexity limit counts.

use async_graphql::{
    SimpleObject,
    connection::{Connection, Edge},
};

use crate::domain::{
    Result,
    page::{DEFAULT_PAGE, MAX_PAGE, Page, PageRequest},
};

/// A connection of `N` with opaque string cursors and the list's total.
pub type Conn<N> = Connection<String, N, ListTotal>;

/// What every connection tells besides its page.
#[derive(SimpleObject)]
pub struct ListTotal {
    /// How many items the whole list holds, across all its pages.
    pub total_count: u64,
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
pub fn connection<T, N: async_graphql::OutputType>(
    page: Page<T>,
    node: impl Fn(T) -> N,
) -> Conn<N> {
    let mut c = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        ListTotal {
            total_count: page.total_count,
        },
    );
    c.edges.extend(
        page.items
            .into_iter()
            .map(|(cursor, item)| Edge::new(cursor, node(item))),
    );
    c
}

/// What a list field costs the complexity limit: its page size (`first` or `last`, else the
/// default) times what each item costs, so `orders(first: 100)` counts a hundred orders.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first
        .or(last)
        .map_or(DEFAULT_PAGE, |n| (n.max(0) as u64).min(MAX_PAGE));
    1 + size as usize * child_complexity
}
