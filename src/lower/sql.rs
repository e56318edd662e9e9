//! SQL: the statements of each resource module and of the auth routes, and
//! each table's columns, constraints and indexes as facts (`crate::ddl`
//! writes them).

use super::access::Owner;
use super::naming::pg_name;
use crate::model::{
    ColumnDef, ConstraintDef, ConstraintKind, Field, IndexDef, IndexKey, Parent, Pk, Resource,
    ResourceSql,
};
use crate::names::sql_ident;
use crate::spec::FieldType;

/// A spec value (a `default`) as an SQL literal of the column's type.
pub fn sql_literal(ty: FieldType, v: &str) -> String {
    match ty {
        FieldType::Bool | FieldType::I32 | FieldType::I64 | FieldType::F64 | FieldType::Decimal => {
            v.to_string()
        }
        _ => format!("'{}'", v.replace('\'', "''")),
    }
}

/// Comma-separated quoted columns of a full row, for SELECT and RETURNING.
pub fn select_columns(fields: &[Field], timestamps: bool) -> String {
    let mut columns = vec![sql_ident("id")];
    columns.extend(fields.iter().map(|f| f.column_q.clone()));
    if timestamps {
        columns.push(sql_ident("created_at"));
        columns.push(sql_ident("updated_at"));
    }
    columns.join(", ")
}

/// How an INSERT writes parameter `param` of `f`: the parameter, or its
/// column default when a caller who may not write the field left it out.
fn insert_value(f: &Field, param: usize) -> String {
    match &f.insert_expr {
        Some(default) => format!("COALESCE(${param}, {default})"),
        None => format!("${param}"),
    }
}

/// What the statements of one resource are written from.
pub struct StatementInput<'a> {
    pub table_q: &'a str,
    pub select_columns: &'a str,
    /// Every column field, each with its INSERT parameter.
    pub fields: &'a [Field],
    /// The fields a request body carries (all but the token's owner column).
    pub body_fields: &'a [Field],
    pub timestamps: bool,
    /// With auth, the path to the credentials resource.
    pub owner: Option<&'a Owner<'a>>,
    /// The INSERT parameter of the caller's id, after every field's.
    pub owner_param: usize,
}

impl StatementInput<'_> {
    /// With an owner chain every statement takes one more parameter, the
    /// caller's id or NULL: ` AND ($n IS NULL OR <owner condition>)`.
    pub fn scope(&self, param: usize) -> String {
        match self.owner {
            Some(owner) => format!(" AND {}", owner.scoped(None, param)),
            None => String::new(),
        }
    }

    /// A chain longer than one step: a written first foreign key must lead
    /// to a row the caller owns as well.
    fn link_scope(&self, link: &str, param: usize) -> String {
        match self.owner {
            Some(owner) if owner.chain.len() > 1 => {
                format!(" AND {}", owner.scoped(Some(link), param))
            }
            _ => String::new(),
        }
    }

    /// The field holding the first foreign key of the owner chain.
    fn first_fk(&self) -> Option<&Field> {
        let (_, column) = self.owner?.chain.first()?;
        self.fields.iter().find(|f| &f.name == column)
    }

    fn insert(&self) -> String {
        let (table_q, select_columns) = (self.table_q, self.select_columns);
        let mut by_param: Vec<&Field> = self.fields.iter().collect();
        by_param.sort_by_key(|f| f.param);
        let columns = by_param
            .iter()
            .map(|f| f.column_q.clone())
            .collect::<Vec<_>>()
            .join(", ");
        let values = by_param
            .iter()
            .map(|f| insert_value(f, f.param))
            .collect::<Vec<_>>()
            .join(", ");
        match (self.owner, self.first_fk()) {
            (Some(owner), Some(fk)) if owner.chain.len() > 1 => format!(
                "\n    INSERT INTO {table_q} ({columns})\n    SELECT {values}\n    WHERE {}\n    RETURNING {select_columns}",
                owner.scoped(Some(&format!("${}", fk.param)), self.owner_param)
            ),
            _ => format!(
                "\n    INSERT INTO {table_q} ({columns})\n    VALUES ({values})\n    RETURNING {select_columns}"
            ),
        }
    }

    /// PUT: every body field is written; one a caller may not write keeps
    /// its value when left out.
    fn replace(&self) -> String {
        let set = self
            .body_fields
            .iter()
            .map(|f| match &f.writers {
                Some(_) => format!("{c} = COALESCE(${}, {c})", f.param + 1, c = f.column_q),
                None => format!("{} = ${}", f.column_q, f.param + 1),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let touch = if self.timestamps {
            ", \"updated_at\" = now()"
        } else {
            ""
        };
        let link = self
            .first_fk()
            .map(|fk| self.link_scope(&format!("${}", fk.param + 1), self.body_fields.len() + 2))
            .unwrap_or_default();
        format!(
            "\n    UPDATE {}\n    SET {set}{touch}\n    WHERE \"id\" = $1{}{link}\n    RETURNING {}",
            self.table_q,
            self.scope(self.body_fields.len() + 2),
            self.select_columns
        )
    }

    /// PATCH and its `.bind(..)` arguments after the id: NOT NULL columns
    /// take one parameter (NULL = unchanged); nullable columns take two
    /// ("was it sent", "the value"), since NULL is a value they may be set to.
    fn patch(&self) -> (String, Vec<String>) {
        let table_q = self.table_q;
        let fk = self.first_fk();
        let mut sets = Vec::new();
        let mut binds = Vec::new();
        let mut fk_value = None;
        let mut n = 2;
        for f in self.body_fields {
            let c = &f.column_q;
            if f.nullable {
                sets.push(format!(
                    "{c} = CASE WHEN ${n} THEN ${m} ELSE {c} END",
                    m = n + 1
                ));
                binds.push(format!("changes.{}.is_some()", f.ident));
                binds.push(format!("changes.{}.flatten()", f.ident));
            } else {
                sets.push(format!("{c} = COALESCE(${n}, {c})"));
                binds.push(format!("changes.{}", f.ident));
            }
            if fk.is_some_and(|fk| fk.name == f.name) {
                let value = if f.nullable { n + 1 } else { n };
                fk_value = Some(format!("COALESCE(${value}, {table_q}.{c})"));
            }
            n += if f.nullable { 2 } else { 1 };
        }
        if self.timestamps {
            sets.push("\"updated_at\" = now()".to_string());
        }
        let link = fk_value
            .map(|value| self.link_scope(&value, n))
            .unwrap_or_default();
        let sql = format!(
            "\n    UPDATE {table_q}\n    SET {}\n    WHERE \"id\" = $1{}{link}\n    RETURNING {}",
            sets.join(",\n        "),
            self.scope(n),
            self.select_columns
        );
        (sql, binds)
    }

    /// The statements of a resource module and the PATCH statement's binds.
    pub fn statements(&self) -> (ResourceSql, Vec<String>) {
        let (table_q, select_columns) = (self.table_q, self.select_columns);
        let (patch, patch_binds) = self.patch();
        let sql = ResourceSql {
            list: format!(
                "\n    SELECT {select_columns}\n    FROM {table_q}\n    WHERE \"id\" > $1{}\n    ORDER BY \"id\"\n    LIMIT $2",
                self.scope(3)
            ),
            get: format!(
                "\n    SELECT {select_columns}\n    FROM {table_q}\n    WHERE \"id\" = $1{}",
                self.scope(2)
            ),
            insert: self.insert(),
            replace: self.replace(),
            patch,
            delete: match self.owner {
                Some(_) => format!(
                    "\n    DELETE FROM {table_q}\n    WHERE \"id\" = $1{}",
                    self.scope(2)
                ),
                None => format!("DELETE FROM {table_q} WHERE \"id\" = $1"),
            },
        };
        (sql, patch_binds)
    }

    /// Keyset listing of the children of one parent.
    pub fn nested_list(&self, column_q: &str) -> String {
        format!(
            "\n    SELECT {}\n    FROM {}\n    WHERE {column_q} = $1 AND \"id\" > $2{}\n    ORDER BY \"id\"\n    LIMIT $3",
            self.select_columns,
            self.table_q,
            self.scope(4)
        )
    }
}

/// Whether a parent row exists (and, with an owner chain, belongs to the
/// caller), for the nested routes.
pub fn parent_exists(parent_table_q: &str, owner: Option<&Owner>) -> String {
    match owner {
        Some(owner) => format!(
            "SELECT EXISTS (SELECT 1 FROM {parent_table_q} WHERE \"id\" = $1 AND {})",
            owner.scoped(None, 2)
        ),
        None => format!("SELECT EXISTS (SELECT 1 FROM {parent_table_q} WHERE \"id\" = $1)"),
    }
}

/// The statements of the auth routes, against the credentials resource.
pub struct AuthSql {
    /// `SELECT "id", "role", "password_hash" FROM .. WHERE login = $1`
    /// (with a normalised login: the stored form `$1`, or as typed `$2`).
    pub login: String,
    /// The account and role of the refresh token `$1`, locked `FOR SHARE`.
    pub session_account: String,
    /// The role of account `$1`, locked `FOR UPDATE`.
    pub lock_account: String,
    pub me: String,
    /// The credentials resource's INSERT with `password_hash` as the last
    /// parameter.
    pub register: String,
}

pub fn auth_statements(r: &Resource, login: &str, normalised: bool) -> AuthSql {
    let table_q = &r.table_q;
    let columns = r
        .body_fields
        .iter()
        .map(|f| f.column_q.clone())
        .chain(std::iter::once(sql_ident("password_hash")))
        .collect::<Vec<_>>()
        .join(", ");
    let values = r
        .body_fields
        .iter()
        .enumerate()
        .map(|(i, f)| insert_value(f, i + 1))
        .chain(std::iter::once(format!("${}", r.body_fields.len() + 1)))
        .collect::<Vec<_>>()
        .join(", ");
    AuthSql {
        login: if normalised {
            // Both forms are served by the login's unique index; the
            // normalised one wins when both exist.
            let login = sql_ident(login);
            format!(
                "\n    SELECT \"id\", \"role\", \"password_hash\"\n    FROM {table_q}\n    \
                 WHERE {login} IN ($1, $2)\n    ORDER BY {login} = $1 DESC\n    LIMIT 1"
            )
        } else {
            format!(
                "SELECT \"id\", \"role\", \"password_hash\" FROM {table_q} WHERE {} = $1",
                sql_ident(login)
            )
        },
        session_account: format!(
            "\n    SELECT \"id\", \"role\" FROM {table_q}\n    \
             WHERE \"id\" = (SELECT \"user_id\" FROM \"refresh_tokens\" WHERE \"token_hash\" = $1)\n    \
             FOR SHARE"
        ),
        lock_account: format!("SELECT \"role\" FROM {table_q} WHERE \"id\" = $1 FOR UPDATE"),
        me: format!(
            "\n    SELECT {}\n    FROM {table_q}\n    WHERE \"id\" = $1",
            r.select_columns
        ),
        register: format!(
            "\n    INSERT INTO {table_q} ({columns})\n    VALUES ({values})\n    RETURNING {}",
            r.select_columns
        ),
    }
}

/// A CHECK constraint mirroring one of a field's bounds, and the message of
/// its violation.
pub struct Check {
    pub name: String,
    pub expr: String,
    pub message: String,
}

/// The CHECK constraints of a field, in the order they are declared.
pub fn checks_of(table: &str, f: &Field) -> Vec<Check> {
    let spec = &f.spec;
    let c = &f.column_q;
    let check = |suffix: &str, expr: String, message: String| Check {
        name: pg_name(format!("{table}_{}_{suffix}", f.name)),
        expr,
        message,
    };
    let mut checks = Vec::new();
    if let Some(m) = spec.min_length {
        checks.push(check(
            "min_length",
            format!("char_length({c}) >= {m}"),
            format!("must be at least {m} characters"),
        ));
    }
    if let Some(m) = spec.max_length {
        checks.push(check(
            "max_length",
            format!("char_length({c}) <= {m}"),
            format!("must be at most {m} characters"),
        ));
    }
    if let Some(m) = spec.min {
        checks.push(check(
            "min",
            format!("{c} >= {m}"),
            format!("must be greater than or equal to {m}"),
        ));
    }
    if let Some(m) = spec.max {
        checks.push(check(
            "max",
            format!("{c} <= {m}"),
            format!("must be less than or equal to {m}"),
        ));
    }
    checks
}

/// The name of a field's UNIQUE constraint.
pub fn unique_name(table: &str, f: &Field) -> String {
    pg_name(format!("{table}_{}_key", f.name))
}

/// The columns of a table: the id, every field, the password hash of the
/// credentials resource, the timestamps.
pub fn columns(
    pk: &Pk,
    fields: &[Field],
    is_credentials: bool,
    timestamps: bool,
) -> Vec<ColumnDef> {
    let column = |name: &str, sql_type: &str, nullable: bool, default: Option<&str>| ColumnDef {
        name: name.to_string(),
        sql_type: sql_type.to_string(),
        identity: false,
        nullable,
        default: default.map(str::to_string),
        generated: None,
    };
    let id = if pk.is_uuid {
        column("id", pk.sql_type, false, Some("gen_random_uuid()"))
    } else {
        ColumnDef {
            identity: true,
            ..column("id", pk.sql_type, false, None)
        }
    };
    let mut columns = vec![id];
    for f in fields {
        columns.push(column(
            &f.name,
            &f.sql_type,
            f.nullable,
            f.sql_default.as_deref(),
        ));
    }
    if is_credentials {
        // The PHC string of the argon2id hash; the password itself is never stored.
        columns.push(column("password_hash", "text", false, None));
    }
    if timestamps {
        for name in ["created_at", "updated_at"] {
            columns.push(column(name, "timestamptz", false, Some("now()")));
        }
    }
    columns
}

/// The named constraints of a table: primary key, foreign keys, then each
/// field's UNIQUE and CHECKs. Every constraint is named so the service can
/// map a violation back to the field, and so a later migration can drop or
/// replace it by name.
pub fn constraints(table: &str, parents: &[Parent], fields: &[Field]) -> Vec<ConstraintDef> {
    let mut defs = vec![ConstraintDef {
        name: pg_name(format!("{table}_pkey")),
        kind: ConstraintKind::PrimaryKey {
            column: "id".to_string(),
        },
    }];
    for p in parents {
        defs.push(ConstraintDef {
            name: p.fk_constraint.clone(),
            kind: ConstraintKind::ForeignKey {
                column: p.column.clone(),
                table: p.table.clone(),
                on_delete: p.on_delete_sql.to_string(),
            },
        });
    }
    for f in fields {
        if f.spec.unique {
            defs.push(ConstraintDef {
                name: unique_name(table, f),
                kind: ConstraintKind::Unique {
                    column: f.name.clone(),
                },
            });
        }
        defs.extend(checks_of(table, f).into_iter().map(|c| ConstraintDef {
            name: c.name,
            kind: ConstraintKind::Check { expr: c.expr },
        }));
    }
    defs
}

/// The index of a foreign key, with `"id"` so the same index serves the
/// nested keyset listing.
pub fn fk_index(name: &str, column: &str) -> IndexDef {
    let key = |column: &str| IndexKey {
        column: column.to_string(),
        desc: false,
        opclass: None,
    };
    IndexDef {
        name: name.to_string(),
        unique: false,
        keys: vec![key(column), key("id")],
        method: None,
    }
}
