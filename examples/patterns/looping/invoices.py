"""A paginated invoice API, as a Lambda handler: `list_invoices` returns one page and the cursor
of the next (null on the last page)."""

LEDGER = {
    "acme": [
        {"id": "INV-001", "amount_cents": 12000},
        {"id": "INV-002", "amount_cents": 4550},
        {"id": "INV-003", "amount_cents": 99900},
        {"id": "INV-004", "amount_cents": 150},
        {"id": "INV-005", "amount_cents": 30000},
        {"id": "INV-006", "amount_cents": 7525},
        {"id": "INV-007", "amount_cents": 1000},
    ],
}


def list_invoices(event, context):
    invoices = LEDGER.get(event["customer"], [])
    start = int(event["cursor"] or 0)
    end = start + int(event["limit"])
    page = invoices[start:end]
    return {
        "invoices": page,
        "amount_cents": sum(i["amount_cents"] for i in page),
        "next_cursor": str(end) if end < len(invoices) else None,
    }
