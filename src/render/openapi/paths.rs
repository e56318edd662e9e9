//! The routes of one resource: the collection, the item, and the nested
//! collection under each parent, with the schemas their bodies use.

use serde_json::{Map, Value, json};

use super::auth::secure_routes;
use super::params::{list_params, path_param};
use super::responses::responses;
use super::schemas::{input_schema, page_schema, patch_schema, row_schema};
use super::{body, json_content, reference};
use crate::model::{Parent, Resource, Service};

/// Adds the routes of `r` to `paths` and the schemas they use to `schemas`.
/// `restricted_by_children`: a child's `on_delete: restrict` can refuse the
/// DELETE with a 409.
pub(super) fn add_resource(
    s: &Service,
    r: &Resource,
    restricted_by_children: bool,
    paths: &mut Map<String, Value>,
    schemas: &mut Map<String, Value>,
) {
    let name = &r.struct_name;
    schemas.insert(name.clone(), row_schema(s, r));
    schemas.insert(format!("{name}Input"), input_schema(s, r, None));
    schemas.insert(format!("{name}Patch"), patch_schema(s, r));
    let counted = r.list.as_ref().is_some_and(|l| l.count);
    schemas.insert(format!("{name}Page"), page_schema(name, counted));
    let routes = Routes::new(s, r);
    paths.insert(r.route.clone(), routes.collection());

    let mut delete_errors = vec!["400", "404", "429", "503"];
    if restricted_by_children {
        delete_errors.push("409");
    }
    delete_errors.sort();
    // The service's route says `{id}`; the document names the parameter
    // after the resource, as the nested routes name their parents, so that
    // tools linking operations by parameter name never feed one resource's
    // id to another's route.
    let id_param = format!("{}_id", r.name);
    paths.insert(
        format!("{}/{{{id_param}}}", r.route),
        routes.item(&id_param, &delete_errors),
    );
    if r.cache.is_some() {
        let path = format!("{}/{{{id_param}}}", r.route);
        conditional_get(&mut paths[&path]["get"]);
    }
    for p in &r.parents {
        routes.nested(p, paths, schemas);
    }
    if let Some(access) = &r.access {
        secure_routes(r, access, &id_param, paths);
    }
}

/// What the routes of one resource share.
struct Routes<'a> {
    s: &'a Service,
    r: &'a Resource,
    /// 409: a unique value is taken, or a foreign key names a missing row.
    conflicts: bool,
    tag: Value,
}

impl<'a> Routes<'a> {
    fn new(s: &'a Service, r: &'a Resource) -> Self {
        Routes {
            s,
            r,
            conflicts: r.constraints.iter().any(|c| c.is_unique) || !r.parents.is_empty(),
            tag: json!([r.plural]),
        }
    }

    /// The content of a response that is one row.
    fn row(&self) -> Value {
        json_content(reference("schemas", &self.r.struct_name))
    }

    /// The 201 of a create route.
    fn created(&self) -> Value {
        let label = &self.r.label;
        json!({
            "description": format!("The created {label}."),
            "headers": {
                "Location": {
                    "description": "The path of the created resource.",
                    "required": true,
                    "schema": { "type": "string" },
                },
            },
            "content": self.row(),
        })
    }

    /// The errors of a route with a body, sorted: `extra` and the ones every
    /// write may give.
    fn write_errors(&self, extra: &[&'static str]) -> Vec<&'static str> {
        let mut e = vec!["400", "413", "415", "422", "429", "503"];
        if self.conflicts {
            e.push("409");
        }
        e.extend_from_slice(extra);
        e.sort();
        e
    }

    /// The collection route: list and create.
    fn collection(&self) -> Value {
        let (r, name, label, tag) = (self.r, &self.r.struct_name, &self.r.label, &self.tag);
        json!({
            "get": {
                "operationId": format!("list_{}", r.plural),
                "summary": format!("List {}, one page at a time", r.plural.replace('_', " ")),
                "tags": tag,
                "parameters": list_params(r),
                "responses": responses(
                    ("200", json!({
                        "description": page_description(r),
                        "content": json_content(reference("schemas", &format!("{name}Page"))),
                    })),
                    &["400", "429", "503"],
                ),
            },
            "post": {
                "operationId": format!("create_{}", r.name),
                "summary": format!("Create a {label}"),
                "tags": tag,
                "requestBody": body(&format!("{name}Input")),
                "responses": responses(("201", self.created()), &self.write_errors(&[])),
            },
        })
    }

    /// The item route, `{id_param}` being the resource's id: read, replace,
    /// update and delete.
    fn item(&self, id_param: &str, delete_errors: &[&str]) -> Value {
        let (r, name, label, tag) = (self.r, &self.r.struct_name, &self.r.label, &self.tag);
        let item_ok = |what: &str| json!({ "description": what, "content": self.row() });
        json!({
            "parameters": [path_param(id_param, r.pk.is_uuid)],
            "get": {
                "operationId": format!("get_{}", r.name),
                "summary": format!("Read a {label}"),
                "tags": tag,
                "responses": responses(
                    ("200", item_ok(&format!("The {label}."))),
                    &["400", "404", "429", "503"],
                ),
            },
            "put": {
                "operationId": format!("replace_{}", r.name),
                "summary": format!("Replace a {label}"),
                "tags": tag,
                "requestBody": body(&format!("{name}Input")),
                "responses": responses(
                    ("200", item_ok(&format!("The replaced {label}."))),
                    &self.write_errors(&["404"]),
                ),
            },
            "patch": {
                "operationId": format!("update_{}", r.name),
                "summary": format!("Change some fields of a {label}"),
                "description": "Absent fields are left unchanged; `null` clears a nullable field.",
                "tags": tag,
                "requestBody": body(&format!("{name}Patch")),
                "responses": responses(
                    ("200", item_ok(&format!("The updated {label}."))),
                    &self.write_errors(&["404"]),
                ),
            },
            "delete": {
                "operationId": format!("delete_{}", r.name),
                "summary": format!("Delete a {label}"),
                "tags": tag,
                "responses": responses(
                    ("204", json!({ "description": "Deleted." })),
                    delete_errors,
                ),
            },
        })
    }

    /// The collection of this resource under one parent `p`: list and create,
    /// with the input schema that leaves out the parent's column.
    fn nested(&self, p: &Parent, paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
        let (s, r, name, label, tag) = (
            self.s,
            self.r,
            &self.r.struct_name,
            &self.r.label,
            &self.tag,
        );
        let parent_uuid = s
            .resources
            .iter()
            .find(|x| x.name == p.resource)
            .is_some_and(|x| x.pk.is_uuid);
        let nested_input = format!("{name}InputUnder{}", p.struct_name);
        schemas.insert(nested_input.clone(), input_schema(s, r, Some(&p.column)));
        paths.insert(
            p.nested_route.clone(),
            json!({
                "parameters": [path_param(&p.column, parent_uuid)],
                "get": {
                    "operationId": format!("list_{}_of_{}", r.plural, p.resource),
                    "summary": format!(
                        "List the {} of one {}",
                        r.plural.replace('_', " "),
                        p.resource.replace('_', " ")
                    ),
                    "tags": tag,
                    "parameters": list_params(r),
                    "responses": responses(
                        ("200", json!({
                            "description": page_description(r),
                            "content": json_content(reference("schemas", &format!("{name}Page"))),
                        })),
                        &["400", "404", "429", "503"],
                    ),
                },
                "post": {
                    "operationId": format!("create_{}_for_{}", r.name, p.resource),
                    "summary": format!(
                        "Create a {label} of one {}",
                        p.resource.replace('_', " ")
                    ),
                    "tags": tag,
                    "requestBody": body(&nested_input),
                    "responses": responses(("201", self.created()), &self.write_errors(&["404"])),
                },
            }),
        );
    }
}

/// Cached resources answer GET by id with an ETag and honour If-None-Match
/// with a 304: the headers and the response of `get`.
fn conditional_get(get: &mut Value) {
    get["parameters"] = json!([{
        "name": "If-None-Match",
        "in": "header",
        "required": false,
        "description": "An ETag from an earlier read: 304 while the row is unchanged.",
        "schema": { "type": "string" },
    }]);
    get["responses"]["200"]["headers"] = json!({
        "ETag": {
            "description": "A hash of the row as served.",
            "required": true,
            "schema": { "type": "string" },
        },
    });
    get["responses"]["304"] = json!({
        "description": "Not modified: the row still has the ETag named in If-None-Match.",
        "headers": {
            "ETag": {
                "description": "The row's current ETag.",
                "required": true,
                "schema": { "type": "string" },
            },
        },
    });
}

/// What a list's 200 says about the order of its rows.
fn page_description(r: &Resource) -> &'static str {
    match &r.list {
        Some(l) if !l.orders.is_empty() => {
            "One page, in the order `sort` asks for (by id without it)."
        }
        _ => "One page, in id order.",
    }
}
