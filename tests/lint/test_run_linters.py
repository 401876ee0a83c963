"""The linter filter lets real findings through and explains only the known false positives."""

import json

import run_linters


def findings(policy, kind):
    return [(f.issue, why) for f, why in run_linters.lint_policy(json.dumps(policy), kind, "us-east-1")]


def test_a_misspelled_action_blocks():
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]}
    assert ("UNKNOWN_ACTION", None) in findings(policy, "identity")


def test_a_trust_policy_without_resource_is_explained():
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    result = findings(policy, "trust")
    assert result and all(why for _, why in result), result


def test_the_same_shape_in_an_identity_policy_blocks():
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    assert ("MALFORMED", None) in findings(policy, "identity")


def test_ec2_on_every_resource_blocks_without_tenant_tag_conditions():
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:CreateVpc", "Resource": "*"}]}
    assert ("RESOURCE_STAR", None) in findings(policy, "identity")


def test_ec2_on_every_resource_bounded_by_tenant_tags_is_explained():
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:CreateVpc", "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestTag/TenantId": "${aws:PrincipalTag/TenantId}"}}}]}
    result = [(issue, why) for issue, why in findings(policy, "identity") if issue == "RESOURCE_STAR"]
    assert result and all(why for _, why in result), result
