//! S3's naming rules for general purpose buckets, checked before a name is mapped or sent
//! anywhere: 3 to 63 characters; only lowercase letters, digits, dots and hyphens; a letter or
//! digit first and last; no two adjacent dots; not shaped like an IPv4 address.
//!
//! The reserved prefixes and suffixes of the same rules (`xn--`, `-s3alias`, `--x-s3`, …) are
//! not refused: they keep names from being *created*, and an access point alias or a directory
//! bucket is addressed by exactly such a name.

/// `Ok` if `name` can be an S3 bucket name, otherwise the rule it breaks.
pub fn check(name: &str) -> Result<(), &'static str> {
    if !(3..=63).contains(&name.len()) {
        return Err("a bucket name has 3 to 63 characters");
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-') {
        return Err("a bucket name has only lowercase letters, digits, dots (.) and hyphens (-)");
    }
    let alnum = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !alnum(name.bytes().next()) || !alnum(name.bytes().next_back()) {
        return Err("a bucket name begins and ends with a letter or digit");
    }
    if name.contains("..") {
        return Err("a bucket name has no two adjacent dots");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() || looks_like_ipv4(name) {
        return Err("a bucket name is not formatted as an IP address");
    }
    Ok(())
}

/// Four dot-separated groups of digits (`192.168.005.4` too, which `Ipv4Addr` refuses).
fn looks_like_ipv4(name: &str) -> bool {
    let groups: Vec<&str> = name.split('.').collect();
    groups.len() == 4 && groups.iter().all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_s3_names() {
        for good in ["abc", "dmap-examples", "my.bucket.1", "a1b", "0ab", &"a".repeat(63), "name--usw2-az1--x-s3"] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn refuses_what_s3_refuses() {
        let long = "a".repeat(64);
        let bad = [
            "b",
            "ab",
            &long,
            "Bucket",
            "my_bucket",
            "-abc",
            "abc-",
            ".abc",
            "abc.",
            "a..b",
            "192.168.5.4",
            "10.0.0.01",
            "../outside",
            "b/../x",
            "/tmp/outside",
            "b\u{0}x",
            "bücket",
            "a b",
        ];
        for name in bad {
            assert!(check(name).is_err(), "{name:?}");
        }
    }
}
