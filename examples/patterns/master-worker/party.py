"""run.py's outside party for the master-worker pattern: two count-words workers."""

import threading

import worker


def play(party):
    arn = party.activities["count-words"]
    workers = [
        threading.Thread(target=worker.work, args=(party.sfn, arn, f"worker-{n}", party.stop, party.say), daemon=True)
        for n in (1, 2)
    ]
    for w in workers:
        w.start()
