"""The checkout's and the payment workflow's Lambda handlers."""

# Test cards: this one is declined, as a card issuer would.
DECLINED = {"4000000000000002"}


class CardDeclined(Exception):
    pass


def price_cart(event, context):
    return {"total_cents": sum(line["quantity"] * line["unit_price_cents"] for line in event["lines"])}


def authorize_card(event, context):
    if event["card"] in DECLINED:
        raise CardDeclined(f"card ending {event['card'][-4:]} was declined")
    return {"authorization": f"AUTH-{event['order_id']}"}


def capture_payment(event, context):
    return {"payment_id": f"PAY-{event['order_id']}", "authorization": event["authorization"],
            "captured_cents": event["amount_cents"]}
