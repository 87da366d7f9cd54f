"""The manager, played by a program: finds the approval requests waiting in the executions it is
given and answers each through the task token — SendTaskSuccess with the approval, or
SendTaskFailure with the error ExpenseRejected when an item has no receipt."""

import json
import time


def pending_request(sfn, execution_arn):
    """The token and report of the approval the execution waits for, once the request has been
    sent (TaskSubmitted: the Lambda function returned); None before that. The token is in the
    parameters of the TaskScheduled event, as the Task evaluated them."""
    events = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True, maxResults=100)["events"]
    if not any(e["type"] == "TaskSubmitted" for e in events):
        return None
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")
    payload = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["Payload"]
    return payload["token"], payload["report"]


def review(report):
    """The manager's rule: every item needs a receipt."""
    missing = [item["what"] for item in report["items"] if not item.get("receipt")]
    if missing:
        return None, f"no receipt for: {', '.join(missing)}"
    return {"approver": report["manager"], "comment": "approved"}, None


def answer(sfn, execution_arn, say=print, stop=None):
    while stop is None or not stop.is_set():
        request = pending_request(sfn, execution_arn)
        if request is None:
            time.sleep(0.2)
            continue
        token, report = request
        approval, reason = review(report)
        if approval is not None:
            sfn.send_task_success(taskToken=token, output=json.dumps(approval))
            say(f"approver: approved {report['report_id']}")
        else:
            sfn.send_task_failure(taskToken=token, error="ExpenseRejected", cause=reason)
            say(f"approver: rejected {report['report_id']}: {reason}")
        return
