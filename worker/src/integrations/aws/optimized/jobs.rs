//! The `.sync` table: for each job an optimized integration starts, how Step Functions learns
//! its state and stops it. [`super::sync`] runs any row; no job type has code of its own.
//!
//! Provenance. AWS publishes no such table; each row is read from the integration's page (what
//! `.sync` waits for, e.g. EMR `createCluster.sync` "waits for the cluster to reach the WAITING
//! state"), its IAM policy page (the permissions `.sync` needs name the describe and stop APIs:
//! `glue:GetJobRun` + `glue:BatchStopJobRun`, `batch:DescribeJobs` + `batch:TerminateJob`,
//! `ecs:DescribeTasks` + `ecs:StopTask`, `codebuild:BatchGetBuilds` + `codebuild:StopBuild`,
//! `sagemaker:Describe*Job` + `sagemaker:Stop*Job`, …), the API references (status fields and
//! their values), and LocalStack's snapshot-tested provider for the result shapes (Batch's job,
//! Glue's `JobRun`, ECS's task, Athena's `GetQueryExecution`). Jobs that AWS documents as not
//! stopped on abort (EMR clusters) have no stop call.
//!
//! Owns: the rows. Must not: call anything.

use serde_json::Value;

/// Where a member of a describe or stop request comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    /// A dotted path (`Step.Name`, `Tasks.0.TaskArn`) in the Task's parameters.
    Request(&'static str),
    /// A dotted path in the start call's output (after the integration's own reshaping).
    Started(&'static str),
    /// A fixed string.
    Text(&'static str),
}

/// One member of a request: `to` is set from `from`, wrapped in a one-element list if `list`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bind {
    pub to: &'static str,
    pub from: Source,
    pub list: bool,
}

/// A call of the integration's own service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Call {
    pub operation: &'static str,
    pub input: &'static [Bind],
}

/// What the Task's result is when the job succeeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Output {
    /// The job's description (the part of the describe output at [`Job::job`]).
    Job,
    /// The job's description under one member (`{"Build": …}` for CodeBuild).
    Wrapped(&'static str),
    /// The whole describe output (`{"QueryExecution": …}` for Athena).
    Describe,
    /// The start call's result: the wait only decides when the Task ends.
    Started,
}

#[derive(Debug)]
pub struct Job {
    pub describe: Call,
    /// Dotted path of the job's description in the describe output; empty for all of it.
    pub job: &'static str,
    /// Dotted path of the status in the job's description.
    pub status: &'static str,
    pub succeeded: &'static [&'static str],
    pub failed: &'static [&'static str],
    /// A describe error with this code means the job has finished (a deleted resource).
    pub gone: Option<&'static str>,
    /// A job that reached a succeeded status may still have failed (ECS: a container exited
    /// with a non-zero code).
    pub failed_anyway: Option<fn(&Value) -> bool>,
    pub stop: Option<Call>,
    /// Changes Step Functions makes to the start request of a `.sync` Task (tags saying who
    /// started the job).
    pub prepare: Option<fn(&mut Value)>,
    /// A non-empty list at this path of the start result fails the Task with this error
    /// before any poll (ECS: `runTask` answers 200 with `Failures`).
    pub start_failures: Option<(&'static str, &'static str)>,
    pub output: Output,
    /// Seconds between polls, unless the caller sets one interval for every job.
    pub poll_seconds: u64,
}

const fn b(to: &'static str, from: Source) -> Bind {
    Bind { to, from, list: false }
}
const fn list(to: &'static str, from: Source) -> Bind {
    Bind { to, from, list: true }
}
use Source::{Request as Req, Started as Out, Text};

const fn job(describe: Call, job: &'static str, status: &'static str) -> Job {
    Job {
        describe,
        job,
        status,
        succeeded: &[],
        failed: &[],
        gone: None,
        failed_anyway: None,
        stop: None,
        prepare: None,
        start_failures: None,
        output: Output::Job,
        poll_seconds: 5,
    }
}

const fn call(operation: &'static str, input: &'static [Bind]) -> Call {
    Call { operation, input }
}

/// `ecs:runTask.sync` starts the task with `StartedBy: "AWS Step Functions"` unless the Task
/// sets it (AWS's recorded TaskScheduled parameters, reproduced by LocalStack).
fn started_by_step_functions(request: &mut Value) {
    if let Value::Object(map) = request {
        map.entry("StartedBy").or_insert_with(|| Value::String("AWS Step Functions".into()));
    }
}

/// `batch:submitJob.sync` adds `MANAGED_BY_AWS=STARTED_BY_STEP_FUNCTIONS` to the container's
/// environment (LocalStack's reproduction of AWS).
fn managed_by_aws(request: &mut Value) {
    let Value::Object(map) = request else { return };
    let overrides = map.entry("ContainerOverrides").or_insert_with(|| Value::Object(Default::default()));
    let Value::Object(overrides) = overrides else { return };
    let environment = overrides.entry("Environment").or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = environment {
        list.push(serde_json::json!({"Name": "MANAGED_BY_AWS", "Value": "STARTED_BY_STEP_FUNCTIONS"}));
    }
}

/// A stopped ECS task whose containers did not all exit 0 has failed: Step Functions fails
/// `ecs:runTask.sync` then (its Cause is the task's description).
fn a_container_failed(task: &Value) -> bool {
    let containers = task.get("Containers").and_then(Value::as_array);
    containers.into_iter().flatten().any(|c| c.get("ExitCode").and_then(Value::as_i64).is_some_and(|code| code != 0))
}

pub static ATHENA_QUERY: Job = Job {
    succeeded: &["SUCCEEDED"],
    failed: &["FAILED", "CANCELLED"],
    stop: Some(call("StopQueryExecution", &[b("QueryExecutionId", Out("QueryExecutionId"))])),
    output: Output::Describe,
    ..job(
        call("GetQueryExecution", &[b("QueryExecutionId", Out("QueryExecutionId"))]),
        "",
        "QueryExecution.Status.State",
    )
};

/// LocalStack (snapshot-tested against AWS) ends the task successfully on STOPPED.
pub static GLUE_JOB_RUN: Job = Job {
    succeeded: &["SUCCEEDED", "STOPPED"],
    failed: &["FAILED", "TIMEOUT", "ERROR"],
    stop: Some(call("BatchStopJobRun", &[b("JobName", Req("JobName")), list("JobRunIds", Out("JobRunId"))])),
    ..job(call("GetJobRun", &[b("JobName", Req("JobName")), b("RunId", Out("JobRunId"))]), "JobRun", "JobRunState")
};

pub static BATCH_JOB: Job = Job {
    succeeded: &["SUCCEEDED"],
    failed: &["FAILED"],
    prepare: Some(managed_by_aws),
    stop: Some(call(
        "TerminateJob",
        &[b("JobId", Out("JobId")), b("Reason", Text("Terminated by AWS Step Functions"))],
    )),
    ..job(call("DescribeJobs", &[list("Jobs", Out("JobId"))]), "Jobs.0", "Status")
};

pub static ECS_TASK: Job = Job {
    succeeded: &["STOPPED"],
    failed_anyway: Some(a_container_failed),
    prepare: Some(started_by_step_functions),
    // "Run a Job: if a non-empty Failures field is encountered, the task is failed with an
    // AmazonECS.Unknown error" (connect-ecs).
    start_failures: Some(("Failures", "AmazonECS.Unknown")),
    stop: Some(call(
        "StopTask",
        &[
            b("Cluster", Req("Cluster")),
            b("Task", Out("Tasks.0.TaskArn")),
            b("Reason", Text("Stopped by AWS Step Functions")),
        ],
    )),
    ..job(
        call("DescribeTasks", &[b("Cluster", Req("Cluster")), list("Tasks", Out("Tasks.0.TaskArn"))]),
        "Tasks.0",
        "LastStatus",
    )
};

pub static CODEBUILD_BUILD: Job = Job {
    succeeded: &["SUCCEEDED"],
    failed: &["FAILED", "FAULT", "TIMED_OUT", "STOPPED"],
    stop: Some(call("StopBuild", &[b("Id", Out("Build.Id"))])),
    output: Output::Wrapped("Build"),
    ..job(call("BatchGetBuilds", &[list("Ids", Out("Build.Id"))]), "Builds.0", "BuildStatus")
};

pub static CODEBUILD_BUILD_BATCH: Job = Job {
    succeeded: &["SUCCEEDED"],
    failed: &["FAILED", "FAULT", "TIMED_OUT", "STOPPED"],
    stop: Some(call("StopBuildBatch", &[b("Id", Out("BuildBatch.Id"))])),
    output: Output::Wrapped("BuildBatch"),
    ..job(call("BatchGetBuildBatches", &[list("Ids", Out("BuildBatch.Id"))]), "BuildBatches.0", "BuildBatchStatus")
};

pub static BEDROCK_CUSTOMIZATION: Job = Job {
    succeeded: &["Completed"],
    failed: &["Failed", "Stopped"],
    stop: Some(call("StopModelCustomizationJob", &[b("JobIdentifier", Out("JobArn"))])),
    output: Output::Describe,
    poll_seconds: 30,
    ..job(call("GetModelCustomizationJob", &[b("JobIdentifier", Out("JobArn"))]), "", "Status")
};

/// "Step Functions does not terminate an Amazon EMR cluster automatically if execution is
/// stopped": no stop call.
pub static EMR_CLUSTER_UP: Job = Job {
    succeeded: &["WAITING"],
    failed: &["TERMINATING", "TERMINATED", "TERMINATED_WITH_ERRORS"],
    output: Output::Started,
    poll_seconds: 30,
    ..job(call("DescribeCluster", &[b("ClusterId", Out("ClusterId"))]), "Cluster", "Status.State")
};

pub static EMR_CLUSTER_DOWN: Job = Job {
    succeeded: &["TERMINATED", "TERMINATED_WITH_ERRORS"],
    output: Output::Started,
    poll_seconds: 30,
    ..job(call("DescribeCluster", &[b("ClusterId", Req("ClusterId"))]), "Cluster", "Status.State")
};

pub static EMR_STEP: Job = Job {
    succeeded: &["COMPLETED"],
    failed: &["CANCELLED", "FAILED", "INTERRUPTED"],
    stop: Some(call("CancelSteps", &[b("ClusterId", Req("ClusterId")), list("StepIds", Out("StepId"))])),
    output: Output::Describe,
    ..job(call("DescribeStep", &[b("ClusterId", Req("ClusterId")), b("StepId", Out("StepId"))]), "Step", "Status.State")
};

pub static EMR_VIRTUAL_CLUSTER_DOWN: Job = Job {
    succeeded: &["TERMINATED"],
    failed: &["ARRESTED"],
    output: Output::Started,
    ..job(call("DescribeVirtualCluster", &[b("Id", Req("Id"))]), "VirtualCluster", "State")
};

pub static EMR_CONTAINERS_JOB_RUN: Job = Job {
    succeeded: &["COMPLETED"],
    failed: &["FAILED", "CANCELLED"],
    stop: Some(call("CancelJobRun", &[b("Id", Out("Id")), b("VirtualClusterId", Out("VirtualClusterId"))])),
    output: Output::Describe,
    ..job(
        call("DescribeJobRun", &[b("Id", Out("Id")), b("VirtualClusterId", Out("VirtualClusterId"))]),
        "JobRun",
        "State",
    )
};

const GET_APPLICATION: Call = call("GetApplication", &[b("ApplicationId", Out("ApplicationId"))]);

pub static EMR_SERVERLESS_CREATED: Job = Job {
    succeeded: &["CREATED"],
    failed: &["TERMINATED"],
    output: Output::Started,
    ..job(GET_APPLICATION, "Application", "State")
};
pub static EMR_SERVERLESS_STARTED: Job = Job {
    succeeded: &["STARTED"],
    failed: &["TERMINATED"],
    output: Output::Started,
    ..job(GET_APPLICATION, "Application", "State")
};
pub static EMR_SERVERLESS_STOPPED: Job = Job {
    succeeded: &["STOPPED"],
    failed: &["TERMINATED"],
    output: Output::Started,
    ..job(GET_APPLICATION, "Application", "State")
};
pub static EMR_SERVERLESS_DELETED: Job =
    Job { succeeded: &["TERMINATED"], output: Output::Started, ..job(GET_APPLICATION, "Application", "State") };

const GET_JOB_RUN: Call =
    call("GetJobRun", &[b("ApplicationId", Out("ApplicationId")), b("JobRunId", Out("JobRunId"))]);

pub static EMR_SERVERLESS_JOB_RUN: Job = Job {
    succeeded: &["SUCCESS"],
    failed: &["FAILED", "CANCELLED"],
    stop: Some(call("CancelJobRun", &[b("ApplicationId", Out("ApplicationId")), b("JobRunId", Out("JobRunId"))])),
    output: Output::Describe,
    ..job(GET_JOB_RUN, "JobRun", "State")
};

pub static EMR_SERVERLESS_JOB_CANCELLED: Job = Job {
    succeeded: &["CANCELLED"],
    failed: &["SUCCESS", "FAILED"],
    output: Output::Started,
    ..job(GET_JOB_RUN, "JobRun", "State")
};

const fn sagemaker(describe: &'static str, stop: &'static str, name: &'static [Bind], status: &'static str) -> Job {
    Job {
        succeeded: &["Completed"],
        failed: &["Failed", "Stopped"],
        stop: Some(call(stop, name)),
        output: Output::Describe,
        poll_seconds: 30,
        ..job(call(describe, name), "", status)
    }
}

pub static SAGEMAKER_TRAINING: Job = sagemaker(
    "DescribeTrainingJob",
    "StopTrainingJob",
    &[b("TrainingJobName", Req("TrainingJobName"))],
    "TrainingJobStatus",
);
pub static SAGEMAKER_TRANSFORM: Job = sagemaker(
    "DescribeTransformJob",
    "StopTransformJob",
    &[b("TransformJobName", Req("TransformJobName"))],
    "TransformJobStatus",
);
pub static SAGEMAKER_PROCESSING: Job = sagemaker(
    "DescribeProcessingJob",
    "StopProcessingJob",
    &[b("ProcessingJobName", Req("ProcessingJobName"))],
    "ProcessingJobStatus",
);
pub static SAGEMAKER_TUNING: Job = sagemaker(
    "DescribeHyperParameterTuningJob",
    "StopHyperParameterTuningJob",
    &[b("HyperParameterTuningJobName", Req("HyperParameterTuningJobName"))],
    "HyperParameterTuningJobStatus",
);
pub static SAGEMAKER_LABELING: Job = sagemaker(
    "DescribeLabelingJob",
    "StopLabelingJob",
    &[b("LabelingJobName", Req("LabelingJobName"))],
    "LabelingJobStatus",
);

const fn eks(
    describe: Call,
    job_path: &'static str,
    succeeded: &'static [&'static str],
    failed: &'static [&'static str],
    deleting: bool,
) -> Job {
    Job {
        succeeded,
        failed,
        gone: if deleting { Some("ResourceNotFoundException") } else { None },
        output: Output::Describe,
        poll_seconds: 30,
        ..job(describe, job_path, "Status")
    }
}

const DESCRIBE_EKS_CLUSTER: Call = call("DescribeCluster", &[b("Name", Req("Name"))]);
const DESCRIBE_NODEGROUP: Call =
    call("DescribeNodegroup", &[b("ClusterName", Req("ClusterName")), b("NodegroupName", Req("NodegroupName"))]);
const DESCRIBE_FARGATE: Call = call(
    "DescribeFargateProfile",
    &[b("ClusterName", Req("ClusterName")), b("FargateProfileName", Req("FargateProfileName"))],
);

pub static EKS_CLUSTER_UP: Job = eks(DESCRIBE_EKS_CLUSTER, "Cluster", &["ACTIVE"], &["FAILED"], false);
pub static EKS_CLUSTER_DOWN: Job =
    Job { output: Output::Started, ..eks(DESCRIBE_EKS_CLUSTER, "Cluster", &[], &["FAILED"], true) };
pub static EKS_NODEGROUP_UP: Job = eks(DESCRIBE_NODEGROUP, "Nodegroup", &["ACTIVE"], &["CREATE_FAILED"], false);
pub static EKS_NODEGROUP_DOWN: Job =
    Job { output: Output::Started, ..eks(DESCRIBE_NODEGROUP, "Nodegroup", &[], &["DELETE_FAILED"], true) };
pub static EKS_FARGATE_UP: Job = eks(DESCRIBE_FARGATE, "FargateProfile", &["ACTIVE"], &["CREATE_FAILED"], false);
pub static EKS_FARGATE_DOWN: Job =
    Job { output: Output::Started, ..eks(DESCRIBE_FARGATE, "FargateProfile", &[], &["DELETE_FAILED"], true) };

pub static DATABREW_JOB_RUN: Job = Job {
    succeeded: &["SUCCEEDED"],
    failed: &["FAILED", "TIMEOUT", "STOPPED"],
    stop: Some(call("StopJobRun", &[b("Name", Req("Name")), b("RunId", Out("RunId"))])),
    output: Output::Describe,
    ..job(call("DescribeJobRun", &[b("Name", Req("Name")), b("RunId", Out("RunId"))]), "", "State")
};

pub static MEDIACONVERT_JOB: Job = Job {
    succeeded: &["COMPLETE"],
    failed: &["ERROR", "CANCELED"],
    stop: Some(call("CancelJob", &[b("Id", Out("Job.Id"))])),
    output: Output::Describe,
    ..job(call("GetJob", &[b("Id", Out("Job.Id"))]), "Job", "Status")
};
