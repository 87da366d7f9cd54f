//! Wait: sleeps through the host until a time given as seconds or a timestamp, literal or
//! taken from the input. A wait past the execution's own timeout ends the execution as
//! TIMED_OUT at that moment.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::asl::error_name::Failure;
use crate::asl::eval::context::{Exec, StateEnv};
use crate::asl::eval::operand::{self, Field};
use crate::asl::eval::run::{Halt, Step};
use crate::asl::eval::{flow, time};
use crate::asl::model::{State, Wait};

pub(crate) async fn run(
    exec: &Exec<'_>,
    state: &State,
    w: &Wait,
    raw: Value,
    env: &StateEnv<'_>,
) -> Result<Step, Halt> {
    let eff = flow::selected_owned(state, raw, env)?;
    let until = target(w, &eff, env)?;
    let assigned = match &state.assign {
        Some(t) => Some(flow::assign(t, &eff, &eff, None, state.flow.is_jsonata(), env)?),
        None => None,
    };
    match exec.deadline {
        Some(d) if until >= d => {
            exec.host.sleep_until(d).await;
            return Err(Halt::TimedOut);
        }
        _ => exec.host.sleep_until(until).await,
    }
    let output = flow::passed_output(state, eff, env)?;
    Ok(Step { output, next: flow::next(state), assigned })
}

fn target(w: &Wait, eff: &Value, env: &StateEnv<'_>) -> Result<DateTime<Utc>, Failure> {
    match w {
        Wait::Seconds(s) => {
            let secs = operand::int(s, Field::WaitSeconds, eff, env)?;
            Ok(time::after_seconds(env.entered, secs))
        }
        Wait::Timestamp(t) => operand::timestamp(t, eff, env),
    }
}
