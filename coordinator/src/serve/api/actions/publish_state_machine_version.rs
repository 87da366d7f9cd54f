//! PublishStateMachineVersion (for now: the version record that CreateStateMachine and
//! UpdateStateMachine publish).

use chrono::{DateTime, Utc};

use crate::serve::store::{StateMachineRecord, VersionRecord};

/// Version `n` of `machine`, published from its current revision.
pub fn version_record(
    machine: &StateMachineRecord,
    n: u64,
    description: Option<String>,
    now: DateTime<Utc>,
) -> VersionRecord {
    VersionRecord {
        arn: format!("{}:{n}", machine.arn),
        state_machine_arn: machine.arn.clone(),
        version: n,
        definition: machine.definition.clone(),
        role_arn: machine.role_arn.clone(),
        description,
        logging_configuration: machine.logging_configuration.clone(),
        tracing_configuration: machine.tracing_configuration.clone(),
        encryption_configuration: machine.encryption_configuration.clone(),
        revision_id: machine.revision_id.clone(),
        creation_date: now,
    }
}
