# Requests signed by botocore (an implementation of SigV4 independent of dmap's), for the tests
# in tests.rs. Prints one JSON object: case name -> {method, path, headers, body}. Each request
# is signed now, with botocore's clock; the tests read the instant back from X-Amz-Date.
import hashlib
import json
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
BODY = '{"maxResults":10,"nextToken":"caf\u00e9"}'.encode()


def signed(key=KEY, secret=SECRET, service="states", region="us-east-1", token=None, method="POST",
           url="http://127.0.0.1:8083/", body=BODY, extra=None):
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions.ListStateMachines"}
    headers.update(extra or {})
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials(key, secret, token), service, region).add_auth(request)
    parts = urlsplit(url)
    # botocore signs the host of the URL; the HTTP client sends it as the Host header.
    pairs = [["host", parts.netloc]] + [[k, v] for k, v in request.headers.items()]
    path = parts.path + ("?" + parts.query if parts.query else "")
    return {"method": method, "path": path, "headers": pairs, "body": body.decode()}


print(json.dumps({
    "valid": signed(),
    "wrong_secret": signed(secret="not-the-secret"),
    "unknown_key": signed(key="AKIDUNKNOWN"),
    "wrong_service": signed(service="lambda"),
    "wrong_region": signed(region="eu-west-1"),
    "session_token": signed(token="FQoGZXIvYXdzEXAMPLE"),
    "empty_body": signed(body=b""),
    "encoded_path_and_query": signed(method="GET", url="http://127.0.0.1:8083/a%20b/c?b=2&a=1", body=b""),
    "content_sha256": signed(extra={"X-Amz-Content-SHA256": hashlib.sha256(BODY).hexdigest()}),
}))
