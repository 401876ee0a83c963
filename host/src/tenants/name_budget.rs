//! The length budget: every name the loaded plugins declare must fit AWS's limits and avoid its
//! reserved prefixes and suffixes, for the suffix and every tenant id.

use super::Checker;
use crate::declarations::{NamePattern, PluginDeclaration, StackKind};
use crate::diagnostics::Diagnostic;
use crate::names::{NameProblem, check_names};
use crate::path;
use std::ops::Range;

impl Checker<'_> {
    /// Checks that the names the loaded plugins declare fit AWS's limits and avoid its reserved
    /// prefixes and suffixes.
    pub(super) fn name_budget(
        &mut self,
        suffix: &str,
        suffix_span: Option<Range<usize>>,
        shaped: &[bool],
        plugins: &[PluginDeclaration],
    ) {
        let of_stack = |stack: StackKind| -> Vec<&NamePattern> {
            plugins
                .iter()
                .flat_map(|p| &p.name_patterns)
                .filter(|n| n.stack == stack)
                .collect()
        };
        let (central, tenant_names) = (of_stack(StackKind::Central), of_stack(StackKind::Tenant));
        // A problem that any id produces is the suffix's fault: report it once.
        let all: Vec<&NamePattern> = central.iter().chain(&tenant_names).copied().collect();
        let from_suffix = check_names(&all, "a", suffix);
        for problem in &from_suffix {
            let message = match problem {
                NameProblem::Reserved { pattern, text, affix } => format!(
                    "with environment suffix `{suffix}`, every {} of plugin `{}` ends like `{text}`, with `{affix}`, which AWS reserves",
                    pattern.resource_kind, pattern.plugin
                ),
                NameProblem::TooLong { pattern, text } => format!(
                    "with environment suffix `{suffix}`, the {} `{text}` (plugin `{}`) would be {} characters, over AWS's limit of {}",
                    pattern.resource_kind,
                    pattern.plugin,
                    text.len(),
                    pattern.max_length
                ),
            };
            self.problems.push(
                Diagnostic::error(message)
                    .at(suffix_span.clone(), "this suffix")
                    .help("choose another (shorter) environment suffix"),
            );
        }
        let max_len = tenant_names.iter().filter_map(|n| n.max_id_len(suffix)).min();
        for (index, tenant) in self.file.config.tenants.iter().enumerate() {
            if !shaped[index] {
                continue;
            }
            let span = self.value(&path!["tenants", index, "id"]);
            let mut too_long: Vec<String> = Vec::new();
            for problem in check_names(&tenant_names, &tenant.id, suffix) {
                match problem {
                    NameProblem::TooLong { pattern, text } => too_long.push(format!(
                        "the {} `{text}` (plugin `{}`) would be {} characters, {} over AWS's limit of {}",
                        pattern.resource_kind,
                        pattern.plugin,
                        text.len(),
                        text.len() - pattern.max_length as usize,
                        pattern.max_length
                    )),
                    NameProblem::Reserved { pattern, text, affix } => {
                        if from_suffix
                            .iter()
                            .any(|p| matches!(p, NameProblem::Reserved { affix: a, .. } if *a == affix))
                        {
                            continue;
                        }
                        let problem = Diagnostic::error(format!(
                            "tenant `{}` would get the {} `{text}` (plugin `{}`), which uses the prefix or suffix `{affix}` that AWS reserves",
                            tenant.id, pattern.resource_kind, pattern.plugin
                        ))
                        .at(span.clone(), "gives a reserved name")
                        .help("choose another tenant id");
                        self.problems.push(problem);
                    }
                }
            }
            if let Some((first, rest)) = too_long.split_first() {
                let max = max_len.unwrap_or_default();
                let mut problem = Diagnostic::error(format!("tenant id `{}` is too long: {first}", tenant.id))
                    .at(span, format!("{} characters", tenant.id.len()))
                    .help(format!(
                        "shorten the id to at most {max} characters (with suffix `{suffix}`), or use a shorter environment suffix"
                    ));
                for other in rest {
                    problem = problem.note(format!("also {other}"));
                }
                self.problems.push(problem);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{file, logging_plan_error};
    use super::super::{NoCrossChecks, PlanOptions, plan_fleet};

    #[test]
    fn the_name_budget_comes_from_the_declared_patterns() {
        let config = file(&format!(
            "[plugins.logging]\narchive-bucket = \"b\"\n[[tenants]]\nid = \"{}\"\n",
            "a".repeat(39)
        ));
        let error = logging_plan_error(&config);
        assert!(
            error.contains("the aws_iam_role.name `tenant-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-flow-logs-role-dev` (plugin `logging`) would be 65 characters, 1 over AWS's limit of 64"),
            "{error}"
        );
        assert!(error.contains("at most 38 characters"), "{error}");
        let without_settings = file(&format!("[[tenants]]\nid = \"{}\"\n", "a".repeat(39)));
        assert!(
            plan_fleet(
                &without_settings,
                Some("dev"),
                None,
                &[],
                &NoCrossChecks,
                &PlanOptions::default()
            )
            .is_ok(),
            "without a plugin that declares the name, there is no budget"
        );
    }
}
