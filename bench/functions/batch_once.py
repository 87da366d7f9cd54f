#!/usr/bin/env python3
"""The baseline of `bench functions`: one process per batch, as `xargs -P2` starts them.

    ls chunks | xargs -P2 -n1 python3 batch_once.py OUT_DIR

reads one chunk (JSON Lines, one item per line; a path relative to the working directory),
applies the same per-item work as the dmap function (handlers.work) to every item, and writes
the list of results as JSON to OUT_DIR/<chunk name>.json.
"""

import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ left in the repository
from handlers import work  # noqa: E402  (next to this file: sys.path[0])


def main():
    out_dir, chunk = sys.argv[1], sys.argv[2]
    with open(chunk, "rb") as f:
        results = [work(json.loads(line)) for line in f if line.strip()]
    with open(os.path.join(out_dir, os.path.basename(chunk) + ".json"), "w") as f:
        json.dump(results, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
