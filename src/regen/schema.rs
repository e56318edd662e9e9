//! The database schema a spec describes, recorded in `scaffold.lock` after
//! every generation, and the difference between two of them as the next
//! numbered migration. Applied migrations are never rewritten: a changed spec
//! gets a new migration holding exactly the difference.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ddl;
use crate::diag::Diagnostic;
use crate::model::{ColumnDef, ConstraintKind, Service, TableDef};

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

/// What the next migration does: one or more files, applied in order.
#[derive(Debug, Default)]
pub struct Migration {
    pub files: Vec<MigrationFile>,
}

/// One numbered migration file. A change is split into several files where
/// one transaction would hold an exclusive lock for a scan or a build, or
/// where PostgreSQL needs a commit in between.
#[derive(Debug)]
pub struct MigrationFile {
    /// A short name for the file (`add_orders_note`).
    pub slug: String,
    /// Written `-- no-transaction` first, so sqlx runs it outside a
    /// transaction: for `CONCURRENTLY`, which PostgreSQL refuses in one, and
    /// in a query string of more than one statement, so it holds one.
    pub no_transaction: bool,
    /// Why the step is a file of its own, for the comment at its top.
    pub purpose: &'static str,
    pub statements: Vec<String>,
}

/// Options that allow changes which lose data or break replicas still
/// running the previous version.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions {
    pub allow_destructive: bool,
}

/// The statements of a change, by the file they go to.
#[derive(Default)]
struct Steps {
    /// `ALTER TYPE … ADD VALUE`: committed before a later statement may use
    /// the value (a column default, say).
    enum_values: Vec<String>,
    enum_tags: Vec<String>,
    /// Everything else that is quick: new tables, columns, renames, drops,
    /// constraints added `NOT VALID`.
    main: Vec<String>,
    tags: Vec<String>,
    /// Index name and statement, one file each.
    drop_indexes: Vec<(String, String)>,
    create_indexes: Vec<(String, String)>,
    /// `VALIDATE CONSTRAINT`: scans without blocking writes.
    validate: Vec<String>,
    /// `SET NOT NULL` behind a validated check, `UNIQUE USING INDEX`.
    finish: Vec<String>,
    finish_tags: Vec<String>,
}

/// Enum types: new ones first (tables may use them), new values appended;
/// a removed value is a problem (PostgreSQL cannot drop one).
fn diff_enums(old: &Schema, new: &Schema, steps: &mut Steps, problems: &mut Vec<Diagnostic>) {
    for (name, values) in &new.enums {
        match old.enums.get(name) {
            None => steps.main.push(ddl::create_type(name, values)),
            Some(old_values) => {
                for v in values.iter().filter(|v| !old_values.contains(v)) {
                    steps.enum_values.push(ddl::add_enum_value(name, v));
                    steps.enum_tags.push(format!("{name}_{v}"));
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

/// How a destructive change is made without breaking a rolling deploy.
const EXPAND_CONTRACT: &str = "expand/contract: add a new field next to the old one and deploy (expand), backfill it and move readers to it, then remove the old field in a later release (contract)";

/// A type change that keeps every value and its meaning. Any other
/// (`numeric` → `integer`, `timestamptz` → `date`, one enum to another)
/// rounds, truncates or fails on existing rows.
fn widens(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        ("integer", "bigint" | "numeric")
            | ("bigint", "numeric")
            | ("date", "timestamptz")
            | (_, "text")
    )
}

/// A CHECK bound (`char_length("name") <= 100`, `"total" >= 0`) whose new
/// value admits fewer rows than the old one: rows written before may
/// violate it.
fn tightens(old: &str, new: &str) -> bool {
    let bound = |expr: &str| -> Option<(bool, f64)> {
        let (left, value) = expr.rsplit_once(' ')?;
        let value: f64 = value.parse().ok()?;
        if left.ends_with(" <=") {
            Some((true, value))
        } else if left.ends_with(" >=") {
            Some((false, value))
        } else {
            None
        }
    };
    match (bound(old), bound(new)) {
        (Some((true, a)), Some((true, b))) => b < a,
        (Some((false, a)), Some((false, b))) => b > a,
        // Not a bound this generator writes: assume the worst.
        _ => old != new,
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
    let mut steps = Steps::default();
    let mut problems = Vec::new();
    let destructive_help =
        "pass `--allow-destructive` to drop it and its data, or restore it in the spec";

    diff_enums(old, new, &mut steps, &mut problems);
    if ddl::uses_trigram(&new.tables) && !ddl::uses_trigram(&old.tables) {
        steps.main.push(ddl::CREATE_TRIGRAM_EXTENSION.to_string());
        steps.tags.push("pg_trgm".to_string());
    }

    let old_tables: BTreeMap<&str, &TableDef> =
        old.tables.iter().map(|t| (t.name.as_str(), t)).collect();
    let new_names: BTreeSet<&str> = new.tables.iter().map(|t| t.name.as_str()).collect();
    for table in &new.tables {
        let Some(before) = old_tables.get(table.name.as_str()) else {
            // A new table is empty: plain DDL in the main transaction.
            steps.main.push(ddl::create_table(table));
            steps.main.extend(
                table
                    .indexes
                    .iter()
                    .map(|ix| ddl::create_index(&table.name, ix)),
            );
            steps.tags.push(format!("create_{}", table.name));
            continue;
        };
        let resource = service.resources.iter().find(|r| r.plural == table.name);
        let t = table.name.as_str();
        let field_at = |name: &str| {
            resource
                .and_then(|r| r.fields.iter().find(|f| f.name == name))
                .map(|f| (f.spec.loc, f.spec.path.clone()))
                .unwrap_or((
                    crate::diag::Loc { line: 1, col: 1 },
                    "resources".to_string(),
                ))
        };
        let old_cols: BTreeMap<&str, &ColumnDef> = before
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c))
            .collect();
        let mut kept_old: BTreeSet<&str> = BTreeSet::new();
        // Generated columns dropped and added again: their indexes went
        // with them.
        let mut regenerated: BTreeSet<&str> = BTreeSet::new();
        for col in &table.columns {
            let field = resource.and_then(|r| r.fields.iter().find(|f| f.name == col.name));
            let renamed_from = field.and_then(|f| f.spec.renamed_from.as_deref());
            let prev = match old_cols.get(col.name.as_str()) {
                Some(prev) => Some(*prev),
                None => renamed_from.and_then(|from| old_cols.get(from).copied()),
            };
            if let Some(prev) = prev {
                kept_old.insert(prev.name.as_str());
                if prev.generated != col.generated {
                    // A generated column's expression cannot be altered: it
                    // is derived data, dropped and computed again.
                    steps.main.push(ddl::drop_column(t, &prev.name));
                    steps.main.push(ddl::add_column(t, col));
                    steps
                        .tags
                        .push(format!("regenerate_{}_{}", table.name, col.name));
                    regenerated.insert(col.name.as_str());
                    continue;
                }
                if prev.name != col.name {
                    if !options.allow_destructive {
                        let (loc, path) = field_at(&col.name);
                        problems.push(
                            Diagnostic::new(loc, path, format!(
                                "renaming the column `{}` of `{t}` to `{}` breaks replicas still running the previous version, which read and write `{}`",
                                prev.name, col.name, prev.name
                            ))
                            .help(format!("{EXPAND_CONTRACT}; or pass `--allow-destructive` to rename it in one step")),
                        );
                        continue;
                    }
                    steps
                        .main
                        .push(ddl::rename_column(t, &prev.name, &col.name));
                    steps
                        .tags
                        .push(format!("rename_{}_{}", table.name, prev.name));
                }
                if prev.sql_type != col.sql_type
                    && !widens(&prev.sql_type, &col.sql_type)
                    && !options.allow_destructive
                {
                    let (loc, path) = field_at(&col.name);
                    problems.push(
                        Diagnostic::new(loc, path, format!(
                            "the column `{}` of `{t}` narrows from {} to {}: existing values would be rounded, truncated or refused, and replicas still running the previous version read and write the old type",
                            col.name, prev.sql_type, col.sql_type
                        ))
                        .help(format!("{EXPAND_CONTRACT}; or pass `--allow-destructive` to convert the column in place")),
                    );
                    continue;
                }
                // Required from now on: the previous version, still serving
                // during a rolling deploy, writes NULL for an absent value.
                if ddl::becomes_not_null(prev, col) && !options.allow_destructive {
                    let (loc, path) = field_at(&col.name);
                    problems.push(
                        Diagnostic::new(loc, path, format!(
                            "the column `{}` of `{t}` becomes NOT NULL: replicas still running the previous version write NULL when a request leaves it out, and rows that have none fail the migration",
                            col.name
                        ))
                        .help("expand/contract: backfill the rows that have no value and deploy a version whose clients always send one, then make it required in a later release; or pass `--allow-destructive` to add the constraint now"),
                    );
                    continue;
                }
                steps.main.extend(ddl::alter_column(t, prev, col));
                if ddl::becomes_not_null(prev, col) {
                    let check = ddl::not_null_check(
                        &crate::lower::naming::pg_name(format!("{t}_{}_not_null", col.name)),
                        &col.name,
                    );
                    steps.main.push(ddl::add_constraint_not_valid(t, &check));
                    steps
                        .validate
                        .push(ddl::validate_constraint(t, &check.name));
                    steps.finish.push(ddl::set_not_null(t, &col.name));
                    steps.finish.push(ddl::drop_constraint(t, &check));
                    steps
                        .finish_tags
                        .push(format!("not_null_{}_{}", table.name, col.name));
                }
                continue;
            }
            // Existing rows need a value: NOT NULL takes a default (an
            // identity column generates its own).
            if !col.nullable && col.default.is_none() && !col.identity {
                let (loc, path) = field_at(&col.name);
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
            steps.main.push(ddl::add_column(t, col));
            steps.tags.push(format!("add_{}_{}", table.name, col.name));
        }
        for prev in &before.columns {
            if kept_old.contains(prev.name.as_str()) {
                continue;
            }
            // Derived data (the search column) loses nothing when dropped.
            if prev.generated.is_some() {
                steps.main.push(ddl::drop_column(t, &prev.name));
                steps
                    .tags
                    .push(format!("drop_{}_{}", table.name, prev.name));
                continue;
            }
            if options.allow_destructive {
                steps.main.push(ddl::drop_column(t, &prev.name));
                steps
                    .tags
                    .push(format!("drop_{}_{}", table.name, prev.name));
            } else {
                problems.push(top_problem(
                    format!("the field `{}` of `{}` was removed; its column and data would be dropped", prev.name, table.name),
                    &format!("{destructive_help}; to rename it, write `renamed_from: {}` on the new field (also with `--allow-destructive`)", prev.name),
                ));
            }
        }
        diff_constraints(
            t,
            before,
            table,
            &field_at,
            options,
            &mut steps,
            &mut problems,
        );
        for o in &before.indexes {
            if !table.indexes.contains(o) {
                steps
                    .drop_indexes
                    .push((o.name.clone(), ddl::drop_index_concurrently(&o.name)));
            }
        }
        for n in &table.indexes {
            let lost = n
                .keys
                .iter()
                .any(|k| regenerated.contains(k.column.as_str()));
            if lost || !before.indexes.contains(n) {
                steps
                    .create_indexes
                    .push((n.name.clone(), ddl::create_index_concurrently(t, n)));
            }
        }
    }
    for before in old.tables.iter().rev() {
        if new_names.contains(before.name.as_str()) {
            continue;
        }
        if options.allow_destructive {
            steps.main.push(ddl::drop_table(&before.name));
            steps.tags.push(format!("drop_{}", before.name));
        } else {
            problems.push(top_problem(
                format!("the resource with table `{}` was removed; the table and its data would be dropped", before.name),
                destructive_help,
            ));
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|d| (d.loc.line, d.loc.col));
        return Err(problems);
    }
    let files = steps.into_files();
    if files.is_empty() {
        return Ok(None);
    }
    Ok(Some(Migration { files }))
}

/// Constraints of a table that holds rows. A foreign key or check is added
/// `NOT VALID` and validated in a later transaction; a unique constraint is
/// attached to an index built concurrently. Tightening a bound is refused
/// unless destructive changes are allowed.
fn diff_constraints(
    t: &str,
    before: &TableDef,
    table: &TableDef,
    field_at: &dyn Fn(&str) -> (crate::diag::Loc, String),
    options: DiffOptions,
    steps: &mut Steps,
    problems: &mut Vec<Diagnostic>,
) {
    for o in &before.constraints {
        if !table.constraints.contains(o) {
            steps.main.push(ddl::drop_constraint(t, o));
        }
    }
    for n in &table.constraints {
        if before.constraints.contains(n) {
            continue;
        }
        let old = before.constraints.iter().find(|o| o.name == n.name);
        match (&n.kind, old.map(|o| &o.kind)) {
            (ConstraintKind::Check { expr }, Some(ConstraintKind::Check { expr: was }))
                if tightens(was, expr) && !options.allow_destructive =>
            {
                // The field the bound belongs to: its name follows the table's.
                let field = table
                    .columns
                    .iter()
                    .filter(|c| n.name.starts_with(&format!("{t}_{}_", c.name)))
                    .max_by_key(|c| c.name.len())
                    .map_or("resources", |c| c.name.as_str());
                let (loc, path) = field_at(field);
                problems.push(
                    Diagnostic::new(loc, path, format!(
                        "the constraint `{}` of `{t}` tightens from `{was}` to `{expr}`: existing rows may violate it, and replicas still running the previous version write rows it refuses",
                        n.name
                    ))
                    .help(format!("{EXPAND_CONTRACT}; or pass `--allow-destructive` to add it and check the existing rows")),
                );
            }
            (ConstraintKind::Check { .. } | ConstraintKind::ForeignKey { .. }, _) => {
                steps.main.push(ddl::add_constraint_not_valid(t, n));
                steps.validate.push(ddl::validate_constraint(t, &n.name));
            }
            (ConstraintKind::Unique { column }, _) => {
                steps.create_indexes.push((
                    n.name.clone(),
                    ddl::create_unique_index_concurrently(t, &n.name, column),
                ));
                steps.finish.push(ddl::add_unique_using_index(t, &n.name));
                steps.finish_tags.push(format!("unique_{}", n.name));
            }
            (ConstraintKind::PrimaryKey { .. }, _) => steps.main.push(ddl::add_constraint(t, n)),
        }
    }
}

impl Steps {
    /// The files in the order they must run: enum values (committed before
    /// use), the main transaction, index drops and builds (one statement
    /// each, outside a transaction), validations, then what needs them.
    fn into_files(self) -> Vec<MigrationFile> {
        let mut files = Vec::new();
        let tx = |slug: String, purpose, statements| MigrationFile {
            slug,
            no_transaction: false,
            purpose,
            statements,
        };
        if !self.enum_values.is_empty() {
            files.push(tx(
                slug(&self.enum_tags, "add_enum_values"),
                "New enum values, in a transaction of their own: PostgreSQL refuses a value in the transaction that added it, and a later file may use it (as a column default, say).",
                self.enum_values,
            ));
        }
        if !self.main.is_empty() {
            files.push(tx(slug(&self.tags, "update_schema"), "", self.main));
        }
        for (name, statement) in self.drop_indexes {
            files.push(MigrationFile {
                slug: slug(&[format!("drop_{name}")], ""),
                no_transaction: true,
                purpose: "Dropped CONCURRENTLY, without blocking the reads and writes of the table; PostgreSQL allows that only outside a transaction and alone in its query.",
                statements: vec![statement],
            });
        }
        for (name, statement) in self.create_indexes {
            files.push(MigrationFile {
                slug: slug(&[format!("index_{name}")], ""),
                no_transaction: true,
                purpose: "Built CONCURRENTLY, without blocking the writes of a table that may be large; PostgreSQL allows that only outside a transaction and alone in its query. A build interrupted half way leaves an INVALID index: the service's `migrate` drops it before running this file again.",
                statements: vec![statement],
            });
        }
        if !self.validate.is_empty() {
            files.push(tx(
                "validate_constraints".to_string(),
                "Checks the rows that existed when the constraints were added NOT VALID. The scan blocks neither reads nor writes, and runs in a transaction of its own, so the exclusive lock that adding them took was held only for a moment.",
                self.validate,
            ));
        }
        if !self.finish.is_empty() {
            files.push(tx(
                slug(&self.finish_tags, "finish_constraints"),
                "Catalog changes only: SET NOT NULL skips its scan behind the validated IS NOT NULL check, and a unique index built concurrently becomes its constraint.",
                self.finish,
            ));
        }
        files
    }
}

/// A file name from what the file does, at most 48 bytes.
fn slug(tags: &[String], fallback: &str) -> String {
    let mut slug = if tags.is_empty() {
        fallback.to_string()
    } else {
        tags.join("_")
    };
    if slug.len() > 48 {
        slug.truncate(48);
        slug = slug.trim_end_matches('_').to_string();
    }
    slug
}

fn top_problem(message: String, help: &str) -> Diagnostic {
    Diagnostic::new(crate::diag::Loc { line: 1, col: 1 }, "resources", message)
        .help(help.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_tightens_when_it_admits_fewer_values() {
        let max = |n: u32| format!("char_length(\"name\") <= {n}");
        assert!(tightens(&max(100), &max(50)));
        assert!(!tightens(&max(100), &max(120)));
        assert!(tightens("\"total\" >= 0", "\"total\" >= 1.5"));
        assert!(!tightens("\"total\" >= 0", "\"total\" >= -1"));
        // A check this generator does not write as a bound: assume the worst.
        assert!(tightens("\"a\" IS NOT NULL", "\"a\" <> ''"));
    }

    #[test]
    fn only_lossless_type_changes_widen() {
        assert!(widens("integer", "bigint"));
        assert!(widens("bigint", "numeric"));
        assert!(widens("date", "timestamptz"));
        assert!(widens("uuid", "text"));
        assert!(!widens("numeric", "bigint"));
        assert!(!widens("bigint", "integer"));
        assert!(!widens("timestamptz", "date"));
        assert!(!widens("numeric", "double precision"));
        assert!(!widens("\"order_status\"", "\"order_state\""));
    }
}
