//! Bodies of the AWS resources several plugins declare the same way, so the fleet's queues and
//! log groups carry the same guarantees whoever declares them.

use serde_json::{Value, json};

/// How long a dead letter stays in its queue: SQS's maximum, 14 days, so a failed delivery stays
/// inspectable for two weeks.
pub const DEAD_LETTER_RETENTION_SECONDS: u64 = 14 * 24 * 60 * 60;

/// How long SQS reuses a data key before asking KMS again, in seconds.
pub const DATA_KEY_REUSE_SECONDS: u64 = 300;

/// The body of an `aws_sqs_queue` receiving dead letters: named `name`, encrypted with the KMS key
/// `kms_key` (an ARN, id or reference), keeping messages [`DEAD_LETTER_RETENTION_SECONDS`], and
/// tagged with `tags`.
pub fn dead_letter_queue(name: &str, kms_key: &str, tags: Value) -> Value {
    json!({
        "name": name,
        "kms_master_key_id": kms_key,
        "kms_data_key_reuse_period_seconds": DATA_KEY_REUSE_SECONDS,
        "message_retention_seconds": DEAD_LETTER_RETENTION_SECONDS,
        "tags": tags,
    })
}

/// The body of an `aws_cloudwatch_log_group` named `name`, keeping events `retention_days` and
/// encrypted with the KMS key ARN (or reference) `kms_key_arn`, tagged with `tags`.
pub fn encrypted_log_group(name: &str, retention_days: u64, kms_key_arn: &str, tags: Value) -> Value {
    json!({
        "name": name,
        "retention_in_days": retention_days,
        "kms_key_id": kms_key_arn,
        "tags": tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letter_queues_are_encrypted_and_keep_letters_two_weeks() {
        assert_eq!(
            dead_letter_queue("q", "${aws_kms_key.tenant.arn}", json!({"Name": "q"})),
            json!({
                "name": "q",
                "kms_master_key_id": "${aws_kms_key.tenant.arn}",
                "kms_data_key_reuse_period_seconds": 300,
                "message_retention_seconds": 1_209_600,
                "tags": {"Name": "q"},
            })
        );
    }

    #[test]
    fn log_groups_are_encrypted_and_expire() {
        assert_eq!(
            encrypted_log_group("g", 30, "${aws_kms_key.tenant.arn}", json!({})),
            json!({"name": "g", "retention_in_days": 30, "kms_key_id": "${aws_kms_key.tenant.arn}", "tags": {}})
        );
    }
}
