//! restXml and the rest bindings, by hand from smithy's restXml and HTTP binding
//! specifications and S3's API reference (Content-MD5 values computed separately with
//! Python's hashlib). Expected requests and outputs are written out, not produced by the code.

use serde_json::{Value, json};

use super::super::{Outcome, Request, Response, ServiceError, deserialize, serialize};
use crate::integrations::aws::model::{Service, service};

fn request(service: &Service, action: &str, input: Value) -> Request {
    serialize(service, service.operation(action).unwrap(), &input).unwrap()
}

fn header<'r>(r: &'r Request, name: &str) -> Option<&'r str> {
    r.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn read(service: &Service, action: &str, status: u16, headers: &[(&str, &str)], body: &[u8]) -> Outcome {
    let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let op = service.operation(action).unwrap();
    deserialize(service, op, &Response { status, headers: &headers, body }).unwrap()
}

/// A restXml service for the bindings S3 does not use: query lists and maps, header lists and
/// timestamps, the status code, a non-streaming blob payload.
fn synthetic() -> Service {
    serde_json::from_value(json!({
        "name": "t", "botocore": "t", "service_id": "T", "error_prefix": "T", "protocol": "rest-xml",
        "api_version": "2019-12-16", "endpoint_prefix": "t", "signing_name": "t",
        "operations": {
            "Put": { "http": { "method": "POST", "requestUri": "/things/{Id}?mode=fast" },
                "input": { "shape": "PutIn", "locationName": "PutRequest", "xmlNamespace": { "uri": "urn:t" } },
                "output": { "shape": "PutOut" } },
            "Blob": { "http": { "method": "PUT", "requestUri": "/blob" }, "input": { "shape": "BlobIn" },
                "output": { "shape": "BlobIn" } }
        },
        "shapes": {
            "PutIn": { "type": "structure", "members": {
                "Id": { "shape": "Str", "location": "uri", "locationName": "Id" },
                "Tags": { "shape": "Strs", "location": "querystring", "locationName": "tag" },
                "Extra": { "shape": "StrMap", "location": "querystring" },
                "Since": { "shape": "Time", "location": "header", "locationName": "X-Since" },
                "Names": { "shape": "Strs", "location": "header", "locationName": "X-Names" },
                "Token": { "shape": "Str", "idempotencyToken": true, "location": "header", "locationName": "X-Token" },
                "Ctx": { "shape": "Str", "jsonvalue": true, "location": "header", "locationName": "X-Ctx" },
                "Note": { "shape": "Str" },
                "Count": { "shape": "Int", "locationName": "count" },
                "Pairs": { "shape": "StrMap" },
                "Flat": { "shape": "Items", "flattened": true }
            }},
            "PutOut": { "type": "structure", "members": {
                "Status": { "shape": "Int", "location": "statusCode" },
                "Since": { "shape": "Time", "location": "header", "locationName": "X-Since" },
                "Names": { "shape": "Strs", "location": "header", "locationName": "X-Names" },
                "Meta": { "shape": "StrMap", "location": "headers", "locationName": "x-meta-" },
                "Ctx": { "shape": "Str", "jsonvalue": true, "location": "header", "locationName": "X-Ctx" },
                "Items": { "shape": "Items", "flattened": true },
                "Count": { "shape": "Int", "locationName": "count" }
            }},
            "BlobIn": { "type": "structure", "members": { "Data": { "shape": "Blob" } }, "payload": "Data" },
            "Strs": { "type": "list", "member": { "shape": "Str" } },
            "Items": { "type": "list", "member": { "shape": "Str", "locationName": "Item" } },
            "StrMap": { "type": "map", "key": { "shape": "Str" }, "value": { "shape": "Str" } },
            "Str": { "type": "string" }, "Int": { "type": "integer" }, "Time": { "type": "timestamp" },
            "Blob": { "type": "blob" }
        }
    }))
    .unwrap()
}

#[test]
fn s3_put_object_binds_labels_headers_metadata_and_a_streaming_body() {
    let s3 = service("s3").unwrap();
    let r = request(
        &s3,
        "putObject",
        json!({
            "Bucket": "b", "Key": "a dir/x+y.txt", "Body": "héllo", "ContentType": "text/plain", "Metadata": { "Owner": "me" }
        }),
    );
    assert_eq!((r.method.as_str(), r.path_and_query.as_str()), ("PUT", "/b/a%20dir/x%2By.txt"));
    assert_eq!(r.body, "héllo".as_bytes());
    assert_eq!(header(&r, "content-type"), Some("text/plain"));
    assert_eq!(header(&r, "x-amz-meta-owner"), Some("me"));
    assert_eq!(r.host_prefix, None);
}

#[test]
fn s3_list_objects_v2_keeps_the_literal_query_then_adds_members() {
    let s3 = service("s3").unwrap();
    let r = request(&s3, "listObjectsV2", json!({ "Bucket": "b", "Prefix": "p/", "MaxKeys": 2 }));
    assert_eq!((r.method.as_str(), r.path_and_query.as_str()), ("GET", "/b?list-type=2&max-keys=2&prefix=p%2F"));
    assert!(r.body.is_empty());
    let e = serialize(&s3, s3.operation("getObject").unwrap(), &json!({ "Bucket": "b" })).unwrap_err();
    assert_eq!(e.0, "Key: required, as it is part of the URI");
    let e = serialize(&s3, s3.operation("getObject").unwrap(), &json!({ "Bucket": "b", "Key": "k", "Nope": 1 }));
    assert_eq!(e.unwrap_err().0, "The field \"Nope\" is not supported by Step Functions");
}

#[test]
fn s3_get_object_returns_the_body_as_text_with_headers_typed() {
    let s3 = service("s3").unwrap();
    let out = read(
        &s3,
        "getObject",
        200,
        &[
            ("last-modified", "Tue, 29 Apr 2014 18:30:38 GMT"),
            ("content-length", "6"),
            ("etag", "\"abc\""),
            ("content-type", "text/plain"),
            ("x-amz-meta-owner", "me"),
            ("accept-ranges", "bytes"),
        ],
        "héllo".as_bytes(),
    );
    assert_eq!(
        out,
        Outcome::Ok(json!({
            "Body": "héllo", "AcceptRanges": "bytes", "LastModified": "2014-04-29T18:30:38.000Z", "ContentLength": 6,
            "ETag": "\"abc\"", "ContentType": "text/plain", "Metadata": { "owner": "me" }
        }))
    );
}

#[test]
fn s3_list_objects_v2_reads_flattened_contents_and_typed_scalars() {
    let s3 = service("s3").unwrap();
    let out = read(&s3, "listObjectsV2", 200, &[], br#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount>
<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>
<Contents><Key>p/a</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&quot;e1&quot;</ETag><Size>434234</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>p/b</Key><LastModified>2009-10-12T17:50:31.250Z</LastModified><ETag>&quot;e2&quot;</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>
</ListBucketResult>"#);
    assert_eq!(
        out,
        Outcome::Ok(json!({
            "IsTruncated": false, "Name": "b", "Prefix": "p/", "MaxKeys": 1000, "KeyCount": 2,
            "Contents": [
                { "Key": "p/a", "LastModified": "2009-10-12T17:50:30.000Z", "ETag": "\"e1\"", "Size": 434234, "StorageClass": "STANDARD" },
                { "Key": "p/b", "LastModified": "2009-10-12T17:50:31.250Z", "ETag": "\"e2\"", "Size": 0, "StorageClass": "STANDARD" }
            ]
        }))
    );
}

#[test]
fn s3_errors_come_from_the_error_document_or_the_status_of_a_bodiless_response() {
    let s3 = service("s3").unwrap();
    let out = read(
        &s3,
        "getObject",
        404,
        &[("x-amz-request-id", "hdr")],
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
        <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>k</Key>\
        <RequestId>4442587FB7D0A2F9</RequestId></Error>",
    );
    assert_eq!(
        out,
        Outcome::Err(ServiceError {
            status: 404,
            code: "NoSuchKey".into(),
            message: "The specified key does not exist.".into(),
            request_id: Some("4442587FB7D0A2F9".into())
        })
    );
    let out = read(&s3, "headObject", 404, &[("x-amz-request-id", "hdr")], b"");
    assert_eq!(
        out,
        Outcome::Err(ServiceError {
            status: 404,
            code: "NotFound".into(),
            message: "Not Found".into(),
            request_id: Some("hdr".into())
        })
    );
    let out = read(&s3, "copyObject", 200, &[], b"<Error><Code>InternalError</Code><Message>retry</Message></Error>");
    assert!(matches!(out, Outcome::Err(ServiceError { status: 200, ref code, .. }) if code == "InternalError"));
}

#[test]
fn s3_structure_payloads_are_namespaced_documents_with_content_md5_where_required() {
    let s3 = service("s3").unwrap();
    let r = request(
        &s3,
        "deleteObjects",
        json!({ "Bucket": "b", "Delete": {
        "Objects": [{ "Key": "a" }, { "Key": "b c", "VersionId": "v1" }], "Quiet": true } }),
    );
    assert_eq!((r.method.as_str(), r.path_and_query.as_str()), ("POST", "/b?delete"));
    assert_eq!(
        String::from_utf8(r.body.clone()).unwrap(),
        "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
        <Object><Key>a</Key></Object><Object><Key>b c</Key><VersionId>v1</VersionId></Object><Quiet>true</Quiet></Delete>"
    );
    assert_eq!(header(&r, "content-md5"), Some("4ZJjPfI2G5hsA0U7VAKRKw=="));
    let r = request(
        &s3,
        "putBucketTagging",
        json!({ "Bucket": "b", "Tagging": { "TagSet": [{ "Key": "k", "Value": "v & w" }] } }),
    );
    assert_eq!(r.path_and_query, "/b?tagging");
    assert_eq!(
        String::from_utf8(r.body.clone()).unwrap(),
        "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
        <TagSet><Tag><Key>k</Key><Value>v &amp; w</Value></Tag></TagSet></Tagging>"
    );
    assert_eq!(header(&r, "content-md5"), Some("Vwr2ux0QiuzOlqrS6k6feA=="));
    let r = request(
        &s3,
        "putBucketAcl",
        json!({ "Bucket": "b", "AccessControlPolicy": { "Grants": [
        { "Grantee": { "Type": "CanonicalUser", "ID": "id1" }, "Permission": "READ" }] } }),
    );
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
        <AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">\
        <ID>id1</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>"
    );
}

#[test]
fn s3_control_fills_the_host_prefix_from_its_host_label() {
    let s3control = service("s3control").unwrap();
    let r = request(&s3control, "getPublicAccessBlock", json!({ "AccountId": "123456789012" }));
    assert_eq!(r.host_prefix.as_deref(), Some("123456789012."));
    assert_eq!(header(&r, "x-amz-account-id"), Some("123456789012"));
    let op = s3control.operation("getPublicAccessBlock").unwrap();
    assert!(serialize(&s3control, op, &json!({ "AccountId": "a.b" })).is_err());
}

#[test]
fn query_lists_and_maps_header_lists_and_dates_and_body_members_follow_the_bindings() {
    let t = synthetic();
    let r = request(
        &t,
        "put",
        json!({
            "Id": "a/b", "Tags": ["x", "y z"], "Extra": { "tag": "ignored", "k": "v" },
            "Since": "2014-04-29T18:30:38Z", "Names": ["a", "b,c"], "Token": "tok", "Ctx": { "a": 1 }, "Note": "n", "Count": 2,
            "Pairs": { "p": "1 < 2" }, "Flat": ["x", "y"]
        }),
    );
    assert_eq!(r.path_and_query, "/things/a%2Fb?mode=fast&tag=x&tag=y%20z&k=v");
    assert_eq!(header(&r, "x-since"), Some("Tue, 29 Apr 2014 18:30:38 GMT"));
    assert_eq!(header(&r, "x-names"), Some("a, \"b,c\""));
    assert_eq!(header(&r, "x-token"), Some("tok"));
    // base64 of the JSON text `{"a":1}`
    assert_eq!(header(&r, "x-ctx"), Some("eyJhIjoxfQ=="));
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        "<PutRequest xmlns=\"urn:t\"><Note>n</Note><count>2</count>\
        <Pairs><entry><key>p</key><value>1 &lt; 2</value></entry></Pairs><Item>x</Item><Item>y</Item></PutRequest>"
    );
    let generated = request(&t, "put", json!({ "Id": "1" }));
    assert_eq!(header(&generated, "x-token").map(str::len), Some(36), "a fresh UUID fills the idempotency token");
    assert!(generated.body.is_empty());
}

#[test]
fn outputs_read_the_status_header_lists_prefixed_headers_and_the_body() {
    let t = synthetic();
    let out = read(
        &t,
        "put",
        201,
        &[
            ("x-since", "Tue, 29 Apr 2014 18:30:38 GMT"),
            ("x-names", "a, \"b,c\""),
            ("x-meta-one", "1"),
            ("x-ctx", "eyJhIjoxfQ=="),
        ],
        b"<PutResponse><Item>i1</Item><Item>i2</Item><count>3</count></PutResponse>",
    );
    assert_eq!(
        out,
        Outcome::Ok(json!({ "Status": 201, "Since": "2014-04-29T18:30:38.000Z", "Names": ["a", "b,c"],
        "Meta": { "one": "1" }, "Ctx": "{\"a\":1}", "Items": ["i1", "i2"], "Count": 3 }))
    );
}

#[test]
fn a_blob_payload_that_is_not_streamed_is_base64_both_ways() {
    let t = synthetic();
    let r = request(&t, "blob", json!({ "Data": "aGk=" }));
    assert_eq!(r.body, b"hi");
    assert_eq!(read(&t, "blob", 200, &[], b"hi"), Outcome::Ok(json!({ "Data": "aGk=" })));
}

#[test]
fn s3_list_buckets_wrapped_lists_and_get_bucket_location_as_the_root() {
    let s3 = service("s3").unwrap();
    let out = read(&s3, "listBuckets", 200, &[], b"<ListAllMyBucketsResult><Owner><ID>o1</ID></Owner><Buckets>\
        <Bucket><Name>a</Name><CreationDate>2019-12-11T23:32:47+00:00</CreationDate></Bucket>\
        <Bucket><Name>b</Name><CreationDate>2019-12-11T23:32:47.5Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>");
    assert_eq!(
        out,
        Outcome::Ok(json!({ "Buckets": [
        { "Name": "a", "CreationDate": "2019-12-11T23:32:47.000Z" },
        { "Name": "b", "CreationDate": "2019-12-11T23:32:47.500Z" }
    ], "Owner": { "ID": "o1" } }))
    );
    let out = read(
        &s3,
        "getBucketLocation",
        200,
        &[],
        b"<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">eu-west-1</LocationConstraint>",
    );
    assert_eq!(out, Outcome::Ok(json!({ "LocationConstraint": "eu-west-1" })));
}
