#!/usr/bin/env python3
"""The count-words activity worker: long-polls GetActivityTask, counts the words of the chunk it
is handed, heartbeats, and answers with SendTaskSuccess (SendTaskFailure when the input is not a
chunk). Run as many as you like, anywhere that reaches the Step Functions endpoint:

    AWS_ENDPOINT_URL=http://127.0.0.1:8083 python3 worker.py ACTIVITY_ARN [WORKER_NAME]

run.py starts two of them in threads (party.py)."""

import json
import re
import sys


def count(chunk):
    """Lower-cased words (letters and apostrophes) and how often each occurs."""
    words = re.findall(r"[a-z']+", chunk["text"].lower())
    counts = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    return {"chunk": chunk["chunk"], "words": len(words), "counts": counts}


def work(sfn, activity_arn, name, stop=None, say=print):
    """Serves tasks until `stop` is set (or forever)."""
    while stop is None or not stop.is_set():
        try:
            task = sfn.get_activity_task(activityArn=activity_arn, workerName=name)
        except Exception as exc:  # the server went away: a real worker would back off and retry
            if stop is not None and stop.is_set():
                return
            say(f"{name}: GetActivityTask failed: {exc}")
            return
        token = task.get("taskToken")
        if not token:  # the long poll ended with no task
            continue
        chunk = json.loads(task["input"])
        try:
            result = count(chunk)
        except (KeyError, TypeError, AttributeError) as exc:
            sfn.send_task_failure(taskToken=token, error="BadChunk", cause=repr(exc))
            continue
        sfn.send_task_heartbeat(taskToken=token)
        sfn.send_task_success(taskToken=token, output=json.dumps(result))
        say(f"{name}: counted chunk {chunk['chunk']} ({result['words']} words)")


if __name__ == "__main__":
    import boto3

    work(boto3.client("stepfunctions"), sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "worker")
