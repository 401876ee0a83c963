"""Tests of the tenant API with in-memory fakes of the DynamoDB Table and the S3 client."""

import base64
import io
import json
from decimal import Decimal

import pytest

import app

TENANT = "acme-corp"
BUCKET = "tenant-acme-corp-data-dev"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/test"


class FakeTable:
    """The Table calls the handler makes, keyed like the real table (tenant_id, resource_type)."""

    def __init__(self, page_size=2):
        self.items = {}
        self.page_size = page_size

    def put_item(self, Item):
        self.items[(Item["tenant_id"], Item["resource_type"])] = Item

    def get_item(self, Key):
        item = self.items.get((Key["tenant_id"], Key["resource_type"]))
        return {"Item": item} if item is not None else {}

    def query(self, KeyConditionExpression, ExpressionAttributeValues, ExclusiveStartKey=None):
        assert KeyConditionExpression == "tenant_id = :tenant"
        tenant = ExpressionAttributeValues[":tenant"]
        matching = [self.items[k] for k in sorted(self.items) if k[0] == tenant]
        start = 0
        if ExclusiveStartKey is not None:
            start = 1 + [i["resource_type"] for i in matching].index(ExclusiveStartKey["resource_type"])
        page = matching[start : start + self.page_size]
        result = {"Items": page}
        if start + self.page_size < len(matching):
            last = page[-1]
            result["LastEvaluatedKey"] = {"tenant_id": tenant, "resource_type": last["resource_type"]}
        return result


class FakeClientError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class FakeS3:
    def __init__(self):
        self.objects = {}
        self.puts = []

    def get_object(self, Bucket, Key):
        if (Bucket, Key) not in self.objects:
            raise FakeClientError("NoSuchKey")
        body, content_type = self.objects[(Bucket, Key)]
        return {"Body": io.BytesIO(body), "ContentType": content_type}

    def put_object(self, Bucket, Key, Body, ContentType, ServerSideEncryption, SSEKMSKeyId):
        self.puts.append({"Bucket": Bucket, "Key": Key, "SSE": ServerSideEncryption, "KeyId": SSEKMSKeyId})
        self.objects[(Bucket, Key)] = (Body, ContentType)


@pytest.fixture
def fakes(monkeypatch):
    table, s3 = FakeTable(), FakeS3()
    monkeypatch.setenv("TENANT_ID", TENANT)
    monkeypatch.setenv("TABLE_NAME", "tenant-acme-corp-metadata-dev")
    monkeypatch.setenv("BUCKET_NAME", BUCKET)
    monkeypatch.setenv("KMS_KEY_ARN", KEY_ARN)
    monkeypatch.setattr(app, "client_factory", lambda: (table, s3))
    monkeypatch.setattr(app, "_clients", None)
    return table, s3


class Context:
    aws_request_id = "req-1"


def call(method, path, body=None, headers=None, base64_body=False):
    event = {
        "rawPath": path,
        "headers": headers or {},
        "requestContext": {"http": {"method": method, "path": path}},
        "isBase64Encoded": base64_body,
    }
    if body is not None:
        event["body"] = body
    result = app.handler(event, Context())
    return result["statusCode"], result


def json_body(result):
    return json.loads(result["body"])


def test_put_then_get_a_record(fakes):
    table, _ = fakes
    status, result = call("PUT", "/records/profile", json.dumps({"plan": "gold", "seats": 5, "ratio": 0.5}))
    assert status == 201
    assert json_body(result) == {"resource_type": "profile", "data": {"plan": "gold", "seats": 5, "ratio": 0.5}}
    stored = table.items[(TENANT, "profile")]
    assert stored["data"]["ratio"] == Decimal("0.5"), "floats are stored as Decimal for DynamoDB"

    status, result = call("GET", "/records/profile")
    assert status == 200
    assert json_body(result)["data"] == {"plan": "gold", "seats": 5, "ratio": 0.5}


def test_lists_only_the_own_tenants_records_across_pages(fakes):
    table, _ = fakes
    for resource_type in ["a", "b", "c"]:
        table.put_item({"tenant_id": TENANT, "resource_type": resource_type, "data": {"n": resource_type}})
    table.put_item({"tenant_id": "other-co", "resource_type": "secret", "data": {}})
    status, result = call("GET", "/records")
    assert status == 200
    assert [r["resource_type"] for r in json_body(result)["records"]] == ["a", "b", "c"]


def test_missing_record_is_404(fakes):
    status, result = call("GET", "/records/nothing")
    assert status == 404
    assert "nothing" in json_body(result)["error"]


@pytest.mark.parametrize(
    "body, reason",
    [("{not json", "malformed JSON"), ("[1, 2]", "not an object"), ("", "empty body")],
)
def test_bad_record_bodies_are_400(fakes, body, reason):
    status, _ = call("PUT", "/records/profile", body)
    assert status == 400, reason


def test_bad_resource_type_is_400(fakes):
    status, _ = call("GET", "/records/bad%20type")
    assert status == 400


def test_put_then_get_an_object_encrypted_with_the_tenant_key(fakes):
    _, s3 = fakes
    status, result = call("PUT", "/objects/reports/q1.txt", "hello", {"Content-Type": "text/plain"})
    assert status == 201
    assert json_body(result) == {"key": "reports/q1.txt", "size": 5}
    assert s3.puts == [{"Bucket": BUCKET, "Key": "reports/q1.txt", "SSE": "aws:kms", "KeyId": KEY_ARN}]

    status, result = call("GET", "/objects/reports/q1.txt")
    assert status == 200
    assert result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"]) == b"hello"
    assert result["headers"]["content-type"] == "text/plain"


def test_base64_request_bodies_are_decoded(fakes):
    _, s3 = fakes
    status, _ = call("PUT", "/objects/blob.bin", base64.b64encode(b"\x00\x01").decode(), base64_body=True)
    assert status == 201
    assert s3.objects[(BUCKET, "blob.bin")][0] == b"\x00\x01"


def test_invalid_base64_body_is_400(fakes):
    status, _ = call("PUT", "/objects/blob.bin", "***", base64_body=True)
    assert status == 400


def test_missing_object_is_404(fakes):
    status, _ = call("GET", "/objects/absent.txt")
    assert status == 404


def test_other_s3_errors_are_500_and_logged(fakes, capsys):
    _, s3 = fakes

    def denied(**_):
        raise FakeClientError("AccessDenied")

    s3.get_object = denied
    status, _ = call("GET", "/objects/x")
    assert status == 500
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["level"] == "ERROR" and "AccessDenied" in lines[0]["error"]


@pytest.mark.parametrize(
    "path, reason",
    [
        ("/objects/", "empty key"),
        ("/objects/a/../b", "parent segment"),
        ("/objects/a//b", "empty segment"),
        ("/objects/a%00b", "control character"),
        ("/objects/" + "k" * 1025, "longer than 1024 bytes"),
    ],
)
def test_bad_object_keys_are_400(fakes, path, reason):
    status, _ = call("GET", path)
    assert status == 400, reason


@pytest.mark.parametrize(
    "path, headers, status, reason",
    [
        ("/tenants/other-co/records", {}, 403, "another tenant in the path"),
        ("/records", {"X-Tenant-Id": "other-co"}, 403, "another tenant in the header"),
        ("/tenants/acme-corp/records", {"x-tenant-id": "other-co"}, 403, "header disagrees with path"),
        ("/tenants/acme-corp/records", {"x-tenant-id": TENANT}, 200, "own tenant in both"),
        ("/tenants/acme-corp/objects/k", {}, 404, "own tenant, absent object"),
    ],
)
def test_only_the_own_tenant_is_served(fakes, path, headers, status, reason):
    assert call("GET", path, headers=headers)[0] == status, reason


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("POST", "/records", "GET"),
        ("DELETE", "/records/profile", "GET, PUT"),
        ("POST", "/objects/k", "GET, PUT"),
    ],
)
def test_wrong_methods_are_405(fakes, method, path, allow):
    status, result = call(method, path, "{}")
    assert status == 405
    assert result["headers"]["allow"] == allow


@pytest.mark.parametrize("path", ["/", "/tenants/acme-corp", "/records/a/b", "/unknown"])
def test_unknown_routes_are_404(fakes, path):
    assert call("GET", path)[0] == 404


def test_every_request_is_logged_as_one_json_line(fakes, capsys):
    call("GET", "/records/absent")
    (line,) = capsys.readouterr().out.splitlines()
    logged = json.loads(line)
    assert logged["message"] == "request"
    assert logged["tenant_id"] == TENANT
    assert logged["request_id"] == "req-1"
    assert logged["status"] == 404


# The envelope of an EventBridge event, as in the example of "Amazon EventBridge events"
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events.html).
AWS_EXAMPLE_EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"},
}


def platform_event(tenant_id, detail_type="Tenant Provisioned"):
    """What the provisioning workflow publishes (source saas.provisioning), in EventBridge's envelope."""
    return dict(
        AWS_EXAMPLE_EVENT,
        **{"detail-type": detail_type, "source": "saas.provisioning", "detail": {"tenant_id": tenant_id, "build_id": "b-1"}},
    )


def test_platform_events_for_this_tenant_are_recorded(fakes):
    table, _ = fakes
    result = app.handler(platform_event(TENANT), Context())
    record = "event.6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    assert result == {"recorded": record}
    stored = table.items[(TENANT, record)]["data"]
    assert stored["detail-type"] == "Tenant Provisioned" and stored["detail"]["build_id"] == "b-1"


@pytest.mark.parametrize(
    "event, reason",
    [
        (AWS_EXAMPLE_EVENT, "an event of another source"),
        (platform_event("tech-startup"), "an event about another tenant"),
        (dict(platform_event(TENANT), id="../x"), "an id that is no record name"),
    ],
)
def test_other_events_fail_the_invocation_instead_of_succeeding(fakes, event, reason):
    # Before issue 9 item 3 an EventBridge event became a 404 response: a successful invocation
    # that processed nothing and never reached the dead-letter queue.
    table, _ = fakes
    with pytest.raises(app.RejectedEvent):
        app.handler(event, Context())
    assert table.items == {}, reason
