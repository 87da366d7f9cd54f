"""Reads back what the example did in the local endpoint: the number of orders in the table and
the summary message the topic delivered to the subscribed queue."""
import boto3

items = boto3.client("dynamodb").scan(TableName="dmap-orders", Select="COUNT")["Count"]
sqs = boto3.client("sqs")
queue = sqs.get_queue_url(QueueName="dmap-orders-loaded")["QueueUrl"]
messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
print(f"items in dmap-orders: {items}")
print(f"summary published: {messages[0]['Body'] if messages else '(none)'}")
