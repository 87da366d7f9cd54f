#!/usr/bin/env python3
"""The moto peer of the dmap benchmarks: moto's Step Functions interpreter on inline-Map
equivalents of dmap's Map Runs.

    python moto_map.py DEFINITION N OUT_DIR [JSONL]

Since moto 5, `mock_aws(config={"stepfunctions": {"execute_state_machine": True}})` makes
StartExecution interpret the definition (moto's port of LocalStack's ASL interpreter: one thread
per execution and per Map iteration); without it executions succeed without running any state.
This script creates the state machine from DEFINITION (an inline Map over $.Items), takes the
first N lines of the JSONL file as items (or, without JSONL, generates {"id": i, "v": i,
"name": "item-i"}), starts one execution with {"Items": [...]}, polls DescribeExecution every
50 ms until it ends, and writes the output to OUT_DIR/results.json. Prints {"items", "outputs",
"tagged", "seconds"}: the Map's outputs, how many carry the 5-state child's tag, and the seconds
from reading the items to writing the results (Python's start and moto's import, about a second,
are not counted). bench/src/peers/moto.rs runs it with the virtual environment's Python.
"""

import itertools
import json
import os
import sys
import time

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")

import boto3  # noqa: E402  (after the fake credentials)
from moto import mock_aws  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/bench"


def read_items(jsonl, n):
    if jsonl is None:
        return [{"id": i, "v": i, "name": f"item-{i}"} for i in range(n)]
    with open(jsonl, "rb") as f:
        items = [json.loads(line) for line in itertools.islice(f, n) if line.strip()]
    if len(items) != n:
        sys.exit(f"{jsonl} holds {len(items)} items, {n} wanted")
    return items


def is_tagged(output):
    return isinstance(output, dict) and output.get("sign") == "non-negative" and output.get("meta") == {"by": "dmap"}


def main():
    definition_path, n, out_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    jsonl = sys.argv[4] if len(sys.argv) > 4 else None
    with open(definition_path) as f:
        definition = f.read()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions")
        created = sfn.create_state_machine(name="bench", definition=definition, roleArn=ROLE)
        start = time.perf_counter()
        items = read_items(jsonl, n)
        started = sfn.start_execution(stateMachineArn=created["stateMachineArn"], input=json.dumps({"Items": items}))
        while True:
            described = sfn.describe_execution(executionArn=started["executionArn"])
            if described["status"] != "RUNNING":
                break
            time.sleep(0.05)
        if described["status"] != "SUCCEEDED":
            status, error, cause = described["status"], described.get("error"), described.get("cause")
            sys.exit(f"execution {status}: {error} {cause}")
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "results.json"), "w") as f:
            f.write(described["output"])
        seconds = time.perf_counter() - start
    output = json.loads(described["output"])
    # The 5-state child tags every non-negative item (Tag, then Stamp); the waiting child
    # returns its input untagged.
    tagged = sum(1 for o in output if is_tagged(o))
    print(json.dumps({"items": len(items), "outputs": len(output), "tagged": tagged, "seconds": seconds}))


if __name__ == "__main__":
    main()
