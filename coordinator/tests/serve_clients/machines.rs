//! State machines, versions, aliases, tags and ValidateStateMachineDefinition through boto3.

use crate::{check, serve};

/// CreateStateMachine (STANDARD, EXPRESS with publish), its idempotency, Describe, Update,
/// List with pagination, and Delete.
#[test]
fn state_machines_are_created_described_updated_listed_and_deleted() {
    let s = serve();
    check(
        &s,
        r#"
std = machine("orders", PASS)
eq(std["stateMachineArn"], f"{ARN}:stateMachine:orders", "a state machine's ARN")
eq("stateMachineVersionArn" in std, False, "no version without publish")
exp = machine("quick", PASS, type="EXPRESS", publish=True, versionDescription="first")
eq(exp["stateMachineVersionArn"], f"{ARN}:stateMachine:quick:1", "the first published version")

d = sfn.describe_state_machine(stateMachineArn=std["stateMachineArn"])
eq((d["name"], d["type"], d["status"], d["roleArn"]), ("orders", "STANDARD", "ACTIVE", ROLE), "DescribeStateMachine")
eq(json.loads(d["definition"]), PASS, "the stored definition")
eq(sfn.describe_state_machine(stateMachineArn=exp["stateMachineArn"])["type"], "EXPRESS", "type EXPRESS")

# AWS: CreateStateMachine is idempotent on name, definition and type; another definition
# under the same name is StateMachineAlreadyExists.
eq(machine("orders", PASS)["stateMachineArn"], std["stateMachineArn"], "an idempotent create")
eq(code(sfn.create_state_machine, name="orders", definition=json.dumps(FAIL), roleArn=ROLE),
   "StateMachineAlreadyExists", "another definition under the same name")

u = sfn.update_state_machine(stateMachineArn=std["stateMachineArn"], definition=json.dumps(FAIL),
                             publish=True, versionDescription="fails")
eq(u["stateMachineVersionArn"], f"{ARN}:stateMachine:orders:1", "UpdateStateMachine with publish")
assert u["revisionId"], u
eq(json.loads(sfn.describe_state_machine(stateMachineArn=std["stateMachineArn"])["definition"]), FAIL,
   "the updated definition")

listed = pages(sfn.list_state_machines, "stateMachines", maxResults=1)
paged_at_most(listed, 1, "ListStateMachines")
eq(sorted((m["name"], m["type"], m["stateMachineArn"]) for p in listed for m in p),
   [("orders", "STANDARD", std["stateMachineArn"]), ("quick", "EXPRESS", exp["stateMachineArn"])],
   "ListStateMachines")

sfn.delete_state_machine(stateMachineArn=std["stateMachineArn"])
# AWS marks it DELETING first and removes it when its executions have stopped.
deadline = time.monotonic() + 30
while True:
    e = error_of(sfn.describe_state_machine, stateMachineArn=std["stateMachineArn"])
    if e is not None:
        eq(e["code"], "StateMachineDoesNotExist", "DescribeStateMachine after DeleteStateMachine")
        break
    assert time.monotonic() < deadline, "the deleted state machine is still described after 30 s"
    time.sleep(0.05)
eq([m["name"] for m in sfn.list_state_machines()["stateMachines"]], ["quick"], "ListStateMachines after delete")
"#,
    );
}

/// PublishStateMachineVersion, ListStateMachineVersions, DeleteStateMachineVersion, aliases
/// (Create/Describe/Update/List/Delete) and an alias's routing between two versions.
#[test]
fn versions_and_aliases_route_executions() {
    let s = serve();
    check(
        &s,
        r#"
ONE = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "one", "End": True}}}
TWO = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "two", "End": True}}}
sm = machine("priced", ONE, publish=True)["stateMachineArn"]
v1, v2 = sm + ":1", sm + ":2"
sfn.update_state_machine(stateMachineArn=sm, definition=json.dumps(TWO))
eq(sfn.publish_state_machine_version(stateMachineArn=sm, description="second")["stateMachineVersionArn"], v2,
   "PublishStateMachineVersion")
# AWS lists versions most recent first.
eq([v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=sm)["stateMachineVersions"]],
   [v2, v1], "ListStateMachineVersions")
eq(json.loads(sfn.describe_state_machine(stateMachineArn=v1)["definition"]), ONE, "version 1 keeps its definition")
eq(sfn.describe_state_machine(stateMachineArn=v2)["description"], "second", "a version's description")

alias = sfn.create_state_machine_alias(name="live", description="prod traffic",
                                       routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}])
live = alias["stateMachineAliasArn"]
eq(live, sm + ":live", "an alias's ARN")
d = sfn.describe_state_machine_alias(stateMachineAliasArn=live)
eq((d["name"], d["description"], d["routingConfiguration"]),
   ("live", "prod traffic", [{"stateMachineVersionArn": v1, "weight": 100}]), "DescribeStateMachineAlias")

ex = sfn.start_execution(stateMachineArn=live)["executionArn"]
d = wait_done(ex)
eq((d["status"], d["output"], d.get("stateMachineAliasArn"), d.get("stateMachineVersionArn")),
   ("SUCCEEDED", '"one"', live, v1), "an execution through the alias runs version 1")

sfn.update_state_machine_alias(stateMachineAliasArn=live, routingConfiguration=[
    {"stateMachineVersionArn": v1, "weight": 50}, {"stateMachineVersionArn": v2, "weight": 50}])
seen = set()
for i in range(24):
    d = wait_done(sfn.start_execution(stateMachineArn=live, name=f"split-{i}")["executionArn"])
    eq(d["output"], {v1: '"one"', v2: '"two"'}[d["stateMachineVersionArn"]], "the output of the version that ran")
    seen.add(d["stateMachineVersionArn"])
# 24 executions all on one side of a 50/50 split: odds 1 in 8 million.
eq(seen, {v1, v2}, "a 50/50 alias sends executions to both versions")

eq(code(sfn.delete_state_machine_version, stateMachineVersionArn=v2), "ConflictException",
   "deleting a version an alias routes to")
eq([a["stateMachineAliasArn"] for a in sfn.list_state_machine_aliases(stateMachineArn=sm)["stateMachineAliases"]],
   [live], "ListStateMachineAliases")
sfn.delete_state_machine_alias(stateMachineAliasArn=live)
eq(sfn.list_state_machine_aliases(stateMachineArn=sm)["stateMachineAliases"], [], "no alias after delete")
eq(code(sfn.describe_state_machine_alias, stateMachineAliasArn=live), "ResourceNotFound", "a deleted alias")
sfn.delete_state_machine_version(stateMachineVersionArn=v1)
eq([v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=sm)["stateMachineVersions"]],
   [v2], "ListStateMachineVersions after a delete")
"#,
    );
}

/// TagResource, UntagResource and ListTagsForResource, with tags given at creation.
#[test]
fn tags_are_added_replaced_and_removed() {
    let s = serve();
    check(
        &s,
        r#"
sm = machine("tagged", PASS, tags=[{"key": "team", "value": "data"}])["stateMachineArn"]
eq(sfn.list_tags_for_resource(resourceArn=sm)["tags"], [{"key": "team", "value": "data"}], "tags from CreateStateMachine")
sfn.tag_resource(resourceArn=sm, tags=[{"key": "env", "value": "test"}, {"key": "team", "value": "ml"}])
eq(sorted(sfn.list_tags_for_resource(resourceArn=sm)["tags"], key=lambda t: t["key"]),
   [{"key": "env", "value": "test"}, {"key": "team", "value": "ml"}], "TagResource adds and replaces")
sfn.untag_resource(resourceArn=sm, tagKeys=["env"])
eq(sfn.list_tags_for_resource(resourceArn=sm)["tags"], [{"key": "team", "value": "ml"}], "UntagResource")
eq(code(sfn.list_tags_for_resource, resourceArn=f"{ARN}:stateMachine:missing"), "ResourceNotFound",
   "tags of a missing state machine")
"#,
    );
}

/// ValidateStateMachineDefinition: OK, and FAIL with ERROR diagnostics. AWS asks callers to rely
/// on `result` only, except for the documented INVALID_JSON_DESCRIPTION of a JSON syntax error.
#[test]
fn validate_reports_ok_and_fail_with_diagnostics() {
    let s = serve();
    check(
        &s,
        r#"
ok = sfn.validate_state_machine_definition(definition=json.dumps(PASS_WAIT), type="STANDARD")
eq((ok["result"], ok["diagnostics"]), ("OK", []), "a valid definition")

dangling = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
bad = sfn.validate_state_machine_definition(definition=json.dumps(dangling))
eq(bad["result"], "FAIL", "a transition to a missing state")
assert bad["diagnostics"], bad
assert any(d["severity"] == "ERROR" for d in bad["diagnostics"]), bad["diagnostics"]
assert all(d["code"] and d["message"] for d in bad["diagnostics"]), bad["diagnostics"]

broken = sfn.validate_state_machine_definition(definition="{")
eq(broken["result"], "FAIL", "not JSON")
assert "INVALID_JSON_DESCRIPTION" in [d["code"] for d in broken["diagnostics"]], broken["diagnostics"]

eq(code(sfn.create_state_machine, name="dangling", definition=json.dumps(dangling), roleArn=ROLE),
   "InvalidDefinition", "CreateStateMachine with that definition")
"#,
    );
}
