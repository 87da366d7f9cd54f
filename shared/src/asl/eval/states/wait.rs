//! Wait: sleeps through the host until a time given as seconds or a timestamp, literal or
//! taken from the input. A wait past the execution's own timeout ends the execution as
//! TIMED_OUT at that moment.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::asl::error_name::{Failure, RUNTIME};
use crate::asl::eval::context::{Exec, StateEnv};
use crate::asl::eval::run::{Halt, Step, eval_assign};
use crate::asl::eval::{io, time};
use crate::asl::model::{State, Transition, Wait};
use crate::asl::timestamp;

/// AWS's longest wait: 99,999,999 seconds.
const MAX_WAIT_SECONDS: i64 = 99_999_999;

pub(crate) async fn run(
    exec: &Exec<'_>,
    state: &State,
    w: &Wait,
    raw: Value,
    env: &StateEnv<'_>,
) -> Result<Step, Halt> {
    let eff = io::select_owned(&state.io.input_path, raw, env)?;
    let until = target(w, &eff, env)?;
    let assigned = match &state.assign {
        Some(t) => Some(eval_assign(t, &eff, env)?),
        None => None,
    };
    match exec.deadline {
        Some(d) if until >= d => {
            exec.host.sleep_until(d).await;
            return Err(Halt::TimedOut);
        }
        _ => exec.host.sleep_until(until).await,
    }
    let output = io::select_owned(&state.io.output_path, eff, env)?;
    let next = match state.transition {
        Transition::Next(n) => Some(n),
        _ => None,
    };
    Ok(Step { output, next, assigned })
}

fn target(w: &Wait, eff: &Value, env: &StateEnv<'_>) -> Result<DateTime<Utc>, Failure> {
    match w {
        Wait::Seconds(s) => Ok(time::after_seconds(env.entered, *s)),
        Wait::Timestamp(t) => Ok(*t),
        Wait::SecondsPath(p) => {
            let v = p.select_ref(eff, env).map_err(|_| {
                Failure::new(
                    RUNTIME,
                    format!("The SecondsPath parameter does not reference an input value: {}", p.text()),
                )
            })?;
            let secs = match v {
                Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64().unwrap_or(i64::MAX),
                other => {
                    return Err(Failure::new(
                        RUNTIME,
                        format!(
                            "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                            p.text(),
                            shown(other)
                        ),
                    ));
                }
            };
            if secs < 0 {
                return Err(Failure::new(
                    RUNTIME,
                    format!("The SecondsPath parameter references a negative value: {} == {secs}", p.text()),
                ));
            }
            if secs > MAX_WAIT_SECONDS {
                return Err(Failure::new(RUNTIME, "Wait state delay is too long."));
            }
            Ok(time::after_seconds(env.entered, secs.unsigned_abs()))
        }
        Wait::TimestampPath(p) => {
            let v = p.select_ref(eff, env).map_err(|_| {
                Failure::new(
                    RUNTIME,
                    format!("The TimestampPath parameter does not reference an input value: {}", p.text()),
                )
            })?;
            match v.as_str().and_then(timestamp::parse) {
                Some(t) => Ok(t),
                None => Err(Failure::new(
                    RUNTIME,
                    format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                        p.text(),
                        shown(v)
                    ),
                )),
            }
        }
    }
}

/// A value as AWS shows it after `==`: strings bare, everything else as JSON.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
