//! Write: the only stage that touches the disk.
//!
//! A new service is written into a temporary directory beside the target and
//! renamed into place once every file is on disk, so an interrupted run never
//! leaves a half-written tree. Regeneration compares what is on disk with
//! what the spec produces and writes only what changed.

use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::render::GeneratedFile;

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
    for f in files {
        let rel = safe_relative(&f.path)?;
        let target = staging.path().join(&rel);
        if let Some(d) = target.parent() {
            fs::create_dir_all(d).with_context(|| format!("cannot create `{}`", d.display()))?;
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
