"""Turns botocore's service models into the two files dmap embeds (see refresh-aws-models).

Only what a client needs is kept: protocol metadata, each operation's HTTP binding and shapes,
and each shape's wire names, types and constraints (required members, enums, ranges: what
TestState checks mocked results against). Documentation and examples are dropped.
"""
import json, re, sys, zipfile, zlib

WHEEL, VERSION, CATALOGUE, MODELS = sys.argv[1:5]
# The protocols dmap speaks, most preferred first, when a model lists several.
SPOKEN = ["json", "rest-json", "query", "rest-xml", "ec2"]
SHAPE_KEYS = {"type", "members", "member", "key", "value", "flattened", "locationName",
              "xmlNamespace", "timestampFormat", "payload", "streaming", "eventstream",
              "exception", "error", "union", "document", "requiresLength",
              # Kept for TestState's check of mocked results (fieldValidationMode).
              "required", "enum", "min", "max"}
MEMBER_KEYS = {"shape", "location", "locationName", "xmlNamespace", "xmlAttribute", "flattened",
               "queryName", "jsonvalue", "idempotencyToken", "hostLabel", "timestampFormat",
               "streaming", "eventpayload"}


def sfn_name(service_id):
    """Step Functions names an SDK service by its serviceId, lower case, without separators."""
    return re.sub(r"[^a-z0-9]", "", service_id.lower())


def error_prefix(service_id):
    """The prefix of an aws-sdk error name: the serviceId in the AWS SDK for Java 2.x's
    PascalCase (DynamoDB -> DynamoDb, EC2 -> Ec2, CloudWatch Logs -> CloudWatchLogs)."""
    out = []
    for word in re.split(r"[^A-Za-z0-9]+", service_id):
        for part in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", word):
            out.append(part[0].upper() + (part[1:].lower() if part.isupper() else part[1:]))
    return "".join(out)


def member(m):
    return {k: v for k, v in m.items() if k in MEMBER_KEYS}


def shape(s):
    out = {k: v for k, v in s.items() if k in SHAPE_KEYS}
    if "members" in out:
        out["members"] = {n: member(m) for n, m in out["members"].items()}
    for k in ("member", "key", "value"):
        if k in out:
            out[k] = member(out[k])
    return out


def main():
    z = zipfile.ZipFile(WHEEL)
    names = z.namelist()
    endpoints = json.loads(z.read("botocore/data/endpoints.json"))
    aws = next(p for p in endpoints["partitions"] if p["partition"] == "aws")
    latest = {}
    for n in names:
        m = re.fullmatch(r"botocore/data/([^/]+)/([^/]+)/service-2\.json\.gz", n)
        if m and (m.group(1) not in latest or m.group(2) > latest[m.group(1)][0]):
            latest[m.group(1)] = (m.group(2), n)
    catalogue, blobs, catalogue_names = [], {}, {}
    for botoname in sorted(latest):
        model = json.loads(zlib.decompress(z.read(latest[botoname][1]), 31))
        meta = model["metadata"]
        sid = meta.get("serviceId") or meta.get("serviceAbbreviation") or botoname
        name = sfn_name(sid)
        if name in blobs:  # botocore keeps an old alias of some services (sms-voice)
            print(f"skipped {botoname}: {name} is already {catalogue_names[name]}")
            continue
        catalogue_names[name] = botoname
        listed = meta.get("protocols", [meta["protocol"]])
        protocol = next((p for p in SPOKEN if p in listed), listed[0])
        prefix = meta.get("endpointPrefix", botoname)
        compact = {
            "name": name, "botocore": botoname, "service_id": sid, "error_prefix": error_prefix(sid),
            "protocol": protocol, "api_version": meta.get("apiVersion"),
            "json_version": meta.get("jsonVersion"), "target_prefix": meta.get("targetPrefix"),
            "endpoint_prefix": prefix, "signing_name": meta.get("signingName", prefix),
            "xml_namespace": (meta.get("xmlNamespace") or None),
            "operations": {}, "shapes": {n: shape(s) for n, s in model["shapes"].items()},
        }
        svc = aws["services"].get(prefix, {})
        if svc.get("isRegionalized") is False:
            ep = svc.get("endpoints", {}).get(svc.get("partitionEndpoint", ""), {})
            compact["global"] = {"hostname": ep.get("hostname", f"{prefix}.amazonaws.com"),
                                 "region": ep.get("credentialScope", {}).get("region", "us-east-1")}
        for op_name, op in model["operations"].items():
            c = {"http": op.get("http", {})}
            for k in ("input", "output"):
                if k in op:
                    c[k] = {kk: vv for kk, vv in op[k].items() if kk in ("shape", "resultWrapper", "locationName", "xmlNamespace")}
            if "endpoint" in op and "hostPrefix" in op["endpoint"]:
                c["host_prefix"] = op["endpoint"]["hostPrefix"]
            if op.get("httpChecksumRequired") or op.get("httpChecksum", {}).get("requestChecksumRequired"):
                c["checksum_required"] = True
            compact["operations"][op_name] = c
        blobs[name] = zlib.compress(json.dumps(compact, separators=(",", ":")).encode(), 9)
        catalogue.append(f"{name} {compact['error_prefix']} {protocol} " + " ".join(sorted(model["operations"])))
    with open(CATALOGUE, "w") as f:
        f.write(f"# generated by scripts/refresh-aws-models from botocore {VERSION} (Apache-2.0): "
                "SFN service name, error prefix, protocol, operations\n")
        f.write("\n".join(catalogue) + "\n")
    # models.bin: "DMAPAWS1\n", one line of JSON {name: [offset, length]}, then the zlib frames.
    index, offset = {}, 0
    for name, blob in blobs.items():
        index[name] = [offset, len(blob)]
        offset += len(blob)
    with open(MODELS, "wb") as f:
        f.write(b"DMAPAWS1\n" + json.dumps(index, separators=(",", ":")).encode() + b"\n")
        for blob in blobs.values():
            f.write(blob)
    print(f"{len(blobs)} services from botocore {VERSION}: {CATALOGUE}, {MODELS} ({offset} bytes of models)")


main()
