"""The central log forwarder: copies tenant log events into the central log group.

CloudWatch Logs subscription filters in the tenant stacks invoke this function with a payload of
base64-encoded gzip JSON (`event["awslogs"]["data"]`). Each event is written to the central log
group under the stream `{tenant_id}/{source log stream}`, so one group holds every tenant's events
while every stream still belongs to exactly one tenant.

The tenant is derived from the source log group's name, `tenant-{id}-{kind}-logs-{suffix}`, and
must be one of the fleet's tenants (TENANT_IDS); events from any other group are skipped with a
log line rather than filed under a guessed tenant.

Configuration (environment): CENTRAL_LOG_GROUP, ENVIRONMENT_SUFFIX, TENANT_IDS (comma-separated).
The logs client comes from `client_factory`, a module-level function tests replace with a fake.
"""

import base64
import gzip
import json
import os
import sys
import time

# PutLogEvents limits: events per call, bytes per call (each event counts 26 bytes more than its
# message), and the time span of one call.
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_BATCH_SPAN_MS = 24 * 60 * 60 * 1000
MAX_STREAM_NAME = 512


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


def tenant_of(log_group, tenant_ids, suffix):
    """The fleet tenant owning `tenant-{id}-{kind}-logs-{suffix}`, or None.

    Tenant ids and kinds may both contain hyphens, so the longest known tenant id that leaves a
    non-empty kind wins: `tenant-acme-corp-api-logs-dev` is acme-corp's even if `acme` is a tenant.
    """
    prefix, ending = "tenant-", f"-logs-{suffix}"
    if not (log_group.startswith(prefix) and log_group.endswith(ending)):
        return None
    middle = log_group[len(prefix) : -len(ending)]
    owners = [t for t in tenant_ids if middle.startswith(f"{t}-") and len(middle) > len(t) + 1]
    return max(owners, key=len, default=None)


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
    tenant_ids = [t for t in os.environ["TENANT_IDS"].split(",") if t]
    payload = decode(event)
    source_group = payload.get("logGroup", "")
    if payload.get("messageType") != "DATA_MESSAGE":
        # CloudWatch Logs sends a CONTROL_MESSAGE to check the destination is reachable.
        log("INFO", "skipped control message", source_log_group=source_group)
        return {"forwarded": 0, "skipped": "control message"}
    tenant_id = tenant_of(source_group, tenant_ids, suffix)
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
