//! Run a Job (`.sync`): polling to a terminal status, results, failures with the job as Cause,
//! and the stop call when the Task stops waiting. Time is paused: polls cost no wall time.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::super::{ApiError, Pattern};
use super::{Fake, error_of, run, run_for};

use Pattern::Sync;

fn glue_run(state: &str) -> Value {
    json!({"JobRun": {"Id": "jr_1", "JobName": "etl", "JobRunState": state, "Attempt": 0}})
}

#[tokio::test(start_paused = true)]
async fn glue_polls_until_succeeded_and_returns_the_job_run() {
    let fake = Fake::new()
        .answer("glue:StartJobRun", json!({"JobRunId": "jr_1"}))
        .answer("glue:GetJobRun", glue_run("STARTING"))
        .answer("glue:GetJobRun", glue_run("RUNNING"))
        .answer("glue:GetJobRun", glue_run("SUCCEEDED"));
    let result = run(&fake, "glue:startJobRun", Sync, json!({"JobName": "etl"})).await.unwrap();
    assert_eq!(result, json!({"Id": "jr_1", "JobName": "etl", "JobRunState": "SUCCEEDED", "Attempt": 0}));
    assert_eq!(fake.inputs("glue:GetJobRun"), vec![json!({"JobName": "etl", "RunId": "jr_1"}); 3]);
    assert!(fake.inputs("glue:BatchStopJobRun").is_empty(), "a finished job is not stopped");
}

#[tokio::test(start_paused = true)]
async fn a_failed_batch_job_fails_the_task_with_the_job_as_cause() {
    let job = json!({"JobId": "j-1", "JobName": "n", "Status": "FAILED", "StatusReason": "Essential container in task exited"});
    let fake = Fake::new()
        .answer("batch:SubmitJob", json!({"JobArn": "arn:j", "JobId": "j-1", "JobName": "n"}))
        .answer("batch:DescribeJobs", json!({"Jobs": [{"JobId": "j-1", "Status": "RUNNING"}]}))
        .answer("batch:DescribeJobs", json!({"Jobs": [job]}));
    let input = json!({"JobName": "n", "JobQueue": "q", "JobDefinition": "d"});
    let (error, cause) = error_of(run(&fake, "batch:submitJob", Sync, input).await);
    assert_eq!(error, "States.TaskFailed");
    assert_eq!(serde_json::from_str::<Value>(&cause.unwrap()).unwrap(), job);
    assert_eq!(fake.inputs("batch:DescribeJobs"), vec![json!({"Jobs": ["j-1"]}); 2]);
    assert_eq!(
        fake.inputs("batch:SubmitJob"),
        vec![json!({"JobName": "n", "JobQueue": "q", "JobDefinition": "d", "ContainerOverrides": {
            "Environment": [{"Name": "MANAGED_BY_AWS", "Value": "STARTED_BY_STEP_FUNCTIONS"}]
        }})]
    );
    assert!(fake.inputs("batch:TerminateJob").is_empty());
}

fn ecs_task(status: &str, exit: i64) -> Value {
    json!({"TaskArn": "arn:task/1", "LastStatus": status, "Containers": [{"Name": "app", "ExitCode": exit}]})
}

#[tokio::test(start_paused = true)]
async fn ecs_waits_for_stopped_and_fails_on_a_failed_container_or_start_failures() {
    let started = json!({"Tasks": [{"TaskArn": "arn:task/1", "LastStatus": "PROVISIONING"}], "Failures": []});
    let fake = Fake::new()
        .answer("ecs:RunTask", started.clone())
        .answer("ecs:DescribeTasks", json!({"Tasks": [ecs_task("RUNNING", 0)]}))
        .answer("ecs:DescribeTasks", json!({"Tasks": [ecs_task("STOPPED", 0)]}));
    let input = json!({"Cluster": "c", "TaskDefinition": "td", "LaunchType": "FARGATE"});
    let result = run(&fake, "ecs:runTask", Sync, input.clone()).await.unwrap();
    assert_eq!(result, ecs_task("STOPPED", 0));
    assert_eq!(
        fake.inputs("ecs:RunTask"),
        vec![
            json!({"Cluster": "c", "TaskDefinition": "td", "LaunchType": "FARGATE", "StartedBy": "AWS Step Functions"})
        ]
    );
    assert_eq!(fake.inputs("ecs:DescribeTasks")[0], json!({"Cluster": "c", "Tasks": ["arn:task/1"]}));

    let fake = Fake::new()
        .answer("ecs:RunTask", started)
        .answer("ecs:DescribeTasks", json!({"Tasks": [ecs_task("STOPPED", 1)]}));
    let (error, cause) = error_of(run(&fake, "ecs:runTask", Sync, input.clone()).await);
    assert_eq!(error, "States.TaskFailed");
    assert_eq!(serde_json::from_str::<Value>(&cause.unwrap()).unwrap(), ecs_task("STOPPED", 1));

    let failures = json!([{"Arn": "arn:ci", "Reason": "RESOURCE:CPU"}]);
    let fake = Fake::new().answer("ecs:RunTask", json!({"Tasks": [], "Failures": failures}));
    let (error, cause) = error_of(run(&fake, "ecs:runTask", Sync, input).await);
    assert_eq!(error, "AmazonECS.Unknown");
    assert_eq!(serde_json::from_str::<Value>(&cause.unwrap()).unwrap(), failures);
    assert!(fake.inputs("ecs:DescribeTasks").is_empty());
}

#[tokio::test(start_paused = true)]
async fn result_shapes_follow_the_table() {
    let query = |state: &str| json!({"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": state}}});
    let fake = Fake::new()
        .answer("athena:StartQueryExecution", json!({"QueryExecutionId": "q-1"}))
        .answer("athena:GetQueryExecution", query("RUNNING"))
        .answer("athena:GetQueryExecution", query("SUCCEEDED"));
    let result = run(&fake, "athena:startQueryExecution", Sync, json!({"QueryString": "SELECT 1"})).await;
    assert_eq!(result.unwrap(), query("SUCCEEDED"));

    let build = |status: &str| json!({"Id": "p:1", "Arn": "arn:b", "BuildStatus": status});
    let fake = Fake::new()
        .answer("codebuild:StartBuild", json!({"Build": build("IN_PROGRESS")}))
        .answer("codebuild:BatchGetBuilds", json!({"Builds": [build("SUCCEEDED")]}));
    let result = run(&fake, "codebuild:startBuild", Sync, json!({"ProjectName": "p"})).await;
    assert_eq!(result.unwrap(), json!({"Build": build("SUCCEEDED")}));
    assert_eq!(fake.inputs("codebuild:BatchGetBuilds"), vec![json!({"Ids": ["p:1"]})]);
}

#[tokio::test(start_paused = true)]
async fn a_deleted_resource_ends_a_delete_job() {
    let gone = ApiError::Service {
        status: 404,
        code: "ResourceNotFoundException".into(),
        message: "No cluster".into(),
        request_id: None,
    };
    let fake = Fake::new()
        .answer("eks:DeleteCluster", json!({"Cluster": {"Name": "k", "Status": "DELETING"}}))
        .answer("eks:DescribeCluster", json!({"Cluster": {"Name": "k", "Status": "DELETING"}}))
        .answer_with("eks:DescribeCluster", Err(gone));
    let result = run(&fake, "eks:deleteCluster", Sync, json!({"Name": "k"})).await;
    assert_eq!(result.unwrap(), json!({"Cluster": {"Name": "k", "Status": "DELETING"}}));
    assert_eq!(fake.inputs("eks:DescribeCluster"), vec![json!({"Name": "k"}); 2]);
}

#[tokio::test(start_paused = true)]
async fn throttled_polls_are_polled_again_and_other_errors_fail_with_the_service_name() {
    let throttled = ApiError::Service {
        status: 400,
        code: "ThrottlingException".into(),
        message: "Rate exceeded".into(),
        request_id: None,
    };
    let denied =
        ApiError::Service { status: 400, code: "AccessDeniedException".into(), message: "no".into(), request_id: None };
    let fake = Fake::new()
        .answer("glue:StartJobRun", json!({"JobRunId": "jr_1"}))
        .answer_with("glue:GetJobRun", Err(throttled))
        .answer_with("glue:GetJobRun", Err(denied));
    let (error, _) = error_of(run(&fake, "glue:startJobRun", Sync, json!({"JobName": "etl"})).await);
    assert_eq!(error, "Glue.AccessDeniedException");
    assert_eq!(fake.inputs("glue:GetJobRun").len(), 2);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_task_stops_the_job() {
    let fake = Fake::new()
        .answer("glue:StartJobRun", json!({"JobRunId": "jr_9"}))
        .answer("glue:GetJobRun", glue_run("RUNNING"))
        .answer("glue:BatchStopJobRun", json!({"SuccessfulSubmissions": [{"JobName": "etl", "JobRunId": "jr_9"}]}));
    let task = tokio::spawn({
        let fake = Arc::clone(&fake);
        async move { run(&fake, "glue:startJobRun", Sync, json!({"JobName": "etl"})).await }
    });
    // Three polls happen, one per (paused) second; then the Task is abandoned.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    // The stop call runs on its own task.
    tokio::task::yield_now().await;
    assert_eq!(fake.inputs("glue:GetJobRun").len(), 3);
    assert_eq!(fake.inputs("glue:BatchStopJobRun"), vec![json!({"JobName": "etl", "JobRunIds": ["jr_9"]})]);
}

#[tokio::test(start_paused = true)]
async fn an_emr_cluster_is_not_terminated_when_the_task_is_abandoned() {
    let cluster = |state: &str| json!({"Cluster": {"Id": "j-1", "Status": {"State": state}}});
    let fake = Fake::new()
        .answer("emr:RunJobFlow", json!({"JobFlowId": "j-1", "ClusterArn": "arn:c"}))
        .answer("emr:DescribeCluster", cluster("STARTING"));
    let task = tokio::spawn({
        let fake = Arc::clone(&fake);
        async move { run(&fake, "elasticmapreduce:createCluster", Sync, json!({"Name": "c"})).await }
    });
    tokio::time::sleep(Duration::from_millis(2500)).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    tokio::task::yield_now().await;
    assert_eq!(fake.inputs("emr:DescribeCluster"), vec![json!({"ClusterId": "j-1"}); 2]);
    let operations: Vec<String> = fake.calls().into_iter().map(|(_, operation, _)| operation).collect();
    assert_eq!(operations, ["RunJobFlow", "DescribeCluster", "DescribeCluster"], "no stop call for EMR clusters");
}

#[tokio::test(start_paused = true)]
async fn timeout_seconds_stops_the_job_and_fails_with_states_timeout() {
    let fake = Fake::new()
        .answer("batch:SubmitJob", json!({"JobArn": "arn:j", "JobId": "j-7", "JobName": "n"}))
        .answer("batch:DescribeJobs", json!({"Jobs": [{"JobId": "j-7", "Status": "RUNNING"}]}))
        .answer("batch:TerminateJob", json!({}));
    let input = json!({"JobName": "n", "JobQueue": "q", "JobDefinition": "d"});
    let result = run_for(&fake, "batch:submitJob", Sync, input, Some(Duration::from_millis(10_500))).await;
    let failure = result.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("States.Timeout"));
    assert_eq!(fake.inputs("batch:DescribeJobs").len(), 10);
    assert_eq!(
        fake.inputs("batch:TerminateJob"),
        vec![json!({"JobId": "j-7", "Reason": "Terminated by AWS Step Functions"})],
        "stopped before the Task fails, exactly once"
    );
}

#[tokio::test(start_paused = true)]
async fn the_tables_own_interval_applies_without_an_override() {
    use super::super::{Api, Call, Options, invoke};
    let fake = Fake::new()
        .answer("glue:StartJobRun", json!({"JobRunId": "jr_1"}))
        .answer("glue:GetJobRun", glue_run("RUNNING"))
        .answer("glue:GetJobRun", glue_run("SUCCEEDED"));
    let api: Arc<dyn Api> = Arc::clone(&fake) as Arc<dyn Api>;
    let call = Call {
        service: "glue",
        action: "startJobRun",
        pattern: Sync,
        input: json!({"JobName": "etl"}),
        timeout: None,
        execution_arn: super::EXECUTION,
    };
    let begun = tokio::time::Instant::now();
    invoke(api, call, &Options::default()).await.unwrap();
    // Glue's row polls every 5 s: two polls end the wait at 10 s of (paused) time.
    assert_eq!(begun.elapsed(), Duration::from_secs(10));
}
