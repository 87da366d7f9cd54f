"""Lambda handlers of the NATS fault tests (served by examples/python/dmap_runtime.py).

    record   appends the batch's first item id to the file $RECORD_LOG (one line per
             execution, so a test can count how often each batch ran) and returns the items
             with their value doubled
    poison   kills the worker process that runs it (its parent) when an item of the batch
             has "poison": true; otherwise returns the items with their value doubled
"""

import os
import signal


def doubled(items):
    return [{"id": item["id"], "double": item["v"] * 2} for item in items]


def record(event, context):
    items = event["Items"]
    line = f"{items[0]['id']}\n".encode()
    # O_APPEND: each short line lands whole, whichever process of whichever worker writes it.
    fd = os.open(os.environ["RECORD_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return doubled(items)


def poison(event, context):
    items = event["Items"]
    if any(item.get("poison") for item in items):
        os.kill(os.getppid(), signal.SIGKILL)
        os._exit(1)
    return doubled(items)
