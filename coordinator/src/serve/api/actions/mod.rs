//! One Step Functions action per file. Each has `pub async fn run(ctx, request)`, which
//! reads its members, checks and resolves them, and returns AWS's answer. The mapping from
//! [`super::Action`] to these files is in `super` (the `actions!` list).

pub mod create_state_machine;
pub mod delete_state_machine;
pub mod describe_state_machine;
pub mod list_state_machines;
pub mod publish_state_machine_version;
