"""The suppliers' quote service and the buyer's choice (Lambda handlers)."""

# Unit prices in cents and lead times in days, by supplier; `east` has no stock.
CATALOGUE = {
    "north": {"LAPTOP-14": (89900, 3)},
    "south": {"LAPTOP-14": (87500, 5)},
    "east": {},
    "west": {"LAPTOP-14": (87500, 9)},
}


class OutOfStock(Exception):
    pass


def get_quote(event, context):
    offer = CATALOGUE.get(event["supplier"], {}).get(event["sku"])
    if offer is None:
        raise OutOfStock(f"{event['supplier']} has no {event['sku']}")
    unit_price, lead_days = offer
    return {"supplier": event["supplier"], "available": True, "unit_price_cents": unit_price, "lead_days": lead_days}


def choose_supplier(event, context):
    """The cheapest available quote; the shorter lead time breaks a tie."""
    offers = [q for q in event["quotes"] if q["available"]]
    best = min(offers, key=lambda q: (q["unit_price_cents"], q["lead_days"]))
    return {
        "request_id": event["request_id"],
        "supplier": best["supplier"],
        "total_cents": best["unit_price_cents"] * event["quantity"],
        "lead_days": best["lead_days"],
        "quotes": len(event["quotes"]),
        "available": len(offers),
    }
