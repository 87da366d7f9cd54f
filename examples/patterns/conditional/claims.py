"""The claims' Lambda handlers."""


def assess_damage(event, context):
    """The payout: the claimed amount up to the policy's cover, less its deductible."""
    policy = event["policy"]
    payout = max(0, min(event["amount"], policy["cover"]) - policy["deductible"])
    return {"claim_id": event["claim_id"], "payout": payout, "route": "assessed"}


def pay_claim(event, context):
    return {**event, "status": "PAID", "reference": f"PAY-{event['claim_id']}"}


def open_investigation(event, context):
    return {"claim_id": event["claim_id"], "status": "UNDER_INVESTIGATION", "case": f"INV-{event['claim_id']}"}
