//! Responses: the error responses every operation refers to, and the
//! `responses` of one operation.

use serde_json::{Map, Value, json};

use super::reference;

/// Error responses, by status. Each is `application/problem+json`.
pub(super) const ERRORS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "Malformed JSON, path or query parameter.",
    ),
    (
        "401",
        "Unauthorized",
        "No valid access token; `WWW-Authenticate: Bearer` says how to authenticate.",
    ),
    (
        "403",
        "Forbidden",
        "The caller's role is not granted this action, or may not write a field the body sets (named in `errors`).",
    ),
    ("404", "NotFound", "No such resource."),
    (
        "409",
        "Conflict",
        "A unique value is taken, or the row is still referenced.",
    ),
    (
        "413",
        "PayloadTooLarge",
        "The request body exceeds the configured limit.",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not declared as JSON.",
    ),
    (
        "422",
        "Unprocessable",
        "The body failed validation; `errors` names the fields.",
    ),
    (
        "429",
        "TooManyRequests",
        "The client's rate limit is exhausted; retry after `Retry-After` seconds.",
    ),
    (
        "503",
        "Unavailable",
        "The database is unavailable; retry after `Retry-After` seconds.",
    ),
];

pub(super) fn shared_responses() -> Value {
    let mut out = Map::new();
    for (status, name, description) in ERRORS {
        let mut response = json!({
            "description": description,
            "content": {
                "application/problem+json": { "schema": reference("schemas", "Problem") },
            },
        });
        if matches!(*status, "429" | "503") {
            response["headers"] = json!({
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "required": true,
                    "schema": { "type": "integer", "minimum": 0 },
                },
            });
        }
        if *status == "401" {
            response["headers"] = json!({
                "WWW-Authenticate": {
                    "description": "The authentication scheme: `Bearer`.",
                    "required": true,
                    "schema": { "type": "string" },
                },
            });
        }
        if *status == "429" {
            let headers = response["headers"].as_object_mut().expect("headers");
            for (name, description) in [
                ("RateLimit-Limit", "The capacity of the exhausted bucket."),
                ("RateLimit-Remaining", "Requests left in the bucket (0)."),
                ("RateLimit-Reset", "Seconds until the bucket is full again."),
            ] {
                headers.insert(
                    name.to_string(),
                    json!({
                        "description": description,
                        "required": true,
                        "schema": { "type": "integer", "minimum": 0 },
                    }),
                );
            }
        }
        out.insert((*name).to_string(), response);
    }
    Value::Object(out)
}

/// `responses` of an operation: its success response plus the listed errors.
pub(super) fn responses(success: (&str, Value), errors: &[&str]) -> Value {
    let mut out = Map::new();
    out.insert(success.0.to_string(), success.1);
    for status in errors {
        let (_, name, _) = ERRORS
            .iter()
            .find(|(s, _, _)| s == status)
            .expect("a known error status");
        out.insert((*status).to_string(), reference("responses", name));
    }
    Value::Object(out)
}
