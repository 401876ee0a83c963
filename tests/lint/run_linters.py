"""Linters nobody here wrote, over a synthesized output folder: parliament on every IAM policy and
statelint on every Step Functions definition. Exits 1 on any finding that the documented filter
(false_positive below) does not explain, 0 otherwise.

Usage: python3 tests/lint/run_linters.py OUT_DIR   (OUT_DIR holds stacks/<stack>/cdk.tf.json)

Terraform references in policies are replaced by placeholders of the right ARN shape (the account
123456789012, the stack's region), so parliament can match resources against each action's
resource types; the placeholders name no real resource.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

from parliament import analyze_policy_string

ACCOUNT = "123456789012"

# The ARN each referenced resource type has, by the attribute the policy reads.
ARN_SHAPES = {
    "aws_s3_bucket": "arn:aws:s3:::placeholder-bucket",
    "aws_kms_key": "arn:aws:kms:{region}:{account}:key/00000000-0000-0000-0000-000000000000",
    "aws_sqs_queue": "arn:aws:sqs:{region}:{account}:placeholder-queue",
    "aws_dynamodb_table": "arn:aws:dynamodb:{region}:{account}:table/placeholder-table",
    "aws_cloudwatch_log_group": "arn:aws:logs:{region}:{account}:log-group:placeholder-group",
    "aws_iam_role": "arn:aws:iam::{account}:role/placeholder-role",
    "aws_lambda_function": "arn:aws:lambda:{region}:{account}:function:placeholder-function",
    "aws_cloudwatch_event_rule": "arn:aws:events:{region}:{account}:rule/placeholder-bus/placeholder-rule",
    "aws_cloudwatch_event_bus": "arn:aws:events:{region}:{account}:event-bus/placeholder-bus",
    "aws_sfn_state_machine": "arn:aws:states:{region}:{account}:stateMachine:placeholder-machine",
    "aws_codebuild_project": "arn:aws:codebuild:{region}:{account}:project/placeholder-project",
}
REFERENCE = re.compile(r"\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}")

def false_positive(kind, finding, policy_text):
    """Why a parliament finding is a known false positive on this output, or None (blocking).

    parliament is written for identity policies; on trust and resource policies, and on some
    condition keys whose type it records differently from AWS's documentation, it reports what is
    not a problem. Each case is narrow: the issue code and what the finding says.
    """
    detail = str(finding.detail)
    if kind == "trust" and finding.issue == "MALFORMED" and "neither Resource nor NotResource" in detail:
        return "a role trust policy has no Resource: the role itself is the resource"
    if kind == "resource" and finding.issue == "RESOURCE_STAR":
        return "a key policy's Resource must be \"*\" (it means the key itself)"
    if finding.issue == "MISMATCHED_TYPE" and "ArnEquals requires a value of type Arn but given String" in detail \
            and "kms:EncryptionContext:aws:logs:arn" in policy_text:
        return "AWS documents ArnEquals/ArnLike on kms:EncryptionContext:aws:logs:arn; parliament types it as a string"
    if finding.issue == "MISMATCHED_TYPE_BUT_USABLE" and "StringNotEquals requires a value of type String but given Arn" in detail \
            and "s3:x-amz-server-side-encryption-aws-kms-key-id" in policy_text:
        return "S3 documents StringNotEquals on s3:x-amz-server-side-encryption-aws-kms-key-id with the key ARN"
    if finding.issue == "UNKNOWN_CONDITION_FOR_ACTION" and "kms:EncryptionContext:" in detail and "kms:Describe" in detail:
        return "the CloudWatch Logs key grant AWS documents includes kms:Describe*; the condition just never holds for describe calls"
    if finding.issue == "MISMATCHED_TYPE_BUT_USABLE" and "StringLike requires a value of type String but given Arn" in detail:
        return "a String operator compares an ARN-valued key as text, which AWS allows (parliament itself says usable)"
    if kind == "identity" and finding.issue == "RESOURCE_STAR" and isinstance(finding.detail, list) \
            and all(action.startswith("ec2:") for action in finding.detail) \
            and ("aws:RequestTag/TenantId" in policy_text or "aws:ResourceTag/TenantId" in policy_text):
        return "EC2 create and describe calls take Resource \"*\" (the resource does not exist yet, or the call lists); the statements are bounded by TenantId tag conditions"
    if finding.issue == "RESOURCE_MISMATCH" and isinstance(finding.detail, list) \
            and all(item["action"] == "states:DescribeExecution" and ":express:" in item["required_format"]
                    for item in finding.detail):
        return "parliament knows only the Express execution ARN for states:DescribeExecution; a Standard execution is arn:aws:states:<region>:<account>:execution:<machine>:<name>"
    if finding.issue == "RESOURCE_MISMATCH" and isinstance(finding.detail, list):
        wildcards = {action.split(":")[0] for action in re.findall(r'"([a-z0-9-]+):\*"', policy_text)}
        services = {item["action"].split(":")[0] for item in finding.detail}
        if services <= wildcards:
            return "a service wildcard (s3:*, dynamodb:*, logs:*) scoped to the tenant's resources on purpose; the actions on other resource types are simply not granted"
    return None


def placeholder(match, region):
    data, type_name, _name, attribute = match.groups()
    if data and type_name == "aws_caller_identity":
        return ACCOUNT
    if attribute == "arn" and type_name in ARN_SHAPES:
        return ARN_SHAPES[type_name].format(region=region, account=ACCOUNT)
    return "placeholder"


def policies(document):
    """(address, kind, policy text) of every IAM policy in a cdk.tf.json document."""
    resources = document.get("resource", {})
    kinds = [
        ("aws_iam_role_policy", "policy", "identity"),
        ("aws_iam_policy", "policy", "identity"),
        ("aws_iam_role", "assume_role_policy", "trust"),
        ("aws_s3_bucket_policy", "policy", "resource"),
        ("aws_sqs_queue_policy", "policy", "resource"),
        ("aws_kms_key", "policy", "resource"),
        ("aws_vpc_endpoint_policy", "policy", "resource"),
    ]
    for type_name, attribute, kind in kinds:
        for name, body in sorted(resources.get(type_name, {}).items()):
            if attribute in body:
                yield f"{type_name}.{name}", kind, body[attribute]


def lint_policy(text, kind, region):
    resolved = REFERENCE.sub(lambda m: placeholder(m, region), text)
    for finding in analyze_policy_string(resolved, include_community_auditors=False).findings:
        yield finding, false_positive(kind, finding, resolved)


def lint_state_machines(document):
    """(address, statelint output) of every Step Functions definition statelint rejects."""
    for name, body in sorted(document.get("resource", {}).get("aws_sfn_state_machine", {}).items()):
        result = subprocess.run(
            # FLOAT: ASL's BackoffRate is a JSON number, and AWS accepts `2`; statelint would want `2.0`.
            [sys.executable, "-m", "statelint", "--ignore=FLOAT", body["definition"]],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            yield f"aws_sfn_state_machine.{name}", (result.stdout + result.stderr).strip()


def main(out):
    blocking = 0
    for path in sorted(Path(out).glob("stacks/*/cdk.tf.json")):
        document = json.loads(path.read_text())
        stack = path.parent.name
        region = document.get("provider", {}).get("aws", [{}])[0].get("region", "us-east-1")
        for address, kind, text in policies(document):
            for finding, why in lint_policy(text, kind, region):
                status = f"filtered ({why})" if why else "BLOCKING"
                blocking += why is None
                print(f"parliament {stack} {address} [{kind}] {finding.issue} {str(finding.detail)[:200]}: {status}")
        for address, problems in lint_state_machines(document):
            blocking += 1
            print(f"statelint {stack} {address}: BLOCKING\n{problems}")
    print(f"linters: {blocking} blocking finding(s)")
    return 1 if blocking else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
