"""Handlers for `cargo run --release -p bench -- functions`, served by dmap's Python runtime
(examples/python/dmap_runtime.py) and imported by batch_once.py, the baseline.

    double   a batch ({"Items": [...]}, as an ItemBatcher makes it): the per-item work on every
             item, returned as a list
    trivial  one item: returns its id
"""


def work(item):
    """The per-item work, the same in dmap and in the baseline."""
    return {"id": item["id"], "double": item["v"] * 2}


def double(event, context):
    return [work(item) for item in event["Items"]]


def trivial(event, context):
    return {"id": event["id"]}
