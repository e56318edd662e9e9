//! The OpenAPI 3.1 document of a generated service, built from the model.
//!
//! The document is a contract that schemathesis checks against the running
//! service in both directions: everything it calls valid must be accepted and
//! everything it calls invalid must be refused. So every schema here states
//! exactly what the service's validation (`validation.rs`, the resource
//! modules, `extract.rs`, `pagination.rs`) enforces, no more and no less.
//!
//! serde_json keeps object keys sorted, so the output is deterministic.
//!
//! The document is built here from its parts: `schemas` (a field as JSON
//! Schema, the row, input, patch and page schemas), `params` (path and query
//! parameters), `responses` (the shared error responses), `paths` (the
//! routes of each resource), `auth` (the account routes and the bearer
//! requirement of each operation) and `operational` (health, metrics and the
//! document itself).

use serde_json::{Map, Value, json};

use crate::model::{JSON_MAX_DEPTH, Service};
use crate::spec::FieldType;

mod auth;
mod operational;
mod params;
mod paths;
mod responses;
mod schemas;

/// The pattern every free-text field obeys: PostgreSQL `text` cannot hold
/// U+0000, so the service refuses it (`extract.rs`) instead of failing in the
/// database.
pub const NO_NUL: &str = "^[^\\u0000]*$";

/// A decimal as the service accepts it: a JSON string of digits with an
/// optional sign and fraction, small enough for `rust_decimal` (28 digits).
pub const DECIMAL_PATTERN: &str = r"^-?[0-9]{1,18}(\.[0-9]{1,9})?$";

/// `JsonValue` (any JSON value but null, at most [`JSON_MAX_DEPTH`] levels,
/// no U+0000, which PostgreSQL jsonb cannot store) and its deeper levels
/// `JsonValue2`, `JsonValue3`, …; the last level holds scalars and empty
/// arrays and objects only.
fn add_json_value(schemas: &mut Map<String, Value>) {
    let name = |level: usize| match level {
        1 => "JsonValue".to_string(),
        n => format!("JsonValue{n}"),
    };
    for level in 1..=JSON_MAX_DEPTH {
        let mut any_of = vec![
            json!({ "type": "boolean" }),
            json!({ "type": "number" }),
            json!({ "type": "string", "pattern": NO_NUL }),
        ];
        if level < JSON_MAX_DEPTH {
            let element =
                json!({ "anyOf": [{ "type": "null" }, reference("schemas", &name(level + 1))] });
            any_of.push(json!({ "type": "array", "items": element }));
            any_of.push(json!({
                "type": "object",
                "propertyNames": { "pattern": NO_NUL },
                "additionalProperties": element,
            }));
        } else {
            // An empty array or object has no element to be deeper than:
            // one level, as the service counts it.
            // (`items` is there for client generators, which need one.)
            any_of.push(json!({ "type": "array", "maxItems": 0, "items": {} }));
            any_of.push(json!({ "type": "object", "maxProperties": 0 }));
        }
        let depth = JSON_MAX_DEPTH - level + 1;
        let description = if level == 1 {
            format!(
                "Any JSON value except null, nested at most {depth} levels deep (a scalar, or an \
                 empty array or object, is one level); no string or key may contain U+0000."
            )
        } else {
            format!("A JSON value nested at most {depth} levels deep.")
        };
        schemas.insert(
            name(level),
            json!({ "description": description, "anyOf": any_of }),
        );
    }
}

/// The OpenAPI document of the service, as a JSON value; [`to_json`] gives
/// the text of `openapi.json`.
pub fn document(s: &Service) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    // Resources some child's `on_delete: restrict` protects, found in one pass.
    let restricted: std::collections::BTreeSet<&str> = s
        .resources
        .iter()
        .flat_map(|child| &child.parents)
        .filter(|p| p.on_delete_sql == "RESTRICT")
        .map(|p| p.resource.as_str())
        .collect();
    for r in &s.resources {
        let restricted_by_children = restricted.contains(r.name.as_str());
        paths::add_resource(s, r, restricted_by_children, &mut paths, &mut schemas);
    }
    if let Some(auth) = &s.auth {
        auth::add_auth(s, auth, &mut paths, &mut schemas);
    }
    operational::add_operational(s.auth.is_some(), s.any_cache, &mut paths);
    schemas.insert("Problem".into(), schemas::problem_schema());
    if s.resources
        .iter()
        .any(|r| r.fields.iter().any(|f| f.spec.ty == Some(FieldType::Json)))
    {
        add_json_value(&mut schemas);
        schemas.insert(
            "JsonOrNull".into(),
            json!({ "anyOf": [{ "type": "null" }, reference("schemas", "JsonValue")] }),
        );
    }
    schemas.insert(
        "FieldError".into(),
        json!({
            "type": "object",
            "required": ["field", "message"],
            "properties": {
                "field": { "type": "string" },
                "message": { "type": "string" },
            },
        }),
    );
    // `json!` serializes every expression it is given into a new value, so
    // the paths and schemas (nearly the whole document) are moved in after
    // it instead of being deep-copied through it.
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": s.package,
            "version": "0.1.0",
            "description": format!(
                "The HTTP API of `{}`, generated by scaffold {} from scaffold.yaml. \
                 Every error is an RFC 9457 problem document.",
                s.package, s.stamp
            ),
        },
        "paths": {},
        "components": {
            "schemas": {},
            "responses": responses::shared_responses(),
            "securitySchemes": {
                "bearerAuth": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
            },
            "parameters": {
                "limit": {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "Page size; values above 100 are clamped to 100.",
                    "schema": {
                        "type": "integer",
                        "format": "int64",
                        "minimum": 1,
                        "maximum": i64::MAX,
                        "default": 20,
                    },
                },
            },
        },
    });
    document["paths"] = Value::Object(paths);
    document["components"]["schemas"] = Value::Object(schemas);
    document
}

/// `openapi.json`: the document pretty-printed, with a final newline.
pub fn to_json(document: &Value) -> String {
    let mut out = serde_json::to_string_pretty(document).expect("JSON values always serialize");
    out.push('\n');
    out
}

/// A `$ref` to the component `name` of `kind` (`schemas`, `responses`, ...).
fn reference(kind: &str, name: &str) -> Value {
    json!({ "$ref": format!("#/components/{kind}/{name}") })
}

/// An object of `entries`, each value moved in: `json!` serializes every
/// expression it is given into a new value, which deep-copies a subtree
/// built by another function.
fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// The `content` of a JSON request or response with `schema`.
fn json_content(schema: Value) -> Value {
    object([("application/json", object([("schema", schema)]))])
}

/// A required JSON request body of the component schema `schema_name`.
fn body(schema_name: &str) -> Value {
    object([
        ("required", Value::Bool(true)),
        ("content", json_content(reference("schemas", schema_name))),
    ])
}
