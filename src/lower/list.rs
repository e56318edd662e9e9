//! `list`: the filters, sort orders and counts of a resource's lists, and
//! the indexes they need. Every filter and order is served by an index under
//! every scope a list has (the whole table, and each parent's nested list,
//! which is also the owner's list when the owner is a parent): a declared
//! index that starts with the needed columns, or one inferred here.

use crate::ddl;
use crate::model::{
    ColumnDef, Field, Index, IndexDef, IndexKey, ListFilter, ListKey, ListKind, ListOrder,
    ListQuery, Parent, Pk, TableDef,
};
use crate::spec::{FieldType, FilterOp, RawList, order_text, reversed};

use super::naming::pg_name;
use crate::validate::SEARCH_COLUMN;

/// What list lowering needs of the resource being lowered.
pub struct ListInput<'a> {
    pub plural: &'a str,
    pub table_q: &'a str,
    pub pk: &'a Pk,
    pub fields: &'a [Field],
    pub parents: &'a [Parent],
    pub timestamps: bool,
}

/// Lowers `list`, when the resource has one, and adds what it needs to the
/// table: the indexes no existing one serves and, with `search`, the search
/// column and its index.
pub fn add_list(
    raw: Option<&RawList>,
    input: &ListInput,
    table: &mut TableDef,
) -> (Option<ListQuery>, Vec<Index>) {
    let Some(raw) = raw else {
        return (None, Vec::new());
    };
    let (query, added, search_column) = lower_list(raw, input, &table.indexes);
    let (indexes, defs): (Vec<Index>, Vec<IndexDef>) = added.into_iter().unzip();
    table.indexes.extend(defs);
    table.columns.extend(search_column);
    (Some(query), indexes)
}

/// The kind of `column`, and whether it may be NULL.
fn kind_of(input: &ListInput, column: &str) -> (ListKind, bool) {
    let id = |uuid: bool| if uuid { ListKind::Uuid } else { ListKind::Int };
    if column == "id" {
        return (id(input.pk.is_uuid), false);
    }
    if column == "created_at" || column == "updated_at" {
        return (ListKind::Timestamp, false);
    }
    let field = input
        .fields
        .iter()
        .find(|f| f.name == column)
        .expect("validation checked the column");
    let kind = match field.spec.ty {
        None => {
            let parent = input.parents.iter().find(|p| p.column == column);
            id(parent.is_some_and(|p| p.pk_rust_type != "i64"))
        }
        Some(FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url) => {
            ListKind::Text
        }
        Some(FieldType::Bool) => ListKind::Bool,
        Some(FieldType::I32 | FieldType::I64) => ListKind::Int,
        Some(FieldType::F64) => ListKind::Float,
        Some(FieldType::Decimal) => ListKind::Decimal,
        Some(FieldType::Uuid) => ListKind::Uuid,
        Some(FieldType::Date) => ListKind::Date,
        Some(FieldType::Timestamp) => ListKind::Timestamp,
        Some(FieldType::Enum) => ListKind::Enum {
            sql_type: field.sql_type.clone(),
            values: field.spec.values.clone(),
        },
        Some(FieldType::Json) => unreachable!("validation refuses json filters and orders"),
    };
    (kind, field.nullable)
}

fn qualified(input: &ListInput, column: &str) -> String {
    format!("{}.{}", input.table_q, crate::names::sql_ident(column))
}

/// With `search`: the generated column holding the searched fields' words
/// and its GIN index, in the configuration `search: { language }` names:
/// `simple` (the default) lowercases words in any language without stemming
/// them; a language's configuration also stems them and drops its stop
/// words.
pub fn search_column(
    input: &ListInput,
    fields: &[String],
    language: &str,
) -> (ColumnDef, Index, IndexDef) {
    let text = fields
        .iter()
        .map(|f| format!("coalesce({}, '')", crate::names::sql_ident(f)))
        .collect::<Vec<_>>()
        .join(" || ' ' || ");
    let column = ColumnDef {
        name: SEARCH_COLUMN.to_string(),
        sql_type: "tsvector".to_string(),
        identity: false,
        nullable: true,
        default: None,
        generated: Some(format!("to_tsvector('{language}', {text})")),
    };
    let def = IndexDef {
        name: pg_name(format!("{}_{SEARCH_COLUMN}_idx", input.plural)),
        unique: false,
        keys: vec![key(SEARCH_COLUMN, false, None)],
        method: Some("gin".to_string()),
    };
    let index = Index {
        name: def.name.clone(),
        unique: false,
        create: ddl::create_index(input.plural, &def),
    };
    (column, index, def)
}

/// The list query of a resource with `list`, the indexes to add and, with
/// `search`, the generated column.
fn lower_list(
    raw: &RawList,
    input: &ListInput,
    existing: &[IndexDef],
) -> (ListQuery, Vec<(Index, IndexDef)>, Option<ColumnDef>) {
    let filters: Vec<ListFilter> = raw
        .filter
        .iter()
        .map(|f| {
            let column = crate::names::snake(&f.field.value);
            let (kind, nullable) = kind_of(input, &column);
            ListFilter {
                sql: qualified(input, &column),
                kind,
                nullable,
                ops: f.ops.iter().map(|op| op.value.as_str()).collect(),
                column,
            }
        })
        .collect();
    let orders: Vec<ListOrder> = raw
        .sort
        .iter()
        .map(|o| ListOrder {
            name: order_text(&o.value),
            reverse: order_text(&reversed(&o.value)),
            keys: o
                .value
                .iter()
                .map(|k| ListKey {
                    sql: qualified(input, &k.column),
                    kind: kind_of(input, &k.column).0,
                    column: k.column.clone(),
                    desc: k.desc,
                })
                .collect(),
        })
        .collect();
    let mut indexes = needed_indexes(input, existing, &filters, &orders);
    let search: Vec<String> = raw
        .search
        .iter()
        .map(|f| crate::names::snake(&f.value))
        .collect();
    // The search column is computed from the fields; its index is the one
    // GIN index `?q=` needs, under every scope (the planner combines it with
    // a scope's btree index).
    let search_language = raw
        .search_language
        .as_ref()
        .map_or("simple", |l| l.value.as_str())
        .to_string();
    let mut added_column = None;
    if !search.is_empty() {
        let (column, index, def) = search_column(input, &search, &search_language);
        indexes.push((index, def));
        added_column = Some(column);
    }
    let query = ListQuery {
        search_column: added_column.as_ref().map(|c| c.name.clone()),
        search,
        search_language,
        filters,
        orders,
        count: raw.count.as_ref().is_some_and(|c| c.value),
        fields: row_keys(input),
        // Filled in once every resource is lowered (`super::include`).
        includes: Vec::new(),
    };
    (query, indexes, added_column)
}

/// The keys of a row in a response, in column order: what `?fields=` may
/// name.
fn row_keys(input: &ListInput) -> Vec<String> {
    let mut keys = vec!["id".to_string()];
    keys.extend(input.fields.iter().map(|f| f.name.clone()));
    if input.timestamps {
        keys.extend(["created_at".to_string(), "updated_at".to_string()]);
    }
    keys
}

fn key(column: &str, desc: bool, opclass: Option<&str>) -> IndexKey {
    IndexKey {
        column: column.to_string(),
        desc,
        opclass: opclass.map(str::to_string),
    }
}

/// Whether `ix` can serve a scan in the order of `keys` (or all reversed):
/// its leading columns are these, with the same operator classes.
fn serves(ix: &IndexDef, keys: &[IndexKey], ordered: bool) -> bool {
    let same = |flip: bool| {
        ix.keys.len() >= keys.len()
            && ix.keys.iter().zip(keys).all(|(a, b)| {
                a.column == b.column
                    && a.opclass == b.opclass
                    && (!ordered || (a.desc != b.desc) == flip)
            })
    };
    same(false) || same(true)
}

/// Every (scope, columns) pair the lists filter or sort by, in a stable
/// order: orders first (their indexes end with `id`, so they also serve the
/// range filters on their first key), then filters.
fn needed_indexes(
    input: &ListInput,
    existing: &[IndexDef],
    filters: &[ListFilter],
    orders: &[ListOrder],
) -> Vec<(Index, IndexDef)> {
    let scopes: Vec<Option<&str>> = std::iter::once(None)
        .chain(input.parents.iter().map(|p| Some(p.column.as_str())))
        .collect();
    let mut wanted: Vec<(Vec<IndexKey>, bool)> = Vec::new();
    for scope in &scopes {
        let lead: Vec<IndexKey> = scope.iter().map(|c| key(c, false, None)).collect();
        for o in orders {
            let mut keys = lead.clone();
            keys.extend(o.keys.iter().map(|k| key(&k.column, k.desc, None)));
            wanted.push((keys, true));
        }
        for f in filters {
            let pattern = f.ops.contains(&FilterOp::Prefix.as_str());
            // Only a `prefix` filter needs the pattern operator class; the
            // other operators of the same column are served by either index
            // (`contains` by its trigram index, below).
            let plain = [FilterOp::Prefix.as_str(), FilterOp::Contains.as_str()];
            if f.ops.iter().any(|op| !plain.contains(op)) {
                let mut keys = lead.clone();
                keys.push(key(&f.column, false, None));
                wanted.push((keys, false));
            }
            if pattern {
                let mut keys = lead.clone();
                keys.push(key(&f.column, false, Some("text_pattern_ops")));
                wanted.push((keys, false));
            }
        }
    }
    let mut all: Vec<IndexDef> = existing.to_vec();
    let mut out = Vec::new();
    for (mut keys, ordered) in wanted {
        if all.iter().any(|ix| serves(ix, &keys, ordered)) {
            continue;
        }
        if ordered {
            let desc = keys.last().is_some_and(|k| k.desc);
            keys.push(key("id", desc, None));
        }
        let def = IndexDef {
            name: index_name(input.plural, &keys, &all),
            unique: false,
            keys,
            method: None,
        };
        add_index(input.plural, def, &mut all, &mut out);
    }
    // `contains`: a trigram GIN index of the column, under no scope (a GIN
    // index cannot lead with a btree column); in a parent's or owner's list
    // the planner combines it with the scope's btree index (a BitmapAnd).
    for f in filters
        .iter()
        .filter(|f| f.ops.contains(&FilterOp::Contains.as_str()))
    {
        let keys = vec![key(&f.column, false, Some(TRIGRAM_OPS))];
        let served = all
            .iter()
            .any(|ix| ix.method.as_deref() == Some("gin") && serves(ix, &keys, false));
        if served {
            continue;
        }
        let def = IndexDef {
            name: pg_name(format!("{}_{}_trgm_idx", input.plural, f.column)),
            unique: false,
            keys,
            method: Some("gin".to_string()),
        };
        add_index(input.plural, def, &mut all, &mut out);
    }
    out
}

/// Adds `def` to what the migration creates, and to the indexes later
/// needs are checked against.
fn add_index(
    plural: &str,
    def: IndexDef,
    all: &mut Vec<IndexDef>,
    out: &mut Vec<(Index, IndexDef)>,
) {
    let index = Index {
        name: def.name.clone(),
        unique: false,
        create: ddl::create_index(plural, &def),
    };
    out.push((index, def.clone()));
    all.push(def);
}

/// The operator class of `pg_trgm` a `contains` filter's GIN index uses.
pub const TRIGRAM_OPS: &str = "gin_trgm_ops";

/// `orders_status_created_at_desc_idx`: the columns, `desc` and `pattern`
/// where they apply, unique among the table's indexes.
fn index_name(plural: &str, keys: &[IndexKey], taken: &[IndexDef]) -> String {
    let mut parts = vec![plural.to_string()];
    for k in keys {
        parts.push(k.column.clone());
        if k.desc {
            parts.push("desc".into());
        }
        if k.opclass.is_some() {
            parts.push("pattern".into());
        }
    }
    let base = parts.join("_");
    let mut name = pg_name(format!("{base}_idx"));
    let mut n = 2;
    while taken.iter().any(|ix| ix.name == name) {
        name = pg_name(format!("{base}_{n}_idx"));
        n += 1;
    }
    name
}
