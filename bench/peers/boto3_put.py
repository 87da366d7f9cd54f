"""boto3's side of `bench integrations`: the same DynamoDB PutItem calls as dmap's Map Run, one
per item of the same JSONL file, from a pool of THREADS threads sharing one client (boto3's
clients are thread-safe) whose connection pool holds THREADS connections, as boto3's guide
advises for threads.

Usage: boto3_put.py ITEMS.jsonl N TABLE THREADS
The endpoint, region and credentials come from the environment (AWS_ENDPOINT_URL, ...).
Prints one JSON line: {"calls": N, "seconds": S}, S timing the calls only (reading the items and
making the client are left out, which favours boto3). A failed call fails the process.
"""

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def main():
    path, n, table, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    items = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if len(items) == n:
                break
            it = json.loads(line)
            items.append({"pk": {"S": it["name"]}, "id": {"N": str(it["id"])}, "v": {"N": str(it["v"])}})
    if len(items) != n:
        sys.exit(f"{path} has {len(items)} items, {n} wanted")
    client = boto3.client("dynamodb", config=Config(max_pool_connections=threads))

    def put(item):
        client.put_item(TableName=table, Item=item)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(put, items):
            pass
    seconds = time.perf_counter() - start
    print(json.dumps({"calls": n, "seconds": seconds}))


if __name__ == "__main__":
    main()
