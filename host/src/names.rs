//! The length budget of the physical names the loaded plugins declare (`name-pattern`s over
//! `{id}` and `{suffix}`), with AWS's reserved prefixes and suffixes for each kind of resource, so
//! that a tenant id that would produce an unusable name is rejected before any plugin runs instead
//! of failing `terraform apply`.
//!
//! Only what AWS dictates lives here (reserved affixes per resource type); which names exist comes
//! from the plugins. A 0.1 plugin declares no names, so its names are not budgeted.

use crate::declarations::NamePattern;

/// Prefixes and suffixes AWS reserves for the names of one resource type.
struct Reserved {
    resource_type: &'static str,
    prefixes: &'static [&'static str],
    suffixes: &'static [&'static str],
}

/// AWS's reserved affixes, by Terraform resource type.
const RESERVED: &[Reserved] = &[
    Reserved {
        resource_type: "aws_s3_bucket",
        prefixes: &["xn--", "sthree-", "amzn-s3-demo-"],
        suffixes: &["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"],
    },
    Reserved {
        resource_type: "aws_kms_alias",
        prefixes: &["alias/aws"],
        suffixes: &[],
    },
    Reserved {
        resource_type: "aws_security_group",
        prefixes: &["sg-"],
        suffixes: &[],
    },
];

/// The reserved prefix or suffix `name` uses, if any, for a name of `resource_kind`
/// (`aws_s3_bucket.bucket`).
pub fn reserved_affix(resource_kind: &str, name: &str) -> Option<&'static str> {
    let resource_type = resource_kind.split('.').next().unwrap_or_default();
    let reserved = RESERVED.iter().find(|r| r.resource_type == resource_type)?;
    reserved
        .prefixes
        .iter()
        .find(|p| name.starts_with(**p))
        .or_else(|| reserved.suffixes.iter().find(|s| name.ends_with(**s)))
        .copied()
}

/// A declared name that AWS would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem<'a> {
    /// Longer than AWS allows.
    TooLong {
        /// The declaration.
        pattern: &'a NamePattern,
        /// The rendered name.
        text: String,
    },
    /// Starts or ends with what AWS reserves.
    Reserved {
        /// The declaration.
        pattern: &'a NamePattern,
        /// The rendered name.
        text: String,
        /// The reserved prefix or suffix.
        affix: &'static str,
    },
}

/// Every problem of the names `patterns` give for `id` with `suffix`, longest overflow first.
pub fn check_names<'a>(patterns: &[&'a NamePattern], id: &str, suffix: &str) -> Vec<NameProblem<'a>> {
    let mut too_long = Vec::new();
    let mut reserved = Vec::new();
    for pattern in patterns {
        let text = pattern.render(id, suffix);
        if text.len() > pattern.max_length as usize {
            too_long.push((
                text.len() - pattern.max_length as usize,
                NameProblem::TooLong { pattern, text },
            ));
            continue;
        }
        if let Some(affix) = reserved_affix(&pattern.resource_kind, &text) {
            reserved.push(NameProblem::Reserved { pattern, text, affix });
        }
    }
    too_long.sort_by_key(|(over, _)| std::cmp::Reverse(*over));
    too_long.into_iter().map(|(_, p)| p).chain(reserved).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declarations::StackKind;

    fn pattern(resource_kind: &str, template: &str, max_length: u32) -> NamePattern {
        NamePattern {
            plugin: "p".into(),
            resource_kind: resource_kind.into(),
            template: template.into(),
            max_length,
            stack: StackKind::Tenant,
        }
    }

    #[test]
    fn an_id_at_the_budget_fits_and_one_more_character_overflows() {
        let role = pattern("aws_iam_role.name", "tenant-{id}-flow-logs-role-{suffix}", 64);
        let queue = pattern("aws_sqs_queue.name", "tenant-{id}-api-dlq-{suffix}", 80);
        assert_eq!(role.max_id_len("dev"), Some(38));
        let id = "a".repeat(38);
        assert!(check_names(&[&role, &queue], &id, "dev").is_empty());
        let problems = check_names(&[&queue, &role], &format!("{id}b"), "dev");
        let NameProblem::TooLong { pattern, text } = &problems[0] else {
            panic!("{problems:?}")
        };
        assert_eq!(
            (pattern.resource_kind.as_str(), text.len()),
            ("aws_iam_role.name", 65)
        );
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn reserved_prefixes_and_suffixes_are_found_by_resource_type() {
        let cases = [
            (
                "aws_s3_bucket.bucket",
                "{id}-{suffix}",
                "xn--a",
                "dev",
                Some("xn--"),
            ),
            (
                "aws_s3_bucket.bucket",
                "{id}-{suffix}",
                "sthree-a",
                "dev",
                Some("sthree-"),
            ),
            (
                "aws_s3_bucket.bucket",
                "{id}-{suffix}",
                "a",
                "s3alias",
                Some("-s3alias"),
            ),
            (
                "aws_security_group.name",
                "{id}-{suffix}",
                "sg-a",
                "dev",
                Some("sg-"),
            ),
            (
                "aws_kms_alias.name",
                "alias/{id}-{suffix}",
                "aws-a",
                "dev",
                Some("alias/aws"),
            ),
            ("aws_sqs_queue.name", "{id}-{suffix}", "sg-a", "dev", None),
        ];
        for (kind, template, id, suffix, expected) in cases {
            let row = pattern(kind, template, 255);
            let found = check_names(&[&row], id, suffix).iter().find_map(|p| match p {
                NameProblem::Reserved { affix, .. } => Some(*affix),
                NameProblem::TooLong { .. } => None,
            });
            assert_eq!(found, expected, "{kind} {id} {suffix}");
        }
    }
}
