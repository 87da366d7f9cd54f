//! Pagination: `maxResults` (0 to 1,000; 0 or absent means 100, as AWS documents) and
//! `nextToken`.
//!
//! A token is opaque to clients: base64 (URL-safe, unpadded) of the listing it belongs to and
//! the store's `after` key. A token that does not decode, or that belongs to another listing
//! (another state machine's versions, say), is `InvalidToken`, as AWS answers for tokens it
//! did not issue. This module does not read the store.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::ApiError;
use crate::serve::store::PageRequest;

/// AWS's default page size.
pub const DEFAULT_SIZE: usize = 100;

/// The page a request asks for. `listing` names the listing (the action and its subject), so
/// a token is only good for the listing that issued it.
pub fn request(listing: &str, token: Option<&str>, max_results: Option<i64>) -> Result<PageRequest, ApiError> {
    let limit = match max_results {
        None | Some(0) => DEFAULT_SIZE,
        Some(n) => n as usize,
    };
    let after = match token {
        None => None,
        Some(t) => Some(decode(listing, t).ok_or_else(|| ApiError::invalid_token(t))?),
    };
    Ok(PageRequest { after, limit })
}

/// The `nextToken` for continuing after `after` in `listing`.
pub fn token(listing: &str, after: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{listing}\n{after}"))
}

fn decode(listing: &str, token: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (from, after) = text.split_once('\n')?;
    (from == listing).then(|| after.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_continue_only_their_own_listing() {
        let t = token("ListStateMachineVersions arn:a", "0000000007");
        let page = request("ListStateMachineVersions arn:a", Some(&t), Some(2)).expect("its own token");
        assert_eq!((page.after.as_deref(), page.limit), (Some("0000000007"), 2));
        let other = request("ListStateMachineVersions arn:b", Some(&t), None).expect_err("another listing");
        assert_eq!(other.code, "InvalidToken");
        let forged = request("ListStateMachines", Some("not a token!"), None).expect_err("not base64");
        assert_eq!(forged.code, "InvalidToken");
    }

    #[test]
    fn zero_or_absent_max_results_means_a_hundred() {
        assert_eq!(request("L", None, None).expect("no token").limit, 100);
        assert_eq!(request("L", None, Some(0)).expect("no token").limit, 100);
        assert_eq!(request("L", None, Some(1000)).expect("no token").limit, 1000);
    }
}
