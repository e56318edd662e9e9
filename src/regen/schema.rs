//! The database schema a spec describes, recorded in `scaffold.lock` after
//! every generation, and the difference between two of them as the next
//! numbered migration. Applied migrations are never rewritten: a changed spec
//! gets a new migration holding exactly the difference.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::diag::Diagnostic;
use crate::model::{ColumnDef, NamedDef, Service};
use crate::names::sql_ident;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// Enum type name → values, in declaration order.
    pub enums: BTreeMap<String, Vec<String>>,
    /// Tables in creation order (parents before children).
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<ColumnDef>,
    pub constraints: Vec<NamedDef>,
    /// Index name → `ON "table" (...)`, with `UNIQUE ` in front for unique ones.
    pub indexes: Vec<NamedDef>,
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
        let tables = service
            .resources
            .iter()
            .map(|r| {
                let mut indexes: Vec<NamedDef> = r
                    .parents
                    .iter()
                    .map(|p| NamedDef {
                        name: p.fk_index.clone(),
                        definition: format!("ON {} ({}, \"id\")", r.table_q, p.column_q),
                    })
                    .collect();
                indexes.extend(r.indexes.iter().map(|ix| NamedDef {
                    name: ix.name.clone(),
                    definition: format!(
                        "{}ON {} ({})",
                        if ix.unique { "UNIQUE " } else { "" },
                        r.table_q,
                        ix.columns_sql
                    ),
                }));
                Table {
                    name: r.plural.clone(),
                    columns: r.columns.clone(),
                    constraints: r.constraint_defs.clone(),
                    indexes,
                }
            })
            .collect();
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

    // Enum types: new ones first (tables may use them), new values appended.
    for (name, values) in &new.enums {
        match old.enums.get(name) {
            None => {
                let list = values
                    .iter()
                    .map(|v| format!("'{v}'"))
                    .collect::<Vec<_>>()
                    .join(", ");
                out.push(format!("CREATE TYPE {} AS ENUM ({list});", sql_ident(name)));
            }
            Some(old_values) => {
                for v in values.iter().filter(|v| !old_values.contains(v)) {
                    out.push(format!("ALTER TYPE {} ADD VALUE '{v}';", sql_ident(name)));
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

    let old_tables: BTreeMap<&str, &Table> =
        old.tables.iter().map(|t| (t.name.as_str(), t)).collect();
    let new_names: BTreeSet<&str> = new.tables.iter().map(|t| t.name.as_str()).collect();
    for table in &new.tables {
        let Some(before) = old_tables.get(table.name.as_str()) else {
            out.push(create_table(table));
            out.extend(table.indexes.iter().map(create_index));
            tags.push(format!("create_{}", table.name));
            continue;
        };
        let resource = service.resources.iter().find(|r| r.plural == table.name);
        let t = sql_ident(&table.name);
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
                alter_column(&t, prev, col, &mut out);
                continue;
            }
            if let Some(from) = renamed_from
                && let Some(prev) = old_cols.get(from)
            {
                kept_old.insert(prev.name.as_str());
                out.push(format!(
                    "ALTER TABLE {t} RENAME COLUMN {} TO {};",
                    sql_ident(from),
                    sql_ident(&col.name)
                ));
                tags.push(format!("rename_{}_{from}", table.name));
                alter_column(&t, prev, col, &mut out);
                continue;
            }
            let required =
                col.definition.contains("NOT NULL") && !col.definition.contains("DEFAULT");
            if required {
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
            out.push(format!(
                "ALTER TABLE {t} ADD COLUMN {} {};",
                sql_ident(&col.name),
                col.definition
            ));
            tags.push(format!("add_{}_{}", table.name, col.name));
        }
        for prev in &before.columns {
            if kept_old.contains(prev.name.as_str()) {
                continue;
            }
            if options.allow_destructive {
                out.push(format!(
                    "ALTER TABLE {t} DROP COLUMN {};",
                    sql_ident(&prev.name)
                ));
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
            |c| format!("ALTER TABLE {t} DROP CONSTRAINT {};", sql_ident(&c.name)),
            |c| {
                format!(
                    "ALTER TABLE {t} ADD CONSTRAINT {} {};",
                    sql_ident(&c.name),
                    c.definition
                )
            },
        );
        diff_named(
            &before.indexes,
            &table.indexes,
            &mut out,
            |ix| format!("DROP INDEX {};", sql_ident(&ix.name)),
            create_index,
        );
    }
    for before in old.tables.iter().rev() {
        if new_names.contains(before.name.as_str()) {
            continue;
        }
        if options.allow_destructive {
            out.push(format!("DROP TABLE {};", sql_ident(&before.name)));
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

fn create_table(t: &Table) -> String {
    let mut lines: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("    {} {}", sql_ident(&c.name), c.definition))
        .collect();
    lines.extend(
        t.constraints
            .iter()
            .map(|c| format!("    CONSTRAINT {} {}", sql_ident(&c.name), c.definition)),
    );
    format!(
        "CREATE TABLE {} (\n{}\n);",
        sql_ident(&t.name),
        lines.join(",\n")
    )
}

fn create_index(ix: &NamedDef) -> String {
    match ix.definition.strip_prefix("UNIQUE ") {
        Some(rest) => format!("CREATE UNIQUE INDEX {} {rest};", sql_ident(&ix.name)),
        None => format!("CREATE INDEX {} {};", sql_ident(&ix.name), ix.definition),
    }
}

/// Type, NOT NULL and DEFAULT changes of a kept column. A type change casts
/// the existing values (`USING`); a value that does not cast fails the
/// migration, in its transaction, before anything is changed.
fn alter_column(t: &str, old: &ColumnDef, new: &ColumnDef, out: &mut Vec<String>) {
    if old.definition == new.definition {
        return;
    }
    let c = sql_ident(&new.name);
    let nn = |d: &str| d.contains("NOT NULL");
    let default_of = |d: &str| d.split_once("DEFAULT ").map(|(_, v)| v.to_string());
    let type_of = |d: &str| {
        d.split(" NOT NULL")
            .next()
            .unwrap_or(d)
            .split(" DEFAULT")
            .next()
            .unwrap_or(d)
            .trim()
            .to_string()
    };
    if type_of(&old.definition) != type_of(&new.definition) {
        out.push(format!(
            "ALTER TABLE {t} ALTER COLUMN {c} TYPE {} USING {c}::{};",
            type_of(&new.definition),
            type_of(&new.definition)
        ));
    }
    match (nn(&old.definition), nn(&new.definition)) {
        (true, false) => out.push(format!("ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;")),
        (false, true) => out.push(format!("ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;")),
        _ => {}
    }
    match (default_of(&old.definition), default_of(&new.definition)) {
        (Some(_), None) => out.push(format!("ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;")),
        (a, Some(b)) if a.as_deref() != Some(b.as_str()) => {
            out.push(format!("ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {b};"))
        }
        _ => {}
    }
}

/// Drops what disappeared or changed, then adds what is new or changed.
fn diff_named(
    old: &[NamedDef],
    new: &[NamedDef],
    out: &mut Vec<String>,
    drop: impl Fn(&NamedDef) -> String,
    add: impl Fn(&NamedDef) -> String,
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
