//! awsQuery and ec2, by hand from the protocols' specifications (smithy's awsQuery and ec2
//! protocol pages and their request/response test cases) and AWS's API references for SNS and
//! EC2: each expected form or JSON is written out, not produced by the code under test.

use serde_json::{Value, json};

use super::super::{Outcome, Response, ServiceError, deserialize, serialize};
use crate::integrations::aws::model::{Service, service};

fn form(service: &Service, action: &str, input: Value) -> String {
    let op = service.operation(action).unwrap();
    let request = serialize(service, op, &input).unwrap();
    assert_eq!((request.method.as_str(), request.path_and_query.as_str()), ("POST", "/"));
    assert_eq!(
        request.headers,
        [("content-type".to_owned(), "application/x-www-form-urlencoded; charset=utf-8".to_owned())]
    );
    String::from_utf8(request.body).unwrap()
}

fn read(service: &Service, action: &str, status: u16, body: &str) -> Outcome {
    let op = service.operation(action).unwrap();
    let headers = [("x-amzn-requestid".to_owned(), "hdr-id".to_owned())];
    deserialize(service, op, &Response { status, headers: &headers, body: body.as_bytes() }).unwrap()
}

/// A query service whose shapes exercise what SNS and EC2 do not: flattened lists and maps,
/// renamed items, timestamps, numbers, booleans.
fn synthetic(protocol: &str) -> Service {
    serde_json::from_value(json!({
        "name": "t", "botocore": "t", "service_id": "T", "error_prefix": "T", "protocol": protocol,
        "api_version": "2020-01-08", "endpoint_prefix": "t", "signing_name": "t",
        "operations": {
            "Op": { "http": { "method": "POST", "requestUri": "/" },
                "input": { "shape": "In" }, "output": { "shape": "Out", "resultWrapper": "OpResult" } }
        },
        "shapes": {
            "In": { "type": "structure", "members": {
                "Flat": { "shape": "Strings", "flattened": true },
                "FlatItem": { "shape": "Items" , "flattened": true },
                "Renamed": { "shape": "Items", "locationName": "Other" },
                "FlatMap": { "shape": "KV", "flattened": true },
                "When": { "shape": "Time" },
                "Epoch": { "shape": "Time", "timestampFormat": "unixTimestamp" },
                "Count": { "shape": "Int" },
                "On": { "shape": "Bool" },
                "Data": { "shape": "Blob" },
                "Nested": { "shape": "In" }
            }},
            "Out": { "type": "structure", "members": {
                "Flat": { "shape": "Strings", "flattened": true },
                "FlatItem": { "shape": "Items", "flattened": true },
                "Wrapped": { "shape": "Strings" },
                "Map": { "shape": "KV" },
                "FlatMap": { "shape": "KV", "flattened": true },
                "When": { "shape": "Time" },
                "Count": { "shape": "Int" },
                "Ratio": { "shape": "Dbl" },
                "On": { "shape": "Bool" },
                "Absent": { "shape": "Int" }
            }},
            "Strings": { "type": "list", "member": { "shape": "Str" } },
            "Items": { "type": "list", "member": { "shape": "Str", "locationName": "item" } },
            "KV": { "type": "map", "key": { "shape": "Str", "locationName": "K" }, "value": { "shape": "Int", "locationName": "V" } },
            "Str": { "type": "string" }, "Int": { "type": "integer" }, "Dbl": { "type": "double" },
            "Bool": { "type": "boolean" }, "Time": { "type": "timestamp" }, "Blob": { "type": "blob" }
        }
    }))
    .unwrap()
}

#[test]
fn sns_publish_flattens_a_map_of_structures_under_entry_with_the_models_names() {
    let sns = service("sns").unwrap();
    let body = form(
        &sns,
        "publish",
        json!({
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
            "Message": "hello world & more",
            "MessageAttributes": { "color": { "DataType": "String", "StringValue": "red" } }
        }),
    );
    assert_eq!(
        body,
        "Action=Publish&Version=2010-03-31\
        &TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3At\
        &Message=hello%20world%20%26%20more\
        &MessageAttributes.entry.1.Name=color\
        &MessageAttributes.entry.1.Value.DataType=String\
        &MessageAttributes.entry.1.Value.StringValue=red"
    );
}

#[test]
fn sns_create_topic_lists_are_member_n_and_an_empty_list_is_sent_empty() {
    let sns = service("sns").unwrap();
    let body = form(
        &sns,
        "createTopic",
        json!({
            "Name": "t", "Attributes": { "DisplayName": "T" }, "Tags": [{ "Key": "k", "Value": "v" }, { "Key": "k2", "Value": "v2" }]
        }),
    );
    assert_eq!(
        body,
        "Action=CreateTopic&Version=2010-03-31&Name=t\
        &Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=T\
        &Tags.member.1.Key=k&Tags.member.1.Value=v&Tags.member.2.Key=k2&Tags.member.2.Value=v2"
    );
    assert_eq!(
        form(&sns, "createTopic", json!({ "Name": "t", "Tags": [] })),
        "Action=CreateTopic&Version=2010-03-31&Name=t&Tags="
    );
    assert_eq!(form(&sns, "listSubscriptions", Value::Null), "Action=ListSubscriptions&Version=2010-03-31");
}

#[test]
fn parameters_the_api_does_not_have_or_of_the_wrong_type_are_refused() {
    let sns = service("sns").unwrap();
    let op = sns.operation("publish").unwrap();
    let e = serialize(&sns, op, &json!({ "Message": "m", "Nope": 1 })).unwrap_err();
    assert_eq!(e.0, "Nope: no such member");
    let e = serialize(&sns, op, &json!({ "MessageAttributes": { "a": { "DataTyp": "S" } } })).unwrap_err();
    assert_eq!(e.0, "MessageAttributes.entry.1.Value.DataTyp: no such member");
    assert!(serialize(&sns, op, &json!({ "MessageAttributes": [1] })).is_err());
    assert!(serialize(&sns, op, &json!("text")).is_err());
}

#[test]
fn flattened_lists_and_maps_renamed_items_and_scalars_follow_the_query_rules() {
    let t = synthetic("query");
    let body = form(
        &t,
        "op",
        json!({
            "Flat": ["a", "b"], "FlatItem": ["c"], "Renamed": ["d"], "FlatMap": { "x": 1 },
            "When": "2014-04-29T18:30:38Z", "Epoch": "2014-04-29T18:30:38.5Z", "Count": 3, "On": true,
            "Data": "aGk=", "Nested": { "Count": 4 }
        }),
    );
    assert_eq!(
        body,
        "Action=Op&Version=2020-01-08&Flat.1=a&Flat.2=b&item.1=c&Other.item.1=d\
        &FlatMap.1.K=x&FlatMap.1.V=1&When=2014-04-29T18%3A30%3A38Z&Epoch=1398796238.500&Count=3&On=true\
        &Data=aGk%3D&Nested.Count=4"
    );
}

#[test]
fn ec2_names_are_capitalised_and_lists_always_flat() {
    let ec2 = service("ec2").unwrap();
    let body = form(
        &ec2,
        "describeRegions",
        json!({
            "RegionNames": ["us-east-1", "eu-west-1"], "DryRun": false,
            "Filters": [{ "Name": "endpoint", "Values": ["*amazon*"] }]
        }),
    );
    assert_eq!(
        body,
        "Action=DescribeRegions&Version=2016-11-15&RegionName.1=us-east-1&RegionName.2=eu-west-1\
        &DryRun=false&Filter.1.Name=endpoint&Filter.1.Value.1=%2Aamazon%2A"
    );
    let body = form(
        &ec2,
        "createVpc",
        json!({
            "CidrBlock": "10.0.0.0/16", "InstanceTenancy": "default",
            "TagSpecifications": [{ "ResourceType": "vpc", "Tags": [{ "Key": "n", "Value": "v" }] }]
        }),
    );
    assert_eq!(
        body,
        "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16\
        &TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=n&TagSpecification.1.Tag.1.Value=v\
        &InstanceTenancy=default"
    );
    assert_eq!(
        form(&ec2, "describeRegions", json!({ "RegionNames": [] })),
        "Action=DescribeRegions&Version=2016-11-15"
    );
}

#[test]
fn a_query_result_is_read_from_inside_its_wrapper() {
    let sns = service("sns").unwrap();
    let out = read(
        &sns,
        "publish",
        200,
        r#"<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
        <PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult>
        <ResponseMetadata><RequestId>f187a3c1</RequestId></ResponseMetadata></PublishResponse>"#,
    );
    assert_eq!(out, Outcome::Ok(json!({ "MessageId": "94f20ce6-13c5-43a0-9a9e-ca52d816e90b" })));
    let out = read(
        &sns,
        "listSubscriptions",
        200,
        r#"<ListSubscriptionsResponse><ListSubscriptionsResult>
        <Subscriptions><member><TopicArn>arn:t</TopicArn><Protocol>email</Protocol>
        <SubscriptionArn>arn:s</SubscriptionArn><Owner>123</Owner><Endpoint>a@b.c</Endpoint></member></Subscriptions>
        <NextToken>n</NextToken></ListSubscriptionsResult></ListSubscriptionsResponse>"#,
    );
    assert_eq!(
        out,
        Outcome::Ok(json!({ "Subscriptions": [{ "SubscriptionArn": "arn:s", "Owner": "123",
        "Protocol": "email", "Endpoint": "a@b.c", "TopicArn": "arn:t" }], "NextToken": "n" }))
    );
    let out = read(
        &sns,
        "getTopicAttributes",
        200,
        r#"<GetTopicAttributesResponse><GetTopicAttributesResult>
        <Attributes><entry><key>Owner</key><value>123</value></entry><entry><key>Policy</key><value>{}</value></entry>
        </Attributes></GetTopicAttributesResult></GetTopicAttributesResponse>"#,
    );
    assert_eq!(out, Outcome::Ok(json!({ "Attributes": { "Owner": "123", "Policy": "{}" } })));
}

#[test]
fn output_scalars_are_typed_by_shape_and_flattened_collections_are_gathered() {
    let t = synthetic("query");
    let out = read(
        &t,
        "op",
        200,
        "<OpResponse><OpResult>\
        <Flat>a</Flat><Flat>b</Flat><item>c</item><Wrapped><member>w</member><member></member></Wrapped>\
        <Map><entry><K>x</K><V>1</V></entry></Map><FlatMap><K>y</K><V>2</V></FlatMap><FlatMap><K>z</K><V>3</V></FlatMap>\
        <When>2014-04-29T18:30:38Z</When><Count>7</Count><Ratio>0.5</Ratio><On>false</On>\
        </OpResult></OpResponse>",
    );
    assert_eq!(
        out,
        Outcome::Ok(json!({
            "Flat": ["a", "b"], "FlatItem": ["c"], "Wrapped": ["w", ""], "Map": { "x": 1 }, "FlatMap": { "y": 2, "z": 3 },
            "When": "2014-04-29T18:30:38.000Z", "Count": 7, "Ratio": 0.5, "On": false
        }))
    );
}

#[test]
fn query_errors_carry_the_modelled_code_message_and_request_id() {
    let sns = service("sns").unwrap();
    let out = read(
        &sns,
        "publish",
        404,
        r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
        <Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error>
        <RequestId>9dd01905-5012-5f99-8663-4b3ecd0dfaef</RequestId></ErrorResponse>"#,
    );
    assert_eq!(
        out,
        Outcome::Err(ServiceError {
            status: 404,
            code: "NotFoundException".into(),
            message: "Topic does not exist".into(),
            request_id: Some("9dd01905-5012-5f99-8663-4b3ecd0dfaef".into())
        })
    );
    let out = read(&sns, "publish", 503, "Service Unavailable");
    assert_eq!(
        out,
        Outcome::Err(ServiceError {
            status: 503,
            code: String::new(),
            message: "Service Unavailable".into(),
            request_id: Some("hdr-id".into())
        })
    );
}

#[test]
fn ec2_responses_have_no_wrapper_and_items_are_item_elements() {
    let ec2 = service("ec2").unwrap();
    let out = read(
        &ec2,
        "describeRegions",
        200,
        r#"<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
        <requestId>59dbff89</requestId><regionInfo>
        <item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint>
        <optInStatus>opt-in-not-required</optInStatus></item>
        <item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint></item>
        </regionInfo></DescribeRegionsResponse>"#,
    );
    assert_eq!(
        out,
        Outcome::Ok(json!({ "Regions": [
            { "OptInStatus": "opt-in-not-required", "RegionName": "us-east-1", "Endpoint": "ec2.us-east-1.amazonaws.com" },
            { "RegionName": "eu-west-1", "Endpoint": "ec2.eu-west-1.amazonaws.com" }
        ]}))
    );
    let out = read(
        &ec2,
        "describeVpcs",
        200,
        "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-1</vpcId>\
        <isDefault>true</isDefault><tagSet><item><key>n</key><value>v</value></item></tagSet></item></vpcSet>\
        </DescribeVpcsResponse>",
    );
    assert_eq!(
        out,
        Outcome::Ok(
            json!({ "Vpcs": [{ "IsDefault": true, "Tags": [{ "Key": "n", "Value": "v" }], "VpcId": "vpc-1" }] })
        )
    );
}

#[test]
fn ec2_errors_are_read_from_response_errors() {
    let ec2 = service("ec2").unwrap();
    let out = read(
        &ec2,
        "describeVpcs",
        400,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>\
        <Code>InvalidVpcID.NotFound</Code><Message>The vpc ID 'vpc-9' does not exist</Message></Error></Errors>\
        <RequestID>a3a4c8b1</RequestID></Response>",
    );
    assert_eq!(
        out,
        Outcome::Err(ServiceError {
            status: 400,
            code: "InvalidVpcID.NotFound".into(),
            message: "The vpc ID 'vpc-9' does not exist".into(),
            request_id: Some("a3a4c8b1".into())
        })
    );
}

#[test]
fn an_idempotency_token_left_out_is_a_fresh_uuid_and_one_given_is_kept() {
    let ec2 = service("ec2").unwrap();
    let body = form(&ec2, "disableCapacityManager", json!({ "DryRun": true }));
    let token = body.strip_prefix("Action=DisableCapacityManager&Version=2016-11-15&DryRun=true&ClientToken=").unwrap();
    assert_eq!(token.len(), 36, "{body}");
    assert!(uuid::Uuid::parse_str(token).is_ok(), "{body}");
    assert_eq!(
        form(&ec2, "disableCapacityManager", json!({ "ClientToken": "mine" })),
        "Action=DisableCapacityManager&Version=2016-11-15&ClientToken=mine"
    );
}
