//! `States.Base64Encode`, `States.Base64Decode` and `States.Hash`.

use serde_json::json;

use super::{check, check2};
use crate::asl::intrinsics::ERROR;

#[test]
fn base64() {
    // test_base_64_encode / decode and BASE_REFERENCE_IN_INTRINSIC_FUNCTION.
    check("States.Base64Encode($.a)", json!({"a": ""}), Ok(json!("")));
    check("States.Base64Decode($.a)", json!({"a": ""}), Ok(json!("")));
    check("States.Base64Encode('Hello World')", json!({}), Ok(json!("SGVsbG8gV29ybGQ=")));
    check("States.Base64Decode('SGVsbG8gV29ybGQ=')", json!({}), Ok(json!("Hello World")));
    check("States.Base64Decode('%%%')", json!({}), Err(ERROR));
    check("States.Base64Encode($.a)", json!({"a": "x".repeat(10_001)}), Err(ERROR));
    check("States.Base64Encode($.a)", json!({"a": 1}), Err(ERROR));
}

#[test]
fn hash() {
    // test_hash and BASE_REFERENCE_IN_INTRINSIC_FUNCTION.
    let f = "States.Hash";
    check2(f, json!("input data"), json!("SHA-1"), Ok(json!("aaff4a450a104cd177d28d18d74485e8cae074b7")));
    check2(
        f,
        json!("input data"),
        json!("SHA-256"),
        Ok(json!("b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3")),
    );
    check2(
        f,
        json!("input data"),
        json!("SHA-384"),
        Ok(json!("d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562")),
    );
    check2(
        f,
        json!("input data"),
        json!("SHA-512"),
        Ok(json!(
            "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4"
        )),
    );
    check2(
        f,
        json!("Hash this string"),
        json!("SHA-256"),
        Ok(json!("1cac63f39fd68d8c531f27b807610fb3d50f0fc3f186995767fb6316e7200a3e")),
    );
    // RFC 1321's test vector.
    check2(f, json!("abc"), json!("MD5"), Ok(json!("900150983cd24fb0d6963f7d28e17f72")));
    check2(f, json!("abc"), json!("SHA-999"), Err(ERROR));
    check2(f, json!("x".repeat(10_001)), json!("MD5"), Err(ERROR));
}
