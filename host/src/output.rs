//! Writes the cdktf-compatible output folder: `manifest.json` and, per stack,
//! `stacks/<stack>/cdk.tf.json` with its assets. Everything is written into a temporary folder
//! beside the target and swapped in only when all of it succeeded, so a failed run leaves the
//! previous output as it was.
//!
//! No stack folder of the previous output is lost: a stack that is no longer configured (an
//! orphan, e.g. of a removed tenant) is carried over unchanged, outside the manifest, until it is
//! pruned explicitly after `terraform destroy`; and a run limited to some tenants carries every
//! other stack's folder and manifest entry over unchanged.

use crate::compose::{CDKTF_VERSION, ComposedStack};
use crate::findings::{Finding, Severity};
use crate::tenants::Tenant;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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

/// One stack as the manifest lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestStack<'a> {
    /// The stack's name.
    pub name: &'a str,
    /// Whether it is a tenant stack (which depends on the central stack).
    pub is_tenant: bool,
}

/// The manifest: every stack with its paths, its warnings as annotations, the central stack
/// as the dependency of every tenant stack, and its digest when known.
pub fn manifest(
    stacks: &[ManifestStack<'_>],
    findings: &[Finding],
    digests: Option<&BTreeMap<String, String>>,
) -> Value {
    let central: Vec<&str> = stacks.iter().filter(|s| !s.is_tenant).map(|s| s.name).collect();
    let mut annotations: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for f in findings {
        let Some(stack) = &f.stack else { continue };
        let level = match f.severity {
            Severity::Error => "@cdktf/error",
            Severity::Warning => "@cdktf/warn",
            Severity::Info => "@cdktf/info",
        };
        annotations.entry(stack).or_default().push(json!({
            "constructPath": format!("{stack}/{}", f.address),
            "level": level,
            "message": match &f.waived {
                Some(waived) => format!("[{}] {} Remediation: {} ({waived})", f.rule_id, f.message, f.remediation),
                None => format!("[{}] {} Remediation: {}", f.rule_id, f.message, f.remediation),
            },
        }));
    }
    let entries: serde_json::Map<String, Value> = stacks
        .iter()
        .map(|stack| {
            let dependencies: Vec<&str> = if stack.is_tenant { central.clone() } else { vec![] };
            let mut entry = json!({
                "name": stack.name,
                "constructPath": stack.name,
                "workingDirectory": format!("stacks/{}", stack.name),
                "synthesizedStackPath": format!("stacks/{}/cdk.tf.json", stack.name),
                "annotations": annotations.remove(stack.name).unwrap_or_default(),
                "dependencies": dependencies,
            });
            if let Some(digest) = digests.and_then(|d| d.get(stack.name)) {
                entry["digest"] = json!(digest);
            }
            (stack.name.to_owned(), entry)
        })
        .collect();
    json!({"version": CDKTF_VERSION, "stacks": entries, MARKER: {"output-format": OUTPUT_FORMAT}})
}

/// The manifest key that marks a folder as written by tenant-host. Only a folder whose manifest
/// carries it is ever replaced.
pub const MARKER: &str = "tenant-host";
/// The layout version of the output folder, recorded under [`MARKER`]: it changes when the folder's
/// layout does, not with every release, so the output stays byte-identical across releases.
pub const OUTPUT_FORMAT: u64 = 1;
/// The only entries tenant-host writes at the top of an output folder; anything else in it was
/// put there by someone else, and the folder is refused rather than replaced.
// `deploy` records its progress beside the manifest (a synth carries that file over) and each
// stack's terraform log in its own folder.
const OUTPUT_ENTRIES: &[&str] = &["manifest.json", "stacks", DEPLOY_STATE_FILE, DEPLOY_LOG_FOLDER];

/// Where `deploy` writes each stack's terraform output, inside the output folder.
pub const DEPLOY_LOG_FOLDER: &str = "deploy-logs";

/// Which stacks a run writes afresh; every other stack keeps its previous folder and manifest
/// entry (and is written afresh only when it has none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Selection {
    /// Every stack.
    #[default]
    All,
    /// The stacks of these tenants.
    Tenants(BTreeSet<String>),
    /// The stacks whose digest differs from the one the previous manifest records for them.
    Changed,
}

/// What the write did besides writing the stacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Stacks written afresh.
    pub fresh: Vec<String>,
    /// Stacks of the previous output that are no longer configured: kept unless pruned.
    pub orphans: Vec<String>,
    /// Stacks whose previous folder was kept because the run was limited to other tenants.
    pub kept: Vec<String>,
}

/// The previous output's stack folders and manifest entries.
#[derive(Debug)]
struct Previous {
    folders: BTreeSet<String>,
    /// Each stack's entry as the manifest has it: kept as text, because a fleet's manifest is
    /// large (11 MB for 10,000 tenants) and the run only reads each entry's digest and copies
    /// the entries of the stacks it keeps.
    entries: BTreeMap<String, Box<RawValue>>,
}

impl Previous {
    /// The digest the previous manifest records for `stack`.
    fn digest(&self, stack: &str) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Entry {
            digest: Option<String>,
        }
        let entry = self.entries.get(stack)?;
        serde_json::from_str::<Entry>(entry.get()).ok()?.digest
    }

    /// What the previous output holds. A folder that is not a tenant-host output (no manifest
    /// with the [`MARKER`], or entries tenant-host does not write) is refused rather than
    /// replaced: the swap would delete everything in it. A symbolic link is refused too: the swap
    /// would replace the link, not the folder it points to.
    ///
    /// The manifest's entries are kept only `with_entries`: a run that writes every stack copies
    /// no previous entry and compares no digest.
    fn read(out: &Path, with_entries: bool) -> Result<Self, OutputError> {
        let refuse = |why: String| OutputError {
            path: out.into(),
            source: io::Error::other(why),
        };
        match std::fs::symlink_metadata(out) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(refuse(
                    "it is a symbolic link, and tenant-host swaps the output folder in place, which would \
                     replace the link rather than write where it points; pass the link's target as --out"
                        .into(),
                ));
            }
            Ok(meta) if !meta.is_dir() => {
                return Err(refuse("it is not a folder; choose another --out".into()));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(out)(e)),
        }
        let manifest = out.join("manifest.json");
        match std::fs::read_dir(out) {
            Ok(entries) => {
                let mut names = Vec::new();
                for entry in entries {
                    names.push(
                        entry
                            .map_err(io_error(out))?
                            .file_name()
                            .to_string_lossy()
                            .into_owned(),
                    );
                }
                if !names.is_empty() && !manifest.is_file() {
                    return Err(refuse(
                        "it is not empty and holds no manifest.json, so it is not a tenant-host output; \
                         choose another --out, or empty it"
                            .into(),
                    ));
                }
                names.retain(|name| !OUTPUT_ENTRIES.contains(&name.as_str()));
                names.sort();
                if !names.is_empty() {
                    return Err(refuse(format!(
                        "it holds {}, which tenant-host did not write and would delete; move them out of the folder",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(out)(e)),
        }
        let stacks = out.join("stacks");
        let mut folders = BTreeSet::new();
        match std::fs::read_dir(&stacks) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(io_error(&stacks))?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !entry.file_type().map_err(io_error(&stacks))?.is_dir() {
                        return Err(refuse(format!(
                            "stacks/{name} is not a stack folder, so tenant-host did not write it and would delete it; \
                             move it out of the folder"
                        )));
                    }
                    folders.insert(name);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&stacks)(e)),
        }
        let entries = match crate::bounded_read::read_to_string(
            &manifest,
            crate::bounded_read::MAX_MANIFEST_BYTES,
        ) {
            Ok(text) => serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(&text)
                .ok()
                .filter(|m| m.get(MARKER).is_some_and(|marker| marker.get().starts_with('{')))
                .and_then(|m| {
                    // A raw value that opens with `{` is a well-formed object.
                    let stacks = m.get("stacks").filter(|stacks| stacks.get().starts_with('{'))?;
                    if with_entries {
                        serde_json::from_str(stacks.get()).ok()
                    } else {
                        Some(BTreeMap::new())
                    }
                })
                .ok_or_else(|| {
                    refuse(format!(
                        "{} is not a manifest tenant-host can read (a JSON object with `stacks` and the \
                         `\"{MARKER}\"` marker tenant-host writes), so the folder may not be a tenant-host output \
                         and the stacks it lists could be lost; restore it, or move the folder away",
                        manifest.display()
                    ))
                })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(io_error(&manifest)(e)),
        };
        Ok(Self { folders, entries })
    }
}

/// The file in the output folder where `tenant-host deploy` records the stacks it has applied.
pub const DEPLOY_STATE_FILE: &str = "deploy-state.json";

/// Receives each stack once it is checked, before its document is dropped: the output being
/// staged (`synth`), or whatever a report needs of the document (`check`).
pub trait StackSink: Sync + std::fmt::Debug {
    /// Takes the stack, with its digest.
    fn accept(&self, stack: &ComposedStack, digest: &str) -> Result<(), OutputError>;
}

/// A sink that keeps nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl StackSink for Discard {
    fn accept(&self, _: &ComposedStack, _: &str) -> Result<(), OutputError> {
        Ok(())
    }
}

/// An output folder being written: each stack goes into a staging folder beside `out` as it
/// passes the pipeline, and [`finish`](Staging::finish) writes the manifest and swaps the staging
/// folder in. Dropped unfinished (a run with policy errors), it leaves `out` as it was.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    previous: Previous,
    staging: tempfile::TempDir,
    selection: Selection,
    written: Mutex<Written>,
}

impl Staging {
    /// Checks that `out` may be replaced (it is a tenant-host output, or absent or empty) and
    /// makes the staging folder beside it.
    pub fn begin(out: &Path, selection: Selection) -> Result<Staging, OutputError> {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io_error(&parent))?;
        let previous = Previous::read(out, !matches!(selection, Selection::All))?;
        let staging = tempfile::Builder::new()
            .prefix(".tenant-host-staging-")
            .tempdir_in(&parent)
            .map_err(io_error(&parent))?;
        Ok(Staging {
            out: out.to_path_buf(),
            previous,
            staging,
            selection,
            written: Mutex::new(Written::default()),
        })
    }

    fn selected(&self, stack: &str, tenant: Option<&Tenant>, digest: &str) -> bool {
        match &self.selection {
            Selection::All => true,
            Selection::Tenants(ids) => tenant.is_some_and(|t| ids.contains(&t.id)),
            Selection::Changed => self.previous.digest(stack).as_deref() != Some(digest),
        }
    }

    /// Writes the manifest of `stacks` (every configured stack, in order) with `findings` as
    /// annotations, carries orphaned folders over (unless pruned) and the deploy record, and swaps
    /// the staged folder in.
    pub fn finish(
        self,
        stacks: &[ManifestStack<'_>],
        findings: &[Finding],
        digests: &BTreeMap<String, String>,
        prune_orphans: bool,
    ) -> Result<Written, OutputError> {
        let root = self.staging.path();
        let mut written = self
            .written
            .into_inner()
            .expect("no thread panics holding the lock");
        let mut manifest = manifest(stacks, findings, Some(digests));
        for kept in &written.kept {
            if let Some(entry) = self.previous.entries.get(kept) {
                manifest["stacks"][kept] =
                    serde_json::from_str(entry.get()).expect("a manifest entry read as JSON parses as JSON");
            }
        }
        let configured: BTreeSet<&str> = stacks.iter().map(|s| s.name).collect();
        for orphan in self
            .previous
            .folders
            .iter()
            .filter(|name| !configured.contains(name.as_str()))
        {
            if !prune_orphans {
                copy_tree(
                    &self.out.join("stacks").join(orphan),
                    &root.join("stacks").join(orphan),
                )?;
            }
            written.orphans.push(orphan.clone());
        }
        std::fs::write(root.join("manifest.json"), render_json(&manifest)).map_err(io_error(root))?;
        // What `deploy` has applied is a fact about the cloud, not about this synthesis: it stays.
        let deployed = self.out.join(DEPLOY_STATE_FILE);
        if deployed.is_file() {
            std::fs::copy(&deployed, root.join(DEPLOY_STATE_FILE)).map_err(io_error(&deployed))?;
        }
        swap_in(self.staging, &self.out)?;
        written.kept.sort();
        written.fresh.sort();
        Ok(written)
    }
}

impl StackSink for Staging {
    fn accept(&self, stack: &ComposedStack, digest: &str) -> Result<(), OutputError> {
        let dir = self.staging.path().join("stacks").join(&stack.name);
        let previous_dir = self.out.join("stacks").join(&stack.name);
        // A stack left out of the run keeps its folder and entry only when it has both; a folder
        // without an entry (an orphan configured again) is written fresh, so no configured stack
        // ever drops out of the manifest.
        let keeps_previous =
            self.previous.folders.contains(&stack.name) && self.previous.entries.contains_key(&stack.name);
        if !self.selected(&stack.name, stack.tenant.as_ref(), digest) && keeps_previous {
            copy_tree(&previous_dir, &dir)?;
            self.written
                .lock()
                .expect("no thread panics holding the lock")
                .kept
                .push(stack.name.clone());
            return Ok(());
        }
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let document = render_json(&stack.document);
        write_or_link(
            &dir.join("cdk.tf.json"),
            &previous_dir.join("cdk.tf.json"),
            document.as_bytes(),
        )?;
        for (path, contents) in &stack.assets {
            let file = dir.join(path);
            if let Some(folder) = file.parent() {
                std::fs::create_dir_all(folder).map_err(io_error(folder))?;
            }
            write_or_link(&file, &previous_dir.join(path), contents)?;
        }
        carry_terraform_state(&previous_dir, &dir)?;
        self.written
            .lock()
            .expect("no thread panics holding the lock")
            .fresh
            .push(stack.name.clone());
        Ok(())
    }
}

/// Writes `contents` to `file`, or hard-links `previous` (the same file in the previous output)
/// there when it is a regular file holding the same bytes. Re-synthesizing a fleet mostly rewrites
/// what is already there: a link allocates no data blocks, and removing the previous output after
/// the swap then frees none. Comparing the bytes, not the stack's digest, keeps a stale file out
/// whatever the digest leaves out; the previous output is removed after the swap, so nothing else
/// shares the link.
fn write_or_link(file: &Path, previous: &Path, contents: &[u8]) -> Result<(), OutputError> {
    let same_size = std::fs::symlink_metadata(previous)
        .is_ok_and(|found| found.file_type().is_file() && found.len() == contents.len() as u64);
    if same_size
        && crate::bounded_read::read(previous, contents.len() as u64).is_ok_and(|found| found == contents)
        && std::fs::hard_link(previous, file).is_ok()
    {
        return Ok(());
    }
    std::fs::write(file, contents).map_err(io_error(file))
}

/// What `terraform init` leaves in a stack folder: the provider lock (which pins the provider
/// versions a stack was planned with) and the working directory. A rewritten stack keeps them, so
/// `terraform -chdir=<stack>` goes on working after every synth.
const TERRAFORM_WORKING_FILES: &[&str] = &[".terraform.lock.hcl", ".terraform"];

fn carry_terraform_state(previous: &Path, dir: &Path) -> Result<(), OutputError> {
    for name in TERRAFORM_WORKING_FILES {
        let (source, target) = (previous.join(name), dir.join(name));
        if source.is_dir() {
            copy_tree(&source, &target)?;
        } else if source.is_file() {
            link_or_copy(&source, &target)?;
        }
    }
    Ok(())
}

/// Copies a folder: files are hard-linked where possible (the previous output is removed after
/// the swap, so nothing else shares them), else copied; symbolic links are recreated.
fn copy_tree(from: &Path, to: &Path) -> Result<(), OutputError> {
    std::fs::create_dir_all(to).map_err(io_error(to))?;
    for entry in std::fs::read_dir(from).map_err(io_error(from))? {
        let entry = entry.map_err(io_error(from))?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().map_err(io_error(&source))?;
        if kind.is_dir() {
            copy_tree(&source, &target)?;
        } else if kind.is_symlink() {
            relink(&source, &target).map_err(io_error(&target))?;
        } else {
            link_or_copy(&source, &target)?;
        }
    }
    Ok(())
}

/// Hard-links `source` at `target`, or copies it where the file system cannot link.
fn link_or_copy(source: &Path, target: &Path) -> Result<(), OutputError> {
    if std::fs::hard_link(source, target).is_err() {
        std::fs::copy(source, target).map_err(io_error(target))?;
    }
    Ok(())
}

/// Recreates the symbolic link `source` at `target`.
#[cfg(unix)]
fn relink(source: &Path, target: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(std::fs::read_link(source)?, target)
}

/// Copies what the symbolic link `source` points to, where links need privileges.
#[cfg(not(unix))]
fn relink(source: &Path, target: &Path) -> io::Result<()> {
    std::fs::copy(source, target).map(drop)
}

/// Moves the staged folder to `out`, exchanging it atomically with an existing one.
fn swap_in(staging: tempfile::TempDir, out: &Path) -> Result<(), OutputError> {
    if out.exists() {
        // One atomic exchange: at every instant `out` is either the previous output or the new
        // one, even if the process is killed. The previous output then sits in the staging
        // folder, which is removed when `staging` drops.
        match exchange(staging.path(), out) {
            Ok(()) => return Ok(()),
            Err(error) if exchange_unsupported(&error) => {}
            Err(source) => {
                return Err(OutputError {
                    path: out.into(),
                    source,
                });
            }
        }
        return swap_by_renames(staging, out);
    }
    let staged = staging.keep();
    std::fs::rename(&staged, out).map_err(|source| {
        let _ = std::fs::remove_dir_all(&staged);
        OutputError {
            path: out.into(),
            source,
        }
    })
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// File systems (and kernels) without `RENAME_EXCHANGE` answer `EINVAL` or `ENOSYS`.
fn exchange_unsupported(error: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    let refused = [rustix::io::Errno::INVAL, rustix::io::Errno::NOSYS]
        .iter()
        .any(|errno| error.raw_os_error() == Some(errno.raw_os_error()));
    #[cfg(not(target_os = "linux"))]
    let refused = false;
    error.kind() == io::ErrorKind::Unsupported || refused
}

/// Where the exchange is not available: move the previous output aside, move the new one in, and
/// put the previous one back if that fails. An interruption between the two renames leaves the
/// previous output in `.tenant-host-previous-*/out` beside `out`.
fn swap_by_renames(staging: tempfile::TempDir, out: &Path) -> Result<(), OutputError> {
    let staged = staging.keep();
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
        if std::fs::rename(&aside, out).is_err() {
            // Never delete the only copy of the previous output.
            let kept = retired.keep();
            return Err(OutputError {
                path: out.into(),
                source: io::Error::other(format!(
                    "{source}; the previous output could not be put back and is kept in {}",
                    kept.join("out").display()
                )),
            });
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(OutputError {
            path: out.into(),
            source,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_empty(out: &Path) -> Result<Written, OutputError> {
        Staging::begin(out, Selection::All)?.finish(&[], &[], &BTreeMap::new(), false)
    }

    fn refusal(out: &Path) -> String {
        format!("{:#}", write_empty(out).unwrap_err().source)
    }

    #[test]
    fn an_output_is_marked_and_a_marked_output_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("cdktf.out");
        write_empty(&out).unwrap();
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest[MARKER]["output-format"], OUTPUT_FORMAT);
        write_empty(&out).unwrap();
    }

    /// (reason, how the folder is spoilt, what the refusal says).
    #[test]
    fn what_tenant_host_did_not_write_is_never_replaced() {
        type Spoil = fn(&Path);
        let cases: [(&str, Spoil, &str); 4] = [
            (
                "a manifest without the marker (e.g. `\"stacks\": {}` in someone's project)",
                |out| std::fs::write(out.join("manifest.json"), r#"{"stacks": {}}"#).unwrap(),
                "marker",
            ),
            (
                "a file tenant-host does not write at the top",
                |out| std::fs::write(out.join("notes.txt"), "mine").unwrap(),
                "it holds `notes.txt`, which tenant-host did not write",
            ),
            (
                "a file directly in stacks/",
                |out| {
                    std::fs::create_dir_all(out.join("stacks")).unwrap();
                    std::fs::write(out.join("stacks/README"), "mine").unwrap();
                },
                "stacks/README is not a stack folder",
            ),
            (
                "a file where the folder should be",
                |out| {
                    std::fs::remove_dir_all(out).unwrap();
                    std::fs::write(out, "mine").unwrap();
                },
                "it is not a folder",
            ),
        ];
        for (reason, spoil, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("cdktf.out");
            write_empty(&out).unwrap();
            spoil(&out);
            let before = snapshot(dir.path());
            let error = refusal(&out);
            assert!(error.contains(expected), "{reason}: {error}");
            assert_eq!(before, snapshot(dir.path()), "{reason}: the folder changed");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_out_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real");
        write_empty(&target).unwrap();
        let link = dir.path().join("cdktf.out");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = refusal(&link);
        assert!(error.contains("symbolic link"), "{error}");
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    }

    /// An unchanged file is linked from the previous output; a changed one, a missing one, or a
    /// symbolic link in the previous output's place gets a file of its own.
    #[cfg(unix)]
    #[test]
    fn only_an_identical_previous_file_is_linked() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (dir.path().join("old"), dir.path().join("new"));
        std::fs::create_dir_all(&old).unwrap();
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(old.join("same"), "{}\n").unwrap();
        std::fs::write(old.join("changed"), "{\"a\": 1}\n").unwrap();
        std::fs::write(old.join("target"), "{}\n").unwrap();
        std::os::unix::fs::symlink(old.join("target"), old.join("linked")).unwrap();
        let inode = |path: PathBuf| std::fs::symlink_metadata(path).unwrap().ino();
        for (name, linked) in [
            ("same", true),
            ("changed", false),
            ("linked", false),
            ("missing", false),
        ] {
            write_or_link(&new.join(name), &old.join(name), b"{}\n").unwrap();
            assert_eq!(std::fs::read(new.join(name)).unwrap(), b"{}\n", "{name}");
            assert!(
                std::fs::symlink_metadata(new.join(name))
                    .unwrap()
                    .file_type()
                    .is_file(),
                "{name}"
            );
            let shared = std::fs::symlink_metadata(old.join(name))
                .is_ok_and(|_| inode(old.join(name)) == inode(new.join(name)));
            assert_eq!(shared, linked, "{name}");
        }
        assert_eq!(std::fs::read(old.join("changed")).unwrap(), b"{\"a\": 1}\n");
    }

    /// Every path below `root` with its contents (empty for folders).
    fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut found = Vec::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(path) = pending.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).unwrap() {
                    pending.push(entry.unwrap().path());
                }
                found.push((path, Vec::new()));
            } else {
                found.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
        found.sort();
        found
    }
}
