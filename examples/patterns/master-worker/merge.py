"""The master's reduce step (a Lambda handler): merges the workers' counts."""


def merge_counts(event, context):
    """Totals, and the three most frequent words (ties in alphabetical order)."""
    totals = {}
    for part in event["counts"]:
        for word, n in part["counts"].items():
            totals[word] = totals.get(word, 0) + n
    top = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return {
        "job_id": event["job_id"],
        "chunks": len(event["counts"]),
        "words": sum(part["words"] for part in event["counts"]),
        "distinct": len(totals),
        "top": [{"word": w, "count": n} for w, n in top],
    }
