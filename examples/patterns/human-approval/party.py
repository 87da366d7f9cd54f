"""run.py's outside party for the approval pattern: the manager answers each request."""

import approver


def play(party):
    for arn in party.executions:
        approver.answer(party.sfn, arn, party.say, party.stop)
