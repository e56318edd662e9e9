//! Validate: every semantic rule a spec must satisfy, checked in one pass that
//! never stops at the first problem. After this pass succeeds, lowering may
//! rely on every rule below holding.
//!
//! This module walks the spec and holds the shared constants; the rules live
//! in the submodules by concern: `naming` (identifiers and collisions after
//! case conversion), `fields` (constraints, defaults, patterns, enum values),
//! `relations` (`belongs_to`, cycles, indexes), `auth` and `access` (the
//! `auth` section, access and write rules) and `limits` (rate limits, cache), `list`
//! (filters and sort orders).

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::names;
use crate::spec::{FieldType, RawResource, RawSpec, SUPPORTED_VERSIONS, Sp};

mod access;
mod auth;
mod fields;
mod limits;
mod list;
mod naming;
mod relations;

pub use auth::{AUTH_TABLES, CREDENTIAL_COLUMNS, RULE_WORDS};
pub use list::{SEARCH_COLUMN, SEARCH_LANGUAGES};

use auth::{auth_rules, without_auth};
use fields::field_rules;
use limits::bucket;
use naming::{field_name, suggest_service};
use relations::{cycles, indexes, parents};

/// Columns every table gets; a field may not reuse their names.
pub const GENERATED_COLUMNS: &[&str] = &["id", "created_at", "updated_at"];

/// Checks every rule and pushes one diagnostic per problem found.
pub fn validate(spec: &RawSpec, diags: &mut Diagnostics) {
    let top = crate::diag::Loc { line: 1, col: 1 };
    match &spec.version {
        None => diags.push(
            Diagnostic::new(top, "version", "missing key `version`")
                .help("add `version: 1` at the top of the spec"),
        ),
        Some(v) if !SUPPORTED_VERSIONS.contains(&v.value) => diags.push(
            v.diag(format!("unsupported spec version `{}`", v.value))
                .help("this scaffold reads `version: 1`"),
        ),
        Some(_) => {}
    }
    match &spec.service {
        None => diags.push(
            Diagnostic::new(top, "service", "missing key `service`")
                .help("add `service: <name>`, a lowercase name such as `shop`"),
        ),
        Some(s) if !names::is_service_name(&s.value) => diags.push(
            s.diag(format!("invalid service name `{}`", s.value)).help(format!(
                "use lowercase letters, digits, `-` and `_`, starting with a letter, at most 48 characters, for example `{}`",
                suggest_service(&s.value)
            )),
        ),
        Some(_) => {}
    }

    let by_name: BTreeMap<String, &RawResource> = spec
        .resources
        .iter()
        .map(|r| (names::snake(&r.name.value), r))
        .collect();
    let known: Vec<&str> = by_name.keys().map(String::as_str).collect();

    let mut seen_type = naming::resources(spec, diags);

    for r in &spec.resources {
        resource(r, &by_name, &known, &mut seen_type, diags);
    }
    cycles(spec, &by_name, diags);
    if let Some(limit) = &spec.rate_limit {
        bucket(limit, true, diags);
        if let Some(login) = &limit.login {
            bucket(login, true, diags);
        }
    }
    match &spec.auth {
        Some(auth) => auth_rules(spec, auth, &by_name, &known, diags),
        None => without_auth(spec, diags),
    }
}

/// The rules of one resource and its fields. `seen_type` holds the Rust type
/// names taken so far; the enum types of this resource's fields join them.
fn resource<'a>(
    r: &'a RawResource,
    by_name: &BTreeMap<String, &RawResource>,
    known: &[&str],
    seen_type: &mut BTreeMap<String, &'a Sp<String>>,
    diags: &mut Diagnostics,
) {
    if r.fields.is_empty() && !r.had_errors {
        diags.push(
            r.name
                .diag(format!("resource `{}` has no fields", r.name.value))
                .help("add at least one field under `fields:`, for example `name: string`"),
        );
    }
    parents(r, by_name, known, diags);
    let mut seen_field: BTreeMap<String, &Sp<String>> = BTreeMap::new();
    let fk_columns: Vec<String> = r
        .belongs_to
        .iter()
        .map(|p| format!("{}_id", names::snake(&p.resource.value)))
        .collect();
    for f in &r.fields {
        let snake = names::snake(&f.name.value);
        field_name(
            f,
            &snake,
            &fk_columns,
            r.timestamps.as_ref().is_none_or(|t| t.value),
            diags,
        );
        if let Some(first) = seen_field.get(&snake) {
            diags.push(
                f.name
                    .diag(format!(
                        "field `{}` collides with `{}`: both become `{snake}`",
                        f.name.value, first.value
                    ))
                    .related(first.loc, format!("`{}` defined", first.value))
                    .help("rename one of the two fields"),
            );
        } else {
            seen_field.insert(snake.clone(), &f.name);
        }
        field_rules(f, diags);
        if f.ty.as_ref().is_some_and(|t| t.value == FieldType::Enum) {
            let enum_type = format!(
                "{}{}",
                names::camel(&r.name.value),
                names::camel(&f.name.value)
            );
            if let Some(first) = seen_type.get(&enum_type) {
                diags.push(
                    f.name
                        .diag(format!("the enum type `{enum_type}` generated for this field is already used by `{}`", first.value))
                        .related(first.loc, format!("`{}` defined", first.value))
                        .help("rename the field or the resource"),
                );
            } else {
                seen_type.insert(enum_type, &f.name);
            }
        }
    }
    indexes(r, &seen_field, &fk_columns, diags);
    list::list(r, diags);
    list::includes(r, by_name, diags);
    if let Some(limit) = &r.rate_limit {
        // A resource may set only per-action buckets.
        bucket(limit, limit.actions.is_empty(), diags);
        for (_, action) in &limit.actions {
            bucket(action, true, diags);
        }
    }
}
