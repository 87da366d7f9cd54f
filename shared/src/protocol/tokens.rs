//! The fields of a wire message that become NATS subject tokens, KV keys or `Nats-Msg-Id`s,
//! checked in one place when a message is read. A field that fails here never reaches a subject:
//! a Map Run id with a space, a dot or CR/LF would make every publish of its outcome fail (or,
//! worse, name another subject), and a definition hash is a KV key.

/// Whether a Map Run id can name NATS subjects and keys: `[A-Za-z0-9_-]`, 1 to 80 characters.
pub fn valid_map_run_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 80 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a text is a SHA-256 in lower-case hex: what a definition hash is.
pub fn valid_definition_hash(hash: &str) -> bool {
    lower_hex(hash, 64)
}

fn lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A field of a wire message that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {field} is {value}: it must be {rule}")]
pub struct BadField {
    /// The field's name on the wire (`map_run_id`, `definition`).
    pub field: &'static str,
    /// Its value, escaped and cut to 100 characters, for the log.
    pub value: String,
    /// What the field must be.
    pub rule: &'static str,
}

/// Whether a text is a batch nonce: 32 lower-case hex digits (128 bits).
pub fn valid_nonce(nonce: &str) -> bool {
    lower_hex(nonce, 32)
}

/// The rule a Map Run id follows, as error messages state it.
pub const MAP_RUN_ID_RULE: &str = "1 to 80 characters of [A-Za-z0-9_-]";
/// The rule a definition hash follows.
pub const DEFINITION_RULE: &str = "64 lower-case hex digits (SHA-256)";

/// Checks a Map Run id read from a message.
pub fn check_map_run_id(id: &str) -> Result<(), BadField> {
    if valid_map_run_id(id) { Ok(()) } else { Err(bad("map_run_id", id, MAP_RUN_ID_RULE)) }
}

/// The rule a batch nonce follows.
pub const NONCE_RULE: &str = "32 lower-case hex digits";

/// Checks a batch nonce read from a message (it goes back on the outcome subject).
pub fn check_nonce(nonce: &str) -> Result<(), BadField> {
    if valid_nonce(nonce) { Ok(()) } else { Err(bad("nonce", nonce, NONCE_RULE)) }
}

/// Checks a definition hash read from a message.
pub fn check_definition(hash: &str) -> Result<(), BadField> {
    if valid_definition_hash(hash) { Ok(()) } else { Err(bad("definition", hash, DEFINITION_RULE)) }
}

fn bad(field: &'static str, value: &str, rule: &'static str) -> BadField {
    let mut shown: String = value.chars().take(100).collect();
    if shown.len() < value.len() {
        shown.push('…');
    }
    BadField { field, value: format!("{shown:?}"), rule }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_run_ids_that_cannot_be_subject_tokens_are_refused() {
        for id in ["evil run", "", "x\r\nPUB dmap.outcomes.injected 5\r\nhello", "a.b", "a*", "a>", &"a".repeat(81)] {
            let e = check_map_run_id(id).expect_err(id);
            assert_eq!(e.field, "map_run_id");
        }
        assert!(check_map_run_id("run-1_A").is_ok());
        assert!(check_map_run_id(&"a".repeat(80)).is_ok());
        // The value is shown escaped: a log line cannot be split by it.
        let e = check_map_run_id("x\r\ny").expect_err("CR/LF");
        assert_eq!(e.value, r#""x\r\ny""#);
    }

    #[test]
    fn definition_hashes_are_sha256_hex() {
        assert!(check_definition(&"0a".repeat(32)).is_ok());
        for h in ["", "abc", &"A".repeat(64), &"g".repeat(64), &format!("{} ", "a".repeat(63)), "a.b"] {
            assert_eq!(check_definition(h).expect_err(h).field, "definition");
        }
    }
}
