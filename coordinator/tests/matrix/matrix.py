"""The Lambda handler of coordinator/tests/child_matrix.rs (served by examples/python/dmap_runtime.py).

    attempt  fails with Boom("attempt N fails") while event["retry"] (the Task's
             $$.State.RetryCount) is below event["fail_below"]; returns the event otherwise.
             So a Task that fails once and then succeeds is deterministic, whichever process
             of the pool serves each call.
"""


class Boom(Exception):
    pass


def attempt(event, context):
    if event["retry"] < event["fail_below"]:
        raise Boom(f"attempt {event['retry']} fails")
    return event
