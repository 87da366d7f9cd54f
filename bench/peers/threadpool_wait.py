#!/usr/bin/env python3
"""The waiting scenario's Python peer: N children that each wait 5 seconds, all at once.

    python3 threadpool_wait.py N SECONDS

A process pool runs as many children at a time as it has processes, so `multiprocessing.Pool(2)`
would take N / 2 * SECONDS. The same module's answer for waiting work is a thread pool:
`multiprocessing.pool.ThreadPool(N)` maps `time.sleep(SECONDS)` over N items (one item per task),
so that all N wait concurrently. Prints {"items": N, "seconds": ...} (the pool's start included).
bench/src/peers/python.rs runs it.
"""

import json
import sys
import time
from multiprocessing.pool import ThreadPool


def main():
    n, seconds = int(sys.argv[1]), float(sys.argv[2])
    start = time.perf_counter()
    with ThreadPool(n) as pool:
        done = pool.map(lambda _: time.sleep(seconds), range(n), chunksize=1)
    print(json.dumps({"items": len(done), "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
