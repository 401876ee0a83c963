//! The fleet model over the example's composed stacks (`tests/golden/example`), and over the
//! example with a hostile addition (issue 9 item 6).

use std::sync::Arc;

use serde_json::{Value, json};
use tenant_access::Verdict;
use tenant_access::fleet::{ACCOUNT, Fleet, FleetOptions, StackInput};
use tenant_access::intent::{Expectation, Intent};

type Stacks = Vec<(String, Option<String>, Value)>;

fn example() -> Stacks {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/example/stacks");
    let mut stacks: Vec<_> = std::fs::read_dir(&root)
        .expect("golden example stacks")
        .map(|entry| entry.expect("entry").path())
        .collect();
    stacks.sort();
    stacks
        .into_iter()
        .map(|dir| {
            let name = dir.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
            let tenant = name
                .strip_prefix("tenant-")
                .and_then(|rest| rest.strip_suffix("-dev"))
                .map(str::to_owned);
            let text = std::fs::read_to_string(dir.join("cdk.tf.json")).expect("cdk.tf.json");
            (name, tenant, serde_json::from_str(&text).expect("json"))
        })
        .collect()
}

fn fleet(stacks: &Stacks) -> Fleet {
    let inputs: Vec<StackInput<'_>> = stacks
        .iter()
        .map(|(name, tenant, document)| StackInput {
            name,
            tenant: tenant.as_deref(),
            document,
        })
        .collect();
    Fleet::from_stacks(&inputs, &FleetOptions::default())
}

fn verdict(fleet: &Fleet, principal: &str, action: &str, arn: &str) -> Verdict {
    let principal = fleet
        .principal(principal)
        .unwrap_or_else(|| panic!("principal {principal}"));
    fleet.evaluate(principal, action, arn, &[]).verdict
}

/// Adds a role to acme-corp's stack, tagged for acme-corp, without a boundary, with `statements`.
fn with_greedy_role(mut stacks: Stacks, statements: Value) -> Stacks {
    let acme = document_mut(&mut stacks, "tenant-acme-corp-dev");
    let resources = acme["resource"].as_object_mut().expect("resources");
    resources["aws_iam_role"]["greedy"] = json!({
        "name": "tenant-acme-corp-greedy-dev",
        "assume_role_policy": json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string(),
        "tags": {"TenantId": "acme-corp"}
    });
    resources["aws_iam_role_policy"]["greedy"] = json!({
        "name": "greedy",
        "role": "${aws_iam_role.greedy.name}",
        "policy": json!({"Version": "2012-10-17", "Statement": statements}).to_string()
    });
    stacks
}

#[test]
fn example_is_modelled_without_gaps() {
    let fleet = fleet(&example());
    assert!(fleet.notes.is_empty(), "{:#?}", fleet.notes);
    assert_eq!(
        fleet.principals.len(),
        15,
        "6 central roles (the provisioning deployer and the rollout among them), 2 per tenant, \
         the configured deployer, other account, anonymous"
    );
    // Joined at their final size: a fleet's lists are held until its checks end.
    assert_eq!(fleet.principals.capacity(), fleet.principals.len());
    assert_eq!(fleet.resources.capacity(), fleet.resources.len());
    assert!(
        fleet
            .principal_by_arn(&format!(
                "arn:aws:iam::{ACCOUNT}:role/tenant-acme-corp-lambda-role-dev"
            ))
            .is_some()
    );
}

#[test]
fn example_keeps_tenants_apart() {
    let fleet = fleet(&example());
    let matrix = fleet.matrix();
    assert!(
        matrix.len() > 1000,
        "the matrix covers every principal × resource × data action"
    );
    let violations: Vec<String> = matrix
        .iter()
        .filter(|entry| entry.violates_isolation())
        .map(|entry| format!("{} {} {}", entry.principal.id, entry.action, entry.arn))
        .collect();
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn api_role_reaches_its_own_data_and_not_another_tenants() {
    let fleet = fleet(&example());
    let api = "tenant-acme-corp-dev:aws_iam_role.lambda_execution";
    assert_eq!(
        verdict(
            &fleet,
            api,
            "s3:GetObject",
            "arn:aws:s3:::tenant-acme-corp-data-dev/report.csv"
        ),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(
            &fleet,
            api,
            "s3:GetObject",
            "arn:aws:s3:::tenant-retail-co-data-dev/report.csv"
        ),
        Verdict::ExplicitDeny
    );
    let other_key = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/tenant-retail-co-dev.tenant");
    assert_eq!(
        verdict(&fleet, api, "kms:Decrypt", &other_key),
        Verdict::ExplicitDeny
    );
    // The bucket policy denies every untagged caller, anonymous included.
    assert_eq!(
        verdict(
            &fleet,
            "anonymous",
            "s3:GetObject",
            "arn:aws:s3:::tenant-acme-corp-data-dev/x"
        ),
        Verdict::ExplicitDeny
    );
}

#[test]
fn a_tenant_role_reading_every_log_group_breaks_isolation() {
    let stacks = with_greedy_role(
        example(),
        json!([{"Effect": "Allow", "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"], "Resource": "arn:aws:logs:us-east-1:*:log-group:*"}]),
    );
    let fleet = fleet(&stacks);
    let violations: Vec<String> = fleet
        .matrix()
        .into_iter()
        .filter(|entry| entry.violates_isolation())
        .map(|entry| format!("{} {}", entry.principal.id, entry.arn))
        .collect();
    assert!(
        violations
            .iter()
            .any(|v| v.starts_with("tenant-acme-corp-dev:aws_iam_role.greedy")
                && v.contains("tenant-retail-co-api-logs-dev")),
        "{violations:#?}"
    );
}

#[test]
fn computed_and_all_bucket_resources_are_not_proven_isolated() {
    for resource in [
        json!("${format(\"arn:aws:s3:::%s\", var.bucket)}"),
        json!("${join(\"\", [\"arn:aws:s3:::\", var.bucket])}"),
        json!("arn:aws:s3:::*"),
    ] {
        let stacks = with_greedy_role(
            example(),
            json!([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": resource}]),
        );
        let fleet = fleet(&stacks);
        let broken = fleet.matrix().into_iter().any(|entry| {
            entry.violates_isolation()
                && entry.principal.id == "tenant-acme-corp-dev:aws_iam_role.greedy"
                && entry.arn == "arn:aws:s3:::tenant-retail-co-data-dev"
        });
        assert!(broken, "{resource} must not pass as isolated");
    }
}

/// Gives retail-co's bucket a policy statement that allows `principal` to read it.
fn with_open_bucket(mut stacks: Stacks, principal: Value) -> Stacks {
    edit_policy(
        &mut stacks,
        "tenant-retail-co-dev",
        "/resource/aws_s3_bucket_policy/data/policy",
        |policy| {
            policy["Statement"]
                .as_array_mut()
                .expect("statements")
                .push(json!({
                    "Sid": "Opened", "Effect": "Allow", "Principal": principal,
                    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::tenant-retail-co-data-dev/*"
                }));
        },
    );
    stacks
}

/// Gives acme-corp's greedy role another tenant's `TenantId` tag.
fn retagged_greedy_role(mut stacks: Stacks, tenant: &str) -> Stacks {
    let acme = document_mut(&mut stacks, "tenant-acme-corp-dev");
    acme["resource"]["aws_iam_role"]["greedy"]["tags"] = json!({"TenantId": tenant});
    stacks
}

/// The search for violations skips cells no Allow can reach; on fleets that break isolation in
/// each way the model knows, it finds exactly what the full matrix finds.
#[test]
fn isolation_violations_are_those_of_the_full_matrix() {
    let role = format!("arn:aws:iam::{ACCOUNT}:role/tenant-acme-corp-greedy-dev");
    // The example with the extra role `greedy` in acme's stack, allowed `statement`.
    let greedy = |statement: serde_json::Value| with_greedy_role(example(), json!([statement]));
    let fleets = [
        example(),
        greedy(
            json!({"Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": "arn:aws:logs:us-east-1:*:log-group:*"}),
        ),
        greedy(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::tenant-*"})),
        greedy(json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "${join(\"\", [var.a])}"})),
        greedy(
            json!({"Effect": "Allow", "Action": "kms:Decrypt", "NotResource": "arn:aws:kms:us-east-1:123456789012:key/none"}),
        ),
        greedy(
            json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/tenant-retail-co-data-dev"}),
        ),
        with_open_bucket(example(), json!("*")),
        with_open_bucket(example(), json!({"AWS": "${var.reader}"})),
        with_open_bucket(
            greedy(json!({"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"})),
            json!({"AWS": role}),
        ),
        // Tagged as another tenant, the role is let in by that tenant's key policy, which allows
        // anyone carrying its TenantId tag: no identity policy needs to name the key.
        retagged_greedy_role(
            greedy(
                json!({"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "arn:aws:sqs:us-east-1:123456789012:none"}),
            ),
            "retail-co",
        ),
        // `*` with a data action among others: the data action's kind is reached everywhere.
        greedy(
            json!({"Effect": "Allow", "Action": ["ec2:CreateNetworkInterface", "logs:Filter*"], "Resource": "*"}),
        ),
        // Wildcard region and account, one tenant's groups: found through the service's index.
        greedy(
            json!({"Effect": "Allow", "Action": "logs:FilterLogEvents", "Resource": "arn:aws:logs:*:*:log-group:tenant-retail-co-*"}),
        ),
        // A wildcard service may name anything.
        greedy(json!({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:*:*:*:tenant-retail-co-*"})),
    ];
    let mut broken = Vec::new();
    for (variant, stacks) in fleets.iter().enumerate() {
        let fleet = fleet(stacks);
        let cell = |entry: &tenant_access::fleet::MatrixEntry<'_>| {
            format!(
                "{} {} {} {:?}",
                entry.principal.id, entry.action, entry.arn, entry.evaluation.verdict
            )
        };
        let mut expected: Vec<String> = fleet
            .matrix()
            .iter()
            .filter(|entry| entry.violates_isolation())
            .map(cell)
            .collect();
        let mut found: Vec<String> = fleet.isolation_violations().iter().map(cell).collect();
        expected.sort();
        found.sort();
        assert_eq!(found, expected, "variant {variant}");
        if !expected.is_empty() {
            broken.push(variant);
        }
    }
    // The others are denied by the example's own resource policies (the bucket's and key's
    // denies to other tenants' principals, the table's resource policy), whatever the role asks.
    assert_eq!(
        broken,
        [1, 2, 3, 9, 10, 11, 12],
        "the variants that break isolation"
    );
}

fn inputs(stacks: &Stacks) -> Vec<StackInput<'_>> {
    stacks
        .iter()
        .map(|(name, tenant, document)| StackInput {
            name,
            tenant: tenant.as_deref(),
            document,
        })
        .collect()
}

/// The intents of the host (deployer, derived from the resources) that do not hold. The golden
/// documents carry no declared intents, so every derived intent is there.
fn failing_host_intents(stacks: &Stacks) -> Vec<String> {
    let fleet = fleet(stacks);
    let inputs = inputs(stacks);
    let mut intents = fleet.host_intents();
    intents.extend(Fleet::derived_intents(&inputs, &[]));
    fleet
        .check_intents(&inputs, &intents)
        .into_iter()
        .filter(|o| !o.holds)
        .map(|o| {
            format!(
                "{} {} {}",
                o.principal.unwrap_or_default(),
                o.intent.action,
                o.resource
            )
        })
        .collect()
}

/// The document of the stack named `stack`.
fn document_mut<'a>(stacks: &'a mut Stacks, stack: &str) -> &'a mut Value {
    &mut stacks
        .iter_mut()
        .find(|(name, ..)| name == stack)
        .unwrap_or_else(|| panic!("stack {stack}"))
        .2
}

/// Edits the policy JSON text at `pointer` of `stack`'s document.
fn edit_policy(stacks: &mut Stacks, stack: &str, pointer: &str, edit: impl FnOnce(&mut Value)) {
    let document = document_mut(stacks, stack);
    let text = document
        .pointer(pointer)
        .and_then(Value::as_str)
        .expect("policy text");
    let mut policy: Value = serde_json::from_str(text).expect("policy JSON");
    edit(&mut policy);
    *document.pointer_mut(pointer).expect("policy") = Value::String(policy.to_string());
}

#[test]
fn every_host_intent_holds_on_the_example() {
    let stacks = example();
    let fleet = fleet(&stacks);
    let inputs = inputs(&stacks);
    assert!(fleet.host_intents().len() + Fleet::derived_intents(&inputs, &[]).len() >= 20);
    let failing = failing_host_intents(&stacks);
    assert!(failing.is_empty(), "{failing:#?}");
}

#[test]
fn without_its_decrypt_statement_the_log_forwarder_cannot_read_its_environment() {
    // Issue 9 item 1: revert the fix (the role's DecryptOwnEnvironment statement) and the derived
    // intent "Lambda decrypts the environment" fails: the role may use the key only via SQS.
    let mut stacks = example();
    edit_policy(
        &mut stacks,
        "central-dev",
        "/resource/aws_iam_role_policy/log_forwarder/policy",
        |policy| {
            let statements = policy["Statement"].as_array_mut().expect("statements");
            statements.retain(|statement| statement["Sid"] != "DecryptOwnEnvironment");
        },
    );
    let failing = failing_host_intents(&stacks);
    assert_eq!(
        failing,
        [format!(
            "central-dev:aws_iam_role.log_forwarder kms:Decrypt arn:aws:kms:us-east-1:{ACCOUNT}:key/central-dev.central_logs"
        )]
    );
}

#[test]
fn without_the_deployer_exemption_destroy_cannot_empty_the_bucket() {
    // Issue 9 item 2: revert the fix (the deployer's exemption from the bucket's tenant-tag deny)
    // and the deployer can no longer list versions or delete object versions.
    let mut stacks = example();
    edit_policy(
        &mut stacks,
        "tenant-acme-corp-dev",
        "/resource/aws_s3_bucket_policy/data/policy",
        |policy| {
            for statement in policy["Statement"].as_array_mut().expect("statements") {
                if statement["Sid"] == "DenyDataToOtherPrincipals" {
                    statement["Condition"]
                        .as_object_mut()
                        .expect("condition")
                        .remove("ArnNotLike");
                }
            }
        },
    );
    let failing = failing_host_intents(&stacks);
    assert_eq!(
        failing,
        [
            "deployer s3:ListBucketVersions arn:aws:s3:::tenant-acme-corp-data-dev",
            "deployer s3:DeleteObjectVersion arn:aws:s3:::tenant-acme-corp-data-dev/*",
        ]
    );
}

/// CloudWatch Logs, as the service principal that delivers subscription filters.
fn logs_service() -> tenant_access::fleet::FleetPrincipal {
    tenant_access::fleet::FleetPrincipal {
        id: "service:logs.amazonaws.com".into(),
        stack: None,
        tenant: None,
        principal: tenant_access::Principal::Service("logs.amazonaws.com".into()),
        endpoints: Default::default(),
    }
}

/// Whether CloudWatch Logs may invoke the central forwarder for `log_group`.
fn logs_may_feed_the_forwarder(stacks: &Stacks, log_group: &str) -> Verdict {
    let fleet = fleet(stacks);
    let logs = logs_service();
    let source = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{log_group}:*");
    fleet
        .evaluate_exact(
            &logs,
            "lambda:InvokeFunction",
            &format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:saas-central-log-forwarder-dev"),
            &[
                ("aws:SourceArn".into(), source.into()),
                ("aws:SourceAccount".into(), ACCOUNT.into()),
            ],
        )
        .verdict
}

#[test]
fn only_granted_tenant_log_groups_feed_the_central_forwarder() {
    // Issue 9 item 5: each tenant stack grants its own API log group by exact ARN.
    let stacks = example();
    assert_eq!(
        logs_may_feed_the_forwarder(&stacks, "tenant-acme-corp-api-logs-dev"),
        Verdict::Allowed
    );
    assert_eq!(
        logs_may_feed_the_forwarder(&stacks, "tenant-acme-corp-api-logs-dev-copy"),
        Verdict::ImplicitDeny
    );
    assert_eq!(
        logs_may_feed_the_forwarder(&stacks, "tenant-evil-api-logs-dev"),
        Verdict::ImplicitDeny
    );
}

#[test]
fn a_wildcard_permission_lets_look_alike_groups_feed_the_forwarder() {
    // Revert the fix of item 5: central's former `log-group:tenant-*` permission.
    let mut stacks = example();
    let central = document_mut(&mut stacks, "central-dev");
    central["resource"]["aws_lambda_permission"] = json!({"tenant_log_subscriptions": {
        "statement_id": "TenantLogSubscriptions",
        "action": "lambda:InvokeFunction",
        "function_name": "${aws_lambda_function.log_forwarder.function_name}",
        "principal": "logs.amazonaws.com",
        "source_arn": "arn:aws:logs:us-east-1:${data.aws_caller_identity.logging.account_id}:log-group:tenant-*",
        "source_account": "${data.aws_caller_identity.logging.account_id}"
    }});
    assert_eq!(
        logs_may_feed_the_forwarder(&stacks, "tenant-evil-api-logs-dev"),
        Verdict::Allowed
    );
}

#[test]
fn a_derived_intent_a_plugin_declared_is_judged_once_as_the_plugins() {
    let stacks = example();
    let inputs = inputs(&stacks);
    let derived = Fleet::derived_intents(&inputs, &[]);
    let decrypt = derived
        .iter()
        .find(|intent| &*intent.stack == "central-dev" && &*intent.action == "kms:Decrypt")
        .expect("the forwarder's environment intent")
        .clone();
    // The plugin spells the same claim its own way: the role's literal ARN, another case.
    let declared = Intent {
        plugin: "logging".into(),
        principal: format!("arn:aws:iam::{ACCOUNT}:role/saas-central-log-forwarder-role-dev").into(),
        action: "KMS:Decrypt".into(),
        because: "declared".into(),
        ..decrypt.clone()
    };
    let remaining = Fleet::derived_intents(&inputs, std::slice::from_ref(&declared));
    assert_eq!(remaining.len(), derived.len() - 1);
    assert!(!remaining.contains(&decrypt));
    // A stack's model keeps the same intents: the derived one gives way to the declared one.
    let central = *inputs
        .iter()
        .find(|input| input.name == "central-dev")
        .expect("central");
    let texts = tenant_access::texts::Texts::default();
    // Who declared the intents to decrypt the forwarder's environment that the model keeps.
    let decrypting = |declared: Vec<Intent>| -> Vec<(String, String)> {
        tenant_access::model::StackModel::extract(central, declared, &texts)
            .take_intents()
            .iter()
            .filter(|i| i.intent.action.eq_ignore_ascii_case("kms:Decrypt") && i.context == decrypt.context)
            .map(|i| (i.intent.plugin.to_string(), i.intent.principal.to_string()))
            .collect()
    };
    let derived_only = [("host".to_owned(), decrypt.principal.to_string())];
    assert_eq!(decrypting(Vec::new()), derived_only);
    assert_eq!(
        decrypting(vec![declared.clone()]),
        [("logging".to_owned(), declared.principal.to_string())]
    );
    // Another context, stack or expectation is another claim: the derived intent stays.
    let others = [
        Intent {
            context: Box::new([(
                "kms:EncryptionContext:LambdaFunctionName".into(),
                "another-function".into(),
            )]),
            ..declared.clone()
        },
        Intent {
            stack: "tenant-acme-corp-dev".into(),
            ..declared.clone()
        },
        Intent {
            expect: Expectation::Deny,
            ..declared
        },
    ];
    for other in others {
        assert_eq!(
            Fleet::derived_intents(&inputs, std::slice::from_ref(&other)).len(),
            derived.len(),
            "{other:?}"
        );
    }
}

/// Covers: a function that 70 log groups may invoke has a statement per group; a request with a
/// known source is judged on the statements whose `aws:SourceArn` may match it, with the same
/// verdict and the same statements reported as when the whole policy is evaluated.
#[test]
fn a_large_function_policy_is_narrowed_by_source_without_changing_verdicts() {
    let permissions: serde_json::Map<String, Value> = (0..70)
        .map(|i| {
            (
                format!("from_group_{i}"),
                json!({
                    "function_name": "${aws_lambda_function.forwarder.function_name}",
                    "action": "lambda:InvokeFunction",
                    "principal": "logs.amazonaws.com",
                    "statement_id": format!("FromGroup{i}"),
                    "source_arn": format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:tenant-{i}-logs:*"),
                }),
            )
        })
        .collect();
    let document = json!({"resource": {
        "aws_lambda_function": {"forwarder": {"function_name": "forwarder", "role": "arn:aws:iam::123456789012:role/forwarder"}},
        "aws_lambda_permission": permissions,
    }});
    let fleet = fleet(&vec![("central-dev".to_owned(), None, document)]);
    let logs = logs_service();
    let function = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:forwarder");
    let group = |name: &str| format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{name}:log-stream:s");
    for (source, expected) in [
        (group("tenant-7-logs"), Verdict::Allowed),
        (group("tenant-1-logs"), Verdict::Allowed),
        (group("tenant-70-logs"), Verdict::ImplicitDeny),
        (group("tenant-7-logs-other"), Verdict::ImplicitDeny),
        ("${aws_cloudwatch_log_group.x.arn}".to_owned(), Verdict::Unknown),
    ] {
        let context: [(Arc<str>, Arc<str>); 1] = [("aws:SourceArn".into(), source.as_str().into())];
        let narrowed = fleet.evaluate(&logs, "lambda:InvokeFunction", &function, &context);
        let mut whole = fleet.request(
            &logs.principal,
            &logs.endpoints,
            "lambda:InvokeFunction",
            &function,
            &context,
        );
        whole.resource.policy = fleet
            .resource_for(&function)
            .and_then(|f| f.resource.policy.clone());
        let whole = tenant_access::evaluate(&whole);
        assert_eq!(narrowed.verdict, expected, "{source}");
        assert_eq!(narrowed.verdict, whole.verdict, "{source}");
        assert_eq!(narrowed.statements, whole.statements, "{source}");
    }
}

/// Intents keep one copy of each text: the host's derived intents, once shared, point at the same
/// texts in every stack, and resolving shares the context values too (a fleet of 10,000 tenants
/// holds hundreds of thousands of intents until they are judged).
#[test]
fn intents_share_their_texts_across_stacks() {
    use tenant_access::model::{ResolvedIntent, StackModel};
    use tenant_access::texts::Texts;
    let stacks = example();
    let texts = Texts::default();
    let intents: Vec<Vec<ResolvedIntent>> = stacks
        .iter()
        .filter(|(_, tenant, _)| tenant.is_some())
        .map(|(name, tenant, document)| {
            let input = StackInput {
                name,
                tenant: tenant.as_deref(),
                document,
            };
            StackModel::extract(input, Vec::new(), &texts).take_intents()
        })
        .collect();
    let decrypt = |intents: &[ResolvedIntent]| {
        intents
            .iter()
            .find(|i| &*i.intent.action == "kms:Decrypt" && !i.context.is_empty())
            .expect("a Lambda function decrypting its environment")
            .clone()
    };
    // Kept until the fleet checks, the lists have no spare room.
    assert!(intents.iter().all(|list| list.capacity() == list.len()));
    let (first, second) = (decrypt(&intents[0]), decrypt(&intents[1]));
    assert_ne!(first.intent.stack, second.intent.stack);
    assert!(Arc::ptr_eq(&first.intent.because, &second.intent.because));
    assert!(Arc::ptr_eq(
        &first.intent.context[0].0,
        &second.intent.context[0].0
    ));
    assert!(Arc::ptr_eq(&first.context[0].0, &first.intent.context[0].0));
    assert!(Arc::ptr_eq(
        &first.context[0].1,
        &texts.share(&first.context[0].1)
    ));
}
