//! Parameters: a resource's id in a path, the pagination cursor and, for
//! resources with `list`, the sort orders, counts and filters.

use serde_json::{Value, json};

use super::schemas::id_schema;
use super::{NO_NUL, reference};
use crate::model::{ListFilter, ListKind, Resource};

/// Cursor formats (`pagination.rs` checks the same shapes).
const CURSOR_I64: &str = "^(0|[1-9][0-9]{0,17})$";
const CURSOR_UUID: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

pub(super) fn path_param(name: &str, is_uuid: bool) -> Value {
    json!({
        "name": name,
        "in": "path",
        "required": true,
        "schema": id_schema(is_uuid),
    })
}

pub(super) fn cursor_param(is_uuid: bool) -> Value {
    json!({
        "name": "cursor",
        "in": "query",
        "required": false,
        "description": "The `next_cursor` of the previous page.",
        "schema": {
            "type": "string",
            "pattern": if is_uuid { CURSOR_UUID } else { CURSOR_I64 },
        },
    })
}

/// A `list` cursor: base64url of the last row's sort keys, id and the
/// fingerprint of the filters and order (`listing.rs`). Only the service can
/// tell a valid one, so a made-up cursor of this shape is a 400.
const LIST_CURSOR: &str = "^[A-Za-z0-9_-]{1,2048}$";

/// The query parameters of a list: the page, and with `list`, the sort
/// orders, the count and one parameter per filter operator.
pub(super) fn list_params(r: &Resource) -> Vec<Value> {
    let limit = reference("parameters", "limit");
    let Some(l) = &r.list else {
        return vec![limit, cursor_param(r.pk.is_uuid)];
    };
    let mut params = vec![
        limit,
        query_param(
            "cursor",
            "The `next_cursor` of the previous page, with the same filters and order.",
            json!({ "type": "string", "pattern": LIST_CURSOR }),
        ),
    ];
    if !l.orders.is_empty() {
        let mut names: Vec<String> = Vec::new();
        for o in &l.orders {
            names.push(o.name.clone());
            names.push(o.reverse.clone());
        }
        params.push(query_param(
            "sort",
            "The order of the rows (`-` = descending); the id breaks ties. Default: by id.",
            json!({ "type": "string", "enum": names }),
        ));
    }
    if !l.search.is_empty() {
        params.push(query_param(
            "q",
            &format!(
                "Only rows whose {} hold these words (web search syntax: `\"a phrase\"`, `or`, `-word`; any case; {}).",
                l.search
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                match l.search_language.as_str() {
                    "simple" => "words match as written, not stemmed".to_string(),
                    language => format!("{language} words match by their stem, stop words are ignored"),
                }
            ),
            json!({ "type": "string", "minLength": 1, "maxLength": 1000, "pattern": "^[^\\u0000]*[^\\u0000\\s][^\\u0000]*$" }),
        ));
    }
    if l.count {
        params.push(query_param(
            "count",
            "Add `total`: every matching row (`exact`) or the planner's estimate (`estimated`).",
            json!({ "type": "string", "enum": ["exact", "estimated"] }),
        ));
    }
    params.push(query_param(
        "fields",
        "Only these keys of each row, comma-separated (`id` is always returned).",
        json!({ "type": "string", "pattern": names_pattern(&l.fields) }),
    ));
    if !l.includes.is_empty() {
        let names: Vec<String> = l.includes.iter().map(|i| i.name.clone()).collect();
        params.push(query_param(
            "include",
            &format!(
                "Embed these relations in each row, comma-separated: a parent as an object (or null), children as a list of at most {}, by id. Each is one more statement for the whole page, under the included resource's own access rule.",
                crate::lower::CHILDREN_LIMIT
            ),
            json!({ "type": "string", "pattern": names_pattern(&names) }),
        ));
    }
    for f in &l.filters {
        for op in &f.ops {
            filter_params(f, op, &mut params);
        }
    }
    params
}

/// One or more of `names`, comma-separated.
fn names_pattern(names: &[String]) -> String {
    let one = format!("({})", names.join("|"));
    format!("^{one}(,{one})*$")
}

fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({
        "name": name,
        "in": "query",
        "required": false,
        "description": description,
        "schema": schema,
    })
}

/// The parameters one operator of a filter gives.
fn filter_params(f: &ListFilter, op: &str, params: &mut Vec<Value>) {
    let column = &f.column;
    match op {
        "eq" => params.push(query_param(
            column,
            &format!("Only rows whose `{column}` is this value."),
            value_schema(&f.kind),
        )),
        "in" => params.push(query_param(
            &format!("{column}.in"),
            &format!(
                "Only rows whose `{column}` is one of these comma-separated values (at most 100)."
            ),
            json!({ "type": "string", "pattern": in_pattern(&f.kind) }),
        )),
        "range" => {
            for (suffix, word) in [
                ("gt", "greater than"),
                ("gte", "at least"),
                ("lt", "less than"),
                ("lte", "at most"),
            ] {
                params.push(query_param(
                    &format!("{column}.{suffix}"),
                    &format!("Only rows whose `{column}` is {word} this value."),
                    value_schema(&f.kind),
                ));
            }
        }
        "null" => params.push(query_param(
            &format!("{column}.null"),
            &format!("`true`: only rows without a `{column}`; `false`: only rows with one."),
            json!({ "type": "boolean" }),
        )),
        "contains" => params.push(query_param(
            &format!("{column}.contains"),
            &format!("Only rows whose `{column}` contains this text (case-sensitive; `%` and `_` are literal)."),
            json!({ "type": "string", "minLength": 1, "pattern": "^[^\\u0000]+$" }),
        )),
        _ => params.push(query_param(
            &format!("{column}.prefix"),
            &format!("Only rows whose `{column}` starts with this text (case-sensitive)."),
            json!({ "type": "string", "minLength": 1, "pattern": "^[^\\u0000]+$" }),
        )),
    }
}

/// The schema of one filter value, as the service parses it (`Kind::parse`).
fn value_schema(kind: &ListKind) -> Value {
    match kind {
        ListKind::Int => json!({
            "type": "integer",
            "minimum": i64::MIN,
            "maximum": i64::MAX,
        }),
        ListKind::Float => json!({ "type": "number" }),
        ListKind::Decimal => json!({ "type": "string", "pattern": DECIMAL_VALUE }),
        ListKind::Text => json!({ "type": "string", "pattern": NO_NUL }),
        ListKind::Bool => json!({ "type": "boolean" }),
        ListKind::Uuid => json!({ "type": "string", "format": "uuid" }),
        ListKind::Date => json!({ "type": "string", "format": "date" }),
        ListKind::Timestamp => json!({ "type": "string", "format": "date-time" }),
        ListKind::Enum { values, .. } => json!({ "type": "string", "enum": values }),
    }
}

/// A decimal the service's parser takes whole (28 significant digits).
const DECIMAL_VALUE: &str = "^-?[0-9]{1,18}(\\.[0-9]{1,8})?$";

/// Comma-separated values of one kind, at most 100 of them.
fn in_pattern(kind: &ListKind) -> String {
    let one = match kind {
        ListKind::Int => "-?[0-9]{1,18}".to_string(),
        ListKind::Float => "-?[0-9]{1,15}(\\.[0-9]{1,15})?".to_string(),
        ListKind::Decimal => "-?[0-9]{1,18}(\\.[0-9]{1,8})?".to_string(),
        ListKind::Text => "[^\\u0000,]*".to_string(),
        ListKind::Bool => "(true|false)".to_string(),
        ListKind::Uuid => "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}".to_string(),
        ListKind::Date => "[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])".to_string(),
        ListKind::Timestamp => {
            "[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z"
                .to_string()
        }
        ListKind::Enum { values, .. } => format!("({})", values.join("|")),
    };
    format!("^{one}(,{one}){{0,99}}$")
}
