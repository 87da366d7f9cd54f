//! Activities through boto3 and the AWS CLI: CreateActivity, DescribeActivity, ListActivities,
//! DeleteActivity, GetActivityTask, tags on activities, and the error codes AWS gives.
//!
//! Expected values come from the API reference (idempotency by name, members, error codes) and
//! from responses recorded against AWS in localstack's snapshot
//! `tests/aws/services/stepfunctions/v2/test_sfn_api_activities.snapshot.json` (error texts,
//! a second delete answering 200).

use serde_json::json;

use crate::{check, serve};

const ARN: &str = "arn:aws:states:us-east-1:123456789012";

/// Snippets the activity tests share: a client whose read timeout outlasts the 60-second long
/// poll (AWS: "set the client side socket timeout to at least 65 seconds").
pub const WORKER: &str = r#"
from botocore.config import Config
poller = boto3.client("stepfunctions", config=Config(read_timeout=70, retries={"max_attempts": 1}))
"#;

#[test]
fn activities_are_created_once_by_name_described_listed_in_pages_tagged_and_deleted() {
    let s = serve();
    check(
        &s,
        r#"
a = sfn.create_activity(name="review", tags=[{"key": "team", "value": "data"}])
eq(a["activityArn"], f"{ARN}:activity:review", "an activity's ARN")
# Idempotent by name: the same ARN and creation date; other tags are ignored, not applied.
again = sfn.create_activity(name="review", tags=[{"key": "team", "value": "other"}])
eq((again["activityArn"], again["creationDate"]), (a["activityArn"], a["creationDate"]), "the idempotent create")
eq(sfn.list_tags_for_resource(resourceArn=a["activityArn"])["tags"], [{"key": "team", "value": "data"}],
   "the first request's tags")

d = sfn.describe_activity(activityArn=a["activityArn"])
eq((d["activityArn"], d["name"], d["creationDate"]), (a["activityArn"], "review", a["creationDate"]),
   "DescribeActivity")
eq("encryptionConfiguration" in d, False, "no encryption configuration given, none described")

enc = sfn.create_activity(name="sealed", encryptionConfiguration={"type": "AWS_OWNED_KEY"})
eq(sfn.describe_activity(activityArn=enc["activityArn"])["encryptionConfiguration"], {"type": "AWS_OWNED_KEY"},
   "the encryption configuration given")
# "Activity already exists. EncryptionConfiguration may not be updated."
eq(code(sfn.create_activity, name="sealed",
        encryptionConfiguration={"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": "alias/k"}),
   "ActivityAlreadyExists", "another encryption configuration for an existing name")

for n in range(5):
    sfn.create_activity(name=f"worker-{n}")
paged = pages(sfn.list_activities, "activities", maxResults=2)
paged_at_most(paged, 2, "ListActivities")
items = [i for p in paged for i in p]
eq([i["name"] for i in items], sorted(["review", "sealed"] + [f"worker-{n}" for n in range(5)]),
   "every activity once, by name")
eq(set(items[0]), {"activityArn", "name", "creationDate"}, "the members of an ActivityListItem")
eq(code(sfn.list_activities, nextToken="not-a-token"), "InvalidToken", "a made-up nextToken")

sfn.tag_resource(resourceArn=a["activityArn"], tags=[{"key": "stage", "value": "prod"}])
sfn.untag_resource(resourceArn=a["activityArn"], tagKeys=["team"])
eq(sfn.list_tags_for_resource(resourceArn=a["activityArn"])["tags"], [{"key": "stage", "value": "prod"}],
   "tags of an activity after TagResource and UntagResource")

sfn.delete_activity(activityArn=a["activityArn"])
# Deleting it again answers 200 (recorded against AWS).
sfn.delete_activity(activityArn=a["activityArn"])
e = error_of(sfn.describe_activity, activityArn=a["activityArn"])
eq((e["code"], e["message"]), ("ActivityDoesNotExist", f"Activity Does Not Exist: '{a['activityArn']}'"),
   "DescribeActivity of a deleted activity")
eq(code(sfn.list_tags_for_resource, resourceArn=a["activityArn"]), "ResourceNotFound", "tags of a deleted activity")
eq(len([i for p in pages(sfn.list_activities, "activities") for i in p]), 6, "six activities left")
"#,
    );
}

#[test]
fn activity_errors_are_aws_codes() {
    let s = serve();
    check(
        &s,
        r#"
e = error_of(sfn.create_activity, name="TestActivity InvalidName$")
eq((e["code"], e["message"]), ("InvalidName", "Invalid Name: 'TestActivity InvalidName$'"), "a name with a space")
for bad in ["a/b", "a:b", "a*b", "a{b"]:
    eq(code(sfn.create_activity, name=bad), "InvalidName", f"the name {bad!r}")
eq(code(sfn.create_activity, name="x" * 81), "ValidationException", "a name longer than 80")
eq(code(sfn.create_activity, name="many", tags=[{"key": f"k{n}", "value": "v"} for n in range(51)]),
   "TooManyTags", "51 tags")

e = error_of(sfn.describe_activity, activityArn="no_an_activity_arn")
eq((e["code"], e["message"]), ("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: no_an_activity_arn'"),
   "DescribeActivity of something that is not an ARN (recorded against AWS)")
e = error_of(sfn.get_activity_task, activityArn="no_an_activity_arn")
eq((e["code"], e["message"]), ("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: no_an_activity_arn'"),
   "GetActivityTask of something that is not an ARN (recorded against AWS)")
sm = machine("m", PASS)["stateMachineArn"]
for call in (sfn.describe_activity, sfn.delete_activity, sfn.get_activity_task):
    eq(code(call, activityArn=sm), "InvalidArn", f"{call.__name__} of a state machine's ARN")
missing = f"{ARN}:activity:never-created"
e = error_of(sfn.get_activity_task, activityArn=missing, workerName="w")
eq((e["code"], e["message"]), ("ActivityDoesNotExist", f"Activity Does Not Exist: '{missing}'"),
   "GetActivityTask of an activity that does not exist (recorded against AWS)")
eq(code(sfn.get_activity_task, activityArn=missing, workerName="x" * 81), "ValidationException",
   "a worker name longer than 80")
"#,
    );
}

/// The AWS CLI: create, describe, list, get-activity-task (answered at once when a task is
/// queued is covered by the execution tests; here the errors the CLI prints), delete.
#[test]
fn aws_cli_manages_activities() {
    let s = serve();
    let created = s.aws(&["create-activity", "--name", "cli-activity", "--tags", "key=team,value=data"]);
    let arn = format!("{ARN}:activity:cli-activity");
    assert_eq!(created["activityArn"], arn.as_str(), "{created}");
    let described = s.aws(&["describe-activity", "--activity-arn", &arn]);
    assert_eq!(described["name"], "cli-activity", "{described}");
    s.aws(&["create-activity", "--name", "cli-other"]);
    // --page-size 1 makes the CLI follow nextToken across two pages.
    let listed = s.aws(&["list-activities", "--page-size", "1"]);
    let names: Vec<&str> =
        listed["activities"].as_array().expect("activities").iter().map(|a| a["name"].as_str().unwrap_or("")).collect();
    assert_eq!(names, ["cli-activity", "cli-other"], "{listed}");
    let tags = s.aws(&["list-tags-for-resource", "--resource-arn", &arn]);
    assert_eq!(tags["tags"], json!([{"key": "team", "value": "data"}]));
    assert_eq!(s.aws(&["delete-activity", "--activity-arn", &arn]), serde_json::Value::Null);
    let err = s.aws_fails(&["describe-activity", "--activity-arn", &arn]);
    assert!(
        err.contains("An error occurred (ActivityDoesNotExist) when calling the DescribeActivity operation"),
        "{err}"
    );
    let err = s.aws_fails(&["get-activity-task", "--activity-arn", &arn, "--worker-name", "w"]);
    assert!(err.contains("(ActivityDoesNotExist) when calling the GetActivityTask operation"), "{err}");
    let err = s.aws_fails(&["create-activity", "--name", "bad name"]);
    assert!(err.contains("(InvalidName) when calling the CreateActivity operation"), "{err}");
}
