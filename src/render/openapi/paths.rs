//! The routes of one resource: the collection, the item, and the nested
//! collection under each parent, with the schemas their bodies use.

use serde_json::{Map, Value, json};

use super::auth::secure_routes;
use super::params::{list_params, path_param};
use super::responses::responses;
use super::schemas::{input_schema, list_item_schema, page_schema, patch_schema, row_schema};
use super::{body, json_content, object, reference};
use crate::model::{Parent, Resource, Route, RouteAction, Service};

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
    let item = if r.list.is_some() {
        let item = format!("{name}ListItem");
        schemas.insert(item.clone(), list_item_schema(s, r));
        item
    } else {
        name.clone()
    };
    schemas.insert(format!("{name}Page"), page_schema(&item, counted));
    let mut delete_errors = vec!["400", "404", "429", "503"];
    if restricted_by_children {
        delete_errors.push("409");
    }
    delete_errors.sort();
    let routes = Routes::new(s, r, delete_errors);
    for p in &r.parents {
        schemas.insert(routes.nested_input(p), input_schema(s, r, Some(&p.column)));
    }
    for route in &r.routes {
        let path = paths
            .entry(route.openapi_path.clone())
            .or_insert_with(|| json!({}));
        if let Some(param) = routes.path_param(route) {
            path["parameters"] = json!([param]);
        }
        path[route.method.to_lowercase()] = routes.operation(route);
    }
    if let Some(access) = &r.access {
        secure_routes(r, access, paths);
    }
}

/// What the routes of one resource share.
struct Routes<'a> {
    s: &'a Service,
    r: &'a Resource,
    /// 409: a unique value is taken, or a foreign key names a missing row.
    conflicts: bool,
    tag: Value,
    /// The errors of DELETE: a child's `on_delete: restrict` adds a 409.
    delete_errors: Vec<&'static str>,
}

impl<'a> Routes<'a> {
    fn new(s: &'a Service, r: &'a Resource, delete_errors: Vec<&'static str>) -> Self {
        Routes {
            s,
            r,
            delete_errors,
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

    /// The parent of a nested route.
    fn parent(&self, route: &Route) -> Option<&'a Parent> {
        let name = route.parent.as_ref()?;
        self.r.parents.iter().find(|p| &p.resource == name)
    }

    /// The create body under parent `p`: the input without the parent's column.
    fn nested_input(&self, p: &Parent) -> String {
        format!("{}InputUnder{}", self.r.struct_name, p.struct_name)
    }

    /// The parameter the path of `route` names: the resource's id on the
    /// item route, the parent's on a nested one.
    fn path_param(&self, route: &Route) -> Option<Value> {
        let r = self.r;
        if let Some(p) = self.parent(route) {
            let parent_uuid = self
                .s
                .resources
                .iter()
                .find(|x| x.name == p.resource)
                .is_some_and(|x| x.pk.is_uuid);
            return Some(path_param(&p.column, parent_uuid));
        }
        let by_id = !matches!(route.action, RouteAction::List | RouteAction::Create);
        by_id.then(|| path_param(&format!("{}_id", r.name), r.pk.is_uuid))
    }

    /// The operation of one route.
    fn operation(&self, route: &Route) -> Value {
        let (r, name, label, tag) = (self.r, &self.r.struct_name, &self.r.label, &self.tag);
        let item_ok = |what: String| {
            object([
                ("description", Value::String(what)),
                ("content", self.row()),
            ])
        };
        let parent = self.parent(route);
        let under = parent.map(|p| p.resource.replace('_', " "));
        let mut op = match (route.action, &under) {
            (RouteAction::List, _) => object([
                (
                    "summary",
                    Value::String(match &under {
                        Some(under) => {
                            format!("List the {} of one {under}", r.plural.replace('_', " "))
                        }
                        None => format!("List {}, one page at a time", r.plural.replace('_', " ")),
                    }),
                ),
                ("parameters", Value::Array(list_params(r))),
                (
                    "responses",
                    responses(
                        (
                            "200",
                            object([
                                ("description", page_description(r).into()),
                                (
                                    "content",
                                    json_content(reference("schemas", &format!("{name}Page"))),
                                ),
                            ]),
                        ),
                        if under.is_some() {
                            &["400", "404", "429", "503"]
                        } else {
                            &["400", "429", "503"]
                        },
                    ),
                ),
            ]),
            (RouteAction::Create, Some(under)) => object([
                (
                    "summary",
                    Value::String(format!("Create a {label} of one {under}")),
                ),
                (
                    "requestBody",
                    body(&self.nested_input(parent.expect("a nested route"))),
                ),
                (
                    "responses",
                    responses(("201", self.created()), &self.write_errors(&["404"])),
                ),
            ]),
            (RouteAction::Create, None) => object([
                ("summary", Value::String(format!("Create a {label}"))),
                ("requestBody", body(&format!("{name}Input"))),
                (
                    "responses",
                    responses(("201", self.created()), &self.write_errors(&[])),
                ),
            ]),
            (RouteAction::Get, _) => {
                let mut get = object([
                    ("summary", Value::String(format!("Read a {label}"))),
                    (
                        "responses",
                        responses(
                            ("200", item_ok(format!("The {label}."))),
                            &["400", "404", "429", "503"],
                        ),
                    ),
                ]);
                if r.cache.is_some() {
                    conditional_get(&mut get);
                }
                get
            }
            (RouteAction::Replace, _) => object([
                ("summary", Value::String(format!("Replace a {label}"))),
                ("requestBody", body(&format!("{name}Input"))),
                (
                    "responses",
                    responses(
                        ("200", item_ok(format!("The replaced {label}."))),
                        &self.write_errors(&["404"]),
                    ),
                ),
            ]),
            (RouteAction::Update, _) => object([
                (
                    "summary",
                    Value::String(format!("Change some fields of a {label}")),
                ),
                (
                    "description",
                    "Absent fields are left unchanged; `null` clears a nullable field.".into(),
                ),
                ("requestBody", body(&format!("{name}Patch"))),
                (
                    "responses",
                    responses(
                        ("200", item_ok(format!("The updated {label}."))),
                        &self.write_errors(&["404"]),
                    ),
                ),
            ]),
            (RouteAction::Delete, _) => object([
                ("summary", Value::String(format!("Delete a {label}"))),
                (
                    "responses",
                    responses(
                        ("204", json!({ "description": "Deleted." })),
                        &self.delete_errors,
                    ),
                ),
            ]),
        };
        op["operationId"] = json!(route.operation_id);
        op["tags"] = tag.clone();
        op
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
