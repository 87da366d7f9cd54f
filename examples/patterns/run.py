#!/usr/bin/env python3
"""Runs one orchestration pattern of examples/patterns/ against `dmap serve`, in one command.

    run.py [--json] PATTERN DMAP

It starts `DMAP serve` on a free 127.0.0.1 port with a temporary store and the pattern's
functions file, creates the pattern's activities and state machines with boto3 (the real AWS
client, pointed at the server), starts its executions, plays the outside party where the pattern
has one (its `party.py`: activity workers, an approver), waits for every execution to end,
prints each one's status, output and the states its history entered, and stops the server.

A pattern's directory holds `example.json`:

    {"machines": [{"name": "payment", "definition": "payment.asl.json"}, ...],
     "activities": ["count-words"],
     "start": "checkout",
     "executions": [{"name": "order-1001", "input": {...}}, ...]}

`--json` prints one JSON object per execution instead, for tests: the started executions in
order, then the other executions of the pattern's machines (nested children), by name.
Exit status: 0 when every execution ended (SUCCEEDED or not), 1 otherwise.
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/service-role/StepFunctions-patterns"
# How long an execution may take before the runner gives up on it (a debug build on a busy
# machine is slow; every pattern ends in seconds).
DEADLINE_SECONDS = 120


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


class Server:
    """`dmap serve` on 127.0.0.1, port chosen by the kernel (`--listen 127.0.0.1:0`): the URL is
    read from the line it prints once it accepts requests. Its stderr (handlers' prints
    included) is kept, and shown when something goes wrong."""

    def __init__(self, dmap, functions):
        self.data = tempfile.TemporaryDirectory(prefix="dmap-patterns-")
        command = [dmap, "serve", "--listen", "127.0.0.1:0", "--data", self.data.name, "--region", REGION,
                   "--log-format", "text", "--log-level", "warn"]
        if os.path.exists(functions):
            command += ["--functions", functions]
        self.lines = []
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        ready = threading.Event()
        self.url = None

        def drain():
            for line in self.process.stderr:
                self.lines.append(line)
                prefix = "dmap serve listening on "
                if line.startswith(prefix) and not ready.is_set():
                    self.url = line[len(prefix):].strip()
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        ready.wait(60)
        if self.url is None:
            self.stop()
            raise SystemExit(f"dmap serve did not start:\n{self.log()}")

    def log(self):
        return "".join(self.lines)

    def stop(self):
        """SIGTERM (the server finishes the requests in flight), SIGKILL after 30 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.data.cleanup()


def client(url):
    return boto3.client(
        "stepfunctions", endpoint_url=url, region_name=REGION,
        aws_access_key_id="local", aws_secret_access_key="local",
        # GetActivityTask is a long poll of up to 60 s: the socket must wait longer than that.
        config=Config(inject_host_prefix=False, read_timeout=75, retries={"max_attempts": 1}),
    )


def load_party(directory):
    path = os.path.join(directory, "party.py")
    if not os.path.exists(path):
        return None
    sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location("party", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Party:
    """What a pattern's outside party gets: the API client, the ARNs of the executions the
    runner started and of the activities it created, a stop flag, and `say` for its log."""

    def __init__(self, sfn, executions, activities):
        self.sfn = sfn
        self.executions = executions
        self.activities = activities
        self.stop = threading.Event()

    @staticmethod
    def say(*parts):
        log(*parts)


def play(module, party):
    """Runs the party; a party that fails says so at once (its executions would otherwise wait
    for it until the deadline)."""
    try:
        module.play(party)
    except Exception:
        if not party.stop.is_set():
            log(f"run: the outside party failed:\n{traceback.format_exc()}")


def wait_done(sfn, arn):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] not in ("RUNNING", "PENDING_REDRIVE") or time.monotonic() > deadline:
            return d
        time.sleep(0.1)


def states_entered(sfn, arn):
    """The names of the states the execution entered, in the history's order."""
    names, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        for event in page["events"]:
            if "stateEnteredEventDetails" in event:
                names.append(event["stateEnteredEventDetails"]["name"])
        token = page.get("nextToken")
        if not token:
            return names


def report(sfn, d):
    out = {"name": d["name"], "status": d["status"], "states": states_entered(sfn, d["executionArn"])}
    if "output" in d:
        out["output"] = json.loads(d["output"])
    for key in ("error", "cause"):
        if key in d:
            out[key] = d[key]
    return out


def show(r, as_json):
    if as_json:
        print(json.dumps(r, sort_keys=True), flush=True)
        return
    print(f"{r['name']}  {r['status']}")
    print(f"  states: {' → '.join(r['states'])}")
    if "output" in r:
        print(f"  output: {json.dumps(r['output'])}")
    for key in ("error", "cause"):
        if key in r:
            print(f"  {key}: {r[key]}")


def main(argv):
    as_json = "--json" in argv
    args = [a for a in argv if a != "--json"]
    patterns = sorted(d for d in os.listdir(HERE) if os.path.exists(os.path.join(HERE, d, "example.json")))
    if len(args) != 2 or args[0] not in patterns:
        raise SystemExit(f"usage: run [--json] PATTERN [path/to/dmap]\npatterns: {', '.join(patterns)}")
    pattern, dmap = args
    directory = os.path.join(HERE, pattern)
    with open(os.path.join(directory, "example.json")) as f:
        example = json.load(f)

    server = Server(dmap, os.path.join(directory, "functions.toml"))
    party = None
    try:
        sfn = client(server.url)
        activities = {}
        for name in example.get("activities", []):
            activities[name] = sfn.create_activity(name=name)["activityArn"]
        machines = {}
        for m in example["machines"]:
            with open(os.path.join(directory, m["definition"])) as f:
                definition = f.read()
            machines[m["name"]] = sfn.create_state_machine(
                name=m["name"], definition=definition, roleArn=ROLE, type="STANDARD")["stateMachineArn"]
        started = [
            sfn.start_execution(stateMachineArn=machines[example["start"]], name=e["name"],
                                input=json.dumps(e["input"]))["executionArn"]
            for e in example["executions"]
        ]
        module = load_party(directory)
        if module is not None:
            party = Party(client(server.url), started, activities)
            threading.Thread(target=play, args=(module, party), daemon=True).start()

        ended = [wait_done(sfn, arn) for arn in started]
        others = []
        for name, arn in machines.items():
            if name != example["start"]:
                for e in sfn.list_executions(stateMachineArn=arn)["executions"]:
                    others.append(wait_done(sfn, e["executionArn"]))
        others.sort(key=lambda d: d["name"])
        reports = [report(sfn, d) for d in ended + others]
        for r in reports:
            show(r, as_json)
        if any(r["status"] in ("RUNNING", "PENDING_REDRIVE") for r in reports):
            log(f"an execution did not end within {DEADLINE_SECONDS} s; dmap serve's log:\n{server.log()}")
            return 1
        return 0
    except ClientError as e:
        # An action or definition the server refuses: its answer says why, in one line.
        log(f"run: {e}")
        if server.log():
            log(f"dmap serve's log:\n{server.log()}")
        return 1
    except Exception:
        log(f"dmap serve's log:\n{server.log()}")
        raise
    finally:
        if party is not None:
            party.stop.set()
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
