//! AWS's NONE record — the metadata record of one child execution — written straight into a
//! byte buffer. This is the hot path of a results export, so no `serde_json::Value` is built:
//! constant fragments are copied as bytes, strings are escaped once, dates are formatted by hand.
//!
//! Field order is alphabetical. AWS documents a SUCCEEDED record whose fields are exactly in
//! alphabetical order (`ExecutionArn`, `Input`, `InputDetails`, `Name`, `Output`, …, `StopDate`),
//! so we take its serialiser to sort keys, which puts `Cause` and `Error` of a FAILED record
//! first, before `ExecutionArn`.
//!
//! Decisions where AWS is silent (spec §8 item 6):
//! - FAILED, TIMED_OUT and ABORTED records carry `Error` and `Cause` when the child reported
//!   them, no `Output`, and `RedriveStatus` `REDRIVABLE_BY_MAP_RUN` without a reason: the API
//!   sends `RedriveStatusReason` only for `NOT_REDRIVABLE`, and a Map Run redrive is what
//!   restarts such children.
//! - PENDING records describe a child that never started, so they hold only what exists without
//!   an execution: `ExecutionArn`, `Input`, `InputDetails`, `Name`, `StateMachineArn`, `Status`.
//!   No dates, no `Output`, no redrive fields.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

use crate::map_run::record::{ChildRecord, ChildStatus};

/// Appends the NONE record of `record` to `buf` as compact JSON.
pub(super) fn write_none_record(record: &ChildRecord, buf: &mut Vec<u8>) {
    let status = record.status;
    let ended_unsuccessfully = matches!(status, ChildStatus::Failed | ChildStatus::TimedOut | ChildStatus::Aborted);
    buf.push(b'{');
    if ended_unsuccessfully {
        if let Some(cause) = &record.cause {
            buf.extend_from_slice(b"\"Cause\":");
            write_json_string(buf, cause);
            buf.push(b',');
        }
        if let Some(error) = &record.error {
            buf.extend_from_slice(b"\"Error\":");
            write_json_string(buf, error);
            buf.push(b',');
        }
    }
    buf.extend_from_slice(b"\"ExecutionArn\":");
    write_json_string(buf, &record.execution_arn);
    buf.extend_from_slice(b",\"Input\":");
    write_json_string(buf, &record.input);
    buf.extend_from_slice(b",\"InputDetails\":{\"Included\":true},\"Name\":");
    write_json_string(buf, &record.name);
    if status == ChildStatus::Succeeded
        && let Some(output) = &record.output
    {
        buf.extend_from_slice(b",\"Output\":");
        write_json_string(buf, output);
        buf.extend_from_slice(b",\"OutputDetails\":{\"Included\":true}");
    }
    match status {
        ChildStatus::Succeeded => buf.extend_from_slice(
            b",\"RedriveCount\":0,\"RedriveStatus\":\"NOT_REDRIVABLE\",\
              \"RedriveStatusReason\":\"Execution is SUCCEEDED and cannot be redriven\"",
        ),
        ChildStatus::Failed | ChildStatus::TimedOut | ChildStatus::Aborted => {
            buf.extend_from_slice(b",\"RedriveCount\":0,\"RedriveStatus\":\"REDRIVABLE_BY_MAP_RUN\"")
        }
        ChildStatus::Pending => {}
    }
    let started = status != ChildStatus::Pending;
    if started && let Some(start) = &record.start_date {
        buf.extend_from_slice(b",\"StartDate\":");
        write_timestamp(buf, start);
    }
    buf.extend_from_slice(b",\"StateMachineArn\":");
    write_json_string(buf, &record.state_machine_arn);
    buf.extend_from_slice(b",\"Status\":\"");
    buf.extend_from_slice(status.as_str().as_bytes());
    buf.push(b'"');
    if started && let Some(stop) = &record.stop_date {
        buf.extend_from_slice(b",\"StopDate\":");
        write_timestamp(buf, stop);
    }
    buf.push(b'}');
}

/// What follows a backslash for each byte that JSON requires to be escaped; 0 means "copy as
/// is", `u` means `\u00XX`. The same choices as serde_json and Jackson: `"`, `\` and control
/// characters only; `/` and non-ASCII text stay literal.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Appends `text` as a quoted JSON string. Runs of bytes that need no escape are copied in one
/// go, which is every byte of a typical ARN or name.
pub(super) fn write_json_string(buf: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    buf.reserve(bytes.len() + 2);
    buf.push(b'"');
    let mut run_start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPE[byte as usize];
        if escape == 0 {
            continue;
        }
        buf.extend_from_slice(&bytes[run_start..i]);
        run_start = i + 1;
        if escape == b'u' {
            buf.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(byte >> 4) as usize], HEX[(byte & 0xf) as usize]]);
        } else {
            buf.extend_from_slice(&[b'\\', escape]);
        }
    }
    buf.extend_from_slice(&bytes[run_start..]);
    buf.push(b'"');
}

/// Appends `"2025-02-04T01:49:50.099Z"`: ISO-8601 in UTC with milliseconds, as AWS writes dates.
/// Formatted by hand because chrono's formatter interprets a format description per call.
fn write_timestamp(buf: &mut Vec<u8>, at: &DateTime<Utc>) {
    // One conversion to calendar fields: `DateTime`'s accessors each redo it.
    let at_utc = at.naive_utc();
    let year = at_utc.year();
    if !(0..=9999).contains(&year) {
        // Years outside four digits need a sign or more digits; leave those rare cases to chrono.
        buf.push(b'"');
        buf.extend_from_slice(at.to_rfc3339_opts(SecondsFormat::Millis, true).as_bytes());
        buf.push(b'"');
        return;
    }
    // A leap second is carried as nanoseconds ≥ 1e9; it is written as :59.999 rather than .1000.
    let millis = (at_utc.nanosecond() / 1_000_000).min(999);
    let digits = |value: u32, width: usize, out: &mut [u8]| {
        let mut value = value;
        for slot in out[..width].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    let mut text = *b"\"0000-00-00T00:00:00.000Z\"";
    digits(year as u32, 4, &mut text[1..]);
    digits(at_utc.month(), 2, &mut text[6..]);
    digits(at_utc.day(), 2, &mut text[9..]);
    digits(at_utc.hour(), 2, &mut text[12..]);
    digits(at_utc.minute(), 2, &mut text[15..]);
    digits(at_utc.second(), 2, &mut text[18..]);
    digits(millis, 3, &mut text[21..]);
    buf.extend_from_slice(&text);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(text: &str) -> String {
        let mut buf = Vec::new();
        write_json_string(&mut buf, text);
        String::from_utf8(buf).unwrap()
    }

    fn timestamp(rfc3339: &str) -> String {
        let at = DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc);
        let mut buf = Vec::new();
        write_timestamp(&mut buf, &at);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn strings_are_escaped_like_serde_json() {
        for text in ["", "plain", "{\"a\":[1,\"x\\\\y\"]}", "tab\there\nline\r\u{8}\u{c}", "\u{0}\u{1f}\u{7f}", "é/€🦀"]
        {
            assert_eq!(string(text), serde_json::to_string(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        assert_eq!(timestamp("2025-02-04T01:49:50.099Z"), "\"2025-02-04T01:49:50.099Z\"");
        assert_eq!(timestamp("2025-02-04T03:49:50.0999+02:00"), "\"2025-02-04T01:49:50.099Z\"");
        assert_eq!(timestamp("0999-12-31T23:59:59Z"), "\"0999-12-31T23:59:59.000Z\"");
    }
}
