//! Keyset pagination, newest first. Cursors are opaque to clients (they are row ids here).

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, QueryFilter, QueryOrder, QuerySelect,
    Select, sea_query::ValueType,
};

use crate::domain::{Error, Result};

/// Largest page a client may ask for.
pub const MAX_PAGE: u64 = 100;
pub const DEFAULT_PAGE: u64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub first: u64,
    /// Only rows with a smaller id (older) than this.
    pub before_id: Option<i64>,
}

impl PageRequest {
    pub fn parse(first: Option<i32>, after: Option<&str>) -> Result<Self> {
        let first = match first {
            None => DEFAULT_PAGE,
            Some(n) if n >= 1 && n as u64 <= MAX_PAGE => n as u64,
            Some(_) => {
                return Err(Error::bad_input(
                    "first",
                    format!("first must be between 1 and {MAX_PAGE}"),
                ));
            }
        };
        let before_id = after
            .map(|c| {
                c.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
                    Error::bad_input("after", "after is not a cursor from this list")
                })
            })
            .transpose()?;
        Ok(PageRequest { first, before_id })
    }
}

/// One page of items, each with its cursor.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<(String, T)>,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    /// Builds a page from up to `first + 1` (id, item) pairs fetched newest first: the extra
    /// row only tells that there is a next page.
    fn from_rows(mut rows: Vec<(i64, T)>, request: PageRequest) -> Self {
        let has_next_page = rows.len() as u64 > request.first;
        rows.truncate(request.first as usize);
        Page {
            items: rows
                .into_iter()
                .map(|(id, item)| (id.to_string(), item))
                .collect(),
            has_next_page,
        }
    }

    pub fn end_cursor(&self) -> Option<String> {
        self.items.last().map(|(c, _)| c.clone())
    }
}

/// Fetches one page of `select` (already filtered) ordered by `id` descending, older than the
/// request's cursor, mapping each row with `map`. The cursor is the row's `id`, so it stays
/// valid however `map` shapes the item.
pub async fn fetch<E, T>(
    conn: &impl ConnectionTrait,
    select: Select<E>,
    id: E::Column,
    page: PageRequest,
    mut map: impl FnMut(E::Model) -> Result<T>,
) -> Result<Page<T>>
where
    E: EntityTrait,
{
    let mut select = select.order_by_desc(id).limit(page.first + 1);
    if let Some(before) = page.before_id {
        select = select.filter(id.lt(before));
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
    Ok(Page::from_rows(rows, page))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(first: u64) -> PageRequest {
        PageRequest {
            first,
            before_id: None,
        }
    }

    #[test]
    fn the_extra_row_only_says_there_is_more() {
        let page = Page::from_rows(vec![(9, 'a'), (7, 'b'), (4, 'c')], request(2));
        assert!(page.has_next_page);
        assert_eq!(
            page.items,
            vec![("9".to_string(), 'a'), ("7".to_string(), 'b')]
        );
        assert_eq!(page.end_cursor().as_deref(), Some("7"));

        let last = Page::from_rows(vec![(3, 'd')], request(2));
        assert!(!last.has_next_page);
        assert_eq!(last.end_cursor().as_deref(), Some("3"));

        let empty = Page::<char>::from_rows(vec![], request(2));
        assert!(!empty.has_next_page && empty.end_cursor().is_none());
    }

    #[test]
    fn requests_are_bounded_and_cursors_checked() {
        assert_eq!(
            PageRequest::parse(None, None).unwrap(),
            request(DEFAULT_PAGE)
        );
        assert_eq!(
            PageRequest::parse(Some(5), Some("42")).unwrap(),
            PageRequest {
                first: 5,
                before_id: Some(42)
            }
        );
        assert!(PageRequest::parse(Some(100), None).is_ok());
        for first in [0, -1, 101] {
            assert!(PageRequest::parse(Some(first), None).is_err(), "{first}");
        }
        for cursor in ["", "x", "0", "-3"] {
            assert!(PageRequest::parse(None, Some(cursor)).is_err(), "{cursor}");
        }
    }
}
