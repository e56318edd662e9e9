//! A resource: its parents, fields and parameter numbering, indexes, the
//! constraint names its module maps back to request fields, its statements,
//! access rules and cache.

use std::collections::BTreeMap;

use super::access::{AccessInput, Owner, lower_access};
use super::auth::AuthCtx;
use super::field::{fk_field, lower_field, patch_checks_use_present};
use super::list::{ListInput, add_list};
use super::naming::{pg_name, pk_of, table_of};
use super::sql::{self, StatementInput};
use crate::ddl;
use crate::graph::owner_chain;
use crate::model::{
    Call, ConstraintMap, EnumType, Field, Index, IndexDef, IndexKey, Parent, Resource,
    ResourceCache, ResourceSql, TableDef,
};
use crate::names::{self, sql_ident};
use crate::spec::{OnDelete, RawParent, RawResource};

/// What every part of a resource's lowering shares.
struct Ctx<'a> {
    name: String,
    plural: String,
    by_name: &'a BTreeMap<String, &'a RawResource>,
    auth: Option<&'a AuthCtx>,
    /// The foreign key filled from the caller's token: the first step of an
    /// owner chain of length one.
    token_column: Option<String>,
}

/// One `belongs_to`: the foreign key field, the parent as the templates see
/// it (its statements are filled in once the resource's columns are known)
/// and the constraint that reports a missing parent.
fn lower_parent(c: &Ctx, p: &RawParent) -> Option<(Field, Parent, ConstraintMap)> {
    let parent_name = names::snake(&p.resource.value);
    let parent = c.by_name.get(&parent_name)?;
    let plural = &c.plural;
    let column = format!("{parent_name}_id");
    let ppk = pk_of(parent);
    let on_delete = p.on_delete.as_ref().map_or(OnDelete::Cascade, |o| o.value);
    let nullable = on_delete == OnDelete::SetNull;
    let fk_constraint = pg_name(format!("{plural}_{column}_fkey"));
    let map = ConstraintMap {
        constraint: fk_constraint.clone(),
        field: column.clone(),
        message: format!(
            "must reference an existing {}",
            parent_name.replace('_', " ")
        ),
        is_unique: false,
    };
    let field = fk_field(&column, &parent_name, &ppk, nullable);
    let parent_table = table_of(parent);
    let parent_table_q = sql_ident(&parent_table);
    let fk_index = sql::fk_index(&pg_name(format!("{plural}_{column}_idx")), &column);
    let parent_chain = c
        .auth
        .and_then(|a| owner_chain(&parent_name, &a.credentials, c.by_name));
    let parent_owner = parent_chain.as_deref().map(|chain| Owner {
        chain,
        table_q: parent_table_q.clone(),
        by_name: c.by_name,
    });
    let list_handler = format!("list_by_{parent_name}");
    let create_handler = format!("create_for_{parent_name}");
    let route_const = format!("UNDER_{}", parent_name.to_uppercase());
    let upper = parent_name.to_uppercase();
    let parent = Parent {
        struct_name: names::camel(&parent_name),
        ident: field.ident.clone(),
        column_q: field.column_q.clone(),
        pk_rust_type: ppk.rust_type,
        nested_route: format!("/v1/{parent_table}/{{{column}}}/{plural}"),
        create_index: ddl::create_index(plural, &fk_index),
        fk_index: fk_index.name,
        on_delete_sql: match on_delete {
            OnDelete::Cascade => "CASCADE",
            OnDelete::Restrict => "RESTRICT",
            OnDelete::SetNull => "SET NULL",
        },
        nullable,
        fk_constraint,
        sql_list: String::new(),
        sql_exists: sql::parent_exists(&parent_table_q, parent_owner.as_ref()),
        table_q: parent_table_q,
        table: parent_table.clone(),
        exists_scoped: parent_chain.is_some(),
        from_token: c.token_column.as_deref() == Some(column.as_str()),
        list_handler,
        create_handler,
        page_route: format!("format!(\"{{{route_const}}}:{{parent}}\")"),
        route_const,
        sql_list_const: format!("SQL_LIST_BY_{upper}"),
        fk_const: format!("FK_{upper}"),
        nested_test_call: Call {
            callee: "check_nested",
            args: vec![format!("\"{}\"", c.name), format!("\"{parent_name}\"")],
        },
        sql_exists_const: format!("SQL_{upper}_EXISTS"),
        column,
        resource: parent_name,
    };
    Some((field, parent, map))
}

/// Numbers the INSERT parameters: body fields take the first ones, the
/// owner column filled from the token comes last. Returns the next free
/// parameter.
fn number_params(fields: &mut [Field], token_column: Option<&str>) -> usize {
    let from_token = |f: &Field| Some(f.name.as_str()) == token_column;
    let mut next = 1;
    for f in fields.iter_mut().filter(|f| !from_token(f)) {
        f.param = next;
        next += 1;
    }
    for f in fields.iter_mut().filter(|f| from_token(f)) {
        f.param = next;
    }
    next
}

/// The declared indexes; a unique one also reports on its last column.
fn lower_indexes(
    r: &RawResource,
    plural: &str,
    constraints: &mut Vec<ConstraintMap>,
) -> Vec<(Index, IndexDef)> {
    let mut indexes = Vec::new();
    for ix in &r.indexes {
        let keys: Vec<IndexKey> = ix
            .columns
            .iter()
            .map(|c| IndexKey {
                column: names::snake(&c.value.name),
                desc: c.value.desc,
                opclass: None,
            })
            .collect();
        let cols: Vec<String> = keys.iter().map(|k| k.column.clone()).collect();
        let unique = ix.unique.as_ref().is_some_and(|u| u.value);
        let suffix = if unique { "key" } else { "idx" };
        let index_name = pg_name(format!("{plural}_{}_{suffix}", cols.join("_")));
        if unique {
            // A composite unique index reports on its last column: the one
            // that makes the combination a duplicate in the usual reading
            // ("this sku already exists for this supplier").
            constraints.push(ConstraintMap {
                constraint: index_name.clone(),
                field: cols[cols.len() - 1].clone(),
                message: format!(
                    "is already taken for this {}",
                    cols[..cols.len() - 1].join(", ").replace('_', " ")
                ),
                is_unique: true,
            });
        }
        let def = IndexDef {
            name: index_name,
            unique,
            keys,
            method: None,
        };
        let index = Index {
            name: def.name.clone(),
            unique,
            create: ddl::create_index(plural, &def),
        };
        indexes.push((index, def));
    }
    indexes
}

/// The constraints a field's CHECKs report as 422s.
fn check_maps(plural: &str, fields: &[Field]) -> impl Iterator<Item = ConstraintMap> {
    fields.iter().flat_map(move |f| {
        sql::checks_of(plural, f)
            .into_iter()
            .map(|c| ConstraintMap {
                constraint: c.name,
                field: f.name.clone(),
                message: c.message,
                is_unique: false,
            })
    })
}

fn lower_cache(
    r: &RawResource,
    chain: Option<&[(String, String)]>,
    token_column: Option<&str>,
) -> Option<ResourceCache> {
    r.cache.as_ref().map(|c| ResourceCache {
        ttl_decl: format!(
            "const CACHE_TTL: Duration = Duration::from_secs({});",
            c.ttl.as_ref().map_or(300, |t| t.value)
        ),
        owner_of_row: match (chain, token_column) {
            (Some([]), _) => Some("row.id".to_string()),
            (_, Some(column)) => Some(format!("row.{}", names::rust_field_ident(column))),
            _ => None,
        },
        lists: c.lists.as_ref().is_some_and(|l| l.value),
    })
}

/// What the module imports from `crate::validation`.
fn validation_import(fields: &[Field], body_fields: &[Field], parents: &[Parent]) -> String {
    let validates = body_fields.iter().any(|f| {
        f.required || !f.input_checks.is_empty() || !f.nullable || !f.patch_checks.is_empty()
    });
    let mut items = Vec::new();
    if validates {
        items.push("Validator");
    }
    if fields.iter().any(patch_checks_use_present) {
        items.push("present");
    }
    if parents.iter().any(|p| !p.from_token) {
        items.push("taken_from_path");
    }
    match items.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        many => format!("{{{}}}", many.join(", ")),
    }
}

/// The statements of the resource, and of each parent's nested routes.
fn statements(input: &StatementInput, parents: &mut [Parent]) -> (ResourceSql, Vec<String>) {
    for p in parents.iter_mut() {
        p.sql_list = input.nested_list(&p.column_q);
    }
    input.statements()
}

pub fn lower_resource(
    r: &RawResource,
    by_name: &BTreeMap<String, &RawResource>,
    all_enums: &mut Vec<EnumType>,
    auth: Option<&AuthCtx>,
) -> Resource {
    let name = names::snake(&r.name.value);
    let struct_name = names::camel(&r.name.value);
    let plural = table_of(r);
    let table_q = sql_ident(&plural);
    let route = format!("/v1/{plural}");
    let timestamps = r.timestamps.as_ref().is_none_or(|t| t.value);
    // With auth: the path of foreign keys up to the credentials resource.
    let chain = auth.and_then(|a| owner_chain(&name, &a.credentials, by_name));
    let token_column = match chain.as_deref() {
        Some([(_, column)]) => Some(column.clone()),
        _ => None,
    };
    let is_credentials = auth.is_some_and(|a| a.credentials == name);
    let c = Ctx {
        name: name.clone(),
        plural: plural.clone(),
        by_name,
        auth,
        token_column: token_column.clone(),
    };

    let (mut fields, mut parents, mut constraints) = (Vec::new(), Vec::new(), Vec::new());
    for (field, parent, map) in r.belongs_to.iter().filter_map(|p| lower_parent(&c, p)) {
        fields.push(field);
        parents.push(parent);
        constraints.push(map);
    }
    let mut enums = Vec::new();
    for f in &r.fields {
        let mut field = lower_field(&name, &struct_name, f, &mut enums);
        field.normalise = auth.is_some_and(|a| a.normalises(&name, &field));
        if field.spec.unique {
            constraints.push(ConstraintMap {
                constraint: sql::unique_name(&plural, &field),
                field: field.name.clone(),
                message: "is already taken".to_string(),
                is_unique: true,
            });
        }
        fields.push(field);
    }
    all_enums.extend(enums.iter().cloned());
    let next = number_params(&mut fields, token_column.as_deref());
    let body_fields: Vec<Field> = fields
        .iter()
        .filter(|f| Some(&f.name) != token_column.as_ref())
        .cloned()
        .collect();
    let (indexes, index_defs): (Vec<Index>, Vec<IndexDef>) =
        lower_indexes(r, &plural, &mut constraints)
            .into_iter()
            .unzip();
    constraints.extend(check_maps(&plural, &fields));

    let select_columns = sql::select_columns(&fields, timestamps);
    let owner = chain.as_deref().map(|chain| Owner {
        chain,
        table_q: table_q.clone(),
        by_name,
    });
    let input = StatementInput {
        table_q: &table_q,
        select_columns: &select_columns,
        fields: &fields,
        body_fields: &body_fields,
        timestamps,
        owner: owner.as_ref(),
        owner_param: next,
    };
    let (sql, patch_binds) = statements(&input, &mut parents);

    let pk = pk_of(r);
    let mut table = TableDef {
        name: plural.clone(),
        columns: sql::columns(&pk, &fields, is_credentials, timestamps),
        constraints: sql::constraints(&plural, &parents, &fields),
        indexes: parents
            .iter()
            .map(|p| sql::fk_index(&p.fk_index, &p.column))
            .chain(index_defs)
            .collect(),
    };
    let owner_cond = owner.as_ref().map(Owner::split_cond);
    let list_input = ListInput {
        plural: &plural,
        table_q: &table_q,
        pk: &pk,
        fields: &fields,
        parents: &parents,
        timestamps,
    };
    let (list, list_indexes) = add_list(r.list.as_ref(), &list_input, &mut table);
    let new_fields = body_fields
        .iter()
        .map(|f| f.ident.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let access = auth.map(|_| {
        lower_access(&AccessInput {
            raw: r,
            route: &route,
            is_credentials,
            body_fields: &body_fields,
            chain: chain.as_deref(),
            token_column: token_column.as_deref(),
        })
    });
    let cache = lower_cache(r, chain.as_deref(), token_column.as_deref());
    let mut resource = Resource {
        list,
        list_indexes,
        owner_cond,
        routes: Vec::new(),
        cascade_bumps: Vec::new(),
        cache_epoch: false,
        cache_lists: cache.as_ref().is_some_and(|c| c.lists),
        cache,
        creates: !is_credentials,
        access,
        label: name.replace('_', " "),
        pk,
        select_columns,
        input_validates: body_fields
            .iter()
            .any(|f| f.required || !f.input_checks.is_empty()),
        patch_validates: body_fields
            .iter()
            .any(|f| !f.nullable || !f.patch_checks.is_empty()),
        new_fields,
        has_patterns: fields.iter().any(|f| f.pattern_static.is_some()),
        create_table: ddl::create_table(&table),
        table,
        has_unique: fields.iter().any(|f| f.spec.unique),
        single_constraint: constraints.len() == 1,
        validation_import: validation_import(&fields, &body_fields, &parents),
        patch_binds,
        sql,
        body_fields,
        name,
        struct_name,
        table_q,
        route,
        timestamps,
        fields,
        parents,
        indexes,
        constraints,
        plural,
        enums,
    };
    resource.routes = super::routes::resource_routes(&resource);
    resource
}
