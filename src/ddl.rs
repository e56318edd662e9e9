//! The one DDL writer: the `CREATE TYPE`, `CREATE TABLE` and `CREATE INDEX`
//! statements of the first migration and the statements of every later one
//! are all written here, from the structured [`TableDef`] of the model (or
//! of `scaffold.lock`). Two writers of the same table would drift apart.

use crate::model::{ColumnDef, ConstraintDef, ConstraintKind, IndexDef, IndexKey, TableDef};
use crate::names::sql_ident;

/// `CREATE TYPE "order_status" AS ENUM ('pending', 'paid');`
pub fn create_type(name: &str, values: &[String]) -> String {
    let list = values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("CREATE TYPE {} AS ENUM ({list});", sql_ident(name))
}

/// `ALTER TYPE "order_status" ADD VALUE 'refunded';`
pub fn add_enum_value(name: &str, value: &str) -> String {
    format!("ALTER TYPE {} ADD VALUE '{value}';", sql_ident(name))
}

/// A column as `CREATE TABLE` and `ADD COLUMN` write it: name, type,
/// identity, NOT NULL, default.
pub fn column(c: &ColumnDef) -> String {
    let mut out = format!("{} {}", sql_ident(&c.name), c.sql_type);
    if let Some(expr) = &c.generated {
        out.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"));
    } else if c.identity {
        out.push_str(" GENERATED ALWAYS AS IDENTITY");
    } else if !c.nullable {
        out.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        out.push_str(&format!(" DEFAULT {d}"));
    }
    out
}

/// A named constraint as `CREATE TABLE` and `ADD CONSTRAINT` write it.
pub fn constraint(c: &ConstraintDef) -> String {
    let body = match &c.kind {
        ConstraintKind::PrimaryKey { column } => format!("PRIMARY KEY ({})", sql_ident(column)),
        ConstraintKind::ForeignKey {
            column,
            table,
            on_delete,
        } => format!(
            "FOREIGN KEY ({}) REFERENCES {} (\"id\") ON DELETE {on_delete}",
            sql_ident(column),
            sql_ident(table)
        ),
        ConstraintKind::Unique { column } => format!("UNIQUE ({})", sql_ident(column)),
        ConstraintKind::Check { expr } => format!("CHECK ({expr})"),
    };
    format!("CONSTRAINT {} {body}", sql_ident(&c.name))
}

/// The columns and constraints, one per line, then `);`.
pub fn create_table(t: &TableDef) -> String {
    let lines: Vec<String> = t
        .columns
        .iter()
        .map(column)
        .chain(t.constraints.iter().map(constraint))
        .map(|l| format!("    {l}"))
        .collect();
    format!(
        "CREATE TABLE {} (\n{}\n);",
        sql_ident(&t.name),
        lines.join(",\n")
    )
}

/// `"user_id", "created_at" DESC`
fn index_keys(keys: &[IndexKey]) -> String {
    keys.iter()
        .map(|k| {
            let mut q = sql_ident(&k.column);
            if let Some(opclass) = &k.opclass {
                q = format!("{q} {opclass}");
            }
            if k.desc { format!("{q} DESC") } else { q }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `pg_trgm`, which a `contains` filter's index needs: a trusted extension
/// (PostgreSQL 13+), so the database's owner may create it.
pub const CREATE_TRIGRAM_EXTENSION: &str = "CREATE EXTENSION IF NOT EXISTS pg_trgm;";

/// Some index of `tables` uses `pg_trgm`'s operator class.
pub fn uses_trigram<'a>(tables: impl IntoIterator<Item = &'a TableDef>) -> bool {
    tables
        .into_iter()
        .flat_map(|t| &t.indexes)
        .flat_map(|ix| &ix.keys)
        .any(|k| k.opclass.as_deref() == Some(crate::lower::TRIGRAM_OPS))
}

pub fn create_index(table: &str, ix: &IndexDef) -> String {
    index_statement(table, ix, "")
}

fn index_statement(table: &str, ix: &IndexDef, how: &str) -> String {
    format!(
        "CREATE {}INDEX {how}{} ON {}{} ({});",
        if ix.unique { "UNIQUE " } else { "" },
        sql_ident(&ix.name),
        sql_ident(table),
        ix.method
            .as_ref()
            .map_or_else(String::new, |m| format!(" USING {m}")),
        index_keys(&ix.keys)
    )
}

pub fn drop_index(ix: &IndexDef) -> String {
    format!("DROP INDEX {};", sql_ident(&ix.name))
}

/// An index on a table that already holds rows: built without blocking
/// writes, outside a transaction. `IF NOT EXISTS` lets the statement run
/// again after a build that finished but was not recorded; the service's
/// migrate step drops the INVALID index an interrupted build leaves before
/// it runs the statement again.
pub fn create_index_concurrently(table: &str, ix: &IndexDef) -> String {
    index_statement(table, ix, "CONCURRENTLY IF NOT EXISTS ")
}

/// The unique index a UNIQUE constraint added to a table with rows is
/// attached to ([`add_unique_using_index`]), built like
/// [`create_index_concurrently`].
pub fn create_unique_index_concurrently(table: &str, name: &str, column: &str) -> String {
    format!(
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({});",
        sql_ident(name),
        sql_ident(table),
        sql_ident(column)
    )
}

/// Turns a unique index built concurrently into the named constraint: a
/// catalog change, no scan.
pub fn add_unique_using_index(table: &str, name: &str) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {};",
        sql_ident(table),
        sql_ident(name),
        sql_ident(name)
    )
}

/// Without blocking the reads and writes of the table; `IF EXISTS` because
/// dropping a column already dropped its indexes.
pub fn drop_index_concurrently(name: &str) -> String {
    format!("DROP INDEX CONCURRENTLY IF EXISTS {};", sql_ident(name))
}

pub fn add_column(table: &str, c: &ColumnDef) -> String {
    format!("ALTER TABLE {} ADD COLUMN {};", sql_ident(table), column(c))
}

pub fn drop_column(table: &str, name: &str) -> String {
    format!(
        "ALTER TABLE {} DROP COLUMN {};",
        sql_ident(table),
        sql_ident(name)
    )
}

pub fn rename_column(table: &str, from: &str, to: &str) -> String {
    format!(
        "ALTER TABLE {} RENAME COLUMN {} TO {};",
        sql_ident(table),
        sql_ident(from),
        sql_ident(to)
    )
}

pub fn add_constraint(table: &str, c: &ConstraintDef) -> String {
    format!("ALTER TABLE {} ADD {};", sql_ident(table), constraint(c))
}

/// A constraint on a table that holds rows: checked for new rows at once,
/// for existing ones by [`validate_constraint`] in a later transaction, which
/// scans without blocking writes.
pub fn add_constraint_not_valid(table: &str, c: &ConstraintDef) -> String {
    format!(
        "ALTER TABLE {} ADD {} NOT VALID;",
        sql_ident(table),
        constraint(c)
    )
}

pub fn validate_constraint(table: &str, name: &str) -> String {
    format!(
        "ALTER TABLE {} VALIDATE CONSTRAINT {};",
        sql_ident(table),
        sql_ident(name)
    )
}

/// `SET NOT NULL` on its own scans the table under an exclusive lock; with a
/// validated `CHECK (column IS NOT NULL)` in place PostgreSQL skips the scan.
/// The check is added `NOT VALID` and validated first, and dropped after.
pub fn not_null_check(name: &str, column: &str) -> ConstraintDef {
    ConstraintDef {
        name: name.to_string(),
        kind: ConstraintKind::Check {
            expr: format!("{} IS NOT NULL", sql_ident(column)),
        },
    }
}

pub fn set_not_null(table: &str, column: &str) -> String {
    format!(
        "ALTER TABLE {} ALTER COLUMN {} SET NOT NULL;",
        sql_ident(table),
        sql_ident(column)
    )
}

pub fn drop_constraint(table: &str, c: &ConstraintDef) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT {};",
        sql_ident(table),
        sql_ident(&c.name)
    )
}

pub fn drop_table(table: &str) -> String {
    format!("DROP TABLE {};", sql_ident(table))
}

/// Whether a column turns NOT NULL, which the caller does through a validated
/// check ([`not_null_check`]) rather than in [`alter_column`].
pub fn becomes_not_null(old: &ColumnDef, new: &ColumnDef) -> bool {
    // A column that becomes an identity is set NOT NULL by `alter_column`.
    !not_null(old) && !new.nullable && !new.identity
}

/// An identity column is NOT NULL whatever `nullable` says.
fn not_null(c: &ColumnDef) -> bool {
    c.identity || !c.nullable
}

/// The statements that change a kept column from `old` to `new`: identity,
/// type, dropping NOT NULL, default. A type change casts the existing values
/// (`USING`); a value that does not cast fails the migration, in its
/// transaction, before anything is changed. Setting NOT NULL is left to the
/// caller ([`becomes_not_null`]), except for a column that becomes an
/// identity, which must be NOT NULL first.
pub fn alter_column(table: &str, old: &ColumnDef, new: &ColumnDef) -> Vec<String> {
    let alter = format!(
        "ALTER TABLE {} ALTER COLUMN {}",
        sql_ident(table),
        sql_ident(&new.name)
    );
    let mut out = Vec::new();
    if old.identity && !new.identity {
        out.push(format!("{alter} DROP IDENTITY;"));
    }
    if old.sql_type != new.sql_type {
        let ty = &new.sql_type;
        out.push(format!(
            "{alter} TYPE {ty} USING {}::{ty};",
            sql_ident(&new.name)
        ));
    }
    if !old.identity && new.identity {
        if !not_null(old) {
            out.push(format!("{alter} SET NOT NULL;"));
        }
        out.push(format!("{alter} ADD GENERATED ALWAYS AS IDENTITY;"));
    }
    if not_null(old) && !not_null(new) {
        out.push(format!("{alter} DROP NOT NULL;"));
    }
    match (&old.default, &new.default) {
        (Some(_), None) => out.push(format!("{alter} DROP DEFAULT;")),
        (a, Some(b)) if a.as_ref() != Some(b) => out.push(format!("{alter} SET DEFAULT {b};")),
        _ => {}
    }
    out
}
