//! Cursor pagination, newest first. Cursors are opaque to clients (they are row ids here).

use crate::domain::{Error, Result};

/// Largest page a client may ask for.
pub const MAX_PAGE: u64 = 100;
pub const DEFAULT_PAGE: u64 = 20;

#[derive(Debug, Clone, Copy)]
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
    /// Builds a page from up to `first + 1` rows fetched newest first.
    pub fn from_rows(mut rows: Vec<T>, request: PageRequest, id: impl Fn(&T) -> i64) -> Self {
        let has_next_page = rows.len() as u64 > request.first;
        rows.truncate(request.first as usize);
        Page {
            items: rows.into_iter().map(|r| (id(&r).to_string(), r)).collect(),
            has_next_page,
        }
    }

    pub fn end_cursor(&self) -> Option<String> {
        self.items.last().map(|(c, _)| c.clone())
    }
}
