//! The operational routes: health, metrics, and the document and its page.

use serde_json::{Map, Value, json};

use super::json_content;
use super::responses::responses;

/// Health, metrics and the document itself. `/health` reports a `cache`
/// object only when the service has a cache (`any_cache`): a service without
/// one has no backend, breaker or counters to report, and zeros would read
/// as an idle cache that is not there. Likewise `revocations` only with
/// `auth`: where the revocation checks are answered from.
pub(super) fn add_operational(auth: bool, any_cache: bool, paths: &mut Map<String, Value>) {
    let tag = json!(["operations"]);
    let empty_ok = |what: &str| json!({ "description": what });
    paths.insert(
        "/livez".into(),
        json!({ "get": {
            "operationId": "livez",
            "summary": "Liveness: the process is running",
            "tags": tag,
            "responses": { "200": empty_ok("Alive.") },
        }}),
    );
    paths.insert(
        "/readyz".into(),
        json!({ "get": {
            "operationId": "readyz",
            "summary": "Readiness: the database is reachable and the service is not shutting down",
            "tags": tag,
            "responses": responses(("200", empty_ok("Ready.")), &["503"]),
        }}),
    );
    let mut properties = json!({
        "status": { "type": "string", "enum": ["ok", "degraded"] },
        "uptime_seconds": { "type": "integer", "minimum": 0 },
        "database": { "type": "string", "enum": ["up", "down"] },
        "database_replica": { "type": "string", "enum": ["off", "up", "down"] },
        "rate_limit": {
            "type": "object",
            "required": ["backend", "breaker", "errors"],
            "properties": {
                "backend": { "type": "string", "enum": ["memory", "redis"] },
                "breaker": { "type": "string", "enum": ["closed", "open", "half_open"] },
                "errors": { "type": "integer", "minimum": 0 },
            },
            "additionalProperties": false,
        },
    });
    // In the order the service serves them.
    let mut required = vec!["status", "uptime_seconds", "database", "database_replica"];
    if auth {
        properties["revocations"] = json!({ "type": "string", "enum": ["memory", "database"] });
        required.push("revocations");
    }
    if any_cache {
        properties["cache"] = json!({
            "type": "object",
            "required": ["backend", "breaker", "hits", "misses", "errors", "loads", "local_tier"],
            "properties": {
                "backend": { "type": "string", "enum": ["memory", "redis"] },
                "breaker": { "type": "string", "enum": ["closed", "open", "half_open"] },
                "hits": { "type": "integer", "minimum": 0 },
                "misses": { "type": "integer", "minimum": 0 },
                "errors": { "type": "integer", "minimum": 0 },
                "loads": { "type": "integer", "minimum": 0 },
                "local_tier": { "type": "string", "enum": ["off", "on", "bypassed"] },
            },
            "additionalProperties": false,
        });
        required.push("cache");
    }
    required.push("rate_limit");
    let health = json!({
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": false,
    });
    paths.insert(
        "/health".into(),
        json!({ "get": {
            "operationId": "health",
            "summary": "A health summary for dashboards and people",
            "tags": tag,
            "responses": {
                "200": { "description": "Healthy.", "content": json_content(health.clone()) },
                "503": { "description": "Degraded.", "content": json_content(health) },
            },
        }}),
    );
    paths.insert(
        "/metrics".into(),
        json!({ "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics",
            "tags": tag,
            "responses": {
                "200": {
                    "description": "The OpenMetrics text format, which Prometheus scrapes.",
                    "content": {
                        "application/openmetrics-text": { "schema": { "type": "string" } },
                    },
                },
            },
        }}),
    );
    paths.insert(
        "/docs".into(),
        json!({ "get": {
            "operationId": "docs",
            "summary": "This document as a web page",
            "tags": tag,
            "responses": {
                "200": {
                    "description": "An HTML reference of every operation and schema.",
                    "content": { "text/html": { "schema": { "type": "string" } } },
                },
            },
        }}),
    );
    paths.insert(
        "/openapi.json".into(),
        json!({ "get": {
            "operationId": "openapi",
            "summary": "This document",
            "tags": tag,
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 document of the service.",
                    "content": json_content(json!({ "type": "object" })),
                },
            },
        }}),
    );
}
