//! One end-to-end test per requirement of the seed (its numbered "Core Requirements" and its
//! network, security and deployment constraints), each checked by name and value on what the
//! real binary writes for the built-in example fleet (acme-corp, tech-startup, retail-co).
//!
//! The seed asks for CDKTF with Python; this tool replaces that program, so the "TenantStack
//! class" is a `tenant-{id}-{suffix}` stack of a cdktf-compatible folder and "CDKTF outputs" are
//! that stack's Terraform outputs. Everything else is asserted as the seed words it.

use crate::support::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use tenant_host::schema::{BlockKind, ProviderSchema, undeclared_references};

/// The example tenants in configuration order, with the VPC block each must get.
const TENANTS: [(&str, &str); 3] = [
    ("acme-corp", "10.0.0.0/16"),
    ("tech-startup", "10.1.0.0/16"),
    ("retail-co", "10.2.0.0/16"),
];
const SUFFIX: &str = "dev";
const CENTRAL: &str = "central-dev";
const CENTRAL_LOG_GROUP: &str = "/aws/saas/central-logs-dev";

/// The example synthesized once for every test of this file.
struct Synth {
    manifest: Value,
    /// Stack name to its `cdk.tf.json`.
    stacks: BTreeMap<String, Value>,
    /// Every file of the output folder by relative path.
    files: BTreeMap<String, Vec<u8>>,
}

impl Synth {
    fn stack(&self, name: &str) -> &Value {
        self.stacks
            .get(name)
            .unwrap_or_else(|| panic!("no stack `{name}` in {:?}", self.stacks.keys()))
    }

    fn tenant(&self, tenant: &str) -> &Value {
        self.stack(&tenant_stack(tenant))
    }

    fn central(&self) -> &Value {
        self.stack(CENTRAL)
    }
}

fn synth() -> &'static Synth {
    static SYNTH: OnceLock<Synth> = OnceLock::new();
    SYNTH.get_or_init(|| {
        let plugins = product_plugin_dir();
        let work = tempfile::tempdir().expect("scratch folder");
        let output = tenant_host(
            work.path(),
            &["synth", "--plugins", plugins.path().to_str().unwrap()],
        );
        assert_success(&output);
        let files = read_tree(&work.path().join("cdktf.out"));
        let manifest: Value = serde_json::from_slice(&files["manifest.json"]).expect("manifest.json is JSON");
        let stacks = manifest["stacks"]
            .as_object()
            .expect("manifest lists stacks")
            .iter()
            .map(|(name, entry)| {
                let path = entry["synthesizedStackPath"].as_str().expect("stack path");
                let bytes = files
                    .get(path)
                    .unwrap_or_else(|| panic!("{name}: {path} is missing"));
                let doc = serde_json::from_slice(bytes).expect("cdk.tf.json is JSON");
                (name.clone(), doc)
            })
            .collect();
        Synth {
            manifest,
            stacks,
            files,
        }
    })
}

fn tenant_stack(tenant: &str) -> String {
    format!("tenant-{tenant}-{SUFFIX}")
}

/// The blocks of one resource type in a stack, by local name.
fn resources<'a>(doc: &'a Value, type_name: &str) -> Vec<(&'a str, &'a Value)> {
    doc["resource"][type_name]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, body)| (name.as_str(), body))
        .collect()
}

/// The single block of a resource type in a stack, with its local name.
fn only<'a>(doc: &'a Value, type_name: &str, stack: &str) -> (&'a str, &'a Value) {
    let found = resources(doc, type_name);
    assert_eq!(
        found.len(),
        1,
        "{stack}: expected exactly one {type_name}, found {found:?}"
    );
    found[0]
}

/// The provisioning workflow's state machine (the central stack also holds the fleet rollout's).
fn provisioning_workflow(central: &Value) -> (&str, &Value) {
    resources(central, "aws_sfn_state_machine")
        .into_iter()
        .find(|(_, machine)| machine["name"] == format!("saas-tenant-provisioning-{SUFFIX}"))
        .unwrap_or_else(|| panic!("{CENTRAL}: no state machine saas-tenant-provisioning-{SUFFIX}"))
}

/// Every resource of a stack as (type, local name, body).
fn all_resources(doc: &Value) -> Vec<(&str, &str, &Value)> {
    doc["resource"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(type_name, blocks)| {
            blocks
                .as_object()
                .into_iter()
                .flatten()
                .map(move |(name, body)| (type_name.as_str(), name.as_str(), body))
        })
        .collect()
}

/// `${type.name.attribute}`: how Terraform JSON refers to an attribute of a resource.
fn reference(type_name: &str, name: &str, attribute: &str) -> String {
    format!("${{{type_name}.{name}.{attribute}}}")
}

/// Every string value below `value`.
fn strings(value: &Value) -> Vec<&str> {
    fn walk<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::String(s) => out.push(s),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(fields) => fields.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut out);
    out
}

/// The addresses (`type.name` or `data.type.name`) that `${...}` expressions below `value` use.
fn referenced_addresses(value: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for text in strings(value) {
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let end = after.find('}').expect("closed interpolation");
            let parts: Vec<&str> = after[..end].split(['.', '[']).collect();
            let take = if parts[0] == "data" { 3 } else { 2 };
            if parts[0] != "path" && parts.len() >= take {
                found.insert(parts[..take].join("."));
            }
            rest = &after[end..];
        }
    }
    found
}

/// A JSON-encoded policy attribute, parsed.
fn policy(body: &Value, attribute: &str) -> Value {
    serde_json::from_str(body[attribute].as_str().expect("policy is a JSON string"))
        .expect("policy is valid JSON")
}

/// A value that IAM allows as one string or a list of strings, as a list.
fn one_or_many(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().map(|v| v.as_str().expect("string")).collect(),
        Value::Null => vec![],
        other => panic!("expected a string or a list of strings, found {other}"),
    }
}

fn statements(document: &Value) -> Vec<&Value> {
    match &document["Statement"] {
        Value::Array(items) => items.iter().collect(),
        single @ Value::Object(_) => vec![single],
        other => panic!("policy without statements: {other}"),
    }
}

/// The `aws:PrincipalTag/TenantId` value a statement requires with `StringEquals`, if any.
fn principal_tag_condition(statement: &Value) -> Option<&str> {
    statement["Condition"]["StringEquals"]["aws:PrincipalTag/TenantId"].as_str()
}

/// An IPv4 block as (base, prefix length).
fn cidr(text: &str) -> (u32, u32) {
    let (address, prefix) = text.split_once('/').expect("a CIDR block");
    let octets: Vec<u32> = address.split('.').map(|o| o.parse().expect("octet")).collect();
    assert_eq!(octets.len(), 4, "{text}");
    let base = octets.iter().fold(0, |acc, o| (acc << 8) | o);
    (base, prefix.parse().expect("prefix length"))
}

fn mask(prefix: u32) -> u32 {
    if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) }
}

fn cidr_contains(outer: &str, inner: &str) -> bool {
    let (outer_base, outer_prefix) = cidr(outer);
    let (inner_base, inner_prefix) = cidr(inner);
    inner_prefix >= outer_prefix && inner_base & mask(outer_prefix) == outer_base & mask(outer_prefix)
}

fn cidrs_overlap(a: &str, b: &str) -> bool {
    cidr_contains(a, b) || cidr_contains(b, a)
}

/// Resource types whose schema (the embedded AWS provider schema) has a `tags` attribute.
fn taggable(type_name: &str) -> bool {
    static SCHEMA: OnceLock<ProviderSchema> = OnceLock::new();
    let schema = SCHEMA.get_or_init(|| ProviderSchema::embedded().expect("embedded provider schema"));
    assert!(
        schema.has_resource(type_name),
        "{type_name} is not in the embedded AWS provider schema"
    );
    schema.has_attribute(BlockKind::Resource, type_name, "tags")
}

/// Checks a tenant resource name against `tenant-{id}-{type}-{suffix}`. A KMS alias is
/// `alias/tenant-{id}-{suffix}`, the form the plugin specification prescribes for it (the `alias/`
/// namespace says what it is).
fn follows_tenant_convention(name: &str, tenant: &str, suffix: &str) -> bool {
    if let Some(alias) = name.strip_prefix("alias/") {
        return alias == format!("tenant-{tenant}-{suffix}");
    }
    name.strip_prefix(&format!("tenant-{tenant}-"))
        .and_then(|rest| rest.strip_suffix(&format!("-{suffix}")))
        .is_some_and(|resource_type| {
            !resource_type.is_empty()
                && resource_type
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// The names a stack gives its resources: the `name` (a KMS alias's without `alias/`), a
/// bucket's `bucket`, a function's `function_name`, and every `Name` tag. An S3 Intelligent-
/// Tiering configuration's `name` is only its id inside its bucket, so it is not one of them.
fn resource_names(doc: &Value) -> Vec<(String, String)> {
    let mut names = Vec::new();
    for (type_name, name, body) in all_resources(doc) {
        let address = format!("{type_name}.{name}");
        let mut fields = vec!["name"];
        match type_name {
            "aws_s3_bucket" => fields.push("bucket"),
            "aws_lambda_function" => fields.push("function_name"),
            "aws_s3_bucket_intelligent_tiering_configuration" => fields.clear(),
            _ => {}
        }
        for field in fields {
            if let Some(value) = body[field].as_str() {
                names.push((format!("{address}.{field}"), value.to_owned()));
            }
        }
        if let Some(value) = body["tags"]["Name"].as_str() {
            names.push((format!("{address}.tags.Name"), value.to_owned()));
        }
    }
    names
}

/// Covers: requirement 1 (tenant isolation architecture): a stack per tenant (the TenantStack)
/// holding a dedicated VPC on its own non-overlapping block from 10.0.0.0/16 on, its own subnets
/// and security groups inside that VPC, and names of the form tenant-{id}-{resource}-{suffix}.
#[test]
fn requirement_01_tenant_isolation_architecture() {
    let synth = synth();
    let mut blocks = Vec::new();
    let mut misnamed = Vec::new();
    for (tenant, block) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        let (vpc_name, vpc) = only(doc, "aws_vpc", &stack);
        assert_eq!(vpc["cidr_block"], block, "{stack}: VPC block");
        assert_eq!(
            vpc["tags"]["Name"],
            format!("tenant-{tenant}-vpc-{SUFFIX}"),
            "{stack}"
        );
        let vpc_id = reference("aws_vpc", vpc_name, "id");
        blocks.push(block);

        let subnets = resources(doc, "aws_subnet");
        assert_eq!(subnets.len(), 2, "{stack}: subnets {subnets:?}");
        for (name, subnet) in &subnets {
            assert_eq!(subnet["vpc_id"], vpc_id.as_str(), "{stack}: subnet {name}");
            let subnet_block = subnet["cidr_block"].as_str().expect("subnet block");
            assert!(
                cidr_contains(block, subnet_block),
                "{stack}: subnet {name} {subnet_block}"
            );
        }

        let groups = resources(doc, "aws_security_group");
        assert!(!groups.is_empty(), "{stack}: no security group");
        for (name, group) in groups.iter().chain(&resources(doc, "aws_default_security_group")) {
            assert_eq!(group["vpc_id"], vpc_id.as_str(), "{stack}: security group {name}");
        }

        for (field, name) in resource_names(doc) {
            if !follows_tenant_convention(&name, tenant, SUFFIX) {
                misnamed.push(format!(
                    "{stack}: {field} = `{name}` does not follow tenant-{tenant}-{{resource}}-{SUFFIX}"
                ));
            }
        }
        let (_, function) = only(doc, "aws_lambda_function", &stack);
        assert_eq!(function["function_name"], format!("tenant-{tenant}-api-{SUFFIX}"));
        let (_, table) = only(doc, "aws_dynamodb_table", &stack);
        assert_eq!(table["name"], format!("tenant-{tenant}-metadata-{SUFFIX}"));
        let (_, bucket) = only(doc, "aws_s3_bucket", &stack);
        assert_eq!(bucket["bucket"], format!("tenant-{tenant}-data-{SUFFIX}"));
    }
    for (i, a) in blocks.iter().enumerate() {
        for b in &blocks[i + 1..] {
            assert!(!cidrs_overlap(a, b), "tenant blocks {a} and {b} overlap");
        }
    }
    assert!(
        misnamed.is_empty(),
        "names off the tenant-{{id}}-{{resource}}-{{suffix}} convention:\n{}",
        misnamed.join("\n")
    );
}

/// Covers: requirement 2 (compute layer): one API function per tenant with 256 MB, 60 s,
/// reserved concurrency 10, in the tenant's subnets and security group, logging to the tenant's
/// own log group, and allowed to write log streams there only.
#[test]
fn requirement_02_compute_layer() {
    let synth = synth();
    for (tenant, _) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        let (_, function) = only(doc, "aws_lambda_function", &stack);
        assert_eq!(function["memory_size"], 256, "{stack}: memory_size");
        assert_eq!(function["timeout"], 60, "{stack}: timeout");
        assert_eq!(
            function["reserved_concurrent_executions"], 10,
            "{stack}: reserved concurrency"
        );
        assert!(
            function["runtime"].as_str().is_some_and(|r| !r.is_empty()),
            "{stack}: runtime"
        );
        assert!(
            function["handler"].as_str().is_some_and(|h| !h.is_empty()),
            "{stack}: handler"
        );

        let asset = function["filename"]
            .as_str()
            .and_then(|f| f.strip_prefix("${path.module}/"))
            .expect("the function's code is an asset of its stack");
        let asset = format!("stacks/{stack}/{asset}");
        assert!(
            synth.files.get(&asset).is_some_and(|zip| zip.starts_with(b"PK")),
            "{stack}: the code asset {asset} is missing or not a zip"
        );

        let (sg_name, _) = only(doc, "aws_security_group", &stack);
        let vpc_config = &function["vpc_config"][0];
        assert_eq!(
            one_or_many(&vpc_config["security_group_ids"]),
            [reference("aws_security_group", sg_name, "id")],
            "{stack}: function security groups"
        );
        let subnet_ids: BTreeSet<String> = one_or_many(&vpc_config["subnet_ids"])
            .into_iter()
            .map(str::to_owned)
            .collect();
        let own_subnets: BTreeSet<String> = resources(doc, "aws_subnet")
            .into_iter()
            .map(|(name, _)| reference("aws_subnet", name, "id"))
            .collect();
        assert_eq!(subnet_ids, own_subnets, "{stack}: function subnets");

        // Tenant-specific log streams: the function logs into a log group of its tenant.
        let log_group_ref = function["logging_config"][0]["log_group"]
            .as_str()
            .expect("the function names its log group");
        let (group_name, group) = resources(doc, "aws_cloudwatch_log_group")
            .into_iter()
            .find(|(name, _)| reference("aws_cloudwatch_log_group", name, "name") == log_group_ref)
            .unwrap_or_else(|| panic!("{stack}: {log_group_ref} is not a log group of this stack"));
        assert_eq!(
            group["name"],
            format!("tenant-{tenant}-api-logs-{SUFFIX}"),
            "{stack}"
        );

        // Its execution role may create streams and put events in that group only.
        let group_arn = reference("aws_cloudwatch_log_group", group_name, "arn");
        let mut log_writes = 0;
        let role = role_of(doc, function["role"].as_str().expect("function role"))
            .unwrap_or_else(|| panic!("{stack}: the function's role is not in the stack"));
        for (name, role_policy) in role_policies(doc, &role) {
            for statement in statements(&policy(role_policy, "policy")) {
                let actions = one_or_many(&statement["Action"]);
                if !actions.iter().any(|a| a.starts_with("logs:")) {
                    continue;
                }
                for resource in one_or_many(&statement["Resource"]) {
                    assert!(
                        resource.starts_with(&group_arn),
                        "{stack}: aws_iam_role_policy.{name} grants {actions:?} on {resource}"
                    );
                }
                if resource_starts_with(statement, &group_arn) {
                    log_writes += 1;
                }
            }
        }
        assert!(
            log_writes > 0,
            "{stack}: the function may not write its log group"
        );
    }
}

fn resource_starts_with(statement: &Value, prefix: &str) -> bool {
    one_or_many(&statement["Resource"])
        .iter()
        .any(|r| r.starts_with(prefix))
}

/// Covers: requirement 3 (data storage): a metadata table per tenant keyed tenant_id /
/// resource_type, on demand, with contributor insights; a data bucket per tenant, versioned,
/// moved to Intelligent-Tiering, with objects expiring after 90 days.
#[test]
fn requirement_03_data_storage() {
    let synth = synth();
    for (tenant, _) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        let (table_name, table) = only(doc, "aws_dynamodb_table", &stack);
        assert_eq!(table["hash_key"], "tenant_id", "{stack}: partition key");
        assert_eq!(table["range_key"], "resource_type", "{stack}: sort key");
        assert_eq!(table["billing_mode"], "PAY_PER_REQUEST", "{stack}: billing mode");
        assert!(table.get("read_capacity").is_none() && table.get("write_capacity").is_none());
        let attributes: BTreeMap<&str, &str> = table["attribute"]
            .as_array()
            .expect("key attributes")
            .iter()
            .map(|a| (a["name"].as_str().unwrap(), a["type"].as_str().unwrap()))
            .collect();
        assert_eq!(
            attributes,
            BTreeMap::from([("resource_type", "S"), ("tenant_id", "S")]),
            "{stack}: key attributes"
        );
        let table_ref = reference("aws_dynamodb_table", table_name, "name");
        let insights = resources(doc, "aws_dynamodb_contributor_insights");
        assert!(
            insights
                .iter()
                .any(|(_, body)| body["table_name"] == table_ref.as_str()
                    && body.get("index_name").is_none()
                    && body["mode"].as_str().is_none_or(|m| m != "DISABLED")),
            "{stack}: no contributor insights for the table: {insights:?}"
        );

        let buckets = resources(doc, "aws_s3_bucket");
        assert_eq!(buckets.len(), 1, "{stack}: one data bucket");
        for (bucket_name, _) in buckets {
            let bucket_id = reference("aws_s3_bucket", bucket_name, "id");
            let for_bucket = |type_name: &str| -> Vec<&Value> {
                resources(doc, type_name)
                    .into_iter()
                    .filter(|(_, body)| body["bucket"] == bucket_id.as_str())
                    .map(|(_, body)| body)
                    .collect()
            };
            let versioning = for_bucket("aws_s3_bucket_versioning");
            assert_eq!(versioning.len(), 1, "{stack}: versioning of {bucket_name}");
            assert_eq!(
                versioning[0]["versioning_configuration"][0]["status"], "Enabled",
                "{stack}: versioning of {bucket_name}"
            );

            let lifecycles = for_bucket("aws_s3_bucket_lifecycle_configuration");
            assert_eq!(lifecycles.len(), 1, "{stack}: lifecycle of {bucket_name}");
            let rules = lifecycles[0]["rule"].as_array().expect("lifecycle rules");
            let whole_bucket = |rule: &&Value| {
                rule["status"] == "Enabled"
                    && match &rule["filter"] {
                        Value::Null => true,
                        Value::Array(filters) => {
                            filters.is_empty()
                                || filters
                                    .iter()
                                    .all(|f| f.as_object().is_some_and(|o| o.is_empty()))
                        }
                        _ => false,
                    }
            };
            assert!(
                rules
                    .iter()
                    .filter(whole_bucket)
                    .any(|rule| rule["expiration"][0]["days"] == 90),
                "{stack}: no enabled whole-bucket rule expiring objects after 90 days: {rules:?}"
            );
            let tiered_by_lifecycle = rules.iter().filter(whole_bucket).any(|rule| {
                rule["transition"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|t| t["storage_class"] == "INTELLIGENT_TIERING" && t["days"] == 0)
            });
            assert!(
                tiered_by_lifecycle,
                "{stack}: objects are not moved to INTELLIGENT_TIERING on day 0: {rules:?}"
            );
            let tiering = for_bucket("aws_s3_bucket_intelligent_tiering_configuration");
            assert!(
                tiering.iter().all(|t| t["status"] == "Enabled"),
                "{stack}: a disabled Intelligent-Tiering configuration: {tiering:?}"
            );
        }
    }
}

/// Covers: requirement 4 (encryption and key management): one customer-managed key per tenant,
/// the tenant's bucket encrypted with it (SSE-KMS), its table encrypted at rest with it, and a
/// key policy that admits only the tenant's principals.
#[test]
fn requirement_04_encryption_and_key_management() {
    let synth = synth();
    for (tenant, _) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        let (key_name, key) = only(doc, "aws_kms_key", &stack);
        let key_arn = reference("aws_kms_key", key_name, "arn");
        assert_eq!(key["enable_key_rotation"], true, "{stack}: rotation");
        assert_eq!(key["deletion_window_in_days"], 7, "{stack}: deletion window");
        assert_eq!(
            key["key_usage"].as_str().unwrap_or("ENCRYPT_DECRYPT"),
            "ENCRYPT_DECRYPT",
            "{stack}"
        );
        assert_eq!(
            key["customer_master_key_spec"]
                .as_str()
                .unwrap_or("SYMMETRIC_DEFAULT"),
            "SYMMETRIC_DEFAULT",
            "{stack}"
        );
        assert_eq!(key["tags"]["TenantId"], tenant, "{stack}");

        let (bucket_name, _) = only(doc, "aws_s3_bucket", &stack);
        let (_, sse) = only(doc, "aws_s3_bucket_server_side_encryption_configuration", &stack);
        assert_eq!(
            sse["bucket"],
            reference("aws_s3_bucket", bucket_name, "id"),
            "{stack}"
        );
        let default = &sse["rule"][0]["apply_server_side_encryption_by_default"][0];
        assert_eq!(
            default["sse_algorithm"], "aws:kms",
            "{stack}: bucket SSE algorithm"
        );
        assert_eq!(
            default["kms_master_key_id"],
            key_arn.as_str(),
            "{stack}: bucket SSE key"
        );

        let (_, table) = only(doc, "aws_dynamodb_table", &stack);
        let table_sse = &table["server_side_encryption"][0];
        assert_eq!(table_sse["enabled"], true, "{stack}: table encryption");
        assert_eq!(table_sse["kms_key_arn"], key_arn.as_str(), "{stack}: table key");

        assert_key_policy_is_tenant_scoped(key, tenant, &stack);
    }
}

/// A tenant key's policy: grants to any principal require the tenant's principal tag, and
/// principals tagged for another tenant are denied everything.
fn assert_key_policy_is_tenant_scoped(key: &Value, tenant: &str, stack: &str) {
    let document = policy(key, "policy");
    let mut denies_other_tenants = false;
    for statement in statements(&document) {
        let principal = &statement["Principal"];
        let to_anyone = principal == "*" || principal["AWS"] == "*";
        if statement["Effect"] == "Allow" && to_anyone {
            assert_eq!(
                principal_tag_condition(statement),
                Some(tenant),
                "{stack}: key policy grants to any principal without the tenant tag: {statement}"
            );
        }
        if statement["Effect"] == "Deny"
            && to_anyone
            && one_or_many(&statement["Action"]).contains(&"kms:*")
            && statement["Condition"]["StringNotEquals"]["aws:PrincipalTag/TenantId"] == tenant
        {
            denies_other_tenants = true;
        }
    }
    assert!(
        denies_other_tenants,
        "{stack}: the key policy does not deny principals tagged for other tenants"
    );
}

/// Covers: requirement 5 (identity and access management): every tenant permission is bound
/// to `aws:PrincipalTag/TenantId` = the tenant; the function's execution role reaches only its
/// tenant's resources, under a permissions boundary that denies other tenants' resources.
#[test]
fn requirement_05_identity_and_access_management() {
    let synth = synth();
    for (tenant, _) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        assert_permissions_are_tenant_bound(doc, tenant, &stack);

        // The function runs as the tenant's role.
        let (_, function) = only(doc, "aws_lambda_function", &stack);
        let role_ref = function["role"].as_str().expect("function role");
        let role_name = role_of(doc, role_ref)
            .unwrap_or_else(|| panic!("{stack}: the function's role {role_ref} is not in the stack"));
        let role = &doc["resource"]["aws_iam_role"][role_name.as_str()];
        assert_eq!(
            role["name"],
            format!("tenant-{tenant}-lambda-role-{SUFFIX}"),
            "{stack}"
        );
        let trust = policy(role, "assume_role_policy");
        assert!(
            statements(&trust)
                .iter()
                .all(|s| s["Principal"]["Service"] == "lambda.amazonaws.com"),
            "{stack}: the execution role trusts more than Lambda: {trust}"
        );

        // The boundary denies everything tagged for another tenant.
        let boundary_ref = role["permissions_boundary"]
            .as_str()
            .expect("the execution role has a permissions boundary");
        let (_, boundary) = resources(doc, "aws_iam_policy")
            .into_iter()
            .find(|(name, _)| reference("aws_iam_policy", name, "arn") == boundary_ref)
            .unwrap_or_else(|| panic!("{stack}: boundary {boundary_ref} is not in the stack"));
        let boundary = policy(boundary, "policy");
        assert!(
            statements(&boundary).iter().any(|s| s["Effect"] == "Deny"
                && one_or_many(&s["Action"]) == ["*"]
                && s["Condition"]["StringNotEquals"]["aws:ResourceTag/TenantId"] == tenant),
            "{stack}: the boundary does not deny other tenants' resources: {boundary}"
        );

        // The role's own grants name only this stack's resources (or read-only describes).
        let grants = role_policies(doc, &role_name);
        assert!(!grants.is_empty(), "{stack}: the execution role has no policy");
        for (name, role_policy) in grants {
            for statement in statements(&policy(role_policy, "policy")) {
                if statement["Effect"] != "Allow" {
                    continue;
                }
                for resource in one_or_many(&statement["Resource"]) {
                    if resource == "*" {
                        for action in one_or_many(&statement["Action"]) {
                            assert!(
                                action.starts_with("ec2:Describe") || action.starts_with("xray:Put"),
                                "{stack}: aws_iam_role_policy.{name} grants {action} on every resource"
                            );
                        }
                    } else {
                        assert!(
                            resource.contains("${aws_") || resource.contains("${data.aws_caller_identity."),
                            "{stack}: aws_iam_role_policy.{name} grants on {resource}, not a resource of this stack"
                        );
                    }
                }
            }
        }
    }
}

/// The IAM role (local name) a `role` attribute designates, directly or through
/// `${aws_iam_role_policy.<name>.role}`.
fn role_of(doc: &Value, role_ref: &str) -> Option<String> {
    for address in referenced_addresses(&Value::String(role_ref.to_owned())) {
        if let Some(role) = address.strip_prefix("aws_iam_role.") {
            return Some(role.to_owned());
        }
        if let Some(inline) = address.strip_prefix("aws_iam_role_policy.") {
            return role_of(
                doc,
                doc["resource"]["aws_iam_role_policy"][inline]["role"].as_str()?,
            );
        }
    }
    None
}

/// The inline policies of an IAM role (by local name).
fn role_policies<'a>(doc: &'a Value, role: &str) -> Vec<(&'a str, &'a Value)> {
    resources(doc, "aws_iam_role_policy")
        .into_iter()
        .filter(|(_, p)| p["role"].as_str().and_then(|r| role_of(doc, r)).as_deref() == Some(role))
        .collect()
}

/// Every Allow statement of every identity policy in a tenant stack requires the tenant's
/// principal tag, and no policy document mentions another tenant.
fn assert_permissions_are_tenant_bound(doc: &Value, tenant: &str, stack: &str) {
    let mut checked = 0;
    for type_name in ["aws_iam_policy", "aws_iam_role_policy"] {
        for (name, body) in resources(doc, type_name) {
            for statement in statements(&policy(body, "policy")) {
                if statement["Effect"] == "Allow" {
                    checked += 1;
                    assert_eq!(
                        principal_tag_condition(statement),
                        Some(tenant),
                        "{stack}: {type_name}.{name} allows without aws:PrincipalTag/TenantId: {statement}"
                    );
                }
            }
            for (other, _) in TENANTS.iter().filter(|(t, _)| *t != tenant) {
                assert!(
                    !body["policy"].as_str().unwrap().contains(other),
                    "{stack}: {type_name}.{name} mentions tenant {other}"
                );
            }
        }
    }
    assert!(checked > 5, "{stack}: only {checked} Allow statements");
}

/// Covers: requirement 6 (logging and monitoring): every log group keeps 30 days; the central
/// stack holds `/aws/saas/central-logs-dev`, fed under tenant-prefixed streams by the forwarder
/// that each tenant's subscription filter targets; tenants may read their own log groups only.
#[test]
fn requirement_06_logging_and_monitoring() {
    let synth = synth();
    for (stack, doc) in &synth.stacks {
        let groups = resources(doc, "aws_cloudwatch_log_group");
        assert!(!groups.is_empty(), "{stack}: no log group");
        for (name, group) in groups {
            assert_eq!(
                group["retention_in_days"], 30,
                "{stack}: log group {name} retention"
            );
        }
    }

    let central = synth.central();
    let (central_group_name, _) = resources(central, "aws_cloudwatch_log_group")
        .into_iter()
        .find(|(_, g)| g["name"] == CENTRAL_LOG_GROUP)
        .unwrap_or_else(|| panic!("{CENTRAL}: no log group {CENTRAL_LOG_GROUP}"));
    let forwarders: Vec<(&str, &Value)> = resources(central, "aws_lambda_function")
        .into_iter()
        .filter(|(_, f)| {
            f["environment"][0]["variables"]["CENTRAL_LOG_GROUP"]
                == reference("aws_cloudwatch_log_group", central_group_name, "name")
        })
        .collect();
    assert_eq!(
        forwarders.len(),
        1,
        "{CENTRAL}: one forwarder into the central log group"
    );
    let (_, forwarder) = forwarders[0];
    let forwarder_function = forwarder["function_name"].as_str().unwrap();
    assert!(
        forwarder["description"]
            .as_str()
            .is_some_and(|d| d.contains("tenant-prefixed streams")),
        "{CENTRAL}: the forwarder does not say it writes tenant-prefixed streams"
    );
    // No central permission lists tenants (issue 9 items 4 and 5): each tenant stack grants
    // CloudWatch Logs the forwarder for its own API log group, by exact ARN (checked below).
    assert!(
        resources(central, "aws_lambda_permission")
            .into_iter()
            .all(|(_, p)| p["principal"] != "logs.amazonaws.com"),
        "{CENTRAL}: a central permission admits log groups by pattern"
    );

    for (tenant, _) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        let (api_group_name, _) = resources(doc, "aws_cloudwatch_log_group")
            .into_iter()
            .find(|(_, g)| g["name"] == format!("tenant-{tenant}-api-logs-{SUFFIX}"))
            .unwrap_or_else(|| panic!("{stack}: no API log group"));
        let grants = resources(doc, "aws_lambda_permission")
            .into_iter()
            .filter(|(_, p)| p["principal"] == "logs.amazonaws.com")
            .map(|(_, p)| p["source_arn"].clone())
            .collect::<Vec<_>>();
        assert_eq!(
            grants,
            [Value::String(format!(
                "{}:*",
                reference("aws_cloudwatch_log_group", api_group_name, "arn")
            ))],
            "{stack}: CloudWatch Logs may invoke the forwarder for exactly the API log group"
        );
        let filters = resources(doc, "aws_cloudwatch_log_subscription_filter");
        let (filter_name, filter) = filters
            .iter()
            .find(|(_, f)| {
                f["log_group_name"] == reference("aws_cloudwatch_log_group", api_group_name, "name")
            })
            .unwrap_or_else(|| panic!("{stack}: no subscription filter on the API log group"));
        let destination = filter["destination_arn"].as_str().unwrap();
        let data_name = destination
            .strip_prefix("${data.aws_lambda_function.")
            .and_then(|d| d.strip_suffix(".arn}"))
            .unwrap_or_else(|| {
                panic!("{stack}: filter {filter_name} sends to {destination}, not the central forwarder looked up by name")
            });
        assert_eq!(
            doc["data"]["aws_lambda_function"][data_name]["function_name"], forwarder_function,
            "{stack}: the subscription filter targets another function than the central forwarder"
        );

        // Cross-tenant log access: a read policy of the tenant's own groups, denying the rest.
        let own_groups: BTreeSet<String> = resources(doc, "aws_cloudwatch_log_group")
            .into_iter()
            .map(|(name, _)| reference("aws_cloudwatch_log_group", name, "arn"))
            .collect();
        let read_policies: Vec<Value> = resources(doc, "aws_iam_policy")
            .into_iter()
            .map(|(_, p)| policy(p, "policy"))
            .filter(|p| {
                statements(p).iter().any(|s| {
                    one_or_many(&s["Action"]).contains(&"logs:GetLogEvents") && s["Effect"] == "Deny"
                })
            })
            .collect();
        assert_eq!(read_policies.len(), 1, "{stack}: one log read policy");
        for statement in statements(&read_policies[0]) {
            let scope = if statement["Effect"] == "Allow" {
                assert_eq!(
                    principal_tag_condition(statement),
                    Some(tenant),
                    "{stack}: {statement}"
                );
                one_or_many(&statement["Resource"])
            } else {
                one_or_many(&statement["NotResource"])
            };
            assert!(!scope.is_empty(), "{stack}: {statement}");
            for arn in scope {
                assert!(
                    own_groups.iter().any(|g| arn == g || arn == format!("{g}:*")),
                    "{stack}: the log read policy scopes {arn}, not one of the tenant's groups"
                );
            }
        }
    }
}

/// Covers: requirement 7 (event-driven automation): a signup rule (source saas.tenant,
/// detail-type Tenant Signup) starts the provisioning workflow, whose build synthesizes and
/// applies the tenant's stack with commands this tool accepts and state it may reach; each
/// tenant stack routes its own events to its own API function.
#[test]
fn requirement_07_event_driven_automation() {
    let synth = synth();
    let central = synth.central();
    let (bus_name, bus) = only(central, "aws_cloudwatch_event_bus", CENTRAL);
    let bus_label = bus["name"].as_str().unwrap();
    let (signup_name, signup) = resources(central, "aws_cloudwatch_event_rule")
        .into_iter()
        .find(|(_, rule)| {
            let pattern: Value = serde_json::from_str(rule["event_pattern"].as_str().unwrap()).unwrap();
            // The rule also matches offboarding requests, which the same workflow handles.
            pattern["source"] == serde_json::json!(["saas.tenant"])
                && pattern["detail-type"]
                    .as_array()
                    .is_some_and(|types| types.contains(&serde_json::json!("Tenant Signup")))
        })
        .unwrap_or_else(|| panic!("{CENTRAL}: no rule for source saas.tenant, detail-type Tenant Signup"));
    assert_eq!(
        signup["event_bus_name"],
        reference("aws_cloudwatch_event_bus", bus_name, "name"),
        "the signup rule listens on the tenant bus"
    );
    assert_eq!(signup["name"], format!("saas-tenant-signup-{SUFFIX}"));
    let (_, target) = resources(central, "aws_cloudwatch_event_target")
        .into_iter()
        .find(|(_, t)| t["rule"] == reference("aws_cloudwatch_event_rule", signup_name, "name"))
        .expect("the signup rule has a target");
    let (machine_name, machine) = provisioning_workflow(central);
    assert_eq!(
        target["arn"],
        reference("aws_sfn_state_machine", machine_name, "arn"),
        "signups start the provisioning workflow"
    );
    assert_eq!(
        target["input_transformer"][0]["input_paths"]["tenant_id"],
        "$.detail.tenant_id"
    );
    let (_, project) = only(central, "aws_codebuild_project", CENTRAL);
    let definition: Value = serde_json::from_str(machine["definition"].as_str().unwrap()).unwrap();
    assert!(
        definition["States"].as_object().unwrap().values().any(|state| {
            state["Resource"] == "arn:aws:states:::codebuild:startBuild.sync"
                && state["Parameters"]["ProjectName"] == project["name"]
        }),
        "the workflow does not run the provisioning build: {definition}"
    );

    // The build runs the provisioning job script, embedded unchanged: it synthesizes the tenant's
    // stack from the registry with this tool, then applies that one stack folder. Running it as
    // CodeBuild would is `registry::the_provisioning_job_runs_as_codebuild_would`.
    let buildspec = project["source"][0]["buildspec"]
        .as_str()
        .expect("inline buildspec");
    let job = std::fs::read_to_string(workspace().join("plugins/events/job/provision.sh")).unwrap();
    assert!(
        job.lines().all(|line| buildspec.contains(line.trim())),
        "the buildspec does not embed plugins/events/job/provision.sh unchanged"
    );
    let lines: Vec<&str> = job.lines().map(str::trim).collect();
    let synth_command = lines
        .iter()
        .find(|c| c.starts_with("tenant-host synth"))
        .unwrap_or_else(|| panic!("the job does not run tenant-host synth: {job}"));
    for flag in ["--tenant", "--registry", "--plugins"] {
        assert!(synth_command.contains(flag), "`{synth_command}` lacks {flag}");
    }
    assert!(
        lines
            .iter()
            .any(|c| c.starts_with("terraform -chdir=") && c.contains(" apply")),
        "the job does not apply a stack: {job}"
    );
    let mut problems: Vec<String> = Vec::new();

    // The build's role reaches the bucket where the tenant stacks keep their state.
    let state_bucket = synth.tenant("acme-corp")["terraform"]["backend"]["s3"]["bucket"]
        .as_str()
        .expect("S3 backend bucket");
    let role_ref = project["service_role"].as_str().unwrap();
    let build_role = role_ref
        .strip_prefix("${aws_iam_role.")
        .and_then(|r| r.strip_suffix(".arn}"))
        .expect("the build's role is in the central stack");
    let build_grants: Vec<String> = resources(central, "aws_iam_role_policy")
        .into_iter()
        .filter(|(_, p)| p["role"] == reference("aws_iam_role", build_role, "name"))
        .flat_map(|(_, p)| {
            statements(&policy(p, "policy"))
                .into_iter()
                .filter(|s| s["Effect"] == "Allow")
                .flat_map(|s| {
                    let resources = one_or_many(&s["Resource"]);
                    one_or_many(&s["Action"])
                        .into_iter()
                        .flat_map(|a| resources.iter().map(move |r| format!("{a} {r}")))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for needed in [
        format!("s3:ListBucket arn:aws:s3:::{state_bucket}"),
        format!("s3:GetObject arn:aws:s3:::{state_bucket}/*"),
        format!("s3:PutObject arn:aws:s3:::{state_bucket}/*"),
    ] {
        if !build_grants.contains(&needed) {
            problems.push(format!(
                "the provisioning build's role lacks `{needed}` (the tenant stacks' state); its S3 grants: {:?}",
                build_grants.iter().filter(|g| g.starts_with("s3:")).collect::<Vec<_>>()
            ));
        }
    }

    // Tenant routing: each tenant stack sends its tenant's events to its own function.
    for (tenant, _) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        let (rule_name, rule) = only(doc, "aws_cloudwatch_event_rule", &stack);
        assert_eq!(rule["event_bus_name"], bus_label, "{stack}: rule bus (by name)");
        let pattern: Value = serde_json::from_str(rule["event_pattern"].as_str().unwrap()).unwrap();
        assert_eq!(
            pattern["detail"]["tenant_id"],
            serde_json::json!([tenant]),
            "{stack}: rule must match this tenant's events only"
        );
        let (function_name, _) = only(doc, "aws_lambda_function", &stack);
        let (_, tenant_target) = only(doc, "aws_cloudwatch_event_target", &stack);
        assert_eq!(
            tenant_target["rule"],
            reference("aws_cloudwatch_event_rule", rule_name, "name")
        );
        assert_eq!(tenant_target["event_bus_name"], bus_label, "{stack}");
        assert_eq!(
            tenant_target["arn"],
            reference("aws_lambda_function", function_name, "arn"),
            "{stack}: events go to the tenant's own function"
        );
        assert!(
            resources(doc, "aws_lambda_permission").iter().any(|(_, p)| {
                p["principal"] == "events.amazonaws.com"
                    && p["source_arn"] == reference("aws_cloudwatch_event_rule", rule_name, "arn")
            }),
            "{stack}: EventBridge may not invoke the function for its rule"
        );
    }
    assert!(
        problems.is_empty(),
        "signups cannot deploy a tenant stack:\n{}",
        problems.join("\n")
    );
}

/// Covers: requirement 8 (infrastructure outputs): every tenant stack exports api_endpoint,
/// bucket_name and table_arn, each bound to the tenant's own function URL, bucket and table.
#[test]
fn requirement_08_infrastructure_outputs() {
    let synth = synth();
    for (tenant, _) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        let (url_name, url) = only(doc, "aws_lambda_function_url", &stack);
        let (function_name, _) = only(doc, "aws_lambda_function", &stack);
        assert_eq!(
            url["function_name"],
            reference("aws_lambda_function", function_name, "function_name"),
            "{stack}"
        );
        let (bucket_name, _) = only(doc, "aws_s3_bucket", &stack);
        let (table_name, _) = only(doc, "aws_dynamodb_table", &stack);
        for (output, value) in [
            (
                "api_endpoint",
                reference("aws_lambda_function_url", url_name, "function_url"),
            ),
            ("bucket_name", reference("aws_s3_bucket", bucket_name, "bucket")),
            ("table_arn", reference("aws_dynamodb_table", table_name, "arn")),
        ] {
            let block = &doc["output"][output];
            assert_eq!(block["value"], value.as_str(), "{stack}: output {output}");
            assert_ne!(block["sensitive"], true, "{stack}: output {output} is hidden");
            assert!(
                block["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{stack}: output {output} has no description"
            );
        }
    }
}

/// Covers: requirement 9 (resource tagging): every taggable resource of every stack carries
/// Environment and ManagedBy=CDKTF, and in tenant stacks TenantId=<tenant>, both in its own tags
/// and as the provider's default tags; shared central resources carry no TenantId.
#[test]
fn requirement_09_resource_tagging() {
    let synth = synth();
    for (stack, doc) in &synth.stacks {
        let tenant = TENANTS
            .iter()
            .map(|(t, _)| *t)
            .find(|t| *stack == tenant_stack(t));
        let mut expected = serde_json::Map::new();
        expected.insert("Environment".into(), SUFFIX.into());
        expected.insert("ManagedBy".into(), "CDKTF".into());
        if let Some(tenant) = tenant {
            expected.insert("TenantId".into(), tenant.into());
        }
        let providers = doc["provider"]["aws"].as_array().expect("an AWS provider");
        for provider in providers {
            assert_eq!(
                provider["default_tags"][0]["tags"],
                Value::Object(expected.clone()),
                "{stack}: provider default tags"
            );
        }
        let mut tagged = 0;
        for (type_name, name, body) in all_resources(doc) {
            let tags = body.get("tags");
            if taggable(type_name) {
                assert!(tags.is_some(), "{stack}: taggable {type_name}.{name} has no tags");
            }
            let Some(tags) = tags else { continue };
            tagged += 1;
            for (key, value) in &expected {
                assert_eq!(&tags[key], value, "{stack}: {type_name}.{name} tag {key}");
            }
            if tenant.is_none() {
                assert!(
                    tags.get("TenantId").is_none(),
                    "{stack}: shared {type_name}.{name} is tagged as one tenant's"
                );
            }
        }
        assert!(tagged > 5, "{stack}: only {tagged} tagged resources");
    }
}

/// Covers: requirement 10 (multi-tenant deployment): one synth writes the central stack and a
/// stack for each of acme-corp, tech-startup and retail-co, each with its own provider and S3
/// state, self-contained, and depending on the central stack only, so tenants deploy in parallel.
#[test]
fn requirement_10_multi_tenant_deployment() {
    let synth = synth();
    let mut expected: Vec<String> = TENANTS.iter().map(|(t, _)| tenant_stack(t)).collect();
    expected.push(CENTRAL.to_owned());
    expected.sort();
    let listed: Vec<&String> = synth.stacks.keys().collect();
    assert_eq!(listed, expected.iter().collect::<Vec<_>>(), "manifest stacks");
    let mut state_keys = BTreeSet::new();
    for (stack, doc) in &synth.stacks {
        let entry = &synth.manifest["stacks"][stack];
        assert_eq!(entry["name"], stack.as_str());
        assert_eq!(doc["//"]["metadata"]["stackName"], stack.as_str());
        assert_eq!(
            entry["synthesizedStackPath"],
            format!("stacks/{stack}/cdk.tf.json")
        );
        let dependencies: Vec<&str> = one_or_many(&entry["dependencies"]);
        if stack == CENTRAL {
            assert!(dependencies.is_empty(), "{stack}: {dependencies:?}");
        } else {
            assert_eq!(
                dependencies,
                [CENTRAL],
                "{stack}: tenant stacks depend on central only"
            );
        }
        assert_eq!(
            doc["provider"]["aws"].as_array().map(Vec::len),
            Some(1),
            "{stack}: provider"
        );
        let backend = &doc["terraform"]["backend"]["s3"];
        assert!(
            backend["bucket"].as_str().is_some_and(|b| !b.is_empty()),
            "{stack}: backend"
        );
        assert_eq!(backend["encrypt"], true, "{stack}: state encrypted");
        let key = backend["key"].as_str().expect("state key");
        assert!(key.contains(stack.as_str()), "{stack}: state key {key}");
        assert!(
            state_keys.insert(key.to_owned()),
            "{stack}: state key {key} is shared"
        );
        assert_eq!(
            doc["terraform"]["required_providers"]["aws"]["source"],
            "hashicorp/aws"
        );
        let undeclared = undeclared_references(doc);
        assert!(
            undeclared.is_empty(),
            "{stack}: refers outside itself: {undeclared:?}"
        );
    }
}

/// Covers: network constraint: tenant blocks start at 10.0.0.0/16 and step by a /16, never
/// overlap, and each tenant has private subnets in two availability zones.
#[test]
fn constraint_network_cidr_allocation_and_private_subnets() {
    let synth = synth();
    let mut blocks: Vec<(String, String)> = Vec::new();
    for (i, (tenant, block)) in TENANTS.iter().enumerate() {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        let (_, vpc) = only(doc, "aws_vpc", &stack);
        let actual = vpc["cidr_block"].as_str().unwrap();
        assert_eq!(actual, *block, "{stack}");
        assert_eq!(
            cidr(actual),
            ((10 << 24) | ((i as u32) << 16), 16),
            "{stack}: block {i}"
        );
        for (other, other_block) in &blocks {
            assert!(!cidrs_overlap(actual, other_block), "{stack} overlaps {other}");
        }
        blocks.push((stack.clone(), actual.to_owned()));

        let subnets = resources(doc, "aws_subnet");
        assert_eq!(subnets.len(), 2, "{stack}: two subnets");
        let mut zones = BTreeSet::new();
        let mut subnet_blocks = Vec::new();
        for (name, subnet) in &subnets {
            assert_eq!(
                subnet["map_public_ip_on_launch"], false,
                "{stack}: {name} is public"
            );
            assert!(
                subnet
                    .get("assign_ipv6_address_on_creation")
                    .is_none_or(|v| v == false)
            );
            let zone = subnet["availability_zone"].as_str().expect("subnet zone");
            zones.insert(zone.to_owned());
            subnet_blocks.push(subnet["cidr_block"].as_str().unwrap());
        }
        assert_eq!(zones.len(), 2, "{stack}: subnets share a zone: {zones:?}");
        assert!(
            !cidrs_overlap(subnet_blocks[0], subnet_blocks[1]),
            "{stack}: subnets overlap"
        );
        // Zones given as indexes into an availability-zones lookup must name two zones.
        for zone in &zones {
            if let Some(data) = zone
                .strip_prefix("${data.aws_availability_zones.")
                .and_then(|z| z.split_once(".names["))
                .map(|(name, _)| name)
            {
                let lookup = &doc["data"]["aws_availability_zones"][data];
                let named = lookup["filter"][0]["values"].as_array().map(Vec::len);
                assert!(named.is_none_or(|n| n >= 2), "{stack}: zone lookup {lookup}");
                assert!(
                    lookup["filter"][0]["values"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .all(|z| z.as_str().unwrap().starts_with("us-east-1")),
                    "{stack}: zones outside us-east-1"
                );
            }
        }
    }
}

/// Covers: network constraint: no NAT gateway, internet gateway, peering or transit path, and
/// no route out of any tenant VPC; S3 and DynamoDB are reached through gateway endpoints.
#[test]
fn constraint_network_no_nat_gateways_or_peering() {
    let synth = synth();
    let forbidden = [
        "aws_nat_gateway",
        "aws_internet_gateway",
        "aws_internet_gateway_attachment",
        "aws_egress_only_internet_gateway",
        "aws_eip",
        "aws_vpc_peering_connection",
        "aws_vpc_peering_connection_accepter",
        "aws_vpc_peering_connection_options",
        "aws_ec2_transit_gateway",
        "aws_ec2_transit_gateway_vpc_attachment",
        "aws_vpn_gateway",
        "aws_route",
    ];
    for (stack, doc) in &synth.stacks {
        for (type_name, name, body) in all_resources(doc) {
            assert!(
                !forbidden.contains(&type_name) && !type_name.contains("peering"),
                "{stack}: {type_name}.{name} is not allowed"
            );
            if type_name == "aws_route_table" {
                assert!(
                    body.get("route")
                        .is_none_or(|r| r.as_array().is_some_and(Vec::is_empty)),
                    "{stack}: route table {name} has routes: {}",
                    body["route"]
                );
            }
        }
    }
    for (tenant, _) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        let (vpc_name, _) = only(doc, "aws_vpc", &stack);
        let endpoints = resources(doc, "aws_vpc_endpoint");
        assert!(
            !endpoints.is_empty(),
            "{stack}: no VPC endpoint for S3 or DynamoDB"
        );
        for (name, endpoint) in endpoints {
            assert_eq!(
                endpoint["vpc_id"],
                reference("aws_vpc", vpc_name, "id"),
                "{stack}: {name}"
            );
            assert_eq!(endpoint["vpc_endpoint_type"], "Gateway", "{stack}: {name}");
        }
    }
}

/// Covers: network constraint: traffic from or to another tenant's block is denied by the
/// network ACL of every tenant subnet before anything allows it, and security groups admit no
/// inbound traffic and send only to the tenant's own VPC and endpoints.
#[test]
fn constraint_network_cross_tenant_traffic_blocked() {
    let synth = synth();
    for (tenant, block) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        let subnets: BTreeSet<String> = resources(doc, "aws_subnet")
            .into_iter()
            .map(|(name, _)| reference("aws_subnet", name, "id"))
            .collect();
        let acls = resources(doc, "aws_network_acl");
        let mut covered = BTreeSet::new();
        for (acl_name, acl) in &acls {
            covered.extend(one_or_many(&acl["subnet_ids"]).into_iter().map(str::to_owned));
            for direction in ["ingress", "egress"] {
                let mut rules: Vec<&Value> = acl[direction].as_array().expect("rules").iter().collect();
                rules.sort_by_key(|r| r["rule_no"].as_u64().unwrap());
                for (other, other_block) in TENANTS.iter().filter(|(t, _)| *t != tenant) {
                    let decisive = rules
                        .iter()
                        .find(|r| cidrs_overlap(r["cidr_block"].as_str().unwrap(), other_block))
                        .unwrap_or_else(|| panic!("{stack}: {acl_name} {direction} has no rule for {other}"));
                    assert_eq!(
                        decisive["action"], "deny",
                        "{stack}: {acl_name} {direction} lets {other} ({other_block}) through: {decisive}"
                    );
                    assert!(
                        cidr_contains(decisive["cidr_block"].as_str().unwrap(), other_block),
                        "{stack}: {acl_name} {direction} denies only part of {other_block}"
                    );
                }
                assert!(
                    rules
                        .iter()
                        .any(|r| r["action"] == "allow" && r["cidr_block"] == block),
                    "{stack}: {acl_name} {direction} does not allow the tenant's own block"
                );
            }
        }
        assert_eq!(
            covered, subnets,
            "{stack}: subnets without the tenant network ACL"
        );

        assert!(
            resources(doc, "aws_vpc_security_group_ingress_rule").is_empty(),
            "{stack}: security groups admit inbound traffic"
        );
        for (kind, name, group) in resources(doc, "aws_security_group")
            .into_iter()
            .map(|(n, g)| ("aws_security_group", n, g))
            .chain(
                resources(doc, "aws_default_security_group")
                    .into_iter()
                    .map(|(n, g)| ("aws_default_security_group", n, g)),
            )
        {
            for direction in ["ingress", "egress"] {
                assert!(
                    group
                        .get(direction)
                        .is_none_or(|r| r.as_array().is_some_and(Vec::is_empty)),
                    "{stack}: {kind}.{name} has inline {direction} rules"
                );
            }
        }
        let (sg_name, _) = only(doc, "aws_security_group", &stack);
        let endpoints: BTreeSet<String> = resources(doc, "aws_vpc_endpoint")
            .into_iter()
            .map(|(name, _)| reference("aws_vpc_endpoint", name, "prefix_list_id"))
            .collect();
        for (name, rule) in resources(doc, "aws_vpc_security_group_egress_rule") {
            assert_eq!(
                rule["security_group_id"],
                reference("aws_security_group", sg_name, "id")
            );
            let to_own_vpc = rule["cidr_ipv4"] == block;
            let to_own_endpoint = rule["prefix_list_id"]
                .as_str()
                .is_some_and(|p| endpoints.contains(p));
            assert!(
                to_own_vpc || to_own_endpoint,
                "{stack}: egress rule {name} leaves the tenant: {rule}"
            );
        }
    }
}

/// Where a resource type names the key that encrypts it.
type KeyField = fn(&Value) -> &Value;

/// Covers: security constraint: every tenant resource that holds data (bucket, table, log
/// groups, queues, function settings) is encrypted with the tenant's own CMK, and the key is
/// nobody else's: its policy denies principals tagged for other tenants.
#[test]
fn constraint_security_tenant_cmk_encrypts_every_tenant_resource() {
    let synth = synth();
    for (tenant, _) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        let (key_name, key) = only(doc, "aws_kms_key", &stack);
        let key_arn = reference("aws_kms_key", key_name, "arn");
        let encrypted: [(&str, KeyField); 5] = [
            ("aws_cloudwatch_log_group", |b| &b["kms_key_id"]),
            ("aws_sqs_queue", |b| &b["kms_master_key_id"]),
            ("aws_lambda_function", |b| &b["kms_key_arn"]),
            (
                "aws_dynamodb_table",
                |b| &b["server_side_encryption"][0]["kms_key_arn"],
            ),
            ("aws_s3_bucket_server_side_encryption_configuration", |b| {
                &b["rule"][0]["apply_server_side_encryption_by_default"][0]["kms_master_key_id"]
            }),
        ];
        for (type_name, key_of) in encrypted {
            let blocks = resources(doc, type_name);
            assert!(!blocks.is_empty(), "{stack}: no {type_name}");
            for (name, body) in blocks {
                assert_eq!(key_of(body), key_arn.as_str(), "{stack}: {type_name}.{name} key");
            }
        }
        assert_key_policy_is_tenant_scoped(key, tenant, &stack);
    }
}

/// Covers: security constraint: every Lambda function of every stack has reserved concurrent
/// executions (10), so no tenant can exhaust the account's concurrency.
#[test]
fn constraint_security_lambda_reserved_concurrency() {
    let synth = synth();
    let mut functions = 0;
    for (stack, doc) in &synth.stacks {
        for (name, function) in resources(doc, "aws_lambda_function") {
            functions += 1;
            assert_eq!(
                function["reserved_concurrent_executions"], 10,
                "{stack}: aws_lambda_function.{name} reserved concurrency"
            );
        }
    }
    assert!(functions >= TENANTS.len(), "only {functions} functions");
}

/// Covers: security constraint: IAM policies in tenant stacks use aws:PrincipalTag/TenantId on
/// every grant, and neither a policy nor anything else in a tenant's stack names another tenant.
#[test]
fn constraint_security_iam_principal_tag_boundaries() {
    let synth = synth();
    for (tenant, _) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        assert_permissions_are_tenant_bound(doc, tenant, &stack);
        for text in strings(doc) {
            for (other, other_block) in TENANTS.iter().filter(|(t, _)| *t != tenant) {
                assert!(!text.contains(other), "{stack} names tenant {other}: {text}");
                assert!(
                    !text.contains(other_block),
                    "{stack} uses {other}'s block: {text}"
                );
            }
        }
    }
}

/// Covers: security constraint: log access is scoped: each tenant's log read policy allows its
/// own groups (for its tagged principals) and denies reads of every other log group, and the
/// central log group's read policy covers that group only.
#[test]
fn constraint_security_log_access_is_tenant_scoped() {
    let synth = synth();
    for (tenant, _) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        let (_, read) = resources(doc, "aws_iam_policy")
            .into_iter()
            .find(|(_, p)| p["name"] == format!("tenant-{tenant}-log-read-{SUFFIX}"))
            .unwrap_or_else(|| panic!("{stack}: no log read policy"));
        let document = policy(read, "policy");
        let deny = statements(&document)
            .into_iter()
            .find(|s| s["Effect"] == "Deny")
            .unwrap_or_else(|| panic!("{stack}: the log read policy denies nothing"));
        let denied = one_or_many(&deny["Action"]);
        for action in ["logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery"] {
            assert!(
                denied.contains(&action),
                "{stack}: {action} is not denied elsewhere"
            );
        }
        assert!(
            deny.get("Resource").is_none(),
            "{stack}: the deny must use NotResource"
        );
        let allowed_groups: BTreeSet<&str> = statements(&document)
            .into_iter()
            .filter(|s| s["Effect"] == "Allow")
            .flat_map(|s| one_or_many(&s["Resource"]))
            .collect();
        let exempt: BTreeSet<&str> = one_or_many(&deny["NotResource"]).into_iter().collect();
        assert_eq!(
            allowed_groups, exempt,
            "{stack}: the deny exempts other groups than allowed"
        );
        for (name, group) in resources(doc, "aws_cloudwatch_log_group") {
            assert!(
                group["name"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("tenant-{tenant}-")),
                "{stack}: log group {name}"
            );
        }
    }
    let central = synth.central();
    let (_, read) = resources(central, "aws_iam_policy")
        .into_iter()
        .find(|(_, p)| p["name"] == format!("saas-central-logs-read-{SUFFIX}"))
        .expect("a central log read policy");
    let (group_name, _) = resources(central, "aws_cloudwatch_log_group")
        .into_iter()
        .find(|(_, g)| g["name"] == CENTRAL_LOG_GROUP)
        .unwrap();
    let group_arn = reference("aws_cloudwatch_log_group", group_name, "arn");
    for statement in statements(&policy(read, "policy")) {
        for resource in one_or_many(&statement["Resource"]) {
            assert!(
                resource.starts_with(&group_arn),
                "central log read reaches {resource}"
            );
        }
    }
}

/// Covers: security constraint: every S3 bucket is versioned (audit) and every DynamoDB table
/// has contributor insights (access patterns).
#[test]
fn constraint_security_s3_versioning_and_dynamodb_contributor_insights() {
    let synth = synth();
    for (stack, doc) in &synth.stacks {
        for (name, _) in resources(doc, "aws_s3_bucket") {
            let id = reference("aws_s3_bucket", name, "id");
            assert!(
                resources(doc, "aws_s3_bucket_versioning")
                    .iter()
                    .any(|(_, v)| v["bucket"] == id.as_str()
                        && v["versioning_configuration"][0]["status"] == "Enabled"),
                "{stack}: bucket {name} is not versioned"
            );
        }
        for (name, _) in resources(doc, "aws_dynamodb_table") {
            let table = reference("aws_dynamodb_table", name, "name");
            assert!(
                resources(doc, "aws_dynamodb_contributor_insights")
                    .iter()
                    .any(|(_, c)| c["table_name"] == table.as_str()),
                "{stack}: table {name} has no contributor insights"
            );
        }
    }
}

/// Covers: deployment constraint: everything is destroyable: no deletion protection, no
/// prevent_destroy, buckets emptied on destroy, KMS keys on a 7-day deletion window.
#[test]
fn constraint_deployment_resources_are_destroyable() {
    let synth = synth();
    for (stack, doc) in &synth.stacks {
        for (type_name, name, body) in all_resources(doc) {
            let fields = body.as_object().unwrap();
            for (field, value) in fields {
                if field.contains("deletion_protection") {
                    assert!(
                        value == false || value.is_null(),
                        "{stack}: {type_name}.{name}.{field} = {value}"
                    );
                }
            }
            assert_ne!(
                body["lifecycle"]["prevent_destroy"], true,
                "{stack}: {type_name}.{name} prevents destroy"
            );
            match type_name {
                "aws_s3_bucket" => {
                    assert_eq!(body["force_destroy"], true, "{stack}: {name} force_destroy");
                }
                "aws_kms_key" => {
                    assert_eq!(
                        body["deletion_window_in_days"], 7,
                        "{stack}: {name} deletion window"
                    );
                }
                _ => {}
            }
        }
    }
}

/// Covers: deployment constraint: every name carries the environment suffix: the example's
/// names end in `-dev`, and a run with `--environment-suffix pr7` renames everything to `-pr7`.
#[test]
fn constraint_deployment_environment_suffix_in_names() {
    let synth = synth();
    for (stack, doc) in &synth.stacks {
        assert!(stack.ends_with(&format!("-{SUFFIX}")), "{stack}");
        for (field, name) in resource_names(doc) {
            assert!(
                name.ends_with(&format!("-{SUFFIX}")),
                "{stack}: {field} = `{name}` lacks -{SUFFIX}"
            );
        }
    }

    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    assert_success(&tenant_host(
        work.path(),
        &[
            "synth",
            "--plugins",
            plugins.path().to_str().unwrap(),
            "--environment-suffix",
            "pr7",
        ],
    ));
    let out = work.path().join("cdktf.out");
    let mut misnamed = Vec::new();
    for (tenant, _) in TENANTS {
        let stack = format!("tenant-{tenant}-pr7");
        let doc: Value = serde_json::from_slice(
            &std::fs::read(out.join(format!("stacks/{stack}/cdk.tf.json"))).expect("pr7 stack"),
        )
        .unwrap();
        let names = resource_names(&doc);
        assert!(names.len() > 10, "{stack}: only {} names", names.len());
        for (field, name) in names {
            if !follows_tenant_convention(&name, tenant, "pr7") {
                misnamed.push(format!(
                    "{stack}: {field} = `{name}` does not follow tenant-{tenant}-{{resource}}-pr7"
                ));
            }
        }
        assert_eq!(
            doc["provider"]["aws"][0]["default_tags"][0]["tags"]["Environment"],
            "pr7"
        );
    }
    let central: Value =
        serde_json::from_slice(&std::fs::read(out.join("stacks/central-pr7/cdk.tf.json")).unwrap()).unwrap();
    for (field, name) in resource_names(&central) {
        assert!(
            name.ends_with("-pr7"),
            "central-pr7: {field} = `{name}` lacks -pr7"
        );
    }
    assert!(misnamed.is_empty(), "{}", misnamed.join("\n"));
}

/// Covers: deployment constraint: every stack targets us-east-1 with its own AWS provider and
/// S3 backend, and the folder is cdktf-compatible (manifest version 0.15 or later).
#[test]
fn constraint_deployment_region_provider_and_cdktf_version() {
    let synth = synth();
    let version = synth.manifest["version"].as_str().expect("manifest version");
    let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(
        parts[0] > 0 || parts[1] >= 15,
        "cdktf manifest version {version} < 0.15"
    );
    for (stack, doc) in &synth.stacks {
        assert_eq!(doc["//"]["metadata"]["version"], version, "{stack}");
        assert_eq!(doc["//"]["metadata"]["backend"], "s3", "{stack}");
        for provider in doc["provider"]["aws"].as_array().unwrap() {
            assert_eq!(provider["region"], "us-east-1", "{stack}: provider region");
        }
        assert_eq!(
            doc["terraform"]["backend"]["s3"]["region"], "us-east-1",
            "{stack}"
        );
        for text in strings(doc) {
            for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
                assert!(
                    !looks_like_region(token) || token.starts_with("us-east-1"),
                    "{stack}: names region {token}: {text}"
                );
            }
        }
    }
}

/// A token shaped like an AWS region (`us-east-1`) or zone (`us-east-1a`).
fn looks_like_region(token: &str) -> bool {
    let parts: Vec<&str> = token.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1].chars().all(|c| c.is_ascii_lowercase())
        && parts[2].starts_with(|c: char| c.is_ascii_digit())
        && parts[2].len() <= 2
}

/// Covers: deployment constraint: stacks deploy independently and in parallel: a tenant stack
/// refers to nothing outside itself, reaches the central stack only by names (data sources and
/// name attributes) that the central stack defines, and holds nothing of another tenant.
#[test]
fn constraint_deployment_independent_parallel_stacks() {
    let synth = synth();
    let central = synth.central();
    let central_names: BTreeSet<String> = resource_names(central).into_iter().map(|(_, n)| n).collect();
    for (tenant, _) in TENANTS {
        let stack = tenant_stack(tenant);
        let doc = synth.tenant(tenant);
        assert!(
            doc["data"]["terraform_remote_state"].is_null(),
            "{stack}: reads another stack's state"
        );
        let undeclared = undeclared_references(doc);
        assert!(undeclared.is_empty(), "{stack}: {undeclared:?}");
        let declared: BTreeSet<String> = all_resources(doc)
            .into_iter()
            .map(|(t, n, _)| format!("{t}.{n}"))
            .chain(
                doc["data"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .flat_map(|(t, blocks)| {
                        blocks
                            .as_object()
                            .unwrap()
                            .keys()
                            .map(move |n| format!("data.{t}.{n}"))
                    }),
            )
            .collect();
        for address in referenced_addresses(doc) {
            assert!(declared.contains(&address), "{stack}: refers to {address}");
        }
        // Central names used here are names the central stack really defines.
        for (type_name, name, body) in all_resources(doc) {
            if let Some(bus) = body["event_bus_name"].as_str()
                && !bus.starts_with("${")
            {
                assert!(
                    central_names.contains(bus),
                    "{stack}: {type_name}.{name} bus {bus}"
                );
            }
        }
        for (data_type, blocks) in doc["data"].as_object().into_iter().flatten() {
            for (name, body) in blocks.as_object().unwrap() {
                if let Some(function) = body["function_name"].as_str() {
                    assert!(
                        central_names.contains(function),
                        "{stack}: data.{data_type}.{name} looks up {function}, which no stack defines"
                    );
                }
            }
        }
        for text in strings(doc) {
            for (other, _) in TENANTS.iter().filter(|(t, _)| *t != tenant) {
                assert!(
                    !text.contains(other),
                    "{stack} holds something of {other}: {text}"
                );
            }
        }
        let dependencies = one_or_many(&synth.manifest["stacks"][stack.as_str()]["dependencies"]);
        assert!(
            dependencies.iter().all(|d| !d.starts_with("tenant-")),
            "{stack}: waits for another tenant: {dependencies:?}"
        );
    }
}

/// Covers: technical requirement "proper error handling for resource provisioning failures":
/// every event target retries and dead-letters, every function dead-letters, and the workflow
/// catches a failed build and reports it on the bus before failing.
#[test]
fn constraint_deployment_provisioning_failures_are_handled() {
    let synth = synth();
    for (stack, doc) in &synth.stacks {
        for (name, target) in resources(doc, "aws_cloudwatch_event_target") {
            assert!(
                target["retry_policy"][0]["maximum_retry_attempts"]
                    .as_u64()
                    .is_some(),
                "{stack}: event target {name} has no retry policy"
            );
            assert!(
                target["dead_letter_config"][0]["arn"].as_str().is_some(),
                "{stack}: event target {name} has no dead-letter queue"
            );
        }
        for (name, function) in resources(doc, "aws_lambda_function") {
            assert!(
                function["dead_letter_config"][0]["target_arn"].as_str().is_some(),
                "{stack}: function {name} has no dead-letter queue"
            );
        }
    }
    let (_, machine) = provisioning_workflow(synth.central());
    let definition: Value = serde_json::from_str(machine["definition"].as_str().unwrap()).unwrap();
    let states = definition["States"].as_object().unwrap();
    let (_, build) = states
        .iter()
        .find(|(_, s)| s["Resource"] == "arn:aws:states:::codebuild:startBuild.sync")
        .expect("a build state");
    let catch = build["Catch"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["ErrorEquals"] == serde_json::json!(["States.ALL"]))
        })
        .expect("the build state catches every error");
    let handler = &states[catch["Next"].as_str().unwrap()];
    assert_eq!(
        handler["Resource"], "arn:aws:states:::events:putEvents",
        "{handler}"
    );
    assert_eq!(
        handler["Parameters"]["Entries"][0]["DetailType"],
        "Tenant Provisioning Failed"
    );
    assert_eq!(states[handler["Next"].as_str().unwrap()]["Type"], "Fail");
}
