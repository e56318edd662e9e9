//! Write: the only stage that touches the disk.
//!
//! A new service is written into a temporary directory beside the target and
//! renamed into place once every file is on disk, so an interrupted run never
//! leaves a half-written tree. Regeneration compares what is on disk with
//! what the spec produces and writes only what changed.

use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::files::GeneratedFile;

/// Rejects any path that is absolute or climbs out of the output directory.
/// Paths come from validated names, so this is a second line of defence.
pub fn safe_relative(path: &str) -> Result<PathBuf> {
    let p = Path::new(path);
    if path.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        bail!("refusing to write `{path}`: generated paths must stay inside the output directory");
    }
    Ok(p.to_path_buf())
}

/// Is `dir` absent, or an empty directory?
pub fn is_empty_or_missing(dir: &Path) -> Result<bool> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", dir.display())),
    }
}

/// Writes a whole new tree at `dir` atomically. `dir` must be absent or empty.
pub fn write_new_tree(
    dir: &Path,
    files: &[GeneratedFile],
    mut progress: impl FnMut(&str),
) -> Result<()> {
    if !is_empty_or_missing(dir)? {
        bail!("`{}` already exists and is not empty", dir.display());
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).with_context(|| format!("cannot create `{}`", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".scaffold-staging-")
        .tempdir_in(&parent)
        .with_context(|| {
            format!(
                "cannot create a staging directory in `{}`",
                parent.display()
            )
        })?;
    // Each directory is made once, not once per file in it.
    let mut made = std::collections::HashSet::new();
    for f in files {
        let rel = safe_relative(&f.path)?;
        let target = staging.path().join(&rel);
        if let Some(d) = target.parent()
            && !made.contains(d)
        {
            fs::create_dir_all(d).with_context(|| format!("cannot create `{}`", d.display()))?;
            made.insert(d.to_path_buf());
        }
        fs::write(&target, f.contents.as_bytes())
            .with_context(|| format!("cannot write `{}`", rel.display()))?;
        progress(&f.path);
    }
    if dir.exists() {
        // An empty directory: rename() cannot replace it portably, so remove it first.
        fs::remove_dir(dir)
            .with_context(|| format!("cannot replace empty directory `{}`", dir.display()))?;
    }
    let staged = staging.keep();
    fs::rename(&staged, dir)
        .with_context(|| format!("cannot move the new service into `{}`", dir.display()))?;
    Ok(())
}

/// What regenerating would do to each file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
    /// Generated files edited by hand since the last generation (or applied
    /// migrations that changed): regeneration stops unless forced.
    pub edited: Vec<String>,
}

impl Plan {
    pub fn changes(&self) -> usize {
        self.created.len() + self.updated.len() + self.removed.len()
    }

    /// The plan as `--dry-run` prints it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (label, paths) in [
            ("create", &self.created),
            ("update", &self.updated),
            ("remove", &self.removed),
            ("edited", &self.edited),
            ("unchanged", &self.unchanged),
        ] {
            for p in paths {
                out.push_str(&format!("{label:>9}  {p}\n"));
            }
        }
        out
    }
}

fn read_opt(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    }
}

/// Compares what the spec produces with the service on disk.
pub fn plan(
    dir: &Path,
    regen: &crate::Regeneration,
    previous: &crate::regen::lock::Lock,
) -> Result<Plan> {
    use crate::files::Owner;
    use crate::regen::lock::{LOCK_PATH, hash};
    let mut plan = Plan::default();
    for f in &regen.files {
        let on_disk = read_opt(&dir.join(safe_relative(&f.path)?))?;
        match (f.owner, on_disk) {
            (_, None) => plan.created.push(f.path.clone()),
            // User-owned files are written once and then belong to the user.
            (Owner::User, Some(_)) => plan.unchanged.push(f.path.clone()),
            (Owner::Generated, Some(bytes)) if bytes == f.contents.as_bytes() => {
                plan.unchanged.push(f.path.clone())
            }
            (Owner::Generated, Some(bytes)) => {
                let pristine =
                    f.path == LOCK_PATH || previous.files.get(&f.path) == Some(&hash(&bytes));
                if pristine {
                    plan.updated.push(f.path.clone());
                } else {
                    plan.edited.push(f.path.clone());
                }
            }
        }
    }
    for (path, recorded) in &previous.files {
        if regen.files.iter().any(|f| &f.path == path) {
            continue;
        }
        let on_disk = read_opt(&dir.join(safe_relative(path)?))?;
        let Some(bytes) = on_disk else { continue };
        let pristine = &hash(&bytes) == recorded;
        if regen.kept.contains(path) {
            if pristine {
                plan.unchanged.push(path.clone());
            } else {
                plan.edited.push(path.clone());
            }
        } else if pristine {
            plan.removed.push(path.clone());
        } else {
            plan.edited.push(path.clone());
        }
    }
    for v in [
        &mut plan.created,
        &mut plan.updated,
        &mut plan.unchanged,
        &mut plan.removed,
        &mut plan.edited,
    ] {
        v.sort();
    }
    Ok(plan)
}

/// Unified diffs between the disk and what the spec produces, for `--check`.
pub fn drift(dir: &Path, regen: &crate::Regeneration, plan: &Plan) -> Result<String> {
    let mut out = String::new();
    let changed: Vec<&String> = plan
        .created
        .iter()
        .chain(&plan.updated)
        .chain(&plan.edited)
        .collect();
    for f in regen.files.iter().filter(|f| changed.contains(&&f.path)) {
        let old = read_opt(&dir.join(safe_relative(&f.path)?))?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let diff = similar::TextDiff::from_lines(&old, &f.contents);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{}", f.path), &format!("b/{}", f.path))
                .to_string(),
        );
    }
    for path in &plan.removed {
        out.push_str(&format!(
            "--- a/{path}\n+++ /dev/null (no longer generated)\n"
        ));
    }
    Ok(out)
}

/// Applies a plan: every new content is first written to a temporary file
/// beside its target, then all are renamed into place, then removed files
/// are deleted. Edited files are overwritten only when `force` is set.
pub fn apply(
    dir: &Path,
    regen: &crate::Regeneration,
    plan: &Plan,
    force: bool,
    mut progress: impl FnMut(&str),
) -> Result<()> {
    let mut targets: Vec<&String> = plan.created.iter().chain(&plan.updated).collect();
    if force {
        targets.extend(plan.edited.iter().filter(|p| !regen.kept.contains(p)));
    }
    let mut staged = Vec::new();
    for f in regen.files.iter().filter(|f| targets.contains(&&f.path)) {
        let target = dir.join(safe_relative(&f.path)?);
        let parent = target.parent().unwrap_or(dir);
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(parent)
            .with_context(|| format!("cannot write in `{}`", parent.display()))?;
        std::io::Write::write_all(&mut tmp, f.contents.as_bytes())
            .with_context(|| format!("cannot write `{}`", f.path))?;
        staged.push((tmp, target, f.path.as_str()));
    }
    for (tmp, target, path) in staged {
        tmp.persist(&target)
            .with_context(|| format!("cannot replace `{}`", target.display()))?;
        progress(path);
    }
    for path in &plan.removed {
        let target = dir.join(safe_relative(path)?);
        fs::remove_file(&target)
            .with_context(|| format!("cannot remove `{}`", target.display()))?;
        progress(path);
    }
    Ok(())
}
