//! Naming rules shared by the validator and the lowering pass, so a name is
//! checked and computed in exactly one place.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Rust keywords (strict and reserved, 2024 edition). A field named after one
/// is emitted as a raw identifier (`r#type`).
pub const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers at all.
pub const RUST_UNRAWABLE: &[&str] = &["crate", "self", "super", "Self", "_"];

/// PostgreSQL's reserved key words (SQL Key Words appendix, "reserved" and
/// "reserved (can be function or type)"). Every identifier we emit is quoted,
/// so these are safe as column names; the list is used to say so in docs and
/// to test that quoting is in place.
pub const SQL_RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// PostgreSQL truncates identifiers longer than this many bytes, which would
/// silently merge two generated constraint names.
pub const PG_MAX_IDENT: usize = 63;

/// Is `s` an identifier a spec may use for a resource or field name? The
/// length limit keeps every derived name (enum types are resource + field)
/// within PostgreSQL's 63 bytes and generated lines readable.
pub fn is_spec_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 32
}

/// Is `s` usable as a Cargo package name (and, snake-cased, a crate name)?
pub fn is_service_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && s.len() <= 48
        && !s.ends_with('-')
        && !s.ends_with('_')
}

pub fn snake(s: &str) -> String {
    s.to_snake_case()
}

pub fn camel(s: &str) -> String {
    s.to_upper_camel_case()
}

/// English plural of a snake_case name; only the last word is inflected
/// (`order_item` → `order_items`).
pub fn plural(snake_name: &str) -> String {
    let (head, last) = match snake_name.rsplit_once('_') {
        Some((h, l)) => (format!("{h}_"), l),
        None => (String::new(), snake_name),
    };
    format!("{head}{}", pluralizer::pluralize(last, 2, false))
}

pub fn is_rust_keyword(s: &str) -> bool {
    RUST_KEYWORDS.contains(&s)
}

/// A Rust identifier for a field: raw when it is a keyword.
pub fn rust_field_ident(snake_name: &str) -> String {
    if is_rust_keyword(snake_name) {
        format!("r#{snake_name}")
    } else {
        snake_name.to_string()
    }
}

/// A double-quoted SQL identifier. Names are validated to `[a-z0-9_]`, so
/// there is never a quote to escape, but doubling keeps this correct anyway.
pub fn sql_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_inflect_the_last_word() {
        assert_eq!(plural("user"), "users");
        assert_eq!(plural("order_item"), "order_items");
        assert_eq!(plural("category"), "categories");
        assert_eq!(plural("person"), "people");
    }

    #[test]
    fn idents() {
        assert!(is_spec_ident("orderItem"));
        assert!(!is_spec_ident("../etc"));
        assert!(!is_spec_ident("9lives"));
        assert_eq!(rust_field_ident("type"), "r#type");
        assert_eq!(sql_ident("order"), "\"order\"");
        assert!(is_service_name("my-shop"));
        assert!(!is_service_name("../shop"));
        assert!(!is_service_name("Shop"));
    }
}
