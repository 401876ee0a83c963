//! The log actions the plugin's policies grant and deny.

use tenant_plugin_sdk::prelude::*;

/// Reading events of log groups the caller names; each action can be limited to log groups.
pub const READ_LOG_EVENTS: [&str; 4] = [
    "logs:DescribeLogStreams",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "logs:GetLogGroupFields",
];

/// Every way to read log contents, including those that cannot be limited to log groups
/// (`GetQueryResults`, `GetLogRecord`): what a tenant's read policy denies outside its groups.
pub const EVERY_LOG_READ: [&str; 9] = [
    "logs:DescribeLogStreams",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "logs:GetLogGroupFields",
    "logs:GetLogRecord",
    "logs:StartQuery",
    "logs:GetQueryResults",
    "logs:StartLiveTail",
    "logs:Unmask",
];

/// Writing events into existing streams, and creating streams.
pub const WRITE_LOG_EVENTS: [&str; 2] = ["logs:CreateLogStream", "logs:PutLogEvents"];

/// A log group and the streams inside it, as IAM resources.
pub fn group_and_streams(group_arn: &str) -> [String; 2] {
    [group_arn.to_owned(), format!("{group_arn}:*")]
}

/// A `Deny` of `actions` on everything but `resources`. The SDK's `Statement` has no
/// `NotResource`, so this one is built as JSON and appended to a rendered document.
pub fn with_deny_except(
    document: &PolicyDocument,
    sid: &str,
    actions: &[&str],
    resources: &[String],
) -> String {
    let mut value = document.to_value();
    let statements = value["Statement"]
        .as_array_mut()
        .expect("a policy document has a statement list");
    statements.push(json!({"Sid": sid, "Effect": "Deny", "Action": actions, "NotResource": resources}));
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deny_follows_the_allows() {
        let allow = PolicyDocument::new().statement(
            Statement::allow("Read")
                .actions(&["logs:GetLogEvents"])
                .resources(&["a"]),
        );
        let rendered: Value = serde_json::from_str(&with_deny_except(
            &allow,
            "DenyElse",
            &["logs:GetLogEvents"],
            &["a".to_owned()],
        ))
        .unwrap();
        assert_eq!(rendered["Statement"][0]["Effect"], "Allow");
        assert_eq!(
            rendered["Statement"][1],
            json!({"Sid": "DenyElse", "Effect": "Deny", "Action": ["logs:GetLogEvents"], "NotResource": ["a"]})
        );
    }

    #[test]
    fn every_read_covers_the_granted_reads() {
        assert!(
            READ_LOG_EVENTS
                .iter()
                .all(|action| EVERY_LOG_READ.contains(action))
        );
    }
}
