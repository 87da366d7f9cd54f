"""The expense workflow's Lambda handlers."""


def request_approval(event, context):
    """Sends the approval request to the employee's manager. On AWS this would e-mail links that
    carry the task token (AWS's human-approval sample publishes them to SNS, and API Gateway
    turns a click into SendTaskSuccess or SendTaskFailure); here the request is logged, and
    approver.py plays the manager."""
    report = event["report"]
    total = sum(item["amount_cents"] for item in report["items"])
    print(f"approval request for {report['report_id']} ({total} cents) sent to {report['manager']}")
    return {"sent_to": report["manager"]}


def reimburse(event, context):
    total = sum(item["amount_cents"] for item in event["items"])
    return {"report_id": event["report_id"], "status": "REIMBURSED", "paid_to": event["employee"],
            "amount_cents": total, "approved_by": event["approved_by"]}


def return_to_employee(event, context):
    return {"report_id": event["report_id"], "status": "RETURNED", "to": event["employee"], "reason": event["reason"]}
