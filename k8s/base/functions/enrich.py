"""The example handler of the k8s/ sample run: a Lambda handler, unchanged from AWS.

An ItemBatcher sends {"Items": [...]}; each item gets a `band` from the field named by
SCORE_FIELD and the list is returned (the child execution's output).
"""

import os


def band(value):
    if not isinstance(value, (int, float)):
        return "invalid"
    if value < 10:
        return "small"
    if value < 100:
        return "medium"
    return "large"


def handler(event, context):
    field = os.environ.get("SCORE_FIELD", "amount")
    return [dict(item, band=band(item.get(field))) for item in event["Items"]]
