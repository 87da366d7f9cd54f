"""Example handlers for dmap's Python runtime (dmap_runtime.py), also used by dmap's tests.

    price        prices an order line, or each line of a batch ({"Items": [...]}, as an
                 ItemBatcher makes it)
    echo         returns its event
    fail         raises PriceNotFound, a custom error a Retry or Catch can name
    flaky        raises Flaky on the first event["failures"] calls a process serves
    slow         sleeps event["seconds"], to show timeouts
    heartbeat    works event["beats"] times event["interval"] seconds, heartbeating after each
    crash        exits the process when event["crash"] is true (dmap replaces it)
    environment  returns the environment the process sees
    big          returns a string of event["bytes"] characters
"""

import os
import sys
import time


class PriceNotFound(Exception):
    pass


def price_line(line):
    """One order line: JSON numbers, or the strings of a CSV row (`price` for the unit price)."""
    quantity = int(line["quantity"])
    unit_price = float(line.get("unit_price", line.get("price")))
    priced = {key: line[key] for key in ("sku", "order_id") if key in line}
    priced["total"] = round(quantity * unit_price, 2)
    priced["currency"] = os.environ.get("CURRENCY", "USD")
    return priced


def price(event, context):
    if isinstance(event, dict) and "Items" in event:
        return [price_line(line) for line in event["Items"]]
    return price_line(event)


def echo(event, context):
    return event


def fail(event, context):
    raise PriceNotFound(f"no price for sku {event.get('sku')!r}")


class Flaky(Exception):
    pass


calls = 0  # a long-lived process keeps its globals between calls


def flaky(event, context):
    global calls
    calls += 1
    if calls <= int(event.get("failures", 2)):
        raise Flaky(f"call {calls} fails")
    return {"calls": calls}


def slow(event, context):
    time.sleep(float(event.get("seconds", 30)))
    return {"slept": event.get("seconds", 30), "pid": os.getpid()}


def heartbeat(event, context):
    for _ in range(int(event["beats"])):
        time.sleep(float(event["interval"]))
        context.heartbeat()
    return {"beats": event["beats"], "request": context.aws_request_id}


def crash(event, context):
    if event.get("crash"):
        print("crashing on purpose", file=sys.stderr)
        sys.stderr.flush()
        os._exit(3)
    return {"pid": os.getpid()}


def environment(event, context):
    return dict(os.environ)


def big(event, context):
    return "x" * int(event["bytes"])
