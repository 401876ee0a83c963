//! A test fixture, not a product plugin: it misbehaves in the way its `behaviour` setting names,
//! so that the end-to-end tests can prove that the host contains every kind of misbehaviour.
//!
//! `probe` tries every ambient authority a WASI program could reach for (files, environment,
//! arguments, a TCP connection to `port` on loopback, the clock) and reports what it got as stack
//! outputs, so that a test can assert each attempt was refused.

use std::io::Read;
use tenant_plugin_sdk::prelude::*;

/// The misbehaving plugin.
#[derive(Debug)]
pub struct Rogue;

const ALWAYS: Rule = Rule::info("rogue.always", "Reports one note per stack.");

/// What the plugin is asked to do, and where the probe connects.
#[derive(Debug, Deserialize)]
#[serde(crate = "tenant_plugin_sdk::serde", deny_unknown_fields)]
pub struct RogueSettings {
    behaviour: String,
    port: u16,
}

impl SettingsSchema for RogueSettings {
    fn schema() -> Vec<Setting> {
        vec![
            Setting::string(
                "behaviour",
                "ok | probe | panic | sleep | loop | alloc | huge-output | error | bad-schema | \
                 deep-template | unterminated | long-tenant-word | format-policy | wildcard-policy | \
                 many-blocks | huge-body | many-findings | not-an-object | duplicate | greedy-logs",
            )
            .default("probe"),
            Setting::integer("port", "Loopback port the probe tries to connect to.")
                .default(0)
                .range(0, 65_535),
        ]
    }
}

impl Plugin for Rogue {
    type Settings = RogueSettings;

    fn describe() -> PluginInfo {
        PluginInfo::new(
            "rogue",
            env!("CARGO_PKG_VERSION"),
            "Misbehaves on request (test fixture).",
        )
        .rules(&[ALWAYS])
    }

    fn synthesize_tenant(context: &StackContext<RogueSettings>) -> Result<Fragment, PluginError> {
        let mut fragment = Fragment::default();
        let tenant = context.tenant()?.id.clone();
        match context.settings.behaviour.as_str() {
            "ok" | "many-findings" => {}
            "probe" => {
                let port = context.settings.port;
                for (name, result) in probe(port) {
                    fragment.output(
                        &format!("probe_{name}"),
                        json!(result),
                        "What the sandbox allowed.",
                    );
                }
            }
            "panic" => panic!("rogue plugin panicked on purpose"),
            "sleep" => std::thread::sleep(std::time::Duration::from_secs(3600)),
            "loop" => loop {
                std::hint::black_box(());
            },
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 16 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "huge-output" => fragment.output("huge", json!("x".repeat(2 << 20)), "Two MiB of text."),
            "error" => return Err(PluginError::InvalidSettings("rogue refuses on purpose".into())),
            "bad-schema" => {
                fragment.resource(
                    "aws_vpc",
                    "rogue",
                    json!({"cidr_block": "10.9.0.0/16", "enable_dns_magic": true}),
                );
            }
            // Issue 12, item 1: `${"` nested 30,000 deep overflowed the host's recursive scanner
            // (a debug build at about 20,000), yet fits the body limit.
            "deep-template" => {
                let deep = format!("{}x{}", "${\"".repeat(30_000), "\"}".repeat(30_000));
                fragment.resource("aws_sqs_queue", "deep", json!({ "name": deep }));
            }
            // Item 3: unterminated templates were written as they were.
            "unterminated" => {
                fragment.resource("aws_sqs_queue", "open", json!({ "name": "${".repeat(100_000) }));
            }
            // Item 2: a long `tenant-a-a-…` word took the foreign-tenant guardrail quadratic time.
            "long-tenant-word" => fragment.output(
                "word",
                json!(format!("tenant-{}", "a-".repeat(100_000))),
                "A long tenant-like word.",
            ),
            // Item 4: a policy whose resource only a Terraform function call names.
            "format-policy" => policy(
                &mut fragment,
                &tenant,
                "arn:aws:s3:::${format(\"tenant-%s-data-dev\", \"retail-co\")}/*",
            ),
            // Item 4: a policy over every bucket of the account.
            "wildcard-policy" => policy(&mut fragment, &tenant, "arn:aws:s3:::*"),
            // Item 5: more blocks than any stack needs, which exhausted a later plugin's memory.
            "many-blocks" => {
                for i in 0..200_000 {
                    fragment.resource("aws_sqs_queue", &format!("q{i}"), json!({}));
                }
            }
            "huge-body" => {
                fragment.resource("aws_sqs_queue", "huge", json!({ "name": "q".repeat(300 << 10) }));
            }
            "not-an-object" => {
                fragment.resource("aws_sqs_queue", "list", json!(["not", "an", "object"]));
            }
            "duplicate" => {
                fragment.resource("aws_sqs_queue", "twice", json!({}));
                fragment.resource("aws_sqs_queue", "twice", json!({}));
            }
            "greedy-logs" => {
                // Issue 9 item 6: a tenant-tagged role without a permissions boundary that may
                // read every log group of the region, every other tenant's included.
                let tenant = context.tenant()?;
                let suffix = context.environment_suffix.as_str();
                let name = format!("tenant-{}-greedy-role-{suffix}", tenant.id);
                let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
                let role = fragment.resource(
                    "aws_iam_role",
                    "greedy",
                    json!({"name": name, "assume_role_policy": trust.to_string(),
                           "tags": standard_tags(Some(&tenant.id), suffix, &name)}),
                );
                let read = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"],
                    "Resource": format!("arn:aws:logs:{}:*:log-group:*", context.region)}]});
                fragment.resource(
                    "aws_iam_role_policy",
                    "greedy",
                    json!({"name": "read-every-log-group", "role": role.attr("name"), "policy": read.to_string()}),
                );
            }
            other => {
                return Err(PluginError::InvalidSettings(format!(
                    "unknown behaviour `{other}`"
                )));
            }
        }
        Ok(fragment)
    }

    fn check_stack(stack: &StackDocument, settings: &RogueSettings) -> Result<Vec<Finding>, PluginError> {
        // Item 5: more findings than a report can use.
        let count = match settings.behaviour.as_str() {
            "many-findings" => 20_000,
            _ => 1,
        };
        Ok((0..count)
            .map(|_| ALWAYS.finding("", format!("checked {}", stack.stack), "nothing to do"))
            .collect())
    }
}

/// An IAM policy of the tenant granting `s3:GetObject` on `resource`.
fn policy(fragment: &mut Fragment, tenant: &str, resource: &str) {
    let document = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}
    ]});
    fragment.resource(
        "aws_iam_policy",
        "reach",
        json!({"name": format!("tenant-{tenant}-reach-dev"), "policy": document.to_string()}),
    );
}

/// Each attempt and its outcome: `denied: …` when the sandbox refused, `allowed: …` otherwise.
fn probe(port: u16) -> Vec<(&'static str, String)> {
    let file = match std::fs::File::open("/etc/passwd") {
        Ok(mut f) => {
            let mut text = String::new();
            let _ = f.read_to_string(&mut text);
            format!("allowed: read {} bytes", text.len())
        }
        Err(e) => format!("denied: {e}"),
    };
    let dir = match std::fs::read_dir(".") {
        Ok(entries) => format!("allowed: listed {} entries", entries.count()),
        Err(e) => format!("denied: {e}"),
    };
    let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    let env = if vars.is_empty() {
        "denied: no variables".to_owned()
    } else {
        format!("allowed: {vars:?}")
    };
    let args: Vec<String> = std::env::args().collect();
    let args = if args.is_empty() {
        "denied: no arguments".to_owned()
    } else {
        format!("allowed: {args:?}")
    };
    let socket = match std::net::TcpStream::connect(("127.0.0.1", port)) {
        Ok(_) => format!("allowed: connected to 127.0.0.1:{port}"),
        Err(e) => format!("denied: {e}"),
    };
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let clock = format!("fixed: {seconds}");
    vec![
        ("file", file),
        ("dir", dir),
        ("env", env),
        ("args", args),
        ("socket", socket),
        ("clock", clock),
    ]
}

export_plugin!(Rogue);
