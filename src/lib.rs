//! scaffold: a YAML resource spec in, a production-grade axum + sqlx service out.
//!
//! The crate is a small compiler; see ARCHITECTURE.md. Every stage but
//! [`write`] is a pure function, so [`compile`] can be called from tests and
//! its output compared byte for byte.

pub mod diag;
pub mod model;
pub mod names;
pub mod openapi;
pub mod render;
pub mod samples;
pub mod spec;
pub mod validate;
pub mod write;

use diag::{Diagnostic, Diagnostics};
use render::GeneratedFile;

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
    let mut diags = Diagnostics::default();
    let raw = spec::parse(source, &mut diags);
    if let Some(raw) = &raw {
        validate::validate(raw, &mut diags);
    }
    match raw {
        Some(raw) if diags.is_empty() => Ok(model::lower(&raw)),
        _ => Err(diags.into_sorted()),
    }
}

/// spec text → files in memory. `source` is copied into the service as its
/// `scaffold.yaml`, byte for byte except that line endings are normalised.
pub fn compile(source: &str) -> Result<Vec<GeneratedFile>, Vec<Diagnostic>> {
    let normalized = source.replace("\r\n", "\n");
    let service = check(&normalized)?;
    Ok(render::render(&service, &normalized))
}
