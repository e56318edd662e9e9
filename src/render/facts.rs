//! Facts the resource template asks of a [`Resource`] without unwrapping its
//! `access`: each is a boolean or a borrowed part of the model, computed from
//! what lowering already decided, so the template still only tests and loops.

use crate::model::{ListKind, ListQuery, Parent, Resource, Route, TokenOwner};

/// The routes of one path, which the router registers in one `.route(..)`.
pub struct RouteGroup<'a> {
    pub path_const: &'a str,
    pub local_path: &'a str,
    /// The parent resource of a nested collection.
    pub parent: Option<&'a str>,
    pub routes: Vec<&'a Route>,
}

impl RouteGroup<'_> {
    /// `GET, POST`: the group's methods, for the generated README.
    pub fn methods(&self) -> String {
        self.routes
            .iter()
            .map(|r| r.method)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The full path (`/v1/orders/{id}`).
    pub fn path(&self) -> &str {
        self.routes.first().map_or("", |r| r.path.as_str())
    }

    /// What the group's routes do, for the generated README: `list
    /// (keyset pagination), create`.
    pub fn what(&self, plural: &str) -> String {
        use crate::model::RouteAction as A;
        self.routes
            .iter()
            .map(|r| match (r.action, self.parent) {
                (A::List, None) => "list (keyset pagination)".to_string(),
                (A::List, Some(parent)) => {
                    format!("the {} of one {parent}", plural.replace('_', " "))
                }
                (A::Create, None) => "create".to_string(),
                (A::Create, Some(_)) => "create, with the parent id from the path".to_string(),
                (A::Get, _) => "read".to_string(),
                (A::Replace, _) => "replace".to_string(),
                (A::Update, _) => "partial update".to_string(),
                (A::Delete, _) => "delete".to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Resource {
    /// The resource's routes grouped by path, in route order (the routes of
    /// one path are adjacent in the table).
    pub fn route_groups(&self) -> Vec<RouteGroup<'_>> {
        let mut groups: Vec<RouteGroup> = Vec::new();
        for route in &self.routes {
            match groups.last_mut() {
                Some(g) if g.path_const == route.path_const => g.routes.push(route),
                _ => groups.push(RouteGroup {
                    path_const: &route.path_const,
                    local_path: &route.local_path,
                    parent: route.parent.as_deref(),
                    routes: vec![route],
                }),
            }
        }
        groups
    }

    /// The spec has `auth`: every handler takes the optional `Caller` and
    /// checks its rule before doing anything else.
    pub fn has_auth(&self) -> bool {
        self.access.is_some()
    }

    /// The resource has an owner chain to the credentials resource, so every
    /// statement takes an owner parameter (NULL = any row).
    pub fn owned(&self) -> bool {
        self.access.as_ref().is_some_and(|a| a.owned)
    }

    /// The credentials resource, with an `admin_role` who may write `role`
    /// (without one, `role` is `write: server`).
    pub fn role_writable(&self) -> bool {
        self.is_credentials()
            && self
                .body_fields
                .iter()
                .any(|f| f.name == "role" && f.writers.as_ref().is_some_and(|w| !w.is_empty()))
    }

    /// This is the credentials resource: its rows are created by
    /// registration, which also maps its database errors.
    pub fn is_credentials(&self) -> bool {
        self.access.as_ref().is_some_and(|a| a.is_credentials)
    }

    /// Some body field may not be written by every caller: `Input` and
    /// `Patch` have `check_writers`, and the write handlers call it.
    pub fn write_checked(&self) -> bool {
        self.access
            .as_ref()
            .is_some_and(|a| !a.write_checks.is_empty())
    }

    /// The foreign key filled from the caller's token, when the resource
    /// belongs to the credentials resource directly.
    pub fn token_owner(&self) -> Option<&TokenOwner> {
        self.access.as_ref().and_then(|a| a.token_owner.as_ref())
    }

    /// The owner chain is longer than one step: the INSERT checks that the
    /// parent belongs to the caller and returns no row when it does not.
    pub fn insert_checked(&self) -> bool {
        self.access.as_ref().is_some_and(|a| a.insert_checked)
    }

    /// `insert` takes the owner: it fills the token's column, or it is the
    /// condition of a checked INSERT.
    pub fn insert_takes_owner(&self) -> bool {
        self.token_owner().is_some() || self.insert_checked()
    }

    /// The foreign key column where the owner chain starts: the parent a
    /// checked INSERT looks up to find the row's owner. Lowering walks the
    /// `belongs_to` entries in order and takes the first whose parent has a
    /// chain of its own (`exists_scoped`, true for the credentials resource
    /// itself), so the first such parent here is that step.
    pub fn owner_column(&self) -> Option<&str> {
        self.parents
            .iter()
            .find(|p| p.exists_scoped)
            .map(|p| p.column.as_str())
    }

    /// The owner a list statement is scoped to: the rule's, or none.
    /// The resource's list may embed relations (`?include=`).
    pub fn list_includes(&self) -> bool {
        self.list.as_ref().is_some_and(|l| !l.includes.is_empty())
    }

    pub fn list_owner(&self) -> &'static str {
        if self.owned() {
            "owner.map(listing::Value::from)"
        } else {
            "None"
        }
    }
}

impl ListQuery {
    /// The parent columns in `Listing::parents` order, comma-separated.
    pub fn parent_columns(parents: &[Parent]) -> String {
        parents
            .iter()
            .map(|p| p.column.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl ListKind {
    /// The `crate::listing::Kind` this kind is, as Rust; an enum's is a struct
    /// literal whose closing brace is indented by `pad` and `more` spaces.
    pub fn rust(&self, pad: &str, more: usize) -> String {
        let indent = format!("{pad}{}", " ".repeat(more));
        match self {
            ListKind::Int => "listing::Kind::Int".into(),
            ListKind::Float => "listing::Kind::Float".into(),
            ListKind::Decimal => "listing::Kind::Decimal".into(),
            ListKind::Text => "listing::Kind::Text".into(),
            ListKind::Bool => "listing::Kind::Bool".into(),
            ListKind::Uuid => "listing::Kind::Uuid".into(),
            ListKind::Date => "listing::Kind::Date".into(),
            ListKind::Timestamp => "listing::Kind::Timestamp".into(),
            ListKind::Enum { sql_type, values } => format!(
                "listing::Kind::Enum {{\n{indent}    sql_type: r#\"{sql_type}\"#,\n{indent}    values: \"{}\",\n{indent}}}",
                values.join(",")
            ),
        }
    }
}
