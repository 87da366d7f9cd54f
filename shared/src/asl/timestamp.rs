//! Timestamps as AWS Step Functions reads and writes them.
//!
//! [`parse`] accepts what the Choice `Timestamp*` operators and the Wait `Timestamp` /
//! `TimestampPath` fields accept: an RFC 3339 date-time in the ISO-8601 extended format,
//! `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`. [`format`] writes the context-object form
//! (`2025-02-04T01:49:50.099Z`). This module owns only the text form; what a timestamp means
//! to a state (waiting, comparing) belongs to the state.
//!
//! The parser is hand-written rather than chrono's `parse_from_rfc3339` because chrono is more
//! lenient than AWS: it takes a lowercase `t` or a space as separator, a lowercase `z` and leap
//! second `60`, all of which AWS rejects (the ASL specification demands an uppercase `T`, and an
//! uppercase `Z` when there is no numeric offset). It is also called on the hot path of Choice
//! rules, so it makes one pass over the bytes and allocates nothing.

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, TimeZone, Utc};

/// Parses an AWS timestamp, or returns `None` when AWS would reject the text.
///
/// Recorded AWS behaviour (Wait `TimestampPath`): `2016-03-14T01:59:00Z`,
/// `2026-11-25T12:58:13.000000Z` and `2016-03-05T21:29:29.243167252Z` are accepted;
/// `2016-12-05T21:29:29` and `2026-11-25T12:58:13.000000` (no offset), `2016-13-05T21:29:29Z`
/// (month 13), `2016-12-05T25:29:29Z` (hour 25) and `05-12-2016T21:29:29Z` are rejected.
///
/// Decisions where AWS was not observed: numeric offsets `±hh:mm` are accepted (the ASL
/// specification requires `Z` only "in the absence of a numeric time zone offset") up to
/// ±18:00, Java's `ZoneOffset` limit, since AWS parses with Java's ISO-8601 formatter; the
/// fraction may have any number of digits (RFC 3339), digits beyond nanoseconds are dropped.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    // The shortest form is `YYYY-MM-DDThh:mm:ssZ` (20 bytes).
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;

    let mut i = 19;
    let mut nanos = 0u32;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            // Only the first nine digits carry information chrono can hold.
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..9 {
            nanos *= 10;
        }
    }

    let offset_secs = match b.get(i..)? {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = digits(&[*h1, *h2])?;
            let m = digits(&[*m1, *m2])?;
            if m > 59 || h * 60 + m > 18 * 60 {
                return None;
            }
            let secs = (h * 3600 + m * 60) as i32;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };

    // `and_hms_nano_opt` would accept second 60 with a leap-second fraction; AWS does not.
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let local = NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_nano_opt(hour, minute, second, nanos)?;
    let offset = FixedOffset::east_opt(offset_secs)?;
    Some(offset.from_local_datetime(&local).single()?.with_timezone(&Utc))
}

/// Formats a UTC instant as AWS writes timestamps in the context object and in history:
/// millisecond precision and a `Z` suffix, e.g. `2025-02-04T01:49:50.099Z`.
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The value of a run of ASCII digits, or `None` if any byte is not a digit.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `text` and compares the instant (formatted with nanoseconds) with `expected`;
    /// `None` means the text must be rejected.
    fn check(text: &str, expected: Option<&str>) {
        let got = parse(text).map(|t| t.to_rfc3339_opts(SecondsFormat::Nanos, true));
        assert_eq!(got.as_deref(), expected, "parse({text:?})");
    }

    #[test]
    fn accepts_what_aws_accepts() {
        let cases = [
            ("2016-03-14T01:59:00Z", "2016-03-14T01:59:00.000000000Z"),
            ("2026-11-25T12:58:13.000000Z", "2026-11-25T12:58:13.000000000Z"),
            ("2016-03-05T21:29:29.243167252Z", "2016-03-05T21:29:29.243167252Z"),
            ("2012-10-09T19:00:55.5Z", "2012-10-09T19:00:55.500000000Z"),
            // More than nine fractional digits: the extra ones are dropped.
            ("2012-10-09T19:00:55.1234567891Z", "2012-10-09T19:00:55.123456789Z"),
            ("2012-10-09T19:00:55+01:00", "2012-10-09T18:00:55.000000000Z"),
            ("2012-10-09T19:00:55-02:30", "2012-10-09T21:30:55.000000000Z"),
            ("2012-10-09T00:00:00+18:00", "2012-10-08T06:00:00.000000000Z"),
            ("2024-02-29T23:59:59.999Z", "2024-02-29T23:59:59.999000000Z"),
        ];
        for (text, utc) in cases {
            check(text, Some(utc));
        }
    }

    #[test]
    fn rejects_what_aws_rejects() {
        let cases = [
            "2016-13-05T21:29:29Z",
            "05-12-2016T21:29:29Z",
            "2016-12-05T25:29:29Z",
            "2016-12-05T21:29:29",
            "2026-11-25T12:58:13.000000",
            "2012-10-09T19:00:55",
            "2023-02-24 12:15:56.832957",
            "2023-02-24",
            "",
            " ",
            "HelloWorld",
            // Lowercase separator or zone, space separator, missing seconds.
            "2012-10-09t19:00:55Z",
            "2012-10-09T19:00:55z",
            "2012-10-09 19:00:55Z",
            "2012-10-09T19:00Z",
            // Out-of-range fields, leap seconds, impossible dates.
            "2012-10-09T19:60:00Z",
            "2012-10-09T23:59:60Z",
            "2023-02-29T00:00:00Z",
            "2023-04-31T00:00:00Z",
            "2023-00-10T00:00:00Z",
            // Malformed fractions and offsets.
            "2012-10-09T19:00:55.Z",
            "2012-10-09T19:00:55.5",
            "2012-10-09T19:00:55+0100",
            "2012-10-09T19:00:55+01",
            "2012-10-09T19:00:55+01:60",
            "2012-10-09T19:00:55+19:00",
            "2012-10-09T19:00:55Z ",
            " 2012-10-09T19:00:55Z",
            "2012-10-09T19:00:55ZZ",
            "+012-10-09T19:00:55Z",
            "２０１２-10-09T19:00:55Z",
        ];
        for text in cases {
            check(text, None);
        }
    }

    #[test]
    fn formats_like_the_context_object() {
        let t = parse("2025-02-04T01:49:50.099123Z").unwrap();
        assert_eq!(format(t), "2025-02-04T01:49:50.099Z");
        let t = parse("2025-02-04T02:49:50+01:00").unwrap();
        assert_eq!(format(t), "2025-02-04T01:49:50.000Z");
        assert_eq!(parse(&format(t)), Some(t));
    }
}
