"""The order pipeline's Lambda handlers (Python, `handler(event, context)`, as on Lambda).

Each is deterministic: identifiers derive from the order id, so a run can be checked by hand.
"""


class InvalidOrder(Exception):
    pass


def validate_order(event, context):
    """Checks the lines and adds the total: the sum of quantity × unit price, in cents."""
    lines = event.get("lines") or []
    if not lines:
        raise InvalidOrder(f"order {event.get('order_id')} has no lines")
    for line in lines:
        if int(line["quantity"]) <= 0:
            raise InvalidOrder(f"line {line['sku']} has quantity {line['quantity']}")
    total = sum(int(line["quantity"]) * int(line["unit_price_cents"]) for line in lines)
    return {**event, "total_cents": total}


def reserve_stock(event, context):
    return {"reservation_id": f"RES-{event['order_id']}", "skus": sorted(line["sku"] for line in event["lines"])}


def charge_payment(event, context):
    return {"payment_id": f"PAY-{event['order_id']}", "amount_cents": event["amount_cents"]}


def create_shipment(event, context):
    return {"tracking_number": f"TRK-{event['order_id']}-{event['address']['country']}"}
