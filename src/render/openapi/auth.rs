//! Auth: the account routes of a spec with `auth`, and the bearer
//! requirement each resource operation gets from its access rule.

use serde_json::{Map, Value, json};

use super::responses::{ERRORS, responses};
use super::schemas::input_properties;
use super::{NO_NUL, body, json_content, reference};
use crate::model::{Access, Resource, Service};

/// The account routes of a spec with `auth`.
pub(super) fn add_auth(
    s: &Service,
    a: &crate::model::Auth,
    paths: &mut Map<String, Value>,
    schemas: &mut Map<String, Value>,
) {
    let tag = json!(["auth"]);
    let account = &a.struct_name;
    // Registration: the account's fields any caller may write, and a password.
    let fields = a.register_fields.iter().filter(|f| f.writers.is_none());
    let (mut props, mut required) = input_properties(s, fields);
    required.insert(0, json!("password"));
    props.insert(
        "password".into(),
        json!({
            "type": "string",
            "minLength": a.password_min,
            "maxLength": a.password_max,
            "pattern": NO_NUL,
        }),
    );
    schemas.insert(
        "Registration".into(),
        json!({ "type": "object", "properties": props, "required": required, "additionalProperties": false }),
    );
    schemas.insert(
        "Login".into(),
        json!({
            "type": "object",
            "properties": {
                a.login.clone(): { "type": "string", "pattern": NO_NUL },
                // Longer than any password registration accepts, so the
                // service refuses it before hashing (422).
                "password": { "type": "string", "maxLength": a.password_max, "pattern": NO_NUL },
            },
            "required": [a.login, "password"],
            "additionalProperties": false,
        }),
    );
    schemas.insert(
        "Refresh".into(),
        json!({
            "type": "object",
            "properties": { "refresh_token": { "type": "string" } },
            "required": ["refresh_token"],
            "additionalProperties": false,
        }),
    );
    schemas.insert(
        "Logout".into(),
        json!({
            "type": "object",
            "properties": { "refresh_token": { "type": "string" } },
            "additionalProperties": false,
        }),
    );
    schemas.insert(
        "Tokens".into(),
        json!({
            "type": "object",
            "properties": {
                "access_token": { "type": "string" },
                "token_type": { "const": "Bearer" },
                "expires_in": { "type": "integer", "minimum": 0 },
                "refresh_token": { "type": "string" },
            },
            "required": ["access_token", "token_type", "expires_in", "refresh_token"],
            "additionalProperties": false,
        }),
    );
    let tokens = || json!({ "description": "A new session.", "content": json_content(reference("schemas", "Tokens")) });
    let body_errors = ["400", "401", "413", "415", "422", "429", "503"];
    paths.insert(
        "/v1/auth/register".into(),
        json!({ "post": {
            "operationId": "register",
            "summary": "Create an account",
            "tags": tag,
            "requestBody": body("Registration"),
            "responses": responses(
                ("201", json!({
                    "description": "The new account.",
                    "headers": { "Location": { "description": "The account's path.", "required": true, "schema": { "type": "string" } } },
                    "content": json_content(reference("schemas", account)),
                })),
                &["400", "409", "413", "415", "422", "429", "503"],
            ),
        }}),
    );
    paths.insert(
        "/v1/auth/login".into(),
        json!({ "post": {
            "operationId": "login",
            "summary": "Exchange a login and password for tokens",
            "tags": tag,
            "requestBody": body("Login"),
            "responses": responses(("200", tokens()), &body_errors),
        }}),
    );
    paths.insert(
        "/v1/auth/refresh".into(),
        json!({ "post": {
            "operationId": "refresh",
            "summary": "Rotate a refresh token",
            "tags": tag,
            "requestBody": body("Refresh"),
            "responses": responses(("200", tokens()), &body_errors),
        }}),
    );
    paths.insert(
        "/v1/auth/logout".into(),
        json!({ "post": {
            "operationId": "logout",
            "summary": "End a session",
            "description": "With a bearer token: revokes it and its session. With `{\"refresh_token\": ...}`: revokes that token's session, no access token needed (an unknown refresh token is a 204 as well). One of the two is required.",
            "tags": tag,
            // Either credential will do: the empty requirement makes the
            // bearer token optional when the body carries a refresh token.
            "security": [{ "bearerAuth": [] }, {}],
            "requestBody": { "required": false, "content": json_content(reference("schemas", "Logout")) },
            "responses": responses(("204", json!({ "description": "Logged out." })), &["400", "401", "413", "415", "422", "429", "503"]),
        }}),
    );
    paths.insert(
        "/v1/auth/me".into(),
        json!({ "get": {
            "operationId": "me",
            "summary": "The caller's account",
            "tags": tag,
            "security": [{ "bearerAuth": [] }],
            "responses": responses(
                ("200", json!({ "description": "The account.", "content": json_content(reference("schemas", account)) })),
                &["401", "429", "503"],
            ),
        }}),
    );
}

/// Applies a resource's access rules to its operations in `paths`: every
/// operation its rule does not make public is secured.
pub(super) fn secure_routes(r: &Resource, access: &Access, paths: &mut Map<String, Value>) {
    // A body may name a field the caller's role may not write.
    let role_writes = r
        .fields
        .iter()
        .any(|f| f.writers.as_ref().is_some_and(|w| !w.is_empty()));
    for route in &r.routes {
        let op = &mut paths[&route.openapi_path][route.method.to_lowercase()];
        let grants = access
            .rules_json
            .iter()
            .find(|(a, _)| a == route.rule)
            .map(|(_, g)| g.as_slice())
            .unwrap_or_default();
        secure(op, grants);
        if role_writes && matches!(route.method, "POST" | "PUT" | "PATCH") {
            let responses = op["responses"].as_object_mut().expect("responses");
            responses.insert("403".into(), reference("responses", "Forbidden"));
        }
    }
}

/// Adds the bearer requirement and its errors to an operation its rule does
/// not make public: 401 without a valid token, 403 when only roles are
/// granted (an `owner` or `authenticated` grant admits every signed-in caller;
/// another user's row is then a 404).
fn secure(op: &mut Value, grants: &[String]) {
    if grants.iter().any(|g| g == "public") {
        return;
    }
    op["security"] = json!([{ "bearerAuth": [] }]);
    let mut errors = vec!["401"];
    if !grants.iter().any(|g| g == "authenticated" || g == "owner") {
        errors.push("403");
    }
    let responses = op["responses"].as_object_mut().expect("responses");
    for status in errors {
        let (_, name, _) = ERRORS.iter().find(|(s, _, _)| *s == status).expect("known");
        responses.insert(status.to_string(), reference("responses", name));
    }
}
