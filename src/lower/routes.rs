//! The route table of a resource: every method on every path, with the
//! names each consumer needs (handler, path constant, OpenAPI path and
//! operation id, access rule), computed once so the router, the OpenAPI
//! document, the rate limits and `scaffold routes` cannot disagree.

use crate::model::{Resource, Route, RouteAction};

impl RouteAction {
    /// The action as the spec's `rate_limit` keys and `scaffold routes`
    /// spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteAction::List => "list",
            RouteAction::Create => "create",
            RouteAction::Get => "get",
            RouteAction::Replace => "replace",
            RouteAction::Update => "update",
            RouteAction::Delete => "delete",
        }
    }

    /// The access rule guarding the action: a full replace is an update.
    fn rule(self) -> &'static str {
        match self {
            RouteAction::Replace => "update",
            other => other.as_str(),
        }
    }

    fn method(self) -> (&'static str, &'static str) {
        match self {
            RouteAction::List | RouteAction::Get => ("GET", "get"),
            RouteAction::Create => ("POST", "post"),
            RouteAction::Replace => ("PUT", "put"),
            RouteAction::Update => ("PATCH", "patch"),
            RouteAction::Delete => ("DELETE", "delete"),
        }
    }
}

/// The routes of `r`, whose parents are already lowered. The credentials
/// resource has no create routes: registration creates its rows.
pub fn resource_routes(r: &Resource) -> Vec<Route> {
    let route = |action: RouteAction, path: String, path_const: &str, openapi_path: String| {
        let (method, method_fn) = action.method();
        Route {
            method,
            method_fn,
            action,
            // The module constant names the path below `/v1`; the router
            // registers it whole (`v1(COLLECTION)`).
            local_path: path.trim_start_matches("/v1").to_string(),
            path,
            path_const: path_const.to_string(),
            openapi_path,
            operation_id: String::new(),
            handler: String::new(),
            rule: action.rule(),
            parent: None,
        }
    };
    let item = format!("{}/{{id}}", r.route);
    // The service's route says `{id}`; the document names the parameter
    // after the resource, as the nested routes name their parents, so that
    // tools linking operations by parameter name never feed one resource's
    // id to another's route.
    let openapi_item = format!("{}/{{{}_id}}", r.route, r.name);
    let mut routes = Vec::new();
    let collection = [(RouteAction::List, "list"), (RouteAction::Create, "create")];
    for (action, handler) in collection {
        if action == RouteAction::Create && !r.creates {
            continue;
        }
        routes.push(Route {
            operation_id: match action {
                RouteAction::List => format!("list_{}", r.plural),
                _ => format!("create_{}", r.name),
            },
            handler: handler.to_string(),
            ..route(action, r.route.clone(), "COLLECTION", r.route.clone())
        });
    }
    let by_id = [
        (RouteAction::Get, "fetch"),
        (RouteAction::Replace, "replace"),
        (RouteAction::Update, "update"),
        (RouteAction::Delete, "remove"),
    ];
    for (action, handler) in by_id {
        routes.push(Route {
            operation_id: format!("{}_{}", action.as_str(), r.name),
            handler: handler.to_string(),
            ..route(action, item.clone(), "ITEM", openapi_item.clone())
        });
    }
    for p in &r.parents {
        let nested = |action, handler: &str, operation_id| Route {
            operation_id,
            handler: handler.to_string(),
            parent: Some(p.resource.clone()),
            ..route(
                action,
                p.nested_route.clone(),
                &p.route_const,
                p.nested_route.clone(),
            )
        };
        routes.push(nested(
            RouteAction::List,
            &p.list_handler,
            format!("list_{}_of_{}", r.plural, p.resource),
        ));
        if r.creates {
            routes.push(nested(
                RouteAction::Create,
                &p.create_handler,
                format!("create_{}_for_{}", r.name, p.resource),
            ));
        }
    }
    routes
}
