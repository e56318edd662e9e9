//! Names: the identifiers a spec declares, and the collisions between names
//! that are distinct as written but equal once converted (snake case for
//! tables and columns, camel case for Rust types).

use std::collections::BTreeMap;

use super::GENERATED_COLUMNS;
use crate::diag::Diagnostics;
use crate::names;
use crate::spec::{RawField, RawResource, RawSpec, Sp};

/// Resource names, table names and the resources' Rust type names, each of
/// which must stay distinct once converted. Returns the type names taken, so
/// the fields' enum types can be checked against them.
pub(super) fn resources<'a>(
    spec: &'a RawSpec,
    diags: &mut Diagnostics,
) -> BTreeMap<String, &'a Sp<String>> {
    // Names that must stay distinct once converted: resource names, table
    // names and the Rust type names we derive (struct and enum types).
    let mut seen_resource: BTreeMap<String, &Sp<String>> = BTreeMap::new();
    let mut seen_table: BTreeMap<String, &Sp<String>> = BTreeMap::new();
    let mut seen_type: BTreeMap<String, &Sp<String>> = BTreeMap::new();

    for r in &spec.resources {
        resource_name(r, diags);
        let snake = names::snake(&r.name.value);
        if let Some(first) = seen_resource.get(&snake) {
            diags.push(
                r.name
                    .diag(format!(
                        "resource `{}` collides with `{}`: both become `{snake}`",
                        r.name.value, first.value
                    ))
                    .related(first.loc, format!("`{}` defined", first.value))
                    .help("rename one of the two resources"),
            );
        } else {
            seen_resource.insert(snake.clone(), &r.name);
        }
        let table_src = r.plural.as_ref().unwrap_or(&r.name);
        if let Some(p) = &r.plural
            && !names::is_spec_ident(&p.value)
        {
            diags.push(
                p.diag(format!("invalid plural `{}`", p.value))
                    .help("use letters, digits and `_`, starting with a letter"),
            );
        }
        let table = match &r.plural {
            Some(p) => names::snake(&p.value),
            None => names::plural(&snake),
        };
        if let Some(first) = seen_table.get(&table) {
            diags.push(
                table_src
                    .diag(format!(
                        "table name `{table}` of `{}` is already used by `{}`",
                        r.name.value, first.value
                    ))
                    .related(first.loc, format!("`{}` defined", first.value))
                    .help("set `plural:` on one of them to a distinct name"),
            );
        } else {
            seen_table.insert(table, &r.name);
        }
        let type_name = names::camel(&r.name.value);
        if let Some(first) = seen_type.get(&type_name) {
            diags.push(
                r.name
                    .diag(format!(
                        "type name `{type_name}` of resource `{}` is already used by `{}`",
                        r.name.value, first.value
                    ))
                    .related(first.loc, format!("`{}` defined", first.value))
                    .help("rename the resource or the field"),
            );
        } else {
            seen_type.insert(type_name, &r.name);
        }
    }
    seen_type
}

pub(super) fn suggest_service(s: &str) -> String {
    let cleaned: String = names::snake(s)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let trimmed = cleaned.trim_start_matches(|c: char| !c.is_ascii_alphabetic());
    if trimmed.is_empty() {
        "my_service".to_string()
    } else {
        trimmed.chars().take(48).collect()
    }
}

pub(super) fn resource_name(r: &RawResource, diags: &mut Diagnostics) {
    let name = &r.name;
    if !names::is_spec_ident(&name.value) {
        diags.push(
            name.diag(format!("invalid resource name `{}`", name.value)).help(
                "use letters, digits and `_`, starting with a letter, at most 32 characters, for example `order_item`",
            ),
        );
        return;
    }
    let snake = names::snake(&name.value);
    if names::is_rust_keyword(&snake) || names::RUST_UNRAWABLE.contains(&snake.as_str()) {
        diags.push(
            name.diag(format!("resource name `{}` is a Rust keyword", name.value))
                .help(format!(
                    "rename the resource, for example `{snake}_item` or `{snake}_entry`"
                )),
        );
    }
    if snake == "auth" {
        diags.push(
            name.diag("resource name `auth` is reserved for the authentication routes")
                .help("rename the resource, for example `auth_record`"),
        );
    }
}

pub(super) fn field_name(
    f: &RawField,
    snake: &str,
    fk_columns: &[String],
    timestamps: bool,
    diags: &mut Diagnostics,
) {
    let name = &f.name;
    if !names::is_spec_ident(&name.value) {
        diags.push(
            name.diag(format!("invalid field name `{}`", name.value))
                .help("use letters, digits and `_`, starting with a letter, at most 32 characters"),
        );
        return;
    }
    if names::RUST_UNRAWABLE.contains(&snake) {
        diags.push(
            name.diag(format!(
                "field name `{}` cannot be used as a Rust identifier",
                name.value
            ))
            .help(format!("rename the field, for example `{snake}_ref`")),
        );
    }
    let generated = if timestamps {
        GENERATED_COLUMNS
    } else {
        &GENERATED_COLUMNS[..1]
    };
    if generated.contains(&snake) {
        diags.push(
            name.diag(format!("field `{}` collides with the generated column `{snake}`", name.value))
                .help("every table already has `id`, `created_at` and `updated_at`; remove this field or rename it"),
        );
    }
    if fk_columns.iter().any(|c| c == snake) {
        diags.push(
            name.diag(format!(
                "field `{}` collides with the foreign key column `{snake}` from `belongs_to`",
                name.value
            ))
            .help("remove the field: `belongs_to` already creates this column"),
        );
    }
}
