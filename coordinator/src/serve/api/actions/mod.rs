//! One Step Functions action per file. Each has `pub async fn run(ctx, request)`, which
//! reads its members, checks and resolves them, and returns AWS's answer. The mapping from
//! [`super::Action`] to these files is in `super` (the `actions!` list).

pub mod create_activity;
pub mod create_state_machine;
pub mod create_state_machine_alias;
pub mod delete_activity;
pub mod delete_state_machine;
pub mod delete_state_machine_alias;
pub mod delete_state_machine_version;
pub mod describe_activity;
pub mod describe_execution;
pub mod describe_map_run;
pub mod describe_state_machine;
pub mod describe_state_machine_alias;
pub mod describe_state_machine_for_execution;
pub mod get_activity_task;
pub mod get_execution_history;
pub mod list_activities;
pub mod list_executions;
pub mod list_map_runs;
pub mod list_state_machine_aliases;
pub mod list_state_machine_versions;
pub mod list_state_machines;
pub mod list_tags_for_resource;
pub mod publish_state_machine_version;
pub mod redrive_execution;
pub mod send_task_failure;
pub mod send_task_heartbeat;
pub mod send_task_success;
pub mod start_execution;
pub mod start_sync_execution;
pub mod stop_execution;
pub mod tag_resource;
pub mod test_state;
pub mod untag_resource;
pub mod update_map_run;
pub mod update_state_machine;
pub mod update_state_machine_alias;
pub mod validate_state_machine_definition;
