//! Rollout planning: which stacks of a synthesized output must be applied (or destroyed), in
//! what order, judged by the digests in `manifest.json` against what `deploy` recorded as
//! applied in the output folder's state file ([`crate::output::DEPLOY_STATE_FILE`]).
//!
//! Stacks are applied in dependency waves (the central stack, then every tenant stack, which
//! depends on it), and stacks that were applied once but are no longer in the manifest (removed
//! tenants) are destroyed last, from the folders synth keeps for them.

use crate::output::DEPLOY_STATE_FILE;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a rollout could not be planned or recorded.
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not what tenant-host writes.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The manifest's dependencies form a cycle or name unknown stacks.
    #[error("{}: stack `{stack}` {reason}", path.display())]
    Dependencies {
        /// The manifest.
        path: PathBuf,
        /// The stack.
        stack: String,
        /// What is wrong.
        reason: String,
    },
}

/// One stack as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestStack {
    /// The stacks it depends on.
    pub dependencies: Vec<String>,
    /// Its digest, when the manifest records one.
    pub digest: Option<String>,
}

/// The stacks of the output folder `out`, by name; empty when there is no manifest yet.
pub fn read_manifest(out: &Path) -> Result<BTreeMap<String, ManifestStack>, RolloutError> {
    let path = out.join("manifest.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(source) => return Err(RolloutError::Io { path, source }),
    };
    let invalid = |reason: &str| RolloutError::Invalid {
        path: path.clone(),
        reason: reason.into(),
    };
    let manifest: Value = serde_json::from_str(&text).map_err(|e| invalid(&e.to_string()))?;
    let stacks = manifest["stacks"]
        .as_object()
        .ok_or_else(|| invalid("it has no `stacks` object"))?;
    stacks
        .iter()
        .map(|(name, entry)| {
            let dependencies = entry["dependencies"]
                .as_array()
                .ok_or_else(|| invalid(&format!("stack `{name}` has no `dependencies` list")))?
                .iter()
                .map(|d| d.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid(&format!("stack `{name}` has a dependency that is not a name")))?;
            let digest = entry.get("digest").and_then(Value::as_str).map(str::to_owned);
            Ok((name.clone(), ManifestStack { dependencies, digest }))
        })
        .collect()
}

/// What `deploy` has done, kept in the output folder across syntheses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DeployState {
    /// Every stack applied and not destroyed since, with the digest it was applied at.
    pub applied: BTreeMap<String, String>,
    /// The stacks a deploy that has not completed already finished (applied or destroyed); a
    /// new deploy resumes it by skipping them. `None` when the last deploy completed.
    pub interrupted: Option<BTreeSet<String>>,
}

impl DeployState {
    /// The state in `out`; the empty state when there is none yet.
    pub fn read(out: &Path) -> Result<Self, RolloutError> {
        let path = out.join(DEPLOY_STATE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| RolloutError::Invalid {
                path,
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(RolloutError::Io { path, source }),
        }
    }

    /// Writes the state into `out` atomically.
    pub fn write(&self, out: &Path) -> Result<(), RolloutError> {
        let path = out.join(DEPLOY_STATE_FILE);
        let error = |source| RolloutError::Io {
            path: path.clone(),
            source,
        };
        let mut file = tempfile::Builder::new()
            .prefix(".tenant-host-deploy-")
            .tempfile_in(out)
            .map_err(error)?;
        let text = crate::output::render_json(&serde_json::to_value(self).expect("the state serializes"));
        file.write_all(text.as_bytes()).map_err(error)?;
        file.persist(&path).map_err(|e| error(e.error))?;
        Ok(())
    }
}

/// What a step does to its stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `terraform apply`.
    Apply,
    /// `terraform destroy`: the stack is no longer in the manifest.
    Destroy,
}

/// Which canary phase of the fleet rollout a tenant stack's apply belongs to: the rollout
/// state machine in the central stack runs each phase as one Distributed Map over the same list,
/// and stops when a phase fails beyond its tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The first tenant stack, alone.
    Canary,
    /// The next `--canary-percent` of the others.
    Percentage,
    /// Everything else.
    Rest,
}

/// One stack of a rollout. Its JSON keys are snake_case: the rollout state machine reads them
/// with JSONPath.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The stack.
    pub stack: String,
    /// Apply or destroy.
    pub action: Action,
    /// The dependency wave: 0 for stacks without dependencies, one more than the latest of its
    /// dependencies otherwise; destroys come after every apply wave.
    pub wave: usize,
    /// The digest being applied; `None` for a destroy.
    pub digest: Option<String>,
    /// The stack folder, relative to the output folder.
    pub working_directory: String,
    /// The tenant of a tenant stack (its `TenantId` default tag); `None` for the central stack.
    pub tenant: Option<String>,
    /// The canary phase of a tenant stack's apply; `None` for other steps.
    pub phase: Option<Phase>,
}

/// Which stacks a rollout covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every stack of the manifest.
    All,
    /// Only stacks whose digest differs from the one recorded as applied.
    Changed,
}

/// The steps of a rollout of the output folder `out`, in order: apply waves, then destroys.
/// Steps already finished by an interrupted deploy are left out, so the rollout resumes it.
/// Tenant stack applies are split into canary phases: one stack, then `canary_percent` of the
/// others (rounded up), then the rest.
pub fn plan(out: &Path, scope: Scope, canary_percent: u8) -> Result<Vec<Step>, RolloutError> {
    let manifest = read_manifest(out)?;
    let state = DeployState::read(out)?;
    let waves = dependency_waves(&out.join("manifest.json"), &manifest)?;
    let finished = state.interrupted.clone().unwrap_or_default();
    let mut steps: Vec<Step> = manifest
        .iter()
        .filter(|(name, stack)| match scope {
            Scope::All => !(finished.contains(*name) && state.applied.get(*name) == stack.digest.as_ref()),
            Scope::Changed => stack.digest.is_none() || state.applied.get(*name) != stack.digest.as_ref(),
        })
        .map(|(name, stack)| {
            Ok(Step {
                stack: name.clone(),
                action: Action::Apply,
                wave: waves[name],
                digest: stack.digest.clone(),
                working_directory: format!("stacks/{name}"),
                tenant: stack_tenant(out, name)?,
                phase: None,
            })
        })
        .collect::<Result<_, RolloutError>>()?;
    let destroy_wave = waves.values().max().map_or(0, |w| w + 1);
    steps.extend(
        state
            .applied
            .keys()
            .filter(|name| !manifest.contains_key(*name))
            .map(|name| {
                Ok(Step {
                    stack: name.clone(),
                    action: Action::Destroy,
                    wave: destroy_wave,
                    digest: None,
                    working_directory: format!("stacks/{name}"),
                    tenant: stack_tenant(out, name)?,
                    phase: None,
                })
            })
            .collect::<Result<Vec<_>, RolloutError>>()?,
    );
    steps.sort_by(|a, b| (a.wave, &a.stack).cmp(&(b.wave, &b.stack)));
    assign_phases(&mut steps, canary_percent);
    Ok(steps)
}

/// Marks the tenant stack applies: the first is the canary, the next `percent` of the others
/// (rounded up) the percentage phase, the rest the last phase.
fn assign_phases(steps: &mut [Step], percent: u8) {
    let mut applies: Vec<&mut Step> = steps
        .iter_mut()
        .filter(|s| s.action == Action::Apply && s.tenant.is_some())
        .collect();
    let others = applies.len().saturating_sub(1);
    let percentage_end = 1 + (others * usize::from(percent)).div_ceil(100);
    for (index, step) in applies.iter_mut().enumerate() {
        step.phase = Some(match index {
            0 => Phase::Canary,
            i if i < percentage_end => Phase::Percentage,
            _ => Phase::Rest,
        });
    }
}

/// The tenant a stack folder belongs to: its provider's `TenantId` default tag; `None` for a
/// stack without one (the central stack) or without a folder.
fn stack_tenant(out: &Path, stack: &str) -> Result<Option<String>, RolloutError> {
    let path = out.join("stacks").join(stack).join("cdk.tf.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(RolloutError::Io { path, source }),
    };
    let document: Value = serde_json::from_str(&text).map_err(|e| RolloutError::Invalid {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok(
        document["provider"]["aws"][0]["default_tags"][0]["tags"]["TenantId"]
            .as_str()
            .map(str::to_owned),
    )
}

/// Each stack's wave: 0 without dependencies, else one more than its latest dependency.
fn dependency_waves(
    path: &Path,
    manifest: &BTreeMap<String, ManifestStack>,
) -> Result<BTreeMap<String, usize>, RolloutError> {
    fn wave_of(
        name: &str,
        manifest: &BTreeMap<String, ManifestStack>,
        waves: &mut BTreeMap<String, usize>,
        visiting: &mut Vec<String>,
        path: &Path,
    ) -> Result<usize, RolloutError> {
        if let Some(wave) = waves.get(name) {
            return Ok(*wave);
        }
        let problem = |reason: String| RolloutError::Dependencies {
            path: path.into(),
            stack: name.into(),
            reason,
        };
        if visiting.iter().any(|v| v == name) {
            return Err(problem(format!(
                "depends on itself through {}",
                visiting.join(" → ")
            )));
        }
        visiting.push(name.to_owned());
        let mut wave = 0;
        for dependency in &manifest[name].dependencies {
            if !manifest.contains_key(dependency) {
                return Err(problem(format!(
                    "depends on `{dependency}`, which the manifest does not list"
                )));
            }
            wave = wave.max(wave_of(dependency, manifest, waves, visiting, path)? + 1);
        }
        visiting.pop();
        waves.insert(name.to_owned(), wave);
        Ok(wave)
    }
    let mut waves = BTreeMap::new();
    for name in manifest.keys() {
        wave_of(name, manifest, &mut waves, &mut Vec::new(), path)?;
    }
    Ok(waves)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(stacks: &[(&str, &[&str], &str)], state: Option<&DeployState>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let entries: serde_json::Map<String, Value> = stacks
            .iter()
            .map(|(name, deps, digest)| {
                (
                    name.to_string(),
                    serde_json::json!({"dependencies": deps, "digest": digest}),
                )
            })
            .collect();
        std::fs::write(
            dir.path().join("manifest.json"),
            serde_json::json!({"version": "0.20.0", "stacks": entries}).to_string(),
        )
        .unwrap();
        if let Some(state) = state {
            state.write(dir.path()).unwrap();
        }
        dir
    }

    fn names(steps: &[Step]) -> Vec<(&str, Action, usize)> {
        steps
            .iter()
            .map(|s| (s.stack.as_str(), s.action, s.wave))
            .collect()
    }

    const FLEET: &[(&str, &[&str], &str)] = &[
        ("tenant-b-dev", &["central-dev"], "b2"),
        ("central-dev", &[], "c1"),
        ("tenant-a-dev", &["central-dev"], "a1"),
    ];

    #[test]
    fn everything_rolls_out_in_dependency_waves() {
        let out = output(FLEET, None);
        let steps = plan(out.path(), Scope::Changed, 50).unwrap();
        assert_eq!(
            names(&steps),
            [
                ("central-dev", Action::Apply, 0),
                ("tenant-a-dev", Action::Apply, 1),
                ("tenant-b-dev", Action::Apply, 1)
            ]
        );
    }

    #[test]
    fn only_changed_stacks_and_removed_ones_roll_out() {
        let state = DeployState {
            applied: BTreeMap::from([
                ("central-dev".into(), "c1".into()),
                ("tenant-a-dev".into(), "a1".into()),
                ("tenant-b-dev".into(), "b1".into()),
                ("tenant-gone-dev".into(), "g1".into()),
            ]),
            interrupted: None,
        };
        let out = output(FLEET, Some(&state));
        let steps = plan(out.path(), Scope::Changed, 50).unwrap();
        assert_eq!(
            names(&steps),
            [
                ("tenant-b-dev", Action::Apply, 1),
                ("tenant-gone-dev", Action::Destroy, 2)
            ]
        );
        assert_eq!(plan(out.path(), Scope::All, 50).unwrap().len(), 4);
    }

    #[test]
    fn an_interrupted_deploy_resumes_without_its_finished_stacks() {
        let state = DeployState {
            applied: BTreeMap::from([("central-dev".into(), "c1".into())]),
            interrupted: Some(BTreeSet::from(["central-dev".into()])),
        };
        let out = output(FLEET, Some(&state));
        let steps = plan(out.path(), Scope::All, 50).unwrap();
        assert_eq!(
            names(&steps),
            [
                ("tenant-a-dev", Action::Apply, 1),
                ("tenant-b-dev", Action::Apply, 1)
            ]
        );
    }

    #[test]
    fn tenant_applies_are_split_into_canary_phases() {
        let mut stacks: Vec<(String, &[&str], String)> = vec![("central-dev".into(), &[], "c".into())];
        for i in 0..5 {
            stacks.push((format!("tenant-t{i}-dev"), &["central-dev"], format!("d{i}")));
        }
        let borrowed: Vec<(&str, &[&str], &str)> = stacks
            .iter()
            .map(|(n, d, g)| (n.as_str(), *d, g.as_str()))
            .collect();
        let out2 = output(&borrowed, None);
        for i in 0..5 {
            let folder = out2.path().join(format!("stacks/tenant-t{i}-dev"));
            std::fs::create_dir_all(&folder).unwrap();
            let document = serde_json::json!({"provider": {"aws": [{"default_tags": [{"tags": {"TenantId": format!("t{i}")}}]}]}});
            std::fs::write(folder.join("cdk.tf.json"), document.to_string()).unwrap();
        }
        let steps = plan(out2.path(), Scope::All, 50).unwrap();
        let phases: Vec<(&str, Option<&str>, Option<Phase>)> = steps
            .iter()
            .map(|s| (s.stack.as_str(), s.tenant.as_deref(), s.phase))
            .collect();
        assert_eq!(
            phases,
            [
                ("central-dev", None, None),
                ("tenant-t0-dev", Some("t0"), Some(Phase::Canary)),
                ("tenant-t1-dev", Some("t1"), Some(Phase::Percentage)),
                ("tenant-t2-dev", Some("t2"), Some(Phase::Percentage)),
                ("tenant-t3-dev", Some("t3"), Some(Phase::Rest)),
                ("tenant-t4-dev", Some("t4"), Some(Phase::Rest)),
            ],
            "half of the four after the canary, rounded up, then the rest"
        );
        let json = serde_json::to_value(&steps[1]).unwrap();
        assert_eq!(json["phase"], "canary");
        assert_eq!(json["working_directory"], "stacks/tenant-t0-dev");
    }

    #[test]
    fn a_dependency_cycle_is_an_error() {
        let out = output(&[("a", &["b"], "1"), ("b", &["a"], "2")], None);
        let error = plan(out.path(), Scope::All, 50).unwrap_err().to_string();
        assert!(error.contains("depends on itself"), "{error}");
    }
}
