//! Lower: the validated spec → the model every template reads.
//!
//! Every name a template prints is computed here, once: struct, module,
//! table, column, route, constraint and index names, the Rust and SQL types,
//! the SQL text of each statement and the validation calls of each field.
//! Templates only loop over this model and print it.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::names::{self, PG_MAX_IDENT, sql_ident};
use crate::spec::{FieldType, OnDelete, PkKind, RawField, RawResource, RawSpec};

#[derive(Debug, Clone)]
pub struct Service {
    /// Cargo package name, as written in the spec (`my-shop`).
    pub package: String,
    /// Rust crate name (`my_shop`), used by the service's tests and main.rs.
    pub crate_name: String,
    /// Resources with every parent before its children, the order tables
    /// must be created in.
    pub resources: Vec<Resource>,
    pub enums: Vec<EnumType>,
    pub stamp: &'static str,
}

#[derive(Debug, Clone)]
pub struct Resource {
    /// snake_case singular (`order_item`).
    pub name: String,
    /// UpperCamelCase (`OrderItem`).
    pub struct_name: String,
    /// snake_case plural (`order_items`), also the table name.
    pub plural: String,
    /// The table, quoted for SQL.
    pub table_q: String,
    /// The collection route (`/v1/order_items`).
    pub route: String,
    /// Human label for docs and messages (`order item`).
    pub label: String,
    pub pk: Pk,
    pub timestamps: bool,
    /// Foreign key columns first, then the spec's fields, in spec order.
    pub fields: Vec<Field>,
    pub parents: Vec<Parent>,
    pub indexes: Vec<Index>,
    /// Comma-separated quoted columns of a full row, for SELECT and RETURNING.
    pub select_columns: String,
    /// Quoted columns of an INSERT and its `$n` placeholders.
    pub insert_columns: String,
    pub insert_placeholders: String,
    /// `"a" = $1, "b" = $2, ...` for a full replacement (PUT).
    pub update_set: String,
    /// `$n` of the id in the UPDATE statement.
    pub update_id_param: String,
    /// Constraint names mapped to the field they report on (unique and
    /// foreign-key violations).
    pub constraints: Vec<ConstraintMap>,
    pub pk_constraint: String,
}

#[derive(Debug, Clone)]
pub struct Pk {
    pub rust_type: &'static str,
    pub sql_type: &'static str,
    /// The column definition after the name.
    pub sql_decl: &'static str,
    pub is_uuid: bool,
}

#[derive(Debug, Clone)]
pub struct Field {
    /// The JSON property and the column name (snake_case).
    pub name: String,
    /// The Rust identifier (raw when a keyword: `r#type`).
    pub ident: String,
    /// The column, quoted for SQL.
    pub column_q: String,
    /// The Rust type of a value (`String`, `i64`, `OrderStatus`).
    pub rust_type: String,
    /// The Rust type in the row struct (`Option<..>` when nullable).
    pub row_type: String,
    /// The SQL column type (`text`, `bigint`, `"order_status"`).
    pub sql_type: String,
    /// The column definition after the type (`NOT NULL DEFAULT 'pending'`).
    pub sql_modifiers: String,
    pub nullable: bool,
    /// Missing on create is a validation error.
    pub required: bool,
    /// A Rust expression for the value used when create omits the field.
    pub default_rust: Option<String>,
    /// A foreign key to a parent resource.
    pub parent: Option<String>,
    /// Validation calls in the generated code, each one statement on
    /// `errors` (a `validation::Errors`) and `value` (a `&rust_type`).
    pub checks: Vec<String>,
    /// The type is `Copy`, so a value is passed by value, not borrowed.
    pub is_copy: bool,
    pub is_enum: bool,
    /// Position in the INSERT placeholder list (1-based).
    pub param: usize,
    /// Human-readable type for docs.
    pub doc_type: String,
}

#[derive(Debug, Clone)]
pub struct Parent {
    /// The parent resource's snake_case name.
    pub resource: String,
    pub struct_name: String,
    pub table_q: String,
    /// The FK column (`user_id`) and its quoted form.
    pub column: String,
    pub column_q: String,
    pub ident: String,
    pub pk_rust_type: &'static str,
    /// The nested collection route (`/v1/users/{user_id}/orders`).
    pub nested_route: String,
    pub fk_constraint: String,
    pub fk_index: String,
    pub on_delete_sql: &'static str,
    /// The FK column is nullable (`on_delete: set_null`).
    pub nullable: bool,
}

#[derive(Debug, Clone)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    /// `"user_id", "created_at" DESC`
    pub columns_sql: String,
}

#[derive(Debug, Clone)]
pub struct ConstraintMap {
    pub constraint: String,
    pub field: String,
    pub is_unique: bool,
}

#[derive(Debug, Clone)]
pub struct EnumType {
    /// The Rust enum (`OrderStatus`).
    pub rust_name: String,
    /// The PostgreSQL type (`order_status`) and its quoted form.
    pub sql_name: String,
    pub sql_name_q: String,
    /// The module of the resource that owns it.
    pub resource: String,
    pub variants: Vec<EnumVariant>,
    /// `'pending', 'paid'`
    pub sql_values: String,
}

#[derive(Debug, Clone)]
pub struct EnumVariant {
    pub rust_name: String,
    pub value: String,
}

/// A constraint or index name PostgreSQL will keep intact: names longer than
/// 63 bytes are shortened with a hash suffix so two long names never merge.
fn pg_name(base: String) -> String {
    if base.len() <= PG_MAX_IDENT {
        return base;
    }
    let hash = hex::encode(Sha256::digest(base.as_bytes()));
    format!("{}_{}", &base[..PG_MAX_IDENT - 9], &hash[..8])
}

/// Lowers a spec that passed validation.
pub fn lower(spec: &RawSpec) -> Service {
    let package = spec
        .service
        .as_ref()
        .map(|s| s.value.clone())
        .unwrap_or_default();
    let by_name: BTreeMap<String, &RawResource> = spec
        .resources
        .iter()
        .map(|r| (names::snake(&r.name.value), r))
        .collect();
    let order = topological(spec, &by_name);
    let mut enums = Vec::new();
    let resources = order
        .iter()
        .map(|r| lower_resource(r, &by_name, &mut enums))
        .collect();
    Service {
        crate_name: package.replace('-', "_"),
        package,
        resources,
        enums,
        stamp: crate::STAMP_VERSION,
    }
}

/// Parents before children; ties keep the spec's order. Validation rejected
/// cycles, so every resource is placed.
fn topological<'a>(
    spec: &'a RawSpec,
    by_name: &BTreeMap<String, &'a RawResource>,
) -> Vec<&'a RawResource> {
    let mut placed: Vec<String> = Vec::new();
    let mut out = Vec::new();
    while out.len() < spec.resources.len() {
        let before = out.len();
        for r in &spec.resources {
            let name = names::snake(&r.name.value);
            if placed.contains(&name) {
                continue;
            }
            let ready = r.belongs_to.iter().all(|p| {
                let parent = names::snake(&p.resource.value);
                placed.contains(&parent) || !by_name.contains_key(&parent)
            });
            if ready {
                placed.push(name);
                out.push(r);
            }
        }
        if out.len() == before {
            break;
        }
    }
    out
}

fn pk_of(r: &RawResource) -> Pk {
    match r.primary_key.as_ref().map(|p| p.value) {
        Some(PkKind::Uuid) => Pk {
            rust_type: "uuid::Uuid",
            sql_type: "uuid",
            sql_decl: "uuid NOT NULL DEFAULT gen_random_uuid()",
            is_uuid: true,
        },
        _ => Pk {
            rust_type: "i64",
            sql_type: "bigint",
            sql_decl: "bigint GENERATED ALWAYS AS IDENTITY",
            is_uuid: false,
        },
    }
}

fn table_of(r: &RawResource) -> String {
    match &r.plural {
        Some(p) => names::snake(&p.value),
        None => names::plural(&names::snake(&r.name.value)),
    }
}

fn lower_resource(
    r: &RawResource,
    by_name: &BTreeMap<String, &RawResource>,
    enums: &mut Vec<EnumType>,
) -> Resource {
    let name = names::snake(&r.name.value);
    let struct_name = names::camel(&r.name.value);
    let plural = table_of(r);
    let table_q = sql_ident(&plural);
    let route = format!("/v1/{plural}");
    let timestamps = r.timestamps.as_ref().is_none_or(|t| t.value);

    let mut fields = Vec::new();
    let mut parents = Vec::new();
    let mut constraints = Vec::new();
    for p in &r.belongs_to {
        let parent_name = names::snake(&p.resource.value);
        let Some(parent) = by_name.get(&parent_name) else {
            continue;
        };
        let column = format!("{parent_name}_id");
        let ppk = pk_of(parent);
        let on_delete = p
            .on_delete
            .as_ref()
            .map(|o| o.value)
            .unwrap_or(OnDelete::Cascade);
        let nullable = on_delete == OnDelete::SetNull;
        let fk_constraint = pg_name(format!("{plural}_{column}_fkey"));
        constraints.push(ConstraintMap {
            constraint: fk_constraint.clone(),
            field: column.clone(),
            is_unique: false,
        });
        fields.push(Field {
            ident: names::rust_field_ident(&column),
            column_q: sql_ident(&column),
            rust_type: ppk.rust_type.to_string(),
            row_type: wrap_option(ppk.rust_type, nullable),
            sql_type: ppk.sql_type.to_string(),
            sql_modifiers: if nullable {
                String::new()
            } else {
                "NOT NULL".to_string()
            },
            nullable,
            required: !nullable,
            default_rust: None,
            parent: Some(parent_name.clone()),
            checks: Vec::new(),
            is_copy: true,
            is_enum: false,
            param: 0,
            doc_type: format!("id of a {}", parent_name.replace('_', " ")),
            name: column.clone(),
        });
        parents.push(Parent {
            struct_name: names::camel(&parent_name),
            table_q: sql_ident(&table_of(parent)),
            ident: names::rust_field_ident(&column),
            column_q: sql_ident(&column),
            pk_rust_type: ppk.rust_type,
            nested_route: format!("/v1/{}/{{{column}}}/{plural}", table_of(parent)),
            fk_index: pg_name(format!("{plural}_{column}_idx")),
            on_delete_sql: match on_delete {
                OnDelete::Cascade => "CASCADE",
                OnDelete::Restrict => "RESTRICT",
                OnDelete::SetNull => "SET NULL",
            },
            nullable,
            fk_constraint,
            column,
            resource: parent_name,
        });
    }
    for f in &r.fields {
        let field = lower_field(&name, &struct_name, &plural, f, enums);
        if f.unique.as_ref().is_some_and(|u| u.value) {
            constraints.push(ConstraintMap {
                constraint: pg_name(format!("{plural}_{}_key", field.name)),
                field: field.name.clone(),
                is_unique: true,
            });
        }
        fields.push(field);
    }
    for (i, f) in fields.iter_mut().enumerate() {
        f.param = i + 1;
    }

    let mut indexes = Vec::new();
    for ix in &r.indexes {
        let cols: Vec<String> = ix
            .columns
            .iter()
            .map(|c| names::snake(&c.value.name))
            .collect();
        let unique = ix.unique.as_ref().is_some_and(|u| u.value);
        let suffix = if unique { "key" } else { "idx" };
        let columns_sql = ix
            .columns
            .iter()
            .map(|c| {
                let q = sql_ident(&names::snake(&c.value.name));
                if c.value.desc { format!("{q} DESC") } else { q }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let name = pg_name(format!("{plural}_{}_{suffix}", cols.join("_")));
        if unique {
            // A unique index reports on its first column.
            constraints.push(ConstraintMap {
                constraint: name.clone(),
                field: cols[0].clone(),
                is_unique: true,
            });
        }
        indexes.push(Index {
            name,
            unique,
            columns_sql,
        });
    }

    let mut all_columns = vec![sql_ident("id")];
    all_columns.extend(fields.iter().map(|f| f.column_q.clone()));
    if timestamps {
        all_columns.push(sql_ident("created_at"));
        all_columns.push(sql_ident("updated_at"));
    }
    let insert_columns = fields
        .iter()
        .map(|f| f.column_q.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let insert_placeholders = fields
        .iter()
        .map(|f| format!("${}", f.param))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sets: Vec<String> = fields
        .iter()
        .map(|f| format!("{} = ${}", f.column_q, f.param))
        .collect();
    if timestamps {
        sets.push(format!("{} = now()", sql_ident("updated_at")));
    }
    Resource {
        label: name.replace('_', " "),
        pk: pk_of(r),
        pk_constraint: pg_name(format!("{plural}_pkey")),
        select_columns: all_columns.join(", "),
        update_id_param: format!("${}", fields.len() + 1),
        update_set: sets.join(", "),
        insert_columns,
        insert_placeholders,
        name,
        struct_name,
        table_q,
        route,
        timestamps,
        fields,
        parents,
        indexes,
        constraints,
        plural,
    }
}

fn wrap_option(t: &str, nullable: bool) -> String {
    if nullable {
        format!("Option<{t}>")
    } else {
        t.to_string()
    }
}

fn lower_field(
    resource: &str,
    resource_struct: &str,
    table: &str,
    f: &RawField,
    enums: &mut Vec<EnumType>,
) -> Field {
    let name = names::snake(&f.name.value);
    let ty = f.ty.as_ref().map(|t| t.value).unwrap_or(FieldType::String);
    let nullable = f.required.as_ref().is_some_and(|r| !r.value);
    let default = f.default.as_ref().map(|d| d.value.clone());
    let mut checks = Vec::new();
    let label = format!("\"{name}\"");
    let (rust_type, sql_type, is_copy, doc_type) = match ty {
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url => (
            "String".to_string(),
            "text".to_string(),
            false,
            ty.as_str().to_string(),
        ),
        FieldType::Bool => ("bool".into(), "boolean".into(), true, "bool".into()),
        FieldType::I32 => ("i32".into(), "integer".into(), true, "i32".into()),
        FieldType::I64 => ("i64".into(), "bigint".into(), true, "i64".into()),
        FieldType::F64 => ("f64".into(), "double precision".into(), true, "f64".into()),
        FieldType::Decimal => (
            "rust_decimal::Decimal".into(),
            "numeric".into(),
            true,
            "decimal (string)".into(),
        ),
        FieldType::Uuid => ("uuid::Uuid".into(), "uuid".into(), true, "uuid".into()),
        FieldType::Date => (
            "chrono::NaiveDate".into(),
            "date".into(),
            true,
            "date (YYYY-MM-DD)".into(),
        ),
        FieldType::Timestamp => (
            "chrono::DateTime<chrono::Utc>".into(),
            "timestamptz".into(),
            true,
            "timestamp (RFC 3339)".into(),
        ),
        FieldType::Json => (
            "serde_json::Value".into(),
            "jsonb".into(),
            false,
            "json".into(),
        ),
        FieldType::Enum => {
            let rust_name = format!("{resource_struct}{}", names::camel(&name));
            let sql_name = format!("{resource}_{name}");
            let variants: Vec<EnumVariant> = f
                .values
                .as_ref()
                .map(|v| {
                    v.value
                        .iter()
                        .map(|x| EnumVariant {
                            rust_name: names::camel(&x.value),
                            value: x.value.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            enums.push(EnumType {
                sql_values: variants
                    .iter()
                    .map(|v| format!("'{}'", v.value))
                    .collect::<Vec<_>>()
                    .join(", "),
                rust_name: rust_name.clone(),
                sql_name_q: sql_ident(&sql_name),
                sql_name: sql_name.clone(),
                resource: resource.to_string(),
                variants,
            });
            (rust_name, sql_ident(&sql_name), true, "enum".into())
        }
    };
    match ty {
        FieldType::Email => checks.push(format!("errors.email({label}, value);")),
        FieldType::Url => checks.push(format!("errors.url({label}, value);")),
        _ => {}
    }
    if let Some(m) = &f.min_length {
        checks.push(format!("errors.min_chars({label}, value, {});", m.value));
    }
    if let Some(m) = &f.max_length {
        checks.push(format!("errors.max_chars({label}, value, {});", m.value));
    }
    if f.pattern.is_some() {
        let konst = format!("{}_PATTERN", name.to_uppercase());
        checks.push(format!("errors.pattern({label}, value, &{konst});"));
    }
    let bound = |v: f64| match ty {
        FieldType::I32 | FieldType::I64 => format!("{}", v as i64),
        FieldType::Decimal => {
            format!("rust_decimal::Decimal::from_f64_retain({v:?}).unwrap_or_default()")
        }
        _ => format!("{v:?}"),
    };
    if let Some(m) = &f.min {
        checks.push(format!("errors.min({label}, *value, {});", bound(m.value)));
    }
    if let Some(m) = &f.max {
        checks.push(format!("errors.max({label}, *value, {});", bound(m.value)));
    }
    let default_rust = default.as_ref().map(|d| rust_literal(ty, d, &rust_type));
    let default_sql = default.as_ref().map(|d| sql_literal(ty, d));
    let mut modifiers = Vec::new();
    if !nullable {
        modifiers.push("NOT NULL".to_string());
    }
    if let Some(d) = default_sql {
        modifiers.push(format!("DEFAULT {d}"));
    }
    if f.unique.as_ref().is_some_and(|u| u.value) {
        modifiers.push(format!(
            "CONSTRAINT {} UNIQUE",
            sql_ident(&pg_name(format!("{table}_{name}_key")))
        ));
    }
    Field {
        ident: names::rust_field_ident(&name),
        column_q: sql_ident(&name),
        row_type: wrap_option(&rust_type, nullable),
        rust_type,
        sql_type,
        sql_modifiers: modifiers.join(" "),
        nullable,
        required: !nullable && default_rust.is_none(),
        default_rust,
        parent: None,
        checks,
        is_copy,
        is_enum: ty == FieldType::Enum,
        param: 0,
        doc_type,
        name,
    }
}

fn rust_literal(ty: FieldType, v: &str, rust_type: &str) -> String {
    match ty {
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url => {
            format!("{v:?}.to_string()")
        }
        FieldType::Enum => format!("{rust_type}::{}", names::camel(v)),
        FieldType::Decimal => {
            format!("rust_decimal::Decimal::from_str_exact({v:?}).unwrap_or_default()")
        }
        FieldType::F64 if !v.contains('.') => format!("{v}.0"),
        _ => v.to_string(),
    }
}

fn sql_literal(ty: FieldType, v: &str) -> String {
    match ty {
        FieldType::Bool | FieldType::I32 | FieldType::I64 | FieldType::F64 | FieldType::Decimal => {
            v.to_string()
        }
        _ => format!("'{}'", v.replace('\'', "''")),
    }
}
