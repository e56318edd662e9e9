//! `list`: every filtered and sorted column exists, each operator fits its
//! column's type, and sort keys are never NULL (keyset pagination compares
//! them, and NULL compares as neither before nor after).

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostics, one_of_help};
use crate::names;
use crate::spec::{FieldType, FilterOp, OnDelete, RawList, RawResource, order_text, reversed};

/// What a list may filter or sort on: a column and what validation needs to
/// know about it.
struct Column {
    name: String,
    /// `None` for the id, parent ids and timestamps.
    ty: Option<FieldType>,
    nullable: bool,
    /// The primary key, a parent id or a timestamp: ordered, compared, never
    /// text.
    generated: bool,
}

/// The columns of `r` a list can address, in table order.
fn columns(r: &RawResource) -> Vec<Column> {
    let mut out = vec![Column {
        name: "id".into(),
        ty: None,
        nullable: false,
        generated: true,
    }];
    for p in &r.belongs_to {
        out.push(Column {
            name: format!("{}_id", names::snake(&p.resource.value)),
            ty: None,
            nullable: p
                .on_delete
                .as_ref()
                .is_some_and(|o| o.value == OnDelete::SetNull),
            generated: true,
        });
    }
    for f in &r.fields {
        out.push(Column {
            name: names::snake(&f.name.value),
            ty: f.ty.as_ref().map(|t| t.value),
            nullable: f.required.as_ref().is_some_and(|r| !r.value),
            generated: false,
        });
    }
    if r.timestamps.as_ref().is_none_or(|t| t.value) {
        for name in ["created_at", "updated_at"] {
            out.push(Column {
                name: name.into(),
                ty: Some(FieldType::Timestamp),
                nullable: false,
                generated: true,
            });
        }
    }
    out
}

/// Whether `op` can be asked of `c`, and if not, why.
fn op_fits(op: FilterOp, c: &Column) -> Result<(), &'static str> {
    use FieldType as T;
    match (op, c.ty) {
        (_, Some(T::Json)) => Err("a `json` column has no filter operators"),
        (FilterOp::Eq | FilterOp::In, _) => Ok(()),
        (FilterOp::Range, None) if c.generated => Ok(()),
        (FilterOp::Range, Some(T::I32 | T::I64 | T::F64 | T::Decimal | T::Date | T::Timestamp)) => {
            Ok(())
        }
        (FilterOp::Range, _) => Err("`range` needs a number, `date` or `timestamp` column"),
        (FilterOp::Null, _) if c.nullable => Ok(()),
        (FilterOp::Null, _) => Err("`null` needs an optional column (`required: false`)"),
        (FilterOp::Prefix, Some(T::String | T::Text | T::Email | T::Url)) => Ok(()),
        (FilterOp::Prefix, _) => Err("`prefix` needs a `string`, `text`, `email` or `url` column"),
        (FilterOp::Contains, Some(T::String | T::Text | T::Email | T::Url)) => Ok(()),
        (FilterOp::Contains, _) => {
            Err("`contains` needs a `string`, `text`, `email` or `url` column")
        }
    }
}

pub(super) fn list(r: &RawResource, diags: &mut Diagnostics) {
    let Some(list) = &r.list else { return };
    let columns = columns(r);
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let find = |name: &str| columns.iter().find(|c| c.name == name);
    for f in &list.filter {
        let Some(column) = find(&f.field.value) else {
            diags.push(
                f.field
                    .diag(format!("unknown column `{}` in `filter`", f.field.value))
                    .help(one_of_help(&f.field.value, &names)),
            );
            continue;
        };
        if f.ops.is_empty() {
            diags.push(
                f.field
                    .diag(format!("no operators for `{}`", f.field.value))
                    .help(format!(
                        "list what a client may ask of it: {}",
                        crate::spec::list(FilterOp::NAMES)
                    )),
            );
        }
        let mut seen = BTreeSet::new();
        for op in &f.ops {
            if !seen.insert(op.value) {
                diags.push(
                    op.diag(format!("operator `{}` is listed twice", op.value.as_str()))
                        .help("list each operator once"),
                );
            } else if let Err(why) = op_fits(op.value, column) {
                diags.push(
                    op.diag(format!(
                        "operator `{}` does not fit `{}`",
                        op.value.as_str(),
                        column.name
                    ))
                    .help(why),
                );
            }
        }
    }
    sort_orders(list, &columns, &names, diags);
    search(r, list, &columns, &names, diags);
}

/// `include`: each name is a parent of `r` (by resource name) or a resource
/// that belongs to `r` (by its table's plural), listed once, and not the
/// name of one of `r`'s columns (it becomes a key of the same JSON object).
pub(super) fn includes(
    r: &RawResource,
    by_name: &BTreeMap<String, &RawResource>,
    diags: &mut Diagnostics,
) {
    // The children are found by scanning every resource: only for a list
    // that names an include, or validation grows with the square of the spec.
    let Some(list) = r.list.as_ref().filter(|l| !l.include.is_empty()) else {
        return;
    };
    let me = names::snake(&r.name.value);
    let parents: Vec<String> = r
        .belongs_to
        .iter()
        .map(|p| names::snake(&p.resource.value))
        .collect();
    let children: Vec<String> = by_name
        .values()
        .filter(|c| {
            c.belongs_to
                .iter()
                .any(|p| names::snake(&p.resource.value) == me)
        })
        .map(|c| c.table_name())
        .collect();
    let known: Vec<&str> = parents
        .iter()
        .chain(&children)
        .map(String::as_str)
        .collect();
    let columns = columns(r);
    let mut seen = BTreeSet::new();
    for name in &list.include {
        if !known.contains(&name.value.as_str()) {
            let help = if known.is_empty() {
                "only a parent (`belongs_to`) or a resource that belongs to this one can be included, and this resource has neither".to_owned()
            } else {
                one_of_help(&name.value, &known)
            };
            diags.push(
                name.diag(format!("unknown relation `{}` in `include`", name.value))
                    .help(help),
            );
        } else if !seen.insert(name.value.as_str()) {
            diags.push(
                name.diag(format!("`{}` is included twice", name.value))
                    .help("list each relation once"),
            );
        } else if columns.iter().any(|c| c.name == name.value) {
            diags.push(
                name.diag(format!(
                    "the include `{}` would share its JSON key with the column `{}`",
                    name.value, name.value
                ))
                .help("rename the field, or leave the relation out of `include`"),
            );
        }
    }
}

/// The column holding the searched words; a field may not take its name.
pub const SEARCH_COLUMN: &str = "search_vector";

/// The text search configurations PostgreSQL ships (`\\dF` of a new
/// database): `simple` lowercases words, the others also stem them and drop
/// the language's stop words.
pub const SEARCH_LANGUAGES: &[&str] = &[
    "simple",
    "arabic",
    "armenian",
    "basque",
    "catalan",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hindi",
    "hungarian",
    "indonesian",
    "irish",
    "italian",
    "lithuanian",
    "nepali",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "serbian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
    "yiddish",
];

/// `search`: text fields only, each once, and no field named like the
/// generated column.
fn search(
    r: &RawResource,
    list: &RawList,
    columns: &[Column],
    names: &[&str],
    diags: &mut Diagnostics,
) {
    use FieldType as T;
    let mut seen = BTreeSet::new();
    for field in &list.search {
        let Some(column) = columns.iter().find(|c| c.name == field.value) else {
            diags.push(
                field
                    .diag(format!("unknown field `{}` in `search`", field.value))
                    .help(one_of_help(&field.value, names)),
            );
            continue;
        };
        if !seen.insert(field.value.as_str()) {
            diags.push(
                field
                    .diag(format!("`{}` is listed twice in `search`", field.value))
                    .help("list each field once"),
            );
        } else if !matches!(column.ty, Some(T::String | T::Text | T::Email | T::Url)) {
            diags.push(
                field
                    .diag(format!("cannot search `{}`: it is not text", field.value))
                    .help("search `string`, `text`, `email` or `url` fields; filter the others"),
            );
        }
    }
    if let Some(language) = &list.search_language
        && !SEARCH_LANGUAGES.contains(&language.value.as_str())
    {
        diags.push(
            language
                .diag(format!("unknown search language `{}`", language.value))
                .help(one_of_help(&language.value, SEARCH_LANGUAGES)),
        );
    }
    if !list.search.is_empty()
        && let Some(f) = r
            .fields
            .iter()
            .find(|f| names::snake(&f.name.value) == SEARCH_COLUMN)
    {
        diags.push(
            f.name
                .diag(format!(
                    "the field `{SEARCH_COLUMN}` collides with the column `search` adds"
                ))
                .help("rename the field"),
        );
    }
}

fn sort_orders(list: &RawList, columns: &[Column], names: &[&str], diags: &mut Diagnostics) {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for order in &list.sort {
        let text = order_text(&order.value);
        if seen.contains(&text) || seen.contains(&order_text(&reversed(&order.value))) {
            diags.push(
                order
                    .diag(format!(
                        "sort order `{text}` is listed twice (or with its reverse)"
                    ))
                    .help("list each order once: its reverse is allowed with it"),
            );
        }
        seen.insert(text);
        let mut keys = BTreeSet::new();
        for key in &order.value {
            let Some(column) = columns.iter().find(|c| c.name == key.column) else {
                diags.push(
                    order
                        .diag(format!("unknown column `{}` in sort order", key.column))
                        .help(one_of_help(&key.column, names)),
                );
                continue;
            };
            if !keys.insert(key.column.as_str()) {
                diags.push(
                    order
                        .diag(format!("`{}` appears twice in one sort order", key.column))
                        .help("name each column once per order"),
                );
            } else if column.nullable {
                diags.push(
                    order
                        .diag(format!("cannot sort by `{}`: it may be NULL", key.column))
                        .help("sort by required columns: the cursor of the next page compares every sort key"),
                );
            } else if column.ty == Some(FieldType::Json) {
                diags.push(
                    order
                        .diag(format!("cannot sort by `{}`, a `json` column", key.column))
                        .help("sort by a scalar column"),
                );
            }
        }
        if order.value.len() > 1 && keys.contains("id") {
            diags.push(
                order
                    .diag(format!(
                        "`id` in the multi-key order `{}`",
                        order_text(&order.value)
                    ))
                    .help("leave `id` out: every order ends with it as the tie-breaker"),
            );
        }
    }
}
