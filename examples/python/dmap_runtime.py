#!/usr/bin/env python3
"""A dmap runtime for Python Lambda handlers: the JSON Lines protocol, no dependencies.

    [functions.price]
    command = ["python3", "dmap_runtime.py", "price:handler"]

dmap writes one request per line on stdin:
    {"id": 1, "event": {...}, "context": {"aws_request_id": "...", "deadline_ms": ..., ...}}
and this runtime answers each with one line on stdout:
    {"id": 1, "result": ...}
    {"id": 1, "error": {"errorMessage": "...", "errorType": "...", "stackTrace": [...]}}
and, when the handler calls context.heartbeat(), {"id": 1, "heartbeat": true} before that.

The handler's module is imported from the working directory (or next to this file). Anything
the handler prints goes to stderr, which dmap copies to its own; stdout carries the protocol.
"""

import importlib
import json
import os
import sys
import time
import traceback


class Context:
    """The Lambda context object, with the attributes Python handlers use."""

    def __init__(self, fields, send_heartbeat):
        self.__dict__.update(fields)
        self._send_heartbeat = send_heartbeat

    def get_remaining_time_in_millis(self):
        return max(0, int(self.deadline_ms - time.time() * 1000))

    def heartbeat(self):
        """Tells dmap the call is alive: resets the Task's HeartbeatSeconds."""
        self._send_heartbeat()


def error_of(exc, error_type=None, message=None, skip=0):
    """Lambda's error object; `skip` drops this runtime's own frames from the trace."""
    return {
        "errorMessage": message or str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__)[skip:],
    }


def load(spec):
    module_name, _, function_name = spec.partition(":")
    sys.path[:0] = [os.getcwd()]
    sys.dont_write_bytecode = True  # no __pycache__ left next to the user's handlers
    return getattr(importlib.import_module(module_name), function_name or "handler")


def main():
    protocol = sys.stdout.buffer
    sys.stdout = sys.stderr  # print() in a handler must not break the protocol

    def send(message):
        protocol.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        protocol.flush()

    spec = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        handler, init_error = load(spec), None
    except Exception as exc:  # reported on every call, as Lambda does
        handler = None
        init_error = error_of(exc, "Runtime.ImportModuleError", f"Unable to import module '{spec}': {exc}")

    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        request = json.loads(line)
        rid = request["id"]
        if init_error:
            send({"id": rid, "error": init_error})
            continue
        context = Context(request.get("context") or {}, lambda: send({"id": rid, "heartbeat": True}))
        try:
            result = handler(request.get("event"), context)
        except Exception as exc:
            send({"id": rid, "error": error_of(exc, skip=1)})
            continue
        try:
            send({"id": rid, "result": result})
        except (TypeError, ValueError) as exc:
            message = f"Unable to marshal response: {exc}"
            send({"id": rid, "error": error_of(exc, "Runtime.MarshalError", message)})


if __name__ == "__main__":
    main()
