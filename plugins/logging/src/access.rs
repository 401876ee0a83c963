//! The log actions the plugin's policies grant and deny.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_read_covers_the_granted_reads() {
        assert!(
            READ_LOG_EVENTS
                .iter()
                .all(|action| EVERY_LOG_READ.contains(action))
        );
    }
}
