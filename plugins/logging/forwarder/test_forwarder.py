"""Tests of the central log forwarder with a fake CloudWatch Logs client."""

import base64
import gzip
import json

import pytest

import forwarder

CENTRAL = "/aws/saas/central-logs-dev"


class LambdaContext:
    """The attribute of Lambda's context object the forwarder reads."""

    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:saas-central-log-forwarder-dev"


CONTEXT = LambdaContext()


class ResourceAlreadyExistsException(Exception):
    pass


class FakeExceptions:
    ResourceAlreadyExistsException = ResourceAlreadyExistsException


class FakeLogs:
    """Log streams of one account, with PutLogEvents' rule that events are in time order."""

    exceptions = FakeExceptions

    def __init__(self):
        self.streams = {}
        self.calls = []

    def create_log_stream(self, logGroupName, logStreamName):
        key = (logGroupName, logStreamName)
        if key in self.streams:
            raise ResourceAlreadyExistsException(logStreamName)
        self.streams[key] = []

    def put_log_events(self, logGroupName, logStreamName, logEvents):
        timestamps = [e["timestamp"] for e in logEvents]
        assert timestamps == sorted(timestamps), "PutLogEvents needs chronological events"
        self.calls.append(len(logEvents))
        self.streams[(logGroupName, logStreamName)].extend(logEvents)
        return {}


@pytest.fixture
def logs(monkeypatch):
    fake = FakeLogs()
    monkeypatch.setenv("CENTRAL_LOG_GROUP", CENTRAL)
    monkeypatch.setenv("ENVIRONMENT_SUFFIX", "dev")
    monkeypatch.setattr(forwarder, "client_factory", lambda: fake)
    monkeypatch.setattr(forwarder, "_client", None)
    return fake


def subscription_event(log_group, log_stream, events, message_type="DATA_MESSAGE", owner="123456789012"):
    payload = {
        "messageType": message_type,
        "owner": owner,
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["f"],
        "logEvents": [{"id": str(i), "timestamp": t, "message": m} for i, (t, m) in enumerate(events)],
    }
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    return {"awslogs": {"data": data}}


def test_events_land_in_a_tenant_prefixed_stream_in_time_order(logs):
    event = subscription_event(
        "tenant-acme-corp-api-logs-dev", "2025/01/01/[$LATEST]abc", [(2000, "second"), (1000, "first")]
    )
    result = forwarder.handler(event, CONTEXT)
    assert result["forwarded"] == 2
    stream = (CENTRAL, "acme-corp/2025/01/01/[$LATEST]abc")
    assert [e["message"] for e in logs.streams[stream]] == ["first", "second"]
    assert set(logs.streams) == {stream}


def test_an_existing_stream_is_reused(logs):
    event = subscription_event("tenant-tech-startup-api-logs-dev", "s", [(1, "a")])
    forwarder.handler(event, CONTEXT)
    forwarder.handler(event, CONTEXT)
    assert logs.streams[(CENTRAL, "tech-startup/s")] == [{"timestamp": 1, "message": "a"}] * 2


@pytest.mark.parametrize(
    "group, tenant, reason",
    [
        ("tenant-acme-corp-api-logs-dev", "acme-corp", "an id with a hyphen"),
        ("tenant-acme-api-logs-dev", "acme", "a shorter id"),
        ("tenant-acme-corp-flow-logs-dev", "acme-corp", "the other kind of tenant log group"),
        ("tenant-new-co-api-logs-dev", "new-co", "a tenant added after central was applied (item 4)"),
        ("tenant-acme-corp-api-logs-prod", None, "another environment"),
        ("tenant-acme-corp-audit-logs-dev", None, "a kind the logging plugin does not subscribe"),
        ("tenant-api-logs-dev", None, "no tenant id before the kind"),
        ("tenant-Acme-api-logs-dev", None, "not a tenant id"),
        ("/aws/lambda/tenant-acme-corp-api-dev", None, "not named like a tenant log group"),
    ],
)
def test_tenants_come_from_the_source_log_group_name(group, tenant, reason):
    assert forwarder.tenant_of(group, "dev") == tenant, reason


def test_groups_of_no_tenant_are_skipped_and_logged(logs, capsys):
    event = subscription_event("tenant-retail-co-audit-logs-dev", "s", [(1, "a")])
    assert forwarder.handler(event, CONTEXT)["forwarded"] == 0
    assert logs.streams == {}
    (line,) = capsys.readouterr().out.splitlines()
    logged = json.loads(line)
    assert logged["level"] == "WARNING" and logged["source_log_group"] == "tenant-retail-co-audit-logs-dev"


def test_events_of_another_account_are_skipped(logs, capsys):
    event = subscription_event("tenant-acme-corp-api-logs-dev", "s", [(1, "a")], owner="999999999999")
    assert forwarder.handler(event, CONTEXT) == {"forwarded": 0, "skipped": "another account"}
    assert logs.streams == {}


def test_control_messages_are_not_forwarded(logs):
    event = subscription_event("tenant-acme-corp-api-logs-dev", "s", [], message_type="CONTROL_MESSAGE")
    assert forwarder.handler(event, CONTEXT)["forwarded"] == 0
    assert logs.streams == {}


def test_stream_names_drop_forbidden_characters_and_fit_the_limit():
    assert forwarder.stream_name("acme-corp", "a:b*c") == "acme-corp/a_b_c"
    assert len(forwarder.stream_name("acme-corp", "x" * 600)) == 512


@pytest.mark.parametrize(
    "events, sizes, reason",
    [
        ([(i, "m") for i in range(10_001)], [10_000, 1], "at most 10,000 events per call"),
        ([(1, "x" * 600_000), (2, "y" * 600_000)], [1, 1], "at most 1 MiB per call"),
        ([(0, "a"), (24 * 3600 * 1000 + 1, "b")], [1, 1], "at most 24 hours per call"),
        ([(0, "a"), (5, "b")], [2], "small payloads go in one call"),
    ],
)
def test_batches_respect_put_log_events_limits(logs, events, sizes, reason):
    forwarder.handler(subscription_event("tenant-acme-corp-api-logs-dev", "s", events), CONTEXT)
    assert logs.calls == sizes, reason


def test_rejected_events_are_logged(logs, capsys):
    logs.put_log_events = lambda **_: {"rejectedLogEventsInfo": {"tooOldLogEventEndIndex": 1}}
    logs.create_log_stream(CENTRAL, "acme-corp/s")
    forwarder.handler(subscription_event("tenant-acme-corp-api-logs-dev", "s", [(1, "a")]), CONTEXT)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["message"] == "central log group rejected events"
    assert lines[0]["rejected"] == {"tooOldLogEventEndIndex": 1}


def test_write_failures_propagate_so_lambda_retries(logs):
    def fail(**_):
        raise RuntimeError("throttled")

    logs.put_log_events = fail
    with pytest.raises(RuntimeError):
        forwarder.handler(subscription_event("tenant-acme-corp-api-logs-dev", "s", [(1, "a")]), CONTEXT)
