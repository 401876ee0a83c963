//! Property-based fuzzing of the host code that reads what plugins return: template strings and
//! their references, fragment bodies and outputs (composition), whole documents (schema
//! validation, reference checks, guardrails), and the limits on results.
//!
//! Inputs are built from the characters and words these parsers treat specially (`${`, `%{`,
//! quotes, escapes, braces, function calls, `tenant-`, ARNs, wildcards), nested JSON of any shape,
//! and pathological nesting. No input may panic the host, and each property below must hold. Case
//! counts and sizes are bounded so that the harness runs in CI in seconds:
//! `cargo test -p tenant-host --test fuzz` (set `PROPTEST_CASES` to search longer locally).

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use tenant_host::check::check_against_schema;
use tenant_host::compose::compose;
use tenant_host::plugin::{Function, api};
use tenant_host::schema::{self, BlockKind, MAX_TEMPLATE_DEPTH, ProviderSchema, TemplateError};
use tenant_host::tenants::Fleet;
use tenant_host::{guardrails, result_limits};

/// `cases` runs per property (or `PROPTEST_CASES`, to search longer), no regression files.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text made of the pieces the template scanner, the reference finder and the guardrails react to.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("${"),
        Just("%{"),
        Just("$${"),
        Just("%%{"),
        Just("{"),
        Just("}"),
        Just("\""),
        Just("\\"),
        Just("aws_vpc.main.id"),
        Just("var.x"),
        Just("data.aws_region.r.name"),
        Just("format("),
        Just("join(\"-\", ["),
        Just(")"),
        Just("]"),
        Just("tenant-"),
        Just("acme-corp"),
        Just("retail-co"),
        Just("a-"),
        Just("arn:aws:s3:::"),
        Just("*"),
        Just(":"),
        Just("/"),
        Just(" "),
        Just("é"),
    ];
    proptest::collection::vec(piece, 0..120).prop_map(|pieces| pieces.concat())
}

/// JSON of any shape whose strings are [`hostile_text`].
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,8}|policy|tags|Statement|Resource", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The embedded AWS schema, indexed once for every case.
fn bundled_schema() -> &'static ProviderSchema {
    static SCHEMA: std::sync::OnceLock<ProviderSchema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| ProviderSchema::embedded().expect("the embedded schema loads"))
}

/// The built-in example fleet, built once.
fn example_fleet() -> &'static Fleet {
    static FLEET: std::sync::OnceLock<Fleet> = std::sync::OnceLock::new();
    FLEET.get_or_init(|| Fleet::example("dev"))
}

fn block(type_name: &str, name: &str, body: String) -> api::Block {
    api::Block {
        kind: api::BlockKind::Resource,
        type_name: type_name.into(),
        name: name.into(),
        body,
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// The scanner and the reference check agree on which strings are malformed templates, and
    /// neither panics.
    #[test]
    fn template_scanning_is_total_and_consistent(text in hostile_text()) {
        let functions = schema::called_functions(&text);
        let blocks = schema::check_references(&json!({"output": {"o": {"value": text}}}));
        let malformed = blocks.iter().any(|b| !b.problems.is_empty());
        prop_assert_eq!(functions.is_err(), malformed);
    }

    /// Nesting is refused exactly beyond the bound, at any depth, without exhausting the stack.
    #[test]
    fn nesting_is_bounded(depth in 0usize..4_000, inner in hostile_text()) {
        let nested = format!("{}{}{}", "${\"".repeat(depth), inner.replace(['"', '$', '%', '{', '}', '\\'], ""), "\"}".repeat(depth));
        let result = schema::called_functions(&nested);
        if depth > MAX_TEMPLATE_DEPTH {
            prop_assert!(matches!(result, Err(TemplateError::TooDeep { .. })), "{:?}", result);
        } else {
            prop_assert!(result.is_ok(), "{:?}", result);
        }
    }

    /// Validating any body against the embedded schema never panics, and problems come sorted by
    /// path.
    #[test]
    fn body_validation_is_total(body in json_value()) {
        let schema = bundled_schema();
        for type_name in ["aws_vpc", "aws_iam_policy", "aws_s3_bucket_policy", "aws_nope"] {
            let problems = schema.validate(BlockKind::Resource, type_name, &body);
            prop_assert!(problems.windows(2).all(|w| w[0].path <= w[1].path));
        }
    }

    /// A fragment is accepted exactly when it is within every limit.
    #[test]
    fn result_limits_accept_exactly_what_fits(count in 0usize..1_100, body_len in 0usize..300_000) {
        let blocks = (0..count).map(|i| block("aws_vpc", &format!("b{i}"), String::new()))
            .chain(std::iter::once(block("aws_vpc", "big", "x".repeat(body_len))))
            .collect::<Vec<_>>();
        let total: usize = blocks.iter().map(|b| b.type_name.len() + b.name.len() + b.body.len()).sum();
        let fits = count < result_limits::MAX_BLOCKS_PER_FRAGMENT
            && body_len <= result_limits::MAX_BODY_BYTES
            && total <= result_limits::MAX_FRAGMENT_BYTES;
        let fragment = api::Fragment { blocks, outputs: vec![], provides: vec![], assets: vec![], intents: vec![] };
        let accepted = result_limits::accept_fragment(fragment, "fuzz", "stack `s`", Function::SynthesizeTenant);
        prop_assert_eq!(accepted.is_ok(), fits);
    }
}

proptest! {
    // Each case composes and checks a whole stack: fewer cases keep the harness fast.
    #![proptest_config(config(64))]

    /// Composing fragments whose bodies and outputs are arbitrary text or JSON either fails
    /// naming the plugin, or gives a stack on which every host check runs without panicking.
    #[test]
    fn documents_from_any_fragment_are_checked_or_refused(
        bodies in proptest::collection::vec(prop_oneof![hostile_text(), json_value().prop_map(|v| v.to_string())], 0..6),
        output in prop_oneof![hostile_text(), json_value().prop_map(|v| v.to_string())],
    ) {
        let fleet = example_fleet();
        let tenant = &fleet.tenants[0];
        let blocks = bodies
            .into_iter()
            .enumerate()
            .map(|(i, body)| block(if i % 2 == 0 { "aws_iam_policy" } else { "aws_vpc" }, &format!("b{i}"), body))
            .collect();
        let fragment = api::Fragment {
            blocks,
            outputs: vec![api::Output { name: "o".into(), value: output, description: String::new(), sensitive: false }],
            provides: vec![],
            assets: vec![],
            intents: vec![],
        };
        let stack_name = format!("tenant-{}-dev", tenant.id);
        let composed = compose(
            fleet,
            &stack_name,
            Some(tenant),
            vec![("fuzz".into(), fragment)],
            BTreeMap::new(),
            &BTreeSet::new(),
        );
        match composed {
            Err(error) => prop_assert!(error.to_string().contains("plugin `fuzz`"), "{}", error),
            Ok(stack) => {
                let schema = bundled_schema();
                let findings = check_against_schema(schema, &stack);
                prop_assert!(findings.iter().all(|f| f.plugin == "fuzz" || f.plugin == "host"));
                guardrails::check_stack(&stack, &guardrails::FleetLookup::new(fleet), schema);
                guardrails::check_fleet(&[guardrails::FleetFacts::of(&stack)], fleet);
            }
        }
    }
}
