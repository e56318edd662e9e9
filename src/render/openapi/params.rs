//! Parameters: a resource's id in a path and the pagination cursor.

use serde_json::{Value, json};

use super::schemas::id_schema;

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
