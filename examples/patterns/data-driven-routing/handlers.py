"""The event handlers the router dispatches to (Lambda handlers), one per event type."""


def record_order(event, context):
    return {"event": event["id"], "status": "ORDER_RECORDED", "order_id": event["order_id"]}


def apply_payment(event, context):
    return {"event": event["id"], "status": "PAYMENT_APPLIED", "order_id": event["order_id"],
            "amount_cents": event["amount_cents"]}


def update_customer(event, context):
    return {"event": event["id"], "status": "CUSTOMER_UPDATED", "fields": sorted(event["changes"])}
