//! JSON Schemas: one field's value with the spec's constraints, and the row,
//! input, patch, page and problem schemas built from them.

use serde_json::{Map, Value, json};

use super::{DECIMAL_PATTERN, NO_NUL, object, reference};
use crate::model::{Field, Resource, Service};
use crate::spec::FieldType;

pub(super) fn id_schema(is_uuid: bool) -> Value {
    if is_uuid {
        json!({ "type": "string", "format": "uuid" })
    } else {
        json!({ "type": "integer", "format": "int64" })
    }
}

/// `schema` with `null` added to its type (OpenAPI 3.1 has no `nullable`).
pub(super) fn or_null(mut schema: Value) -> Value {
    // An `enum` restricts the type too: null must be one of its values.
    if let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut) {
        values.push(Value::Null);
    }
    match schema.get("type").cloned() {
        Some(Value::String(t)) => {
            schema["type"] = json!([t, "null"]);
        }
        Some(_) => {}
        None if schema.get("$ref") == Some(&json!("#/components/schemas/JsonValue")) => {
            return reference("schemas", "JsonOrNull");
        }
        None => {}
    }
    schema
}

/// The JSON schema of one field's value (never null), with the spec's constraints.
pub(super) fn value_schema(s: &Service, f: &Field) -> Value {
    let spec = &f.spec;
    let Some(ty) = spec.ty else {
        let parent_uuid = s
            .resources
            .iter()
            .find(|r| Some(&r.name) == f.parent.as_ref())
            .is_some_and(|r| r.pk.is_uuid);
        return id_schema(parent_uuid);
    };
    let mut out = Map::new();
    let mut set = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    match ty {
        FieldType::String | FieldType::Text => {
            set("type", json!("string"));
            set(
                "pattern",
                json!(spec.pattern.clone().unwrap_or_else(|| NO_NUL.to_string())),
            );
        }
        FieldType::Email => {
            // No `format: email`: validators implement that format more
            // strictly than the service's check, which is this pattern.
            set("type", json!("string"));
            set("pattern", json!(crate::spec::EMAIL_PATTERN));
            // The service caps addresses at 254 characters (RFC 5321).
            set("maxLength", json!(spec.max_length.unwrap_or(254).min(254)));
            if let Some(m) = spec.min_length {
                set("minLength", json!(m));
            }
        }
        FieldType::Url => {
            set("type", json!("string"));
            set("pattern", json!(crate::spec::URL_PATTERN));
        }
        FieldType::Bool => set("type", json!("boolean")),
        FieldType::I32 => {
            set("type", json!("integer"));
            set("format", json!("int32"));
            set(
                "minimum",
                json!(spec.min.map_or(i32::MIN as i64, |m| m as i64)),
            );
            set(
                "maximum",
                json!(spec.max.map_or(i32::MAX as i64, |m| m as i64)),
            );
        }
        FieldType::I64 => {
            set("type", json!("integer"));
            set("format", json!("int64"));
            set("minimum", json!(spec.min.map_or(i64::MIN, |m| m as i64)));
            set("maximum", json!(spec.max.map_or(i64::MAX, |m| m as i64)));
        }
        FieldType::F64 => {
            set("type", json!("number"));
            set("format", json!("double"));
            if let Some(m) = spec.min {
                set("minimum", json!(m));
            }
            if let Some(m) = spec.max {
                set("maximum", json!(m));
            }
        }
        FieldType::Decimal => {
            set("type", json!("string"));
            set("format", json!("decimal"));
            let mut pattern = DECIMAL_PATTERN.to_string();
            // A lower bound of zero or more rules out the sign; other bounds
            // cannot be written as a pattern and are described in words.
            if spec.min.is_some_and(|m| m >= 0.0) {
                pattern = pattern.replacen("-?", "", 1);
            }
            set("pattern", json!(pattern));
            let bounds: Vec<String> = [("at least", spec.min), ("at most", spec.max)]
                .into_iter()
                .filter_map(|(word, b)| b.map(|b| format!("{word} {b}")))
                .collect();
            if !bounds.is_empty() {
                set(
                    "description",
                    json!(format!("A decimal number {}.", bounds.join(" and "))),
                );
            }
        }
        FieldType::Uuid => {
            set("type", json!("string"));
            set("format", json!("uuid"));
        }
        FieldType::Date => {
            set("type", json!("string"));
            set("format", json!("date"));
        }
        FieldType::Timestamp => {
            set("type", json!("string"));
            set("format", json!("date-time"));
        }
        FieldType::Json => return reference("schemas", "JsonValue"),
        FieldType::Enum => {
            set("type", json!("string"));
            set("enum", json!(spec.values));
        }
    }
    if matches!(ty, FieldType::String | FieldType::Text | FieldType::Url) {
        if let Some(m) = spec.min_length {
            set("minLength", json!(m));
        }
        if let Some(m) = spec.max_length {
            set("maxLength", json!(m));
        }
    }
    Value::Object(out)
}

/// The row as the API returns it.
pub(super) fn row_schema(s: &Service, r: &Resource) -> Value {
    let mut props = Map::new();
    let mut required = vec![json!("id")];
    props.insert("id".into(), id_schema(r.pk.is_uuid));
    for f in &r.fields {
        let v = value_schema(s, f);
        props.insert(f.name.clone(), if f.nullable { or_null(v) } else { v });
        required.push(json!(f.name));
    }
    if r.timestamps {
        for name in ["created_at", "updated_at"] {
            props.insert(
                name.into(),
                json!({ "type": "string", "format": "date-time" }),
            );
            required.push(json!(name));
        }
    }
    object([
        ("type", "object".into()),
        ("required", Value::Array(required)),
        ("properties", Value::Object(props)),
        ("additionalProperties", Value::Bool(false)),
    ])
}

/// A row of a list with `list`: the row, where `?fields=` may leave out
/// any key but `id`, and each relation `?include=` may add (a parent or
/// `null` when it is gone or not the caller's to see; at most the cap of
/// children, by id).
pub(super) fn list_item_schema(s: &Service, r: &Resource) -> Value {
    let mut schema = row_schema(s, r);
    schema["required"] = json!(["id"]);
    let includes = r.list.iter().flat_map(|l| &l.includes);
    for i in includes {
        let target = s
            .resources
            .iter()
            .find(|t| t.name == i.module)
            .map_or(i.module.as_str(), |t| t.struct_name.as_str());
        let value = if i.many {
            json!({
                "type": "array",
                "items": reference("schemas", target),
                "maxItems": crate::lower::CHILDREN_LIMIT,
                "description": format!("With `?include={}`: the first {} by id.", i.name, crate::lower::CHILDREN_LIMIT),
            })
        } else {
            json!({
                "anyOf": [reference("schemas", target), { "type": "null" }],
                "description": format!("With `?include={}`: null when it is gone or not yours to see.", i.name),
            })
        };
        schema["properties"][&i.name] = value;
    }
    schema["description"] =
        json!("A row as a list returns it: `?fields=` may leave out any key but `id`.");
    schema
}

/// Create and replace bodies. A field with a default may be omitted or sent
/// as `null` (both mean "the default"); a nullable field may be `null`.
pub(super) fn input_schema(s: &Service, r: &Resource, nested_under: Option<&str>) -> Value {
    let fields = r
        .body_fields
        .iter()
        .filter(|f| nested_under != Some(f.name.as_str()));
    let (props, required) = input_properties(s, fields);
    let mut schema = object([
        ("type", "object".into()),
        ("properties", Value::Object(props)),
        ("additionalProperties", Value::Bool(false)),
    ]);
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    schema
}

/// The properties of a create-style body and the names it requires: a
/// required field as its value schema, any other one nullable too.
pub(super) fn input_properties<'a>(
    s: &Service,
    fields: impl Iterator<Item = &'a Field>,
) -> (Map<String, Value>, Vec<Value>) {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in fields {
        let v = value_schema(s, f);
        if f.required {
            required.push(json!(f.name));
            props.insert(f.name.clone(), v);
        } else {
            props.insert(f.name.clone(), or_null(v));
        }
    }
    (props, required)
}

/// PATCH bodies: every field optional; `null` only where the column is nullable.
pub(super) fn patch_schema(s: &Service, r: &Resource) -> Value {
    let mut props = Map::new();
    for f in &r.body_fields {
        let v = value_schema(s, f);
        props.insert(f.name.clone(), if f.nullable { or_null(v) } else { v });
    }
    object([
        ("type", "object".into()),
        ("properties", Value::Object(props)),
        ("additionalProperties", Value::Bool(false)),
        ("minProperties", 0.into()),
    ])
}

/// A page of `item`s; `counted` lists may add a `total` (`?count=`).
pub(super) fn page_schema(item: &str, counted: bool) -> Value {
    let mut schema = json!({
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": { "type": "array", "items": reference("schemas", item) },
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass back as `?cursor=` for the next page; null on the last page.",
            },
        },
        "additionalProperties": false,
    });
    if counted {
        schema["properties"]["total"] = json!({
            "type": "integer",
            "minimum": 0,
            "description": "With `?count=`: every row the filters match, exact or estimated.",
        });
    }
    schema
}

pub(super) fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "An RFC 9457 problem document.",
        "required": ["type", "title", "status", "detail", "instance", "timestamp"],
        "properties": {
            "type": { "type": "string" },
            "title": { "type": "string" },
            "status": { "type": "integer" },
            "detail": { "type": "string" },
            "instance": { "type": "string" },
            "timestamp": { "type": "string", "format": "date-time" },
            "errors": {
                "type": "array",
                "items": reference("schemas", "FieldError"),
            },
        },
    })
}
