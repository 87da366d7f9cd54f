#!/usr/bin/env python3
"""The multiprocessing peer of the dmap benchmarks: what a data engineer writes when no engine is
at hand.

    python3 pool.py JSONL N BATCH PROCESSES OUT_DIR

reads the first N lines of the JSONL file in chunks of BATCH lines and hands the chunks to
`multiprocessing.Pool(PROCESSES)` (`imap_unordered`, one chunk per task); each worker parses its
lines, applies the 5-state child's work (five_state.work) to every item and writes the results as
one JSON array to OUT_DIR/chunk-<index>.json, as a ResultWriter writes a batch's results. Prints
{"items": ..., "chunks": ...} on success. bench/src/peers/python.rs runs it and times the process.
"""

import itertools
import json
import multiprocessing
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ left in the repository
from five_state import work  # noqa: E402  (next to this file: sys.path[0])


def process(task):
    index, lines, out_dir = task
    results = [work(json.loads(line)) for line in lines]
    with open(os.path.join(out_dir, f"chunk-{index:07}.json"), "w") as f:
        json.dump(results, f, separators=(",", ":"))
    return len(results)


def chunks(path, n, batch, out_dir):
    with open(path, "rb") as f:
        lines = (line for line in itertools.islice(f, n) if line.strip())
        for index in itertools.count():
            chunk = list(itertools.islice(lines, batch))
            if not chunk:
                return
            yield index, chunk, out_dir


def main():
    path, out_dir = sys.argv[1], sys.argv[5]
    n, batch, processes = (int(a) for a in sys.argv[2:5])
    os.makedirs(out_dir, exist_ok=True)
    items = written = 0
    with multiprocessing.Pool(processes) as pool:
        for count in pool.imap_unordered(process, chunks(path, n, batch, out_dir)):
            items += count
            written += 1
    if items != n:
        sys.exit(f"processed {items} items, {n} wanted")
    print(json.dumps({"items": items, "chunks": written}))


if __name__ == "__main__":
    main()
