"""The credit application's checks and the decision (Lambda handlers)."""

SANCTIONED = {("Mallory Moriarty", "GB")}
ACCEPTED_DOCUMENTS = {"passport", "id_card"}


class DocumentUnreadable(Exception):
    pass


def credit_score(event, context):
    """850, less 3 points per percent of income already owed."""
    ratio = 100 * int(event["debts"]) // int(event["income"])
    return {"score": 850 - 3 * ratio, "debt_ratio_percent": ratio}


def verify_identity(event, context):
    if not event.get("number"):
        raise DocumentUnreadable(f"the {event.get('type')} has no readable number")
    return {"verified": event["type"] in ACCEPTED_DOCUMENTS, "document": event["type"]}


def screen_sanctions(event, context):
    return {"listed": (event["name"], event["country"]) in SANCTIONED}


def decide(event, context):
    """Approved with a limit of a fifth of the income when every check passes."""
    checks = event["checks"]
    approved = checks["credit"]["score"] >= 650 and checks["identity"]["verified"] and not checks["sanctions"]["listed"]
    return {
        "application_id": event["application_id"],
        "decision": "APPROVED" if approved else "DECLINED",
        "limit": event["applicant"]["income"] // 5 if approved else 0,
        "score": checks["credit"]["score"],
    }
