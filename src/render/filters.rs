//! The layout rules of [`super::layout`] as askama filters, so templates
//! lay out length-dependent Rust at render time and the model keeps facts.
//! Each filter takes the column its text starts at explicitly: the rule
//! needs it, and the template is where the indentation is written.

use askama::Values;

use super::facts::RouteGroup;
use super::layout;
use crate::model::{Call, Field, RuleConst};

/// `.route(PATH, get(a).post(b))` for the routes of one path.
#[askama::filter_fn]
pub fn route_call(group: &RouteGroup<'_>, _: &dyn Values, indent: usize) -> askama::Result<String> {
    let methods: Vec<(&str, &str)> = group
        .routes
        .iter()
        .map(|r| (r.method_fn, r.handler.as_str()))
        .collect();
    // The constants are the paths below `/v1` (cache keys use them too).
    let path = format!("&super::v1({})", group.path_const);
    Ok(layout::route_call(indent, &path, &methods))
}

/// `pub name: Type,` for the field `ident` of a struct.
#[askama::filter_fn]
pub fn struct_field(
    ident: &str,
    _: &dyn Values,
    ty: &str,
    indent: usize,
) -> askama::Result<String> {
    Ok(layout::struct_field(indent, ident, ty))
}

/// `callee(args);` as a statement.
#[askama::filter_fn]
pub fn call_stmt(call: &Call, _: &dyn Values, indent: usize) -> askama::Result<String> {
    Ok(layout::call_stmt(indent, "", call.callee, &call.args))
}

/// The `let` binding a create-body field before its checks.
#[askama::filter_fn]
pub fn input_let(f: &Field, _: &dyn Values, indent: usize) -> askama::Result<String> {
    let call = f.default_call.as_deref();
    Ok(layout::input_let(
        indent, &f.ident, &f.name, f.required, call,
    ))
}

/// The `let` binding a PATCH-body field before its checks.
#[askama::filter_fn]
pub fn patch_let(f: &Field, _: &dyn Values, indent: usize) -> askama::Result<String> {
    Ok(layout::patch_let(indent, &f.ident, &f.name, f.nullable))
}

/// `const NAME: &str = "value";`, the value as a Rust string literal.
#[askama::filter_fn]
pub fn const_str(name: &str, _: &dyn Values, value: &str, indent: usize) -> askama::Result<String> {
    Ok(layout::const_str(indent, name, &format!("{value:?}")))
}

/// `const NAME: &str = r#"..."#;` for an SQL statement, which holds quotes.
#[askama::filter_fn]
pub fn const_sql(name: &str, _: &dyn Values, sql: &str, indent: usize) -> askama::Result<String> {
    Ok(layout::const_str(indent, name, &format!("r#\"{sql}\"#")))
}

/// `const NAME: Rule = Rule(&[..]);` for an access rule.
#[askama::filter_fn]
pub fn const_rule(rule: &RuleConst, _: &dyn Values, indent: usize) -> askama::Result<String> {
    // Other resources' lists check it before embedding these rows
    // (`?include=`).
    Ok(layout::const_slice_call(
        indent,
        "pub(super) ",
        &rule.name,
        "Rule",
        &rule.grants,
    ))
}

/// `callee(args).await;` as a statement.
#[askama::filter_fn]
pub fn await_stmt(call: &Call, _: &dyn Values, indent: usize) -> askama::Result<String> {
    Ok(layout::await_stmt(indent, call.callee, &call.args))
}

/// Whether rustfmt keeps a struct literal of these shorthand fields on one
/// line.
#[askama::filter_fn]
pub fn struct_lit_inline(fields: &str, _: &dyn Values) -> askama::Result<bool> {
    Ok(layout::struct_lit_inline(fields))
}

/// Whether rustfmt keeps the router's `.merge(..)` chain of these modules on
/// one line.
#[askama::filter_fn]
pub fn merge_chain_inline(modules: &[String], _: &dyn Values) -> askama::Result<bool> {
    Ok(layout::merge_chain_inline(modules))
}
