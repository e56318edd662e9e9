//! The database schema a spec describes, recorded in `scaffold.lock` after
//! every generation, and the difference between two of them as the next
//! numbered migration. Applied migrations are never rewritten: a changed spec
//! gets a new migration holding exactly the difference.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ddl;
use crate::diag::Diagnostic;
use crate::model::{ColumnDef, Service, TableDef};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// Enum type name → values, in declaration order.
    pub enums: BTreeMap<String, Vec<String>>,
    /// Tables in creation order (parents before children).
    pub tables: Vec<TableDef>,
}

impl Schema {
    pub fn of(service: &Service) -> Schema {
        let enums = service
            .enums
            .iter()
            .map(|e| {
                (
                    e.sql_name.clone(),
                    e.variants.iter().map(|v| v.value.clone()).collect(),
                )
            })
            .collect();
        let tables = service.resources.iter().map(|r| r.table.clone()).collect();
        Schema { enums, tables }
    }
}

/// What the next migration does, and which destructive steps it needs.
#[derive(Debug, Default)]
pub struct Migration {
    /// A short name for the file (`add_orders_note`).
    pub slug: String,
    pub statements: Vec<String>,
}

/// Options that allow changes which lose data.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions {
    pub allow_destructive: bool,
}

/// Enum types: new ones first (tables may use them), new values appended;
/// a removed value is a problem (PostgreSQL cannot drop one).
fn diff_enums(
    old: &Schema,
    new: &Schema,
    out: &mut Vec<String>,
    tags: &mut Vec<String>,
    problems: &mut Vec<Diagnostic>,
) {
    for (name, values) in &new.enums {
        match old.enums.get(name) {
            None => out.push(ddl::create_type(name, values)),
            Some(old_values) => {
                for v in values.iter().filter(|v| !old_values.contains(v)) {
                    out.push(ddl::add_enum_value(name, v));
                    tags.push(format!("{name}_{v}"));
                }
                if old_values.iter().any(|v| !values.contains(v)) {
                    problems.push(top_problem(
                        format!("values removed from the enum `{name}`"),
                        "PostgreSQL cannot drop an enum value; keep the value in `values` and stop using it",
                    ));
                }
            }
        }
    }
}

/// The statements that take a database from `old` to `new`, or the reasons
/// the change cannot be made safely. `Ok(None)` when nothing changed.
pub fn diff(
    old: &Schema,
    new: &Schema,
    service: &Service,
    options: DiffOptions,
) -> Result<Option<Migration>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    let destructive_help =
        "pass `--allow-destructive` to drop it and its data, or restore it in the spec";

    diff_enums(old, new, &mut out, &mut tags, &mut problems);

    let old_tables: BTreeMap<&str, &TableDef> =
        old.tables.iter().map(|t| (t.name.as_str(), t)).collect();
    let new_names: BTreeSet<&str> = new.tables.iter().map(|t| t.name.as_str()).collect();
    for table in &new.tables {
        let Some(before) = old_tables.get(table.name.as_str()) else {
            out.push(ddl::create_table(table));
            out.extend(
                table
                    .indexes
                    .iter()
                    .map(|ix| ddl::create_index(&table.name, ix)),
            );
            tags.push(format!("create_{}", table.name));
            continue;
        };
        let resource = service.resources.iter().find(|r| r.plural == table.name);
        let t = table.name.as_str();
        let old_cols: BTreeMap<&str, &ColumnDef> = before
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c))
            .collect();
        let mut kept_old: BTreeSet<&str> = BTreeSet::new();
        for col in &table.columns {
            let field = resource.and_then(|r| r.fields.iter().find(|f| f.name == col.name));
            let renamed_from = field.and_then(|f| f.spec.renamed_from.as_deref());
            if let Some(prev) = old_cols.get(col.name.as_str()) {
                kept_old.insert(prev.name.as_str());
                if prev.generated != col.generated {
                    // A generated column's expression cannot be altered: it
                    // is derived data, dropped and computed again.
                    out.push(ddl::drop_column(t, &prev.name));
                    out.push(ddl::add_column(t, col));
                    tags.push(format!("regenerate_{}_{}", table.name, col.name));
                } else {
                    out.extend(ddl::alter_column(t, prev, col));
                }
                continue;
            }
            if let Some(from) = renamed_from
                && let Some(prev) = old_cols.get(from)
            {
                kept_old.insert(prev.name.as_str());
                out.push(ddl::rename_column(t, from, &col.name));
                tags.push(format!("rename_{}_{from}", table.name));
                out.extend(ddl::alter_column(t, prev, col));
                continue;
            }
            // Existing rows need a value: NOT NULL takes a default (an
            // identity column generates its own).
            if !col.nullable && col.default.is_none() && !col.identity {
                let (loc, path) = field
                    .map(|f| (f.spec.loc, f.spec.path.clone()))
                    .unwrap_or_default();
                let what = if field.is_some_and(|f| f.parent.is_some()) {
                    "foreign key"
                } else {
                    "field"
                };
                problems.push(
                    Diagnostic::new(loc, path, format!("new required {what} `{}` on the existing table `{}` has no default", col.name, table.name))
                        .help("existing rows need a value: add `default: ...`, or make it `required: false`, or add it in two steps (nullable, backfill, then required)"),
                );
                continue;
            }
            out.push(ddl::add_column(t, col));
            tags.push(format!("add_{}_{}", table.name, col.name));
        }
        for prev in &before.columns {
            if kept_old.contains(prev.name.as_str()) {
                continue;
            }
            // Derived data (the search column) loses nothing when dropped.
            if prev.generated.is_some() {
                out.push(ddl::drop_column(t, &prev.name));
                tags.push(format!("drop_{}_{}", table.name, prev.name));
                continue;
            }
            if options.allow_destructive {
                out.push(ddl::drop_column(t, &prev.name));
                tags.push(format!("drop_{}_{}", table.name, prev.name));
            } else {
                problems.push(top_problem(
                    format!("the field `{}` of `{}` was removed; its column and data would be dropped", prev.name, table.name),
                    &format!("{destructive_help}; to rename it, write `renamed_from: {}` on the new field", prev.name),
                ));
            }
        }
        diff_named(
            &before.constraints,
            &table.constraints,
            &mut out,
            |c| ddl::drop_constraint(t, c),
            |c| ddl::add_constraint(t, c),
        );
        diff_named(
            &before.indexes,
            &table.indexes,
            &mut out,
            ddl::drop_index,
            |ix| ddl::create_index(t, ix),
        );
    }
    for before in old.tables.iter().rev() {
        if new_names.contains(before.name.as_str()) {
            continue;
        }
        if options.allow_destructive {
            out.push(ddl::drop_table(&before.name));
            tags.push(format!("drop_{}", before.name));
        } else {
            problems.push(top_problem(
                format!("the resource with table `{}` was removed; the table and its data would be dropped", before.name),
                destructive_help,
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if out.is_empty() {
        return Ok(None);
    }
    let mut slug = if tags.is_empty() {
        "update_schema".to_string()
    } else {
        tags.join("_")
    };
    if slug.len() > 48 {
        slug.truncate(48);
        slug = slug.trim_end_matches('_').to_string();
    }
    Ok(Some(Migration {
        slug,
        statements: out,
    }))
}

fn top_problem(message: String, help: &str) -> Diagnostic {
    Diagnostic::new(crate::diag::Loc { line: 1, col: 1 }, "resources", message)
        .help(help.to_string())
}

/// Drops what disappeared or changed, then adds what is new or changed.
fn diff_named<T: PartialEq>(
    old: &[T],
    new: &[T],
    out: &mut Vec<String>,
    drop: impl Fn(&T) -> String,
    add: impl Fn(&T) -> String,
) {
    for o in old {
        if !new.iter().any(|n| n == o) {
            out.push(drop(o));
        }
    }
    for n in new {
        if !old.iter().any(|o| o == n) {
            out.push(add(n));
        }
    }
}
