//! Writes the cdktf-compatible output folder: `manifest.json` and, per stack,
//! `stacks/<stack>/cdk.tf.json` with its assets. Everything is written into a temporary folder
//! beside the target and swapped in only when all of it succeeded, so a failed run leaves the
//! previous output as it was.

use crate::check::{Finding, Severity};
use crate::compose::{CDKTF_VERSION, ComposedStack};
use serde_json::{Value, json};
use std::io;
use std::path::{Path, PathBuf};

/// Why the output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}", path.display())]
pub struct OutputError {
    /// The path that failed.
    pub path: PathBuf,
    /// The cause.
    pub source: io::Error,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError {
        path: path.into(),
        source,
    }
}

/// Renders JSON with sorted keys (serde_json's maps are ordered) and a final newline.
pub fn render_json(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialize");
    text.push('\n');
    text
}

/// The manifest: every stack with its paths, its warnings as annotations, and the central stack
/// as the dependency of every tenant stack.
pub fn manifest(stacks: &[ComposedStack], findings: &[Finding]) -> Value {
    let central: Vec<&str> = stacks
        .iter()
        .filter(|s| s.tenant.is_none())
        .map(|s| s.name.as_str())
        .collect();
    let entries: serde_json::Map<String, Value> = stacks
        .iter()
        .map(|stack| {
            let annotations: Vec<Value> = findings
                .iter()
                .filter(|f| f.stack.as_deref() == Some(&stack.name))
                .map(|f| {
                    let level = match f.severity {
                        Severity::Error => "@cdktf/error",
                        Severity::Warning => "@cdktf/warn",
                        Severity::Info => "@cdktf/info",
                    };
                    json!({
                        "constructPath": format!("{}/{}", stack.name, f.address),
                        "level": level,
                        "message": format!("[{}] {} Remediation: {}", f.rule_id, f.message, f.remediation),
                    })
                })
                .collect();
            let dependencies: Vec<&str> = if stack.tenant.is_some() {
                central.clone()
            } else {
                vec![]
            };
            let entry = json!({
                "name": stack.name,
                "constructPath": stack.name,
                "workingDirectory": format!("stacks/{}", stack.name),
                "synthesizedStackPath": format!("stacks/{}/cdk.tf.json", stack.name),
                "annotations": annotations,
                "dependencies": dependencies,
            });
            (stack.name.clone(), entry)
        })
        .collect();
    json!({"version": CDKTF_VERSION, "stacks": entries})
}

/// Writes `stacks` into `out`, replacing what was there only once everything is written.
pub fn write_output(out: &Path, stacks: &[ComposedStack], findings: &[Finding]) -> Result<(), OutputError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io_error(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".tenant-host-staging-")
        .tempdir_in(&parent)
        .map_err(io_error(&parent))?;
    let root = staging.path();
    std::fs::write(
        root.join("manifest.json"),
        render_json(&manifest(stacks, findings)),
    )
    .map_err(io_error(root))?;
    for stack in stacks {
        let dir = root.join("stacks").join(&stack.name);
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        std::fs::write(dir.join("cdk.tf.json"), render_json(&stack.document)).map_err(io_error(&dir))?;
        for (path, contents) in &stack.assets {
            let file = dir.join(path);
            if let Some(folder) = file.parent() {
                std::fs::create_dir_all(folder).map_err(io_error(folder))?;
            }
            std::fs::write(&file, contents).map_err(io_error(&file))?;
        }
    }
    swap_in(staging, out)
}

/// Moves the staged folder to `out`; an existing `out` is moved aside first and removed after.
fn swap_in(staging: tempfile::TempDir, out: &Path) -> Result<(), OutputError> {
    let staged = staging.keep();
    if out.exists() {
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let retired = tempfile::Builder::new()
            .prefix(".tenant-host-previous-")
            .tempdir_in(parent)
            .map_err(io_error(parent))?;
        let aside = retired.path().join("out");
        std::fs::rename(out, &aside).map_err(io_error(out))?;
        if let Err(source) = std::fs::rename(&staged, out) {
            // Put the previous output back before reporting.
            let _ = std::fs::rename(&aside, out);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(OutputError {
                path: out.into(),
                source,
            });
        }
        drop(retired);
    } else if let Err(source) = std::fs::rename(&staged, out) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(OutputError {
            path: out.into(),
            source,
        });
    }
    Ok(())
}
