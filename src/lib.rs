//! scaffold: a YAML resource spec in, a production-grade axum + sqlx service out.
//!
//! The crate is a small compiler; see ARCHITECTURE.md. Every stage but
//! [`write`] is a pure function, so [`compile`] can be called from tests and
//! its output compared byte for byte.

pub mod ddl;
pub mod diag;
pub mod files;
pub mod graph;
pub mod lower;
pub mod model;
pub mod names;
pub mod regen;
pub mod render;
pub mod samples;
pub mod spec;
pub mod validate;
pub mod write;

use diag::{Diagnostic, Diagnostics};
use files::GeneratedFile;

/// The starter spec `scaffold new` uses when no `--spec` is given.
pub const STARTER_SPEC: &str = include_str!("../specs/shop.yaml");

/// The generator's version as stamped into generated files: major.minor only,
/// so a patch release does not rewrite every generated file.
pub const STAMP_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION_MAJOR"),
    ".",
    env!("CARGO_PKG_VERSION_MINOR")
);

/// Parses and validates a spec; returns every problem found, in file order.
pub fn check(source: &str) -> Result<model::Service, Vec<Diagnostic>> {
    let source = &normalize(source);
    let mut diags = Diagnostics::default();
    let raw = spec::parse(source, &mut diags);
    if let Some(raw) = &raw {
        validate::validate(raw, &mut diags);
    }
    match raw {
        Some(raw) if diags.is_empty() => Ok(lower::lower(&raw)),
        _ => Err(diags.into_sorted()),
    }
}

/// spec text → the files of a new service, in memory: everything the
/// templates produce, the first migration and `scaffold.lock`.
pub fn compile(source: &str) -> Result<Vec<GeneratedFile>, Vec<Diagnostic>> {
    let normalized = normalize(source);
    let service = check(&normalized)?;
    let mut files = render::render(&service, &normalized);
    let initial = render::initial_migration(&service);
    let migrations = vec![initial.path.clone()];
    files.push(initial);
    let lock = regen::lock::Lock::new(
        &files,
        &Default::default(),
        migrations,
        regen::schema::Schema::of(&service),
    );
    files.push(lock.to_file());
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// What regenerating an existing service produces.
#[derive(Debug)]
pub struct Regeneration {
    /// Every file the spec produces now, the new migration (if the schema
    /// changed) and the new lock. Migrations already applied are not in
    /// here: they are kept as they are (`kept`).
    pub files: Vec<GeneratedFile>,
    /// Paths of earlier migrations, which are never rewritten.
    pub kept: Vec<String>,
    /// The new migration's files, if the schema changed: one, or several
    /// where a step must run in a transaction of its own or outside one.
    pub new_migrations: Vec<String>,
}

/// spec text + the lock of the last generation → the files of the service
/// now. Pure: the caller reads the lock and writes the result.
pub fn regenerate(
    source: &str,
    previous: &regen::lock::Lock,
    options: regen::schema::DiffOptions,
) -> Result<Regeneration, Vec<Diagnostic>> {
    let normalized = normalize(source);
    let service = check(&normalized)?;
    let mut files = render::render(&service, &normalized);
    let now = regen::schema::Schema::of(&service);
    let mut migrations = previous.migrations.clone();
    let mut new_migrations = Vec::new();
    if let Some(m) = regen::schema::diff(&previous.schema, &now, &service, options)? {
        for file in render::next_migrations(&service, migrations.len() + 1, &m) {
            migrations.push(file.path.clone());
            new_migrations.push(file.path.clone());
            files.push(file);
        }
    }
    let kept: std::collections::BTreeMap<String, String> = previous
        .files
        .iter()
        .filter(|(path, _)| previous.migrations.contains(path))
        .map(|(p, h)| (p.clone(), h.clone()))
        .collect();
    let lock = regen::lock::Lock::new(&files, &kept, migrations, now);
    files.push(lock.to_file());
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Regeneration {
        files,
        kept: previous.migrations.clone(),
        new_migrations,
    })
}

/// Specs checked out with CRLF line endings generate the same bytes.
fn normalize(source: &str) -> String {
    source.replace("\r\n", "\n")
}
