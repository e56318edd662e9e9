//! `docs.html`: the service's API reference as one static page, rendered
//! from the OpenAPI document at generation time and served at `GET /docs`.
//!
//! No script and no external asset: the page works offline and under the
//! service's strict Content-Security-Policy (it only needs inline styles).
//! Every value comes from the document and is HTML-escaped by askama.

use askama::Template;
use serde_json::{Map, Value};

#[derive(Template)]
#[template(path = "service/docs.html")]
struct Page<'a> {
    title: &'a str,
    version: &'a str,
    description: &'a str,
    has_auth: bool,
    operations: Vec<Operation>,
    schemas: Vec<Schema>,
}

struct Operation {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    secured: bool,
    parameters: Vec<Row>,
    body: Option<String>,
    responses: Vec<(String, String)>,
}

struct Schema {
    name: String,
    description: String,
    properties: Vec<Row>,
}

/// One line of a parameter or property table.
struct Row {
    name: String,
    location: String,
    required: bool,
    shape: String,
    description: String,
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The page for `document` (the service's `openapi.json`).
pub fn page(document: &Value) -> String {
    let info = &document["info"];
    let components = &document["components"];
    let mut operations = Vec::new();
    for (path, item) in object(&document["paths"]) {
        let shared = list(&item["parameters"]);
        for method in METHODS {
            let Some(op) = item.get(method) else {
                continue;
            };
            let parameters = shared
                .iter()
                .chain(list(&op["parameters"]))
                .map(|p| parameter(resolve(p, components)))
                .collect();
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            let body = schema.is_object().then(|| shape(schema));
            let responses = object(&op["responses"])
                .map(|(status, r)| (status.clone(), text(&resolve(r, components)["description"])))
                .collect();
            operations.push(Operation {
                anchor: text(&op["operationId"]),
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(&op["summary"]),
                description: text(&op["description"]),
                secured: op.get("security").is_some(),
                parameters,
                body,
                responses,
            });
        }
    }
    let schemas = object(&components["schemas"])
        .map(|(name, schema)| {
            let required = list(&schema["required"]);
            Schema {
                name: name.clone(),
                description: text(&schema["description"]),
                properties: object(&schema["properties"])
                    .map(|(field, s)| Row {
                        name: field.clone(),
                        location: String::new(),
                        required: required.iter().any(|r| r.as_str() == Some(field)),
                        shape: shape(s),
                        description: text(&s["description"]),
                    })
                    .collect(),
            }
        })
        .collect();
    let page = Page {
        title: info["title"].as_str().unwrap_or_default(),
        version: info["version"].as_str().unwrap_or_default(),
        description: info["description"].as_str().unwrap_or_default(),
        has_auth: components["securitySchemes"].is_object(),
        operations,
        schemas,
    };
    let mut html = page.render().expect("the docs template renders");
    if !html.ends_with('\n') {
        html.push('\n');
    }
    html
}

/// The entries of `value` if it is an object, borrowed (the document is
/// large: cloning its maps cost more than rendering the page).
fn object(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flat_map(Map::iter)
}

fn list(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// The component a `$ref` names (`#/components/<kind>/<name>`), or `value`.
fn resolve<'a>(value: &'a Value, components: &'a Value) -> &'a Value {
    const NULL: &Value = &Value::Null;
    match value["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/"))
    {
        Some(pointer) => components.pointer(&format!("/{pointer}")).unwrap_or(NULL),
        None => value,
    }
}

fn parameter(p: &Value) -> Row {
    Row {
        name: text(&p["name"]),
        location: text(&p["in"]),
        required: p["required"].as_bool().unwrap_or(false),
        shape: shape(&p["schema"]),
        description: text(&p["description"]),
    }
}

/// A one-line summary of a JSON Schema: its type and constraints.
fn shape(schema: &Value) -> String {
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        return name.to_string();
    }
    if let Some(options) = schema["anyOf"].as_array() {
        return options.iter().map(shape).collect::<Vec<_>>().join(" | ");
    }
    let mut parts = Vec::new();
    let types: Vec<String> = match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts.iter().map(text).collect(),
        _ => Vec::new(),
    };
    let mut kind = types
        .iter()
        .filter(|t| *t != "null")
        .cloned()
        .collect::<Vec<_>>()
        .join(" | ");
    if let Some(format) = schema["format"].as_str() {
        kind = format!("{kind} ({format})");
    }
    if schema["type"] == "array" {
        kind = format!("array of {}", shape(&schema["items"]));
    }
    if !kind.is_empty() {
        parts.push(kind);
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect();
        parts.push(format!("one of {}", values.join(", ")));
    }
    for (key, label) in [
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("minLength", "length ≥"),
        ("maxLength", "length ≤"),
    ] {
        if let Some(n) = schema[key].as_number() {
            parts.push(format!("{label} {n}"));
        }
    }
    // Every free-text string refuses U+0000 (PostgreSQL cannot store it);
    // saying so on each row would only hide the patterns that matter.
    if let Some(pattern) = schema["pattern"]
        .as_str()
        .filter(|p| *p != crate::render::openapi::NO_NUL)
    {
        parts.push(format!("matching {pattern}"));
    }
    if types.iter().any(|t| t == "null") {
        parts.push("or null".into());
    }
    parts.join(", ")
}
