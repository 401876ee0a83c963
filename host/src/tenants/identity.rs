//! The fleet's identity: the environment suffix, the regions and the state bucket, the shape and
//! uniqueness of tenant ids, and the tenants `--tenant` selects.

use super::{Checker, PlanOptions, list_or_none};
use crate::diagnostics::Diagnostic;
use crate::path;
use std::collections::BTreeMap;
use std::ops::Range;

/// What keeps `text` from being `[a-z0-9-]+` without leading, trailing or double hyphens.
fn name_shape_problems(text: &str) -> Vec<String> {
    if text.is_empty() {
        return vec!["is empty".into()];
    }
    let mut problems = Vec::new();
    let mut bad: Vec<char> = text
        .chars()
        .filter(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        .collect();
    bad.dedup();
    if !bad.is_empty() {
        let listed: Vec<String> = bad.iter().map(|c| format!("`{c}`")).collect();
        problems.push(format!("contains {}", listed.join(", ")));
    }
    if text.starts_with('-') {
        problems.push("starts with a hyphen".into());
    }
    if text.ends_with('-') {
        problems.push("ends with a hyphen".into());
    }
    if text.contains("--") {
        problems.push("contains a double hyphen".into());
    }
    problems
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`: letters, hyphens, a final number.
fn is_region_shaped(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

/// 3-63 characters of `[a-z0-9.-]`, starting and ending with a letter or digit.
fn is_bucket_shaped(text: &str) -> bool {
    (3..=63).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// The longest environment suffix: it is part of every name and of every stack name.
const MAX_SUFFIX_LEN: usize = 16;

impl Checker<'_> {
    pub(super) fn suffix(&mut self, suffix: &str, span: Option<Range<usize>>) -> bool {
        let mut shape = name_shape_problems(suffix);
        if suffix.len() > MAX_SUFFIX_LEN {
            shape.push(format!(
                "is {} characters long, more than {MAX_SUFFIX_LEN}",
                suffix.len()
            ));
        }
        if shape.is_empty() {
            return true;
        }
        let from_flag = span.is_none();
        let mut problem = Diagnostic::error(format!("environment suffix `{suffix}` {}", shape.join(" and ")))
            .at(span, "not a usable suffix")
            .help(format!(
                "use 1-{MAX_SUFFIX_LEN} lowercase letters, digits and single hyphens, e.g. `dev` or `pr42`"
            ));
        if from_flag {
            problem = problem.note("the suffix comes from --environment-suffix or ENVIRONMENT_SUFFIX");
        }
        self.problems.push(problem);
        false
    }

    pub(super) fn regions_and_backend(&mut self) {
        let config = &self.file.config;
        for (region, path) in [
            (&config.region, path!["region"].to_vec()),
            (
                &config.state_backend.region,
                path!["state-backend", "region"].to_vec(),
            ),
        ] {
            if !is_region_shaped(region) {
                let problem = Diagnostic::error(format!("`{region}` is not an AWS region name"))
                    .at(self.value(&path), "not a region")
                    .help("use a region code such as `us-east-1` or `eu-central-1`");
                self.problems.push(problem);
            }
        }
        let bucket = &config.state_backend.bucket;
        if !is_bucket_shaped(bucket) {
            let problem = Diagnostic::error(format!("state bucket `{bucket}` is not a valid S3 bucket name"))
                .at(self.value(&path!["state-backend", "bucket"]), "not a bucket name")
                .help("use 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit");
            self.problems.push(problem);
        }
    }

    /// Checks ids for shape and duplicates; returns whether each tenant's id is well shaped.
    pub(super) fn tenant_ids(&mut self) -> Vec<bool> {
        let tenants = &self.file.config.tenants;
        if tenants.is_empty() {
            let problem = Diagnostic::error("the configuration lists no tenants")
                .at(self.key(&path!["tenants"]), "no tenants")
                .help("add at least one `[[tenants]]` table with an `id`");
            self.problems.push(problem);
        }
        let mut first_index: BTreeMap<&str, usize> = BTreeMap::new();
        let mut shaped = Vec::new();
        for (index, tenant) in tenants.iter().enumerate() {
            let span = self.value(&path!["tenants", index, "id"]);
            let shape = name_shape_problems(&tenant.id);
            shaped.push(shape.is_empty());
            if !shape.is_empty() {
                let problem = Diagnostic::error(format!("tenant id `{}` {}", tenant.id, shape.join(" and ")))
                    .at(span.clone(), "not a valid tenant id")
                    .help("use lowercase letters, digits and single hyphens inside, e.g. `acme-corp`");
                self.problems.push(problem);
            }
            match first_index.get(tenant.id.as_str()) {
                Some(first) => {
                    let problem = Diagnostic::error(format!("tenant id `{}` is listed twice", tenant.id))
                        .at(span, "listed again here")
                        .also(self.value(&path!["tenants", *first, "id"]), "first listed here")
                        .help("give every tenant its own id: rename or remove one of them");
                    self.problems.push(problem);
                }
                None => {
                    first_index.insert(&tenant.id, index);
                }
            }
        }
        shaped
    }

    pub(super) fn selection(&mut self, options: &PlanOptions) {
        let ids: Vec<&str> = self.file.config.tenants.iter().map(|t| t.id.as_str()).collect();
        for wanted in &options.only {
            if !ids.contains(&wanted.as_str()) {
                let problem = Diagnostic::error(format!(
                    "--tenant `{wanted}` is not a tenant of {}",
                    self.file.source.origin
                ))
                .note(format!("its tenants: {}", list_or_none(&ids)))
                .help("name a configured tenant, or add the tenant to the configuration");
                self.problems.push(problem);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_problems_are_named() {
        assert_eq!(
            name_shape_problems("Bad_Id-"),
            ["contains `B`, `_`, `I`", "ends with a hyphen"]
        );
        assert_eq!(name_shape_problems(""), ["is empty"]);
        assert!(name_shape_problems("acme-corp").is_empty());
    }

    #[test]
    fn region_shapes() {
        for (region, ok) in [
            ("us-east-1", true),
            ("us-gov-west-1", true),
            ("useast1", false),
            ("us-east-x", false),
        ] {
            assert_eq!(is_region_shaped(region), ok, "{region}");
        }
    }
}
