#!/usr/bin/env python3
"""The 5-state child's work in plain Python, and the `xargs -P` peer of the dmap benchmarks.

    ls chunks | xargs -P2 -n1 python3 five_state.py OUT_DIR

reads one chunk (JSON Lines, one item per line; a path relative to the working directory),
applies `work` to every item and writes the list of results as JSON to OUT_DIR/<chunk>.json,
as a ResultWriter writes a batch's results. One process per chunk: the shell engineer's answer.
pool.py (the multiprocessing peer) imports `work` from here. bench/src/peers/python.rs runs both.
"""

import json
import os
import sys


def work(item):
    """What the 5-state child of bench/src/scenarios/engine.rs does to one item.

    Double  Pass  {"id.$": "$.id", "double.$": "States.MathAdd($.v, $.v)"}
    Check   Choice  $.double >= 0 -> Tag, otherwise -> Done
    Tag     Pass  {"id.$": "$.id", "double.$": "$.double", "sign": "non-negative"}
    Stamp   Pass  Result {"by": "dmap"} at ResultPath $.meta
    Done    Succeed
    """
    state = {"id": item["id"], "double": item["v"] + item["v"]}
    if state["double"] >= 0:
        state = {"id": state["id"], "double": state["double"], "sign": "non-negative"}
        state["meta"] = {"by": "dmap"}
    return state


def main():
    out_dir, chunk = sys.argv[1], sys.argv[2]
    with open(chunk, "rb") as f:
        results = [work(json.loads(line)) for line in f if line.strip()]
    with open(os.path.join(out_dir, os.path.basename(chunk) + ".json"), "w") as f:
        json.dump(results, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
