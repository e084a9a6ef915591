//! `page` / `pageSize` paging and the `{page, pageSize, total, items}` envelope.

use super::Query;
use serde::Serialize;
use shared::error::Error;

/// The largest page.
pub const MAX_PAGE_SIZE: u32 = 100;

/// A requested page (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub page_size: u32,
}

impl Page {
    /// Reads `page` (default 1) and `pageSize` (default 20, at most 100).
    ///
    /// # Errors
    /// 400 naming the parameter.
    pub fn from_query(query: &Query) -> Result<Page, Error> {
        let page = query.parse_opt::<u32>("page")?.unwrap_or(1);
        if page == 0 {
            return Err(Error::invalid("page", "pages start at 1"));
        }
        let page_size = query.parse_opt::<u32>("pageSize")?.unwrap_or(20);
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(Error::invalid(
                "pageSize",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        Ok(Page { page, page_size })
    }

    /// This page of a list of `total` items.
    pub fn paged<T>(&self, items: Vec<T>, total: i64) -> Paged<T> {
        Paged {
            page: self.page,
            page_size: self.page_size,
            total,
            items,
        }
    }

    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.page_size)
    }
}

/// One page of a list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Paged<T> {
    pub page: u32,
    pub page_size: u32,
    pub total: i64,
    pub items: Vec<T>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bounds_and_offsets() {
        assert_eq!(
            Page::from_query(&Query::parse(None)).ok(),
            Some(Page {
                page: 1,
                page_size: 20
            })
        );
        let page = Page::from_query(&Query::parse(Some("page=3&pageSize=50"))).expect("valid");
        assert_eq!(page.offset(), 100);
        for bad in ["page=0", "pageSize=101", "pageSize=0", "page=x"] {
            assert!(Page::from_query(&Query::parse(Some(bad))).is_err(), "{bad}");
        }
    }
}
