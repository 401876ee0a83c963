//! Limits on what one plugin call may return, enforced where the host accepts the result, and
//! on the settings values it is given.
//!
//! The sandbox bounds a call's time, memory and total output bytes, but a result within those
//! bounds can still be too much for what follows: 200,000 small resources pass the output cap
//! and then exhaust the memory of an innocent plugin's `check-fleet`, which gets every stack. So
//! each result is measured here, as soon as the call returns, and a plugin over a limit fails
//! itself, named with the stack and the function, before anything else sees its result.

use crate::plugin::{CallError, CallFailure, Function, api};

/// Blocks (resources, data sources and outputs together) one fragment may hold. The bundled
/// plugins emit at most a few dozen per stack.
pub const MAX_BLOCKS_PER_FRAGMENT: usize = 1_000;
/// Bytes of one block's JSON body.
pub const MAX_BODY_BYTES: usize = 256 << 10;
/// Bytes of one fragment's blocks and outputs together, what composition and the checks parse
/// (assets, provided values and intents are bounded by the call's output cap).
pub const MAX_FRAGMENT_BYTES: usize = 4 << 20;
/// Bytes of one configured setting value (as JSON), checked with its position in the
/// configuration pass: every plugin call carries its settings, so a huge value would otherwise
/// surface late, as some plugin's memory failure.
pub const MAX_SETTING_BYTES: usize = 64 << 10;
/// Findings one `check-stack` or `check-fleet` call may report.
pub const MAX_FINDINGS_PER_CALL: usize = 10_000;

/// The failure of `plugin`'s call of `function` for `stack` that went over a limit.
fn over(plugin: &str, stack: &str, function: Function, what: String) -> CallError {
    CallError {
        plugin: plugin.into(),
        stack: stack.into(),
        function,
        failure: CallFailure::Contract(format!("{what} (a limit of the host)")),
        log: Vec::new(),
    }
}

/// Accepts a fragment within the limits, or fails the call that returned it.
pub fn accept_fragment(
    fragment: api::Fragment,
    plugin: &str,
    stack: &str,
    function: Function,
) -> Result<api::Fragment, CallError> {
    let over = |what| over(plugin, stack, function, what);
    let blocks = fragment.blocks.len() + fragment.outputs.len();
    if blocks > MAX_BLOCKS_PER_FRAGMENT {
        return Err(over(format!(
            "returned {blocks} blocks in one fragment, more than {MAX_BLOCKS_PER_FRAGMENT}"
        )));
    }
    if let Some(block) = fragment.blocks.iter().find(|b| b.body.len() > MAX_BODY_BYTES) {
        return Err(over(format!(
            "returned a body of {} bytes for `{}.{}`, more than {MAX_BODY_BYTES}",
            block.body.len(),
            block.type_name,
            block.name
        )));
    }
    let bytes: usize = fragment
        .blocks
        .iter()
        .map(|b| b.type_name.len() + b.name.len() + b.body.len())
        .chain(
            fragment
                .outputs
                .iter()
                .map(|o| o.name.len() + o.value.len() + o.description.len()),
        )
        .sum();
    if bytes > MAX_FRAGMENT_BYTES {
        return Err(over(format!(
            "returned blocks and outputs of {bytes} bytes in one fragment, more than {MAX_FRAGMENT_BYTES}"
        )));
    }
    Ok(fragment)
}

/// Accepts findings within the limit, or fails the call that returned them.
pub fn accept_findings(
    findings: Vec<api::Finding>,
    plugin: &str,
    stack: &str,
    function: Function,
) -> Result<Vec<api::Finding>, CallError> {
    if findings.len() > MAX_FINDINGS_PER_CALL {
        return Err(over(
            plugin,
            stack,
            function,
            format!(
                "reported {} findings, more than {MAX_FINDINGS_PER_CALL}",
                findings.len()
            ),
        ));
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(name: &str, body: String) -> api::Block {
        api::Block {
            kind: api::BlockKind::Resource,
            type_name: "aws_sqs_queue".into(),
            name: name.into(),
            body,
        }
    }

    fn fragment(blocks: Vec<api::Block>) -> api::Fragment {
        api::Fragment {
            blocks,
            outputs: vec![],
            provides: vec![],
            assets: vec![],
            intents: vec![],
        }
    }

    #[test]
    fn the_emitter_fails_named_when_its_fragment_is_over_a_limit() {
        let many = (0..=MAX_BLOCKS_PER_FRAGMENT)
            .map(|i| block(&format!("q{i}"), "{}".into()))
            .collect();
        let big_body = vec![block(
            "q",
            format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES)),
        )];
        let per_body = MAX_BODY_BYTES - 100;
        let large = (0..=MAX_FRAGMENT_BYTES / per_body)
            .map(|i| block(&format!("q{i}"), "b".repeat(per_body)))
            .collect();
        let cases = [
            (many, "returned 1001 blocks in one fragment, more than 1000"),
            (big_body, "for `aws_sqs_queue.q`, more than 262144"),
            (large, "in one fragment, more than 4194304"),
        ];
        for (blocks, expected) in cases {
            let error = accept_fragment(
                fragment(blocks),
                "rogue",
                "stack `tenant-a-dev`",
                Function::SynthesizeTenant,
            )
            .unwrap_err()
            .to_string();
            assert!(
                error.starts_with("plugin `rogue` failed in `synthesize-tenant` for stack `tenant-a-dev`: "),
                "{error}"
            );
            assert!(error.contains(expected), "{error}");
        }
        let within = fragment(vec![block("q", "{}".into())]);
        assert!(accept_fragment(within, "p", "s", Function::SynthesizeTenant).is_ok());
    }

    #[test]
    fn too_many_findings_fail_the_reporting_call() {
        let finding = api::Finding {
            rule_id: "rogue.always".into(),
            severity: api::Severity::Info,
            address: String::new(),
            message: "m".into(),
            remediation: "r".into(),
        };
        let findings = vec![finding; MAX_FINDINGS_PER_CALL + 1];
        let error = accept_findings(findings, "rogue", "the fleet", Function::CheckFleet)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(
                "failed in `check-fleet` for the fleet: broke the contract: reported 10001 findings"
            ),
            "{error}"
        );
    }
}
