//! A JSON Schema (draft 2020-12) of the spec format, so editors validate and
//! complete `scaffold.yaml` (yaml-language-server reads the
//! `# yaml-language-server: $schema=...` line). Built from the same keyword
//! lists the parser uses, so the two cannot disagree on a spelling.

use serde_json::{Value, json};

use crate::spec::{FieldType, FilterOp, OnDelete, PkKind};

/// The file name the schema is written to in a generated service.
pub const SCHEMA_FILE: &str = "scaffold.schema.json";

pub fn spec_schema() -> Value {
    let ident = json!({ "type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$", "maxLength": 32 });
    let field_type = json!({ "enum": FieldType::NAMES });
    let field = json!({
        "oneOf": [
            { "enum": FieldType::NAMES, "description": "Short form: just the type." },
            {
                "type": "object",
                "additionalProperties": false,
                "required": ["type"],
                "properties": {
                    "type": field_type,
                    "required": { "type": "boolean", "default": true, "description": "false: nullable, and optional on create." },
                    "unique": { "type": "boolean", "default": false },
                    "default": { "type": ["string", "number", "boolean"], "description": "Used when create omits the field; also the column default." },
                    "min": { "type": "number", "description": "Inclusive lower bound (i32, i64, f64, decimal)." },
                    "max": { "type": "number", "description": "Inclusive upper bound (i32, i64, f64, decimal)." },
                    "min_length": { "type": "integer", "minimum": 0, "description": "In characters (string, text, email, url)." },
                    "max_length": { "type": "integer", "minimum": 1, "description": "In characters (string, text, email, url)." },
                    "pattern": { "type": "string", "description": "A Rust regex the value must match." },
                    "values": { "type": "array", "items": { "type": "string", "pattern": "^[a-z][a-z0-9_]*$" }, "minItems": 1, "description": "The values of an enum." },
                    "renamed_from": { "type": "string", "description": "The field's previous name: the next migration renames the column. A rename breaks replicas still running the previous version, so `scaffold generate` needs `--allow-destructive` for it." },
                    "write": {
                        "oneOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }],
                        "description": "The roles that may set the field, or `server` (no body may)."
                    }
                }
            }
        ]
    });
    let parent = json!({
        "oneOf": [
            ident.clone(),
            {
                "type": "object",
                "additionalProperties": false,
                "required": ["resource"],
                "properties": {
                    "resource": ident.clone(),
                    "on_delete": { "enum": OnDelete::NAMES, "default": "cascade" }
                }
            }
        ]
    });
    let bucket = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "capacity": { "type": "integer", "minimum": 1, "maximum": 1000000, "description": "The burst a client may send at once." },
            "refill_per_second": { "type": "number", "exclusiveMinimum": 0, "maximum": 1000000, "description": "The sustained rate; `0.1` is one request every 10 seconds." }
        }
    });
    let mut service_limit = bucket.clone();
    service_limit["properties"]["login"] = bucket.clone();
    let mut resource_limit = bucket.clone();
    resource_limit["properties"]["actions"] = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "list": bucket.clone(), "get": bucket.clone(), "create": bucket.clone(),
            "replace": bucket.clone(), "update": bucket.clone(), "delete": bucket.clone()
        }
    });
    let rule = json!({ "oneOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" }, "minItems": 1 }] });
    let duration = json!({ "type": "string", "pattern": "^[0-9]+[smhd]$" });
    let auth = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["credentials", "roles", "default_role"],
        "description": "Accounts, sessions and access rules; see docs/auth.md.",
        "properties": {
            "credentials": ident.clone(),
            "login": ident.clone(),
            "roles": { "type": "array", "items": { "type": "string", "pattern": "^[a-z][a-z0-9_]*$" }, "minItems": 1 },
            "default_role": { "type": "string" },
            "admin_role": { "type": "string" },
            "token_ttl": duration.clone(),
            "refresh_ttl": duration.clone(),
            "issuer": { "type": "string" },
            "audience": { "type": "string" },
            "password_min_length": { "type": "integer", "minimum": 8 },
            "password_max_length": { "type": "integer", "maximum": 1024 }
        }
    });
    let resource = json!({
        "type": ["object", "null"],
        "additionalProperties": false,
        "properties": {
            "plural": ident.clone(),
            "rate_limit": resource_limit,
            "cache": {
                "type": "object",
                "additionalProperties": false,
                "required": ["ttl"],
                "description": "GET by id through the cache (Redis when REDIS_URL is set, in-process otherwise); entries live `ttl` (±10%). With `lists`, list pages (direct and nested) are cached too, invalidated by every write of the resource.",
                "properties": {
                    "ttl": duration,
                    "lists": { "type": "boolean", "default": false }
                }
            },
            "list": list_schema(),
            "access": {
                "type": "object",
                "additionalProperties": false,
                "description": "Per action: `public`, `authenticated`, `owner`, a role, or a list of them (any one suffices).",
                "properties": {
                    "list": rule.clone(),
                    "get": rule.clone(),
                    "create": rule.clone(),
                    "update": rule.clone(),
                    "delete": rule
                }
            },
            "primary_key": { "enum": PkKind::NAMES, "default": "bigint" },
            "timestamps": { "type": "boolean", "default": true },
            "belongs_to": { "oneOf": [parent.clone(), { "type": "array", "items": parent }] },
            "fields": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": ident.clone(),
                "additionalProperties": field
            },
            "indexes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["columns"],
                    "properties": {
                        "columns": {
                            "type": "array",
                            "minItems": 1,
                            "items": { "type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*( (asc|desc|ASC|DESC))?$" }
                        },
                        "unique": { "type": "boolean", "default": false }
                    }
                }
            }
        }
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "scaffold spec",
        "description": "A resource spec that scaffold compiles into an axum + sqlx service.",
        "type": "object",
        "additionalProperties": false,
        "required": ["version", "service", "resources"],
        "properties": {
            "version": { "const": 1 },
            "service": { "type": "string", "pattern": "^[a-z][a-z0-9_-]*$", "maxLength": 48 },
            "auth": auth,
            "rate_limit": service_limit,
            "resources": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": ident,
                "additionalProperties": resource
            }
        }
    })
}

/// The schema as written to disk and printed by `scaffold schema`.
pub fn spec_schema_text() -> String {
    let mut text =
        serde_json::to_string_pretty(&spec_schema()).expect("JSON values always serialize");
    text.push('\n');
    text
}

/// A resource's `list`: filters, sort orders, search and counts.
fn list_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "description": "What a list request may ask for besides a page: filters (`?status=paid`, `?status.in=a,b`, `?total.gte=5`, `?note.null=true`, `?name.prefix=ab`, `?name.contains=ab`), sort orders (`?sort=-created_at`) and counts (`?count=exact`). Every filter and order is served by an index the migrations create.",
        "properties": {
            "filter": {
                "type": "object",
                "description": "Column: the operators a client may use on it.",
                "additionalProperties": {
                    "type": "array",
                    "items": { "enum": FilterOp::NAMES }
                }
            },
            "sort": {
                "type": "array",
                "description": "The orders a client may ask for, each `column` or `-column` (descending) or several comma-separated; the reverse of each is allowed too, and the id breaks ties. Sort keys must be required columns.",
                "items": { "type": "string", "pattern": "^-?[a-z][a-z0-9_]*(,-?[a-z][a-z0-9_]*)*$" }
            },
            "search": {
                "description": "The text fields `?q=` searches (full text, `websearch_to_tsquery`, a generated `tsvector` column with a GIN index): a list, or `{ fields: [...], language: english }` to stem words in one of PostgreSQL's text search configurations (`simple`, the default, does not stem).",
                "oneOf": [
                    { "type": "array", "items": { "type": "string" } },
                    {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["fields"],
                        "properties": {
                            "fields": { "type": "array", "items": { "type": "string" } },
                            "language": { "enum": crate::validate::SEARCH_LANGUAGES }
                        }
                    }
                ]
            },
            "count": { "type": "boolean", "default": false },
            "include": {
                "type": "array",
                "description": format!("The relations `?include=` may embed in each row: a parent by its resource name (`author`), or the resources that belong to this one by their plural (`comments`, at most {} per row, by id). One statement per relation for the whole page, under the included resource's access rule; `?fields=` (any list) picks keys of a row.", crate::lower::CHILDREN_LIMIT),
                "items": { "type": "string" }
            }
        }
    })
}
