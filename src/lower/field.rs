//! Fields: the Rust and SQL types of a column, its validation statements,
//! and its declarations in the structs of a resource module.

use super::naming::pg_name;
use super::sql::sql_literal;
use crate::ddl;
use crate::model::{Call, EnumType, EnumVariant, Field, Pk, StrConst};
use crate::names::{self, sql_ident};
use crate::spec::{FieldSpec, FieldType, RawField, SERVER_WRITE};

/// Create-body attributes of fields whose serde impl is not what the OpenAPI
/// document promises: JSON Schema counts `3.0` as an integer, and decimals
/// travel as strings of one documented shape.
const INTEGER_SERDE: &str = "#[serde(default, deserialize_with = \"crate::extract::integer\")]";
const DECIMAL_SERDE: &str = "#[serde(default, deserialize_with = \"crate::extract::decimal\")]";
/// chrono reads signed and five-digit years that PostgreSQL refuses or the
/// document's `date`/`date-time` formats cannot express; these refuse them
/// as a 422 naming the field.
const DATE_SERDE: &str = "#[serde(default, deserialize_with = \"crate::extract::date\")]";
const TIMESTAMP_SERDE: &str = "#[serde(default, deserialize_with = \"crate::extract::timestamp\")]";

/// Text types: a value is a `String`, and checks receive it as `&str`.
fn is_text(ty: FieldType) -> bool {
    matches!(
        ty,
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url
    )
}

/// Whether the PATCH checks of `f` receive its value through
/// `crate::validation::present`: a nullable text field is bound as
/// `Option<Option<String>>`, and its checks want the sent text, if any.
pub fn patch_checks_use_present(f: &Field) -> bool {
    f.nullable && f.spec.ty.is_some_and(is_text) && !f.patch_checks.is_empty()
}

fn wrap_option(t: &str, nullable: bool) -> String {
    if nullable {
        format!("Option<{t}>")
    } else {
        t.to_string()
    }
}

fn changes_type(t: &str, nullable: bool) -> String {
    if nullable {
        format!("Option<Option<{t}>>")
    } else {
        format!("Option<{t}>")
    }
}

/// The foreign key column of a `belongs_to`, typed as the parent's id.
pub fn fk_field(column: &str, parent: &str, parent_pk: &Pk, nullable: bool) -> Field {
    let ident = names::rust_field_ident(column);
    let rust_type = format!("super::{parent}::Id");
    Field {
        ident: ident.clone(),
        column_q: sql_ident(column),
        row_type: wrap_option(&rust_type, nullable),
        sql_type: parent_pk.sql_type.to_string(),
        sql_default: None,
        nullable,
        required: !nullable,
        parent: Some(parent.to_string()),
        param: 0,
        spec: FieldSpec::default(),
        default_call: None,
        input_checks: Vec::new(),
        patch_checks: Vec::new(),
        changes_type: changes_type(&rust_type, nullable),
        input_type: format!("Option<{rust_type}>"),
        patch_type: format!("Option<Option<{rust_type}>>"),
        input_serde: (!parent_pk.is_uuid).then(|| INTEGER_SERDE.to_string()),
        patch_with: if parent_pk.is_uuid {
            "double_option"
        } else {
            "crate::extract::integer_patch"
        },
        pattern_static: None,
        pattern_literal: String::new(),
        default_const: None,
        writers: None,
        normalise: false,
        new_type: wrap_option(&rust_type, nullable),
        insert_expr: None,
        rust_type,
        name: column.to_string(),
    }
}

/// A numeric bound as a Rust expression of the field's type.
fn bound_literal(ty: FieldType, v: f64) -> String {
    match ty {
        FieldType::I32 | FieldType::I64 => format!("{}", v as i64),
        FieldType::Decimal => {
            let text = format!("{v}");
            let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
            let mantissa: i64 = format!("{int}{frac}").parse().unwrap_or_default();
            format!("rust_decimal::Decimal::new({mantissa}, {})", frac.len())
        }
        _ => format!("{v:?}"),
    }
}

/// A Rust raw string literal holding `s` (regular expressions are full of
/// backslashes).
pub fn raw_string(s: &str) -> String {
    let mut hashes = String::new();
    while s.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{s}\"{hashes}")
}

fn rust_literal(ty: FieldType, v: &str, rust_type: &str) -> String {
    match ty {
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url => {
            format!("{v:?}.to_owned()")
        }
        FieldType::Enum => format!("{rust_type}::{}", names::camel(v)),
        FieldType::Decimal => bound_literal(ty, v.parse().unwrap_or_default()),
        FieldType::F64 if !v.contains('.') => format!("{v}.0"),
        _ => v.to_string(),
    }
}

/// The PostgreSQL enum type of an enum field.
fn lower_enum(resource: &str, field: &str, rust_name: &str, f: &RawField) -> EnumType {
    let sql_name = pg_name(format!("{resource}_{field}"));
    let default = f.default.as_ref().map(|d| d.value.as_str());
    let values: Vec<String> = f
        .values
        .as_ref()
        .map(|v| v.value.iter().map(|x| x.value.clone()).collect())
        .unwrap_or_default();
    let variants: Vec<EnumVariant> = values
        .iter()
        .map(|v| EnumVariant {
            rust_name: names::camel(v),
            is_default: default == Some(v.as_str()),
            value: v.clone(),
        })
        .collect();
    EnumType {
        create: ddl::create_type(&sql_name, &values),
        has_default: variants.iter().any(|v| v.is_default),
        rust_name: rust_name.to_string(),
        sql_name_q: sql_ident(&sql_name),
        sql_name,
        resource: resource.to_string(),
        field: field.to_string(),
        variants,
    }
}

/// The Rust type, the SQL type and whether the Rust type is `Copy`; an enum
/// field also declares its type in `enums`.
fn types_of(
    ty: FieldType,
    resource: &str,
    resource_struct: &str,
    name: &str,
    f: &RawField,
    enums: &mut Vec<EnumType>,
) -> (String, String, bool) {
    let (rust, sql, copy) = match ty {
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url => {
            ("String", "text", false)
        }
        FieldType::Bool => ("bool", "boolean", true),
        FieldType::I32 => ("i32", "integer", true),
        FieldType::I64 => ("i64", "bigint", true),
        FieldType::F64 => ("f64", "double precision", true),
        FieldType::Decimal => ("rust_decimal::Decimal", "numeric", true),
        FieldType::Uuid => ("uuid::Uuid", "uuid", true),
        FieldType::Date => ("chrono::NaiveDate", "date", true),
        FieldType::Timestamp => ("chrono::DateTime<chrono::Utc>", "timestamptz", true),
        FieldType::Json => ("serde_json::Value", "jsonb", false),
        FieldType::Enum => {
            let rust_name = format!("{resource_struct}{}", names::camel(name));
            let e = lower_enum(resource, name, &rust_name, f);
            let sql = e.sql_name_q.clone();
            enums.push(e);
            return (rust_name, sql, true);
        }
    };
    (rust.to_string(), sql.to_string(), copy)
}

/// The validator calls of a field, given the expression each receives the
/// value as: the validator method and the arguments after the value.
fn check_calls(
    ty: FieldType,
    f: &RawField,
    pattern_static: Option<&str>,
) -> Vec<(&'static str, Option<String>)> {
    let mut checks = Vec::new();
    match ty {
        FieldType::Email => checks.push(("v.email", None)),
        FieldType::Url => checks.push(("v.url", None)),
        FieldType::Json => checks.push((
            "v.json_depth",
            Some(crate::model::JSON_MAX_DEPTH.to_string()),
        )),
        _ => {}
    }
    if let Some(m) = &f.min_length {
        checks.push(("v.min_chars", Some(m.value.to_string())));
    }
    if let Some(m) = &f.max_length {
        checks.push(("v.max_chars", Some(m.value.to_string())));
    }
    if let Some(p) = pattern_static {
        checks.push(("v.pattern", Some(format!("&{p}"))));
    }
    if let Some(m) = &f.min {
        checks.push(("v.min", Some(bound_literal(ty, m.value))));
    }
    if let Some(m) = &f.max {
        checks.push(("v.max", Some(bound_literal(ty, m.value))));
    }
    checks
}

/// The spec's view of a field, kept for docs, samples and schema changes.
fn spec_of(ty: FieldType, f: &RawField) -> FieldSpec {
    FieldSpec {
        ty: Some(ty),
        unique: f.unique.as_ref().is_some_and(|u| u.value),
        min: f.min.as_ref().map(|m| m.value),
        max: f.max.as_ref().map(|m| m.value),
        min_length: f.min_length.as_ref().map(|m| m.value),
        max_length: f.max_length.as_ref().map(|m| m.value),
        pattern: f.pattern.as_ref().map(|p| p.value.clone()),
        values: f
            .values
            .as_ref()
            .map(|v| v.value.iter().map(|x| x.value.clone()).collect())
            .unwrap_or_default(),
        renamed_from: f.renamed_from.as_ref().map(|r| names::snake(&r.value)),
        loc: f.loc,
        path: f.path.clone(),
    }
}

pub fn lower_field(
    resource: &str,
    resource_struct: &str,
    f: &RawField,
    enums: &mut Vec<EnumType>,
) -> Field {
    let name = names::snake(&f.name.value);
    let ident = names::rust_field_ident(&name);
    let ty = f.ty.as_ref().map(|t| t.value).unwrap_or(FieldType::String);
    let nullable = f.required.as_ref().is_some_and(|r| !r.value);
    let default = f.default.as_ref().map(|d| d.value.clone());
    let (rust_type, sql_type, is_copy) = types_of(ty, resource, resource_struct, &name, f, enums);
    let is_str = is_text(ty);
    // A field not every caller may write takes its default from the
    // database, so a caller who may not send it still creates a valid row.
    let restricted = f.write.is_some();
    let default_rust = default
        .as_ref()
        .filter(|_| !restricted)
        .map(|d| rust_literal(ty, d, &rust_type));
    let required = !nullable && default_rust.is_none() && !restricted;
    // Defaults that would make long expressions live in a `const` or in the
    // enum's `Default`, so the statement using them stays short.
    let default_const = match (default.as_ref().filter(|_| !restricted), is_str) {
        (Some(d), true) => Some((format!("{}_DEFAULT", name.to_uppercase()), d.clone())),
        _ => None,
    };
    let default_call = default_rust.as_ref().map(|d| match (&default_const, ty) {
        (Some((c, _)), _) => format!("unwrap_or_else(|| {c}.to_owned())"),
        (None, FieldType::Enum) => "unwrap_or_default()".to_string(),
        (None, _) if is_copy => format!("unwrap_or({d})"),
        (None, _) => format!("unwrap_or_else(|| {d})"),
    });

    // The argument each check receives: `Option<&str>` for text, `Option<T>`
    // for numbers, built from how the local is bound in each context.
    // A `json` value is checked by reference: it is moved into the row after.
    let by_ref = ty == FieldType::Json;
    let input_arg = match (is_str, default_call.is_some()) {
        (_, false) if by_ref => format!("{ident}.as_ref()"),
        (_, true) if by_ref => format!("Some(&{ident})"),
        (true, false) => format!("{ident}.as_deref()"),
        (true, true) => format!("Some({ident}.as_str())"),
        (false, false) => ident.clone(),
        (false, true) => format!("Some({ident})"),
    };
    let patch_arg = match (is_str, nullable) {
        _ if by_ref && nullable => format!("{ident}.as_ref().and_then(Option::as_ref)"),
        _ if by_ref => format!("{ident}.as_ref()"),
        (true, false) => format!("{ident}.as_deref()"),
        (true, true) => format!("present(&{ident})"),
        (false, false) => ident.clone(),
        (false, true) => format!("{ident}.flatten()"),
    };
    let pattern_static = f
        .pattern
        .as_ref()
        .map(|_| format!("{}_PATTERN", name.to_uppercase()));
    let checks = check_calls(ty, f, pattern_static.as_deref());
    let calls = |arg: &str| -> Vec<Call> {
        checks
            .iter()
            .map(|(callee, extra)| {
                let mut args = vec![format!("\"{name}\""), arg.to_string()];
                args.extend(extra.clone());
                Call { callee, args }
            })
            .collect()
    };

    Field {
        new_type: wrap_option(&rust_type, nullable || restricted),
        insert_expr: match (restricted, default.as_ref()) {
            (true, Some(d)) => Some(sql_literal(ty, d)),
            _ => None,
        },
        normalise: false,
        writers: f.write.as_ref().map(|w| {
            w.value
                .iter()
                .filter(|x| x.value != SERVER_WRITE)
                .map(|x| x.value.clone())
                .collect()
        }),
        default_const: default_const.map(|(name, value)| StrConst { name, value }),
        default_call,
        input_checks: calls(&input_arg),
        patch_checks: calls(&patch_arg),
        changes_type: changes_type(&rust_type, nullable),
        input_type: format!("Option<{rust_type}>"),
        patch_type: format!("Option<Option<{rust_type}>>"),
        input_serde: match ty {
            FieldType::Decimal => Some(DECIMAL_SERDE.to_string()),
            FieldType::I32 | FieldType::I64 => Some(INTEGER_SERDE.to_string()),
            FieldType::Date => Some(DATE_SERDE.to_string()),
            FieldType::Timestamp => Some(TIMESTAMP_SERDE.to_string()),
            _ => None,
        },
        patch_with: match ty {
            FieldType::Decimal => "crate::extract::decimal_patch",
            FieldType::I32 | FieldType::I64 => "crate::extract::integer_patch",
            FieldType::Date => "crate::extract::date_patch",
            FieldType::Timestamp => "crate::extract::timestamp_patch",
            _ => "double_option",
        },
        pattern_literal: f
            .pattern
            .as_ref()
            .map(|p| raw_string(&p.value))
            .unwrap_or_default(),
        pattern_static,
        column_q: sql_ident(&name),
        row_type: wrap_option(&rust_type, nullable),
        rust_type,
        sql_type,
        sql_default: default.as_ref().map(|d| sql_literal(ty, d)),
        nullable,
        required,
        parent: None,
        param: 0,
        spec: spec_of(ty, f),
        ident,
        name,
    }
}
