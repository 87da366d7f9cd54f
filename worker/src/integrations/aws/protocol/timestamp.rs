//! Timestamps between the wire's three formats and the state's JSON. On the wire a timestamp
//! is ISO-8601 (query and XML bodies), RFC 7231's HTTP date (headers) or epoch seconds (JSON
//! bodies), as the model's `timestampFormat` says. In the state, an output timestamp is always
//! ISO-8601 in UTC with milliseconds (`2013-08-23T01:02:15.422Z`), as Step Functions shows
//! them; an input timestamp may be such a string or a number of epoch seconds.
//!
//! Owns: parsing and formatting of the three formats. Must not: know protocols; each protocol
//! picks the format its spec gives for a location.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

/// A wire format, by the model's `timestampFormat` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `iso8601`: `2014-04-29T18:30:38Z`.
    Iso8601,
    /// `rfc822`: RFC 7231's IMF-fixdate, `Tue, 29 Apr 2014 18:30:38 GMT`.
    HttpDate,
    /// `unixTimestamp`: seconds since the epoch, with a fraction when there is one.
    Epoch,
}

impl Format {
    /// The model's explicit format (a member's `timestampFormat`, else its shape's), or
    /// `default` where the protocol gives one for the location.
    pub fn from_model(explicit: Option<&str>, default: Format) -> Format {
        match explicit {
            Some("iso8601") => Format::Iso8601,
            Some("rfc822") => Format::HttpDate,
            Some("unixTimestamp") => Format::Epoch,
            _ => default,
        }
    }
}

/// Reads a timestamp the service sent, in whichever of the three formats it is: services do
/// not always keep to the declared one (S3 sends ISO-8601 with milliseconds in bodies).
pub fn parse_wire(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(Utc.from_utc_datetime(&t));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%a, %d %b %Y %H:%M:%S GMT") {
        return Some(Utc.from_utc_datetime(&t));
    }
    text.parse::<f64>().ok().and_then(from_epoch)
}

fn from_epoch(seconds: f64) -> Option<DateTime<Utc>> {
    if !seconds.is_finite() {
        return None;
    }
    let millis = (seconds * 1000.0).round() as i64;
    DateTime::from_timestamp_millis(millis)
}

/// A timestamp as the state sees it: `YYYY-MM-DDTHH:MM:SS.sssZ`.
pub fn to_state(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Reads a timestamp from the Task's parameters: an ISO-8601 string (with any offset), an
/// HTTP date, or a number of epoch seconds.
pub fn from_state(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(s) => parse_wire(s),
        Value::Number(n) => n.as_f64().and_then(from_epoch),
        _ => None,
    }
}

/// Writes `t` in `format` for the wire.
pub fn to_wire(t: &DateTime<Utc>, format: Format) -> String {
    match format {
        Format::Iso8601 if t.timestamp_subsec_millis() == 0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Format::Iso8601 => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Format::HttpDate => t.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        Format::Epoch if t.timestamp_subsec_millis() == 0 => t.timestamp().to_string(),
        Format::Epoch => format!("{}.{:03}", t.timestamp(), t.timestamp_subsec_millis()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse_wire(s).unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn every_wire_format_reads_to_the_same_instant() {
        let expected = "2014-04-29T18:30:38.000Z";
        for wire in [
            "2014-04-29T18:30:38Z",
            "2014-04-29T18:30:38.000Z",
            "2014-04-29T20:30:38+02:00",
            "2014-04-29T18:30:38",
            "Tue, 29 Apr 2014 18:30:38 GMT",
            "1398796238",
            "1398796238.0",
        ] {
            assert_eq!(to_state(&t(wire)), expected, "{wire}");
        }
        assert_eq!(to_state(&t("2014-04-29T18:30:38.123456Z")), "2014-04-29T18:30:38.123Z");
        assert_eq!(to_state(&t("1398796238.5")), "2014-04-29T18:30:38.500Z");
        assert!(parse_wire("yesterday").is_none());
    }

    #[test]
    fn the_state_gives_strings_or_epoch_seconds() {
        assert_eq!(from_state(&serde_json::json!(1398796238)), Some(t("2014-04-29T18:30:38Z")));
        assert_eq!(from_state(&serde_json::json!("2014-04-29T18:30:38Z")), Some(t("1398796238")));
        assert_eq!(from_state(&serde_json::json!(true)), None);
    }

    #[test]
    fn each_wire_format_is_written_as_the_protocols_specify() {
        let whole = t("2014-04-29T18:30:38Z");
        let frac = t("2014-04-29T18:30:38.25Z");
        assert_eq!(to_wire(&whole, Format::Iso8601), "2014-04-29T18:30:38Z");
        assert_eq!(to_wire(&frac, Format::Iso8601), "2014-04-29T18:30:38.250Z");
        assert_eq!(to_wire(&whole, Format::HttpDate), "Tue, 29 Apr 2014 18:30:38 GMT");
        assert_eq!(to_wire(&whole, Format::Epoch), "1398796238");
        assert_eq!(to_wire(&frac, Format::Epoch), "1398796238.250");
        assert_eq!(Format::from_model(Some("rfc822"), Format::Iso8601), Format::HttpDate);
        assert_eq!(Format::from_model(None, Format::Epoch), Format::Epoch);
    }
}
