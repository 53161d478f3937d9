//! Keyset pagination, newest first, both ways (Relay's `first`/`after` and `last`/`before`),
//! with the list's total. Cursors are opaque to clients and unlike the row ids they carry.

use base64::{Engine, prelude::BASE64_STANDARD as STANDARD};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, sea_query::ValueType,
};

use crate::domain::{Error, Result};

/// Largest page a client may ask for.
pub const MAX_PAGE: u64 = 100;
pub const DEFAULT_PAGE: u64 = 20;

/// Which way a page reads from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `first` (after `after`): newer to older.
    Forward,
    /// `last` (before `before`): the older end of the list, still shown newest first.
    Backward,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Page size.
    pub size: u64,
    pub direction: Direction,
    /// Forward: only rows older (smaller id) than this; backward: only rows newer.
    pub cursor: Option<i64>,
}

impl PageRequest {
    /// From Relay's arguments: `first`/`after` or `last`/`before`, not a mix.
    pub fn parse(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> Result<Self> {
        let (size, direction, cursor, size_field, cursor_field) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(Error::bad_input("last", "pass first or last, not both"));
            }
            (_, Some(n)) => (Some(n), Direction::Backward, before, "last", "before"),
            (n, None) => {
                if before.is_some() {
                    return Err(Error::bad_input("before", "before goes with last"));
                }
                (n, Direction::Forward, after, "first", "after")
            }
        };
        if direction == Direction::Backward && after.is_some() {
            return Err(Error::bad_input("after", "after goes with first"));
        }
        let size = match size {
            None => DEFAULT_PAGE,
            Some(n) if n >= 1 && n as u64 <= MAX_PAGE => n as u64,
            Some(_) => {
                return Err(Error::bad_input(
                    size_field,
                    format!("{size_field} must be between 1 and {MAX_PAGE}"),
                ));
            }
        };
        let cursor = cursor
            .map(|c| {
                decode_cursor(c).ok_or_else(|| {
                    Error::bad_input(
                        cursor_field,
                        format!("{cursor_field} is not a cursor from this list"),
                    )
                })
            })
            .transpose()?;
        Ok(PageRequest {
            size,
            direction,
            cursor,
        })
    }

    /// The first page of `size`, newest first.
    pub fn first(size: u64) -> Self {
        PageRequest {
            size,
            direction: Direction::Forward,
            cursor: None,
        }
    }
}

/// Cursors are opaque to clients and deliberately unlike ids: `base64("cursor:<row id>")`.
fn encode_cursor(id: i64) -> String {
    STANDARD.encode(format!("cursor:{id}"))
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    let raw = STANDARD.decode(cursor.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.strip_prefix("cursor:")?
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
}

/// One page of items, newest first, each with its cursor.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<(String, T)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    /// How many items the whole list holds (every page of it).
    pub total_count: u64,
}

impl<T> Page<T> {
    /// Builds a page from up to `size + 1` (id, item) pairs in reading order (newest first
    /// forward, oldest first backward): the extra row only tells that there is more.
    fn from_rows(mut rows: Vec<(i64, T)>, request: PageRequest, total_count: u64) -> Self {
        let more = rows.len() as u64 > request.size;
        rows.truncate(request.size as usize);
        let from_cursor = request.cursor.is_some();
        let (has_next_page, has_previous_page) = match request.direction {
            Direction::Forward => (more, from_cursor),
            Direction::Backward => {
                rows.reverse();
                (from_cursor, more)
            }
        };
        Page {
            items: rows
                .into_iter()
                .map(|(id, item)| (encode_cursor(id), item))
                .collect(),
            has_next_page,
            has_previous_page,
            total_count,
        }
    }

    pub fn end_cursor(&self) -> Option<String> {
        self.items.last().map(|(c, _)| c.clone())
    }
}

/// One page (forward only) of a list already in memory in reading order, such as a ranking:
/// an item's cursor is its 1-based position, so a page starts after the position the
/// request's cursor names.
pub fn by_position<T>(items: Vec<T>, request: PageRequest) -> Page<T> {
    let total_count = items.len() as u64;
    let skip = request.cursor.unwrap_or(0).max(0);
    let rows = items
        .into_iter()
        .zip(1..)
        .skip(skip as usize)
        .take(request.size as usize + 1)
        .map(|(item, position)| (position, item))
        .collect();
    Page::from_rows(rows, request, total_count)
}

/// Fetches one page of `select` (already filtered) in `id` order, newest first, from the
/// request's cursor, mapping each row with `map`; and counts the whole list. The cursor is the
/// row's `id`, so it stays valid however `map` shapes the item.
pub async fn fetch<E, T>(
    conn: &impl ConnectionTrait,
    select: Select<E>,
    id: E::Column,
    page: PageRequest,
    mut map: impl FnMut(E::Model) -> Result<T>,
) -> Result<Page<T>>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let total_count = select.clone().count(conn).await?;
    let mut select = match page.direction {
        Direction::Forward => select.order_by_desc(id),
        Direction::Backward => select.order_by_asc(id),
    }
    .limit(page.size + 1);
    if let Some(cursor) = page.cursor {
        select = match page.direction {
            Direction::Forward => select.filter(id.lt(cursor)),
            Direction::Backward => select.filter(id.gt(cursor)),
        };
    }
    let rows = select
        .all(conn)
        .await?
        .into_iter()
        .map(|row| {
            let cursor = <i64 as ValueType>::try_from(row.get(id))
                .map_err(|_| Error::internal("a page's id column is not a 64-bit integer"))?;
            Ok((cursor, map(row)?))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_rows(rows, page, total_count))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(id: i64) -> String {
        encode_cursor(id)
    }

    #[test]
    fn lists_in_memory_page_by_position() {
        let first = by_position(vec!['a', 'b', 'c'], PageRequest::first(2));
        assert_eq!(first.items, vec![(cursor(1), 'a'), (cursor(2), 'b')]);
        assert!(first.has_next_page && !first.has_previous_page);
        assert_eq!(first.total_count, 3);
        let after = PageRequest::parse(Some(2), first.end_cursor().as_deref(), None, None).unwrap();
        let next = by_position(vec!['a', 'b', 'c'], after);
        assert_eq!(next.items, vec![(cursor(3), 'c')]);
        assert!(!next.has_next_page && next.has_previous_page);
    }

    #[test]
    fn the_extra_row_only_says_there_is_more() {
        let page = Page::from_rows(vec![(9, 'a'), (7, 'b'), (4, 'c')], PageRequest::first(2), 3);
        assert!(page.has_next_page && !page.has_previous_page);
        assert_eq!(page.items, vec![(cursor(9), 'a'), (cursor(7), 'b')]);
        assert_eq!(page.end_cursor(), Some(cursor(7)));
        assert_eq!(page.total_count, 3);

        let last = Page::from_rows(vec![(3, 'd')], PageRequest::first(2), 1);
        assert!(!last.has_next_page);

        let empty = Page::<char>::from_rows(vec![], PageRequest::first(2), 0);
        assert!(!empty.has_next_page && empty.end_cursor().is_none());
    }

    #[test]
    fn a_backward_page_reads_oldest_first_and_shows_newest_first() {
        let request = PageRequest::parse(None, None, Some(2), None).unwrap();
        // Fetched ascending: 1, 2, and the extra 3.
        let page = Page::from_rows(vec![(1, 'a'), (2, 'b'), (3, 'c')], request, 3);
        assert_eq!(page.items, vec![(cursor(2), 'b'), (cursor(1), 'a')]);
        assert!(page.has_previous_page && !page.has_next_page);
    }

    #[test]
    fn requests_are_bounded_and_cursors_checked() {
        assert_eq!(
            PageRequest::parse(None, None, None, None).unwrap(),
            PageRequest::first(DEFAULT_PAGE)
        );
        let after = cursor(42);
        assert_eq!(
            PageRequest::parse(Some(5), Some(&after), None, None).unwrap(),
            PageRequest {
                size: 5,
                direction: Direction::Forward,
                cursor: Some(42)
            }
        );
        assert_eq!(
            PageRequest::parse(None, None, Some(3), Some(&after)).unwrap(),
            PageRequest {
                size: 3,
                direction: Direction::Backward,
                cursor: Some(42)
            }
        );
        assert!(PageRequest::parse(Some(100), None, None, None).is_ok());
        for first in [0, -1, 101] {
            assert!(
                PageRequest::parse(Some(first), None, None, None).is_err(),
                "{first}"
            );
            assert!(
                PageRequest::parse(None, None, Some(first), None).is_err(),
                "{first}"
            );
        }
        // A row id is not a cursor: clients cannot build cursors from ids.
        for bad in ["", "x", "0", "42", "-3", &cursor(0)] {
            assert!(
                PageRequest::parse(None, Some(bad), None, None).is_err(),
                "{bad}"
            );
        }
        assert!(PageRequest::parse(Some(1), None, Some(1), None).is_err());
        assert!(PageRequest::parse(Some(1), None, None, Some(&after)).is_err());
        assert!(PageRequest::parse(None, Some(&after), Some(1), None).is_err());
    }
}
