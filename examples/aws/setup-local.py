"""Creates what the example needs in a local AWS-protocol endpoint (moto): the table, the topic,
and a queue subscribed to the topic so the summary can be read back. Prints the execution input.
Reads AWS_ENDPOINT_URL and the dummy credentials from the environment."""
import json

import boto3

dynamodb = boto3.client("dynamodb")
dynamodb.create_table(
    TableName="dmap-orders",
    KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)
sns, sqs = boto3.client("sns"), boto3.client("sqs")
topic = sns.create_topic(Name="dmap-orders-loaded")["TopicArn"]
queue = sqs.create_queue(QueueName="dmap-orders-loaded")["QueueUrl"]
queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
print(json.dumps({"bucket": "dmap-examples", "table": "dmap-orders", "topic_arn": topic}))
