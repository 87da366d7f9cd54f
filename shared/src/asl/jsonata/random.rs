//! `$random([seed])` and `$uuid()`: randomness from the [`Scope`](super::Scope), never from the
//! system, so that an evaluation replays exactly when its scope does.
//!
//! The scope gives one number per evaluation; it seeds a SplitMix64 generator that every
//! unseeded `$random()` and `$uuid()` of that evaluation draws from. The functions are bound
//! per evaluation (the crate's host functions are `'static`, so they own the generator), and
//! only for expressions that call them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jlens_core::{Bindings, HostFunction};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;

use super::functions::{aws_error, integer_argument};

/// SplitMix64: small, fast, and good enough for `$random()`; not for secrets.
#[derive(Debug)]
pub(super) struct Generator(AtomicU64);

impl Generator {
    /// A generator seeded by a number in `[0, 1)` (its bits, so that distinct numbers give
    /// distinct sequences).
    pub(super) fn from_unit(unit: f64) -> Generator {
        Generator(AtomicU64::new(unit.to_bits()))
    }

    pub(super) fn next_u64(&self) -> u64 {
        const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut z = self.0.fetch_add(GAMMA, Ordering::Relaxed).wrapping_add(GAMMA);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, 1)` with 53 random bits.
    fn next_unit(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Adds `$random` and `$uuid`, drawing from `generator`, to `bindings`.
pub(super) fn bind(bindings: Bindings, generator: Arc<Generator>) -> Bindings {
    let unseeded = Arc::clone(&generator);
    let random = HostFunction::new(1, move |args, _call| {
        let value = match args.first().cloned().flatten() {
            None => unseeded.next_unit(),
            // AWS: the same seed gives the same number. Non-integer seeds are rounded down,
            // as for every integer parameter of AWS's functions.
            Some(seed) => {
                let seed = integer_argument("random", "seed", &seed)?;
                StdRng::seed_from_u64(seed as u64).random_range(0.0..1.0)
            }
        };
        Ok(Some(Value::from(value)))
    })
    .without_input();
    let uuid = HostFunction::new(0, move |args, _call| {
        if !args.is_empty() {
            return Err(aws_error("uuid", "The function $uuid takes no arguments"));
        }
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&generator.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&generator.next_u64().to_le_bytes());
        let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
        Ok(Some(Value::String(uuid.to_string())))
    })
    .without_input();
    bindings.function("random", random).function("uuid", uuid)
}
