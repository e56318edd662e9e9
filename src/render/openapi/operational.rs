//! The operational routes: health, metrics, and the document and its page.

use serde_json::{Map, Value, json};

use super::json_content;
use super::responses::responses;

/// Health, metrics and the document itself.
pub(super) fn add_operational(paths: &mut Map<String, Value>) {
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
    let health = json!({
        "type": "object",
        "required": ["status", "uptime_seconds", "database", "cache", "rate_limit"],
        "properties": {
            "status": { "type": "string", "enum": ["ok", "degraded"] },
            "uptime_seconds": { "type": "integer", "minimum": 0 },
            "database": { "type": "string", "enum": ["up", "down"] },
            "cache": {
                "type": "object",
                "required": ["backend", "breaker", "hits", "misses", "errors", "loads"],
                "properties": {
                    "backend": { "type": "string", "enum": ["memory", "redis"] },
                    "breaker": { "type": "string", "enum": ["closed", "open", "half_open"] },
                    "hits": { "type": "integer", "minimum": 0 },
                    "misses": { "type": "integer", "minimum": 0 },
                    "errors": { "type": "integer", "minimum": 0 },
                    "loads": { "type": "integer", "minimum": 0 },
                },
                "additionalProperties": false,
            },
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
        },
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
