"""The central log forwarder: copies tenant log events into the central log group.

CloudWatch Logs subscription filters in the tenant stacks invoke this function with a payload of
base64-encoded gzip JSON (`event["awslogs"]["data"]`). Each event is written to the central log
group under the stream `{tenant_id}/{source log stream}`, so one group holds every tenant's events
while every stream still belongs to exactly one tenant.

The forwarder keeps no list of tenants, so a tenant added after the central stack was applied is
forwarded like any other (issue 9 item 4). It trusts the source log group because nothing else can
name one: only CloudWatch Logs may invoke it, and only for a log group whose own tenant stack
granted it with an exact-ARN Lambda permission (item 5); the payload's `logGroup` and `owner` are
written by CloudWatch Logs. The tenant is the `{id}` of `tenant-{id}-{kind}-logs-{suffix}` for a
known kind; events of any other group, or of another account, are skipped with a log line.

Configuration (environment): CENTRAL_LOG_GROUP, ENVIRONMENT_SUFFIX.
The logs client comes from `client_factory`, a module-level function tests replace with a fake.
"""

import base64
import gzip
import json
import os
import re
import sys
import time

# PutLogEvents limits: events per call, bytes per call (each event counts 26 bytes more than its
# message), and the time span of one call.
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_BATCH_SPAN_MS = 24 * 60 * 60 * 1000
MAX_STREAM_NAME = 512

# The tenant log groups the logging plugin subscribes, `tenant-{id}-{kind}-logs-{suffix}`.
LOG_KINDS = ("api", "flow")
# tenant-host's tenant ids: lower-case letters, digits and inner hyphens.
TENANT_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


def log(level, message, **fields):
    """One JSON line on stdout, which Lambda sends to the forwarder's own log group."""
    line = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": level, "message": message}
    line.update(fields)
    sys.stdout.write(json.dumps(line, sort_keys=True) + "\n")


def _boto3_client():
    # Imported here so tests run without boto3; the Lambda runtime ships it.
    import boto3

    return boto3.client("logs")


client_factory = _boto3_client
_client = None


def logs_client():
    """The CloudWatch Logs client, created once per execution environment."""
    global _client
    if _client is None:
        _client = client_factory()
    return _client


def tenant_of(log_group, suffix):
    """The tenant owning `tenant-{id}-{kind}-logs-{suffix}` for a kind of LOG_KINDS, or None.

    The kind is known, so the rest is the tenant id even when ids contain hyphens.
    """
    prefix, ending = "tenant-", f"-logs-{suffix}"
    if not (log_group.startswith(prefix) and log_group.endswith(ending)):
        return None
    middle = log_group[len(prefix) : -len(ending)]
    for kind in LOG_KINDS:
        tenant_id = middle[: -len(kind) - 1] if middle.endswith(f"-{kind}") else ""
        if TENANT_ID.fullmatch(tenant_id):
            return tenant_id
    return None


def stream_name(tenant_id, source_stream):
    # Stream names may not contain ':' or '*' and are at most 512 characters.
    name = f"{tenant_id}/{source_stream}".replace(":", "_").replace("*", "_")
    return name[:MAX_STREAM_NAME]


def decode(event):
    return json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))


def batches(log_events):
    """Chronological PutLogEvents batches within the API's count, size and time-span limits."""
    batch, size = [], 0
    for item in sorted(log_events, key=lambda e: e["timestamp"]):
        event = {"timestamp": item["timestamp"], "message": item["message"]}
        event_size = len(event["message"].encode("utf-8")) + EVENT_OVERHEAD_BYTES
        if batch and (
            len(batch) == MAX_BATCH_EVENTS
            or size + event_size > MAX_BATCH_BYTES
            or event["timestamp"] - batch[0]["timestamp"] > MAX_BATCH_SPAN_MS
        ):
            yield batch
            batch, size = [], 0
        batch.append(event)
        size += event_size
    if batch:
        yield batch


def ensure_stream(client, group, stream):
    try:
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    except client.exceptions.ResourceAlreadyExistsException:
        pass


def handler(event, context):
    group = os.environ["CENTRAL_LOG_GROUP"]
    suffix = os.environ["ENVIRONMENT_SUFFIX"]
    payload = decode(event)
    source_group = payload.get("logGroup", "")
    if payload.get("messageType") != "DATA_MESSAGE":
        # CloudWatch Logs sends a CONTROL_MESSAGE to check the destination is reachable.
        log("INFO", "skipped control message", source_log_group=source_group)
        return {"forwarded": 0, "skipped": "control message"}
    account = context.invoked_function_arn.split(":")[4]
    if payload.get("owner") != account:
        log("WARNING", "skipped events of another account", source_log_group=source_group, owner=payload.get("owner"))
        return {"forwarded": 0, "skipped": "another account"}
    tenant_id = tenant_of(source_group, suffix)
    if tenant_id is None:
        log("WARNING", "skipped events of a log group that is no fleet tenant's", source_log_group=source_group)
        return {"forwarded": 0, "skipped": "unknown log group"}
    client = logs_client()
    stream = stream_name(tenant_id, payload["logStream"])
    ensure_stream(client, group, stream)
    forwarded = 0
    for batch in batches(payload.get("logEvents", [])):
        result = client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
        rejected = result.get("rejectedLogEventsInfo")
        if rejected:
            log("WARNING", "central log group rejected events", log_stream=stream, rejected=rejected)
        forwarded += len(batch)
    log("INFO", "forwarded", tenant_id=tenant_id, log_stream=stream, events=forwarded)
    return {"forwarded": forwarded, "tenant_id": tenant_id, "log_stream": stream}
