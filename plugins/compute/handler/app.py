"""The tenant API: one tenant's records (DynamoDB) and objects (S3) behind a Lambda function URL.

Every deployment serves exactly one tenant, named by the TENANT_ID environment variable. A request
may name a tenant in its path (`/tenants/{tenant_id}/...`) or in an `x-tenant-id` header; any tenant
other than this deployment's own is refused with 403, so a client can never address another
tenant's data even by mistake (IAM already keeps the role on its own table and bucket).

Routes (optionally prefixed with `/tenants/{tenant_id}`):
  GET /records                   all records of the tenant
  GET /records/{resource_type}   one record, 404 if absent
  PUT /records/{resource_type}   store a JSON object body as the record's data
  GET /objects/{key}             one object (base64 body), 404 if absent
  PUT /objects/{key}             store the request body as the object

EventBridge events (the tenant's rule on the platform bus routes `saas.*` events whose
`detail.tenant_id` is this tenant) are recorded as the record `event.{id}` with their source,
detail-type, time and detail. Any other event raises, so the invocation fails and Lambda retries it
and then sends it to the function's dead-letter queue: an event is never acknowledged without
being processed (issue 9 item 3).

AWS clients come from `client_factory`, a module-level function tests replace with fakes.
"""

import base64
import json
import logging
import os
import re
import sys
import time
import traceback
from decimal import Decimal
from urllib.parse import unquote

MAX_KEY_BYTES = 1024
RESOURCE_TYPE = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line, so CloudWatch Logs Insights discovers every field."""

    def format(self, record):
        line = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, sort_keys=True, default=str)


class StdoutHandler(logging.Handler):
    """Writes to whatever `sys.stdout` is at the time, which the Lambda runtime captures."""

    def emit(self, record):
        sys.stdout.write(self.format(record) + "\n")


def _logger():
    logger = logging.getLogger("tenant_api")
    if not logger.handlers:
        handler = StdoutHandler()
        handler.setFormatter(JsonLineFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        # The runtime's root handler would log every line a second time.
        logger.propagate = False
    return logger


LOG = _logger()


def log(level, message, **fields):
    LOG.log(level, message, extra={"fields": fields})


def _boto3_clients():
    # Imported here so tests run without boto3; the Lambda runtime ships it.
    import boto3

    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    return table, boto3.client("s3")


client_factory = _boto3_clients
_clients = None


def clients():
    """The (table, s3) pair, created once per execution environment."""
    global _clients
    if _clients is None:
        _clients = client_factory()
    return _clients


class HttpError(Exception):
    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _json_default(value):
    # DynamoDB returns every number as Decimal.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def response(status, body, headers=None):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body, sort_keys=True, default=_json_default),
    }


def _request_parts(event):
    http = event.get("requestContext", {}).get("http", {})
    method = http.get("method", "GET").upper()
    path = event.get("rawPath") or http.get("path") or "/"
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    return method, path, headers


def _body_bytes(event):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except ValueError as error:
            raise HttpError(400, "body is not valid base64") from error
    return body.encode("utf-8")


def _own_tenant_path(path, headers, tenant_id):
    """Checks the tenant the request names (path prefix or header) and returns the path without
    the prefix."""
    # Empty segments are kept so that a key like `a//b` is seen, and refused, as written.
    segments = path.removeprefix("/").split("/") if path != "/" else []
    requested = []
    if len(segments) >= 2 and segments[0] == "tenants":
        requested.append(unquote(segments[1]))
        segments = segments[2:]
    if "x-tenant-id" in headers:
        requested.append(headers["x-tenant-id"])
    for other in requested:
        if other != tenant_id:
            raise HttpError(403, "this API serves only its own tenant")
    return segments


def _object_key(raw_segments):
    key = unquote("/".join(raw_segments))
    encoded = key.encode("utf-8")
    if not key or len(encoded) > MAX_KEY_BYTES:
        raise HttpError(400, f"object keys are 1 to {MAX_KEY_BYTES} bytes")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise HttpError(400, "object keys have no empty, '.' or '..' segments")
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise HttpError(400, "object keys have no control characters")
    return key


def _resource_type(segment):
    resource_type = unquote(segment)
    if not RESOURCE_TYPE.match(resource_type):
        raise HttpError(400, "resource types are 1 to 255 of A-Z a-z 0-9 _ . -")
    return resource_type


def _allow(method, allowed):
    if method not in allowed:
        raise HttpError(405, f"use {', '.join(allowed)}", {"allow": ", ".join(allowed)})


def list_records(table, tenant_id):
    items, start = [], None
    while True:
        query = {
            "KeyConditionExpression": "tenant_id = :tenant",
            "ExpressionAttributeValues": {":tenant": tenant_id},
        }
        if start is not None:
            query["ExclusiveStartKey"] = start
        page = table.query(**query)
        items.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if start is None:
            return [_record(item) for item in items]


def _record(item):
    return {"resource_type": item["resource_type"], "data": item.get("data", {})}


def get_record(table, tenant_id, resource_type):
    item = table.get_item(Key={"tenant_id": tenant_id, "resource_type": resource_type}).get("Item")
    if item is None:
        raise HttpError(404, f"no record of type {resource_type}")
    return _record(item)


def put_record(table, tenant_id, resource_type, body):
    try:
        # DynamoDB rejects floats; Decimal keeps the client's digits.
        data = json.loads(body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as error:
        raise HttpError(400, "body is not valid JSON") from error
    if not isinstance(data, dict):
        raise HttpError(400, "body must be a JSON object")
    table.put_item(Item={"tenant_id": tenant_id, "resource_type": resource_type, "data": data})
    return {"resource_type": resource_type, "data": data}


def get_object(s3, bucket, key):
    try:
        found = s3.get_object(Bucket=bucket, Key=key)
    except Exception as error:  # botocore's ClientError, or a fake's equivalent
        if _error_code(error) in ("NoSuchKey", "404"):
            raise HttpError(404, f"no object {key}") from error
        raise
    return {
        "statusCode": 200,
        "headers": {"content-type": found.get("ContentType", "application/octet-stream")},
        "body": base64.b64encode(found["Body"].read()).decode("ascii"),
        "isBase64Encoded": True,
    }


def put_object(s3, bucket, key, body, content_type, kms_key_arn):
    # Name the tenant key: asking for aws:kms without a key id would use the AWS managed key.
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType=content_type,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=kms_key_arn,
    )
    return {"key": key, "size": len(body)}


def _error_code(error):
    return getattr(error, "response", {}).get("Error", {}).get("Code")


def route(event, tenant_id):
    method, path, headers = _request_parts(event)
    segments = _own_tenant_path(path, headers, tenant_id)
    table, s3 = clients()
    if segments[:1] == ["records"] and len(segments) <= 2:
        if len(segments) == 1:
            _allow(method, ["GET"])
            return response(200, {"records": list_records(table, tenant_id)})
        resource_type = _resource_type(segments[1])
        _allow(method, ["GET", "PUT"])
        if method == "GET":
            return response(200, get_record(table, tenant_id, resource_type))
        return response(201, put_record(table, tenant_id, resource_type, _body_bytes(event)))
    if segments[:1] == ["objects"]:
        key = _object_key(segments[1:])
        _allow(method, ["GET", "PUT"])
        bucket = os.environ["BUCKET_NAME"]
        if method == "GET":
            return get_object(s3, bucket, key)
        content_type = headers.get("content-type", "application/octet-stream")
        stored = put_object(s3, bucket, key, _body_bytes(event), content_type, os.environ["KMS_KEY_ARN"])
        return response(201, stored)
    raise HttpError(404, f"no route for {path}")


# Events of the platform (the events plugin publishes `saas.provisioning`) that the API records.
PLATFORM_SOURCE_PREFIX = "saas."


class RejectedEvent(Exception):
    """An EventBridge event this function must not acknowledge: the invocation fails instead."""


def is_eventbridge_event(event):
    """EventBridge delivers its envelope (`version`, `id`, `detail-type`, `source`, `time`,
    `detail`, ...); a function URL delivers an HTTP request with a `requestContext`."""
    return "detail-type" in event and "source" in event and "requestContext" not in event


def record_event(event, tenant_id):
    source, detail = event.get("source", ""), event.get("detail")
    if not source.startswith(PLATFORM_SOURCE_PREFIX):
        raise RejectedEvent(f"event source {source!r} is not the platform's")
    if not isinstance(detail, dict) or detail.get("tenant_id") != tenant_id:
        raise RejectedEvent("event is not about this deployment's tenant")
    resource_type = f"event.{event.get('id', '')}"
    if not RESOURCE_TYPE.match(resource_type):
        raise RejectedEvent("event id is not usable as a record name")
    table, _ = clients()
    data = json.loads(
        json.dumps({"source": source, "detail-type": event["detail-type"], "time": event.get("time"), "detail": detail}),
        parse_float=Decimal,
    )
    table.put_item(Item={"tenant_id": tenant_id, "resource_type": resource_type, "data": data})
    log(logging.INFO, "event recorded", tenant_id=tenant_id, source=source, detail_type=event["detail-type"])
    return {"recorded": resource_type}


def handler(event, context):
    tenant_id = os.environ["TENANT_ID"]
    if is_eventbridge_event(event):
        # Not caught: a failed event must fail the invocation (retries, then the DLQ).
        return record_event(event, tenant_id)
    method, path, _ = _request_parts(event)
    request_id = getattr(context, "aws_request_id", None)
    try:
        result = route(event, tenant_id)
    except HttpError as error:
        result = response(error.status, {"error": error.message}, error.headers)
    except Exception as error:
        log(
            logging.ERROR,
            "request failed",
            tenant_id=tenant_id,
            request_id=request_id,
            error=repr(error),
            traceback=traceback.format_exc(),
        )
        result = response(500, {"error": "internal error"})
    log(
        logging.INFO,
        "request",
        tenant_id=tenant_id,
        request_id=request_id,
        method=method,
        path=path,
        status=result["statusCode"],
    )
    return result
