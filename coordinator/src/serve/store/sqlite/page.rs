//! Page keys: the text of [`PageRequest::after`] and [`Page::next`].
//!
//! A key is the sort columns of the last row of a page, as a JSON array (`["name","arn"]`,
//! `[1733600000123456,"arn"]`, `[3]`): unambiguous whatever characters a name holds, and a
//! query continues strictly after it (keyset pagination), so rows created or deleted between
//! two pages neither shift nor repeat the others. The API wraps it into a `nextToken`.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::super::{Page, PageRequest};
use super::reads::ReadError;

/// AWS's `maxResults`: 0 means the default of 100, and at most 1,000.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1_000;

/// The number of rows a page holds.
pub fn limit(page: &PageRequest) -> i64 {
    let limit = match page.limit {
        0 => DEFAULT_LIMIT,
        limit => limit.min(MAX_LIMIT),
    };
    limit as i64
}

/// The key of one listing, whose sort columns are `T` (a tuple).
pub struct Key<T>(PhantomData<T>);

impl<T: Serialize + DeserializeOwned> Key<T> {
    /// The columns to continue after, or `None` for the first page.
    pub fn parse(page: &PageRequest) -> Result<Option<T>, ReadError> {
        match &page.after {
            None => Ok(None),
            Some(text) => serde_json::from_str(text)
                .map(Some)
                .map_err(|_| ReadError::PageKey(format!("not a page key of this listing: {text}"))),
        }
    }

    /// Cuts `rows` (read with one row more than `limit`) to a page, with the key of its last
    /// row when a row follows.
    pub fn page<R>(mut rows: Vec<R>, limit: i64, key: impl Fn(&R) -> T) -> Page<R> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|row| serde_json::to_string(&key(row)).unwrap_or_default())
        } else {
            None
        };
        Page { items: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_aws_default_and_the_maximum_is_a_thousand() {
        let page = |limit| PageRequest { after: None, limit };
        assert_eq!(limit(&page(0)), 100);
        assert_eq!(limit(&page(7)), 7);
        assert_eq!(limit(&page(5_000)), 1_000);
    }

    #[test]
    fn a_key_of_another_listing_is_refused() {
        let page = PageRequest { after: Some(r#"["a","b"]"#.to_owned()), limit: 1 };
        assert!(matches!(Key::<(i64, String)>::parse(&page), Err(ReadError::PageKey(_))));
        assert_eq!(Key::<(String, String)>::parse(&page).unwrap(), Some(("a".to_owned(), "b".to_owned())));
    }

    #[test]
    fn next_is_the_last_row_of_a_full_page_only() {
        let page = Key::<(i64,)>::page(vec![5, 4, 3], 2, |row| (*row,));
        assert_eq!(page.items, vec![5, 4]);
        assert_eq!(page.next.as_deref(), Some("[4]"));
        let page = Key::<(i64,)>::page(vec![5, 4], 2, |row| (*row,));
        assert_eq!(page.next, None);
    }
}
