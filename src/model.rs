//! Lower: the validated spec → the model every template reads.
//!
//! Every name a template prints is computed here, once: struct, module,
//! table, column, route, constraint and index names, the Rust and SQL types,
//! the SQL text of each statement and the validation calls of each field.
//! Templates only loop over this model and print it.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::diag::Loc;
use crate::graph::{cascade_touched, owner_chain, topological};
use crate::names::{self, PG_MAX_IDENT, sql_ident};
use crate::spec::{
    Action, FieldType, OnDelete, PkKind, RateAction, RawAuth, RawField, RawRateLimit, RawResource,
    RawSpec, Sp,
};
use crate::spec::{FieldSpec, SERVER_WRITE};

#[derive(Debug, Clone)]
pub struct Service {
    /// Cargo package name, as written in the spec (`my-shop`).
    pub package: String,
    /// Rust crate name (`my_shop`), used by the service's tests and main.rs.
    pub crate_name: String,
    /// Resources with every parent before its children, the order tables
    /// must be created in.
    pub resources: Vec<Resource>,
    pub enums: Vec<EnumType>,
    pub stamp: &'static str,
    /// Resource modules in the order rustfmt sorts `mod` items.
    pub modules_sorted: Vec<String>,
    /// Whether rustfmt keeps the router's `.merge(..)` chain on one line
    /// (it does while the chain fits in `chain_width`, 60 columns).
    pub router_inline: bool,
    /// Some resource has a unique field: the generated tests include the
    /// check for it (an unused check would be dead code).
    pub any_unique: bool,
    /// Some resource has `cache`.
    pub any_cache: bool,
    /// Some resource has `cache: { lists: true }`.
    pub any_cache_lists: bool,
    /// The `auth` section, lowered; `None` keeps every route public.
    pub auth: Option<Auth>,
    /// Some resource has a nested route the generic nested check covers
    /// (every parent except the owner taken from the token).
    pub nested_checks: bool,
    /// Rust raw string literals of the patterns the service checks `email`
    /// and `url` fields against; the OpenAPI document states the same ones.
    pub email_pattern: String,
    pub url_pattern: String,
    pub rate_limits: RateLimits,
}

/// Authentication: the credentials resource, roles and token rules.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The credentials resource's module (`user`) and row struct (`User`).
    pub module: String,
    /// The credentials resource caches its list pages: registration, which
    /// creates its rows, bumps their generation.
    pub cache_lists: bool,
    pub struct_name: String,
    pub table_q: String,
    pub route: String,
    /// Its primary key type (`i64`), and whether that is a UUID.
    pub id_is_uuid: bool,
    /// The field users log in with (`email`), as JSON name and Rust ident.
    pub login: String,
    pub login_ident: String,
    /// The generated role enum (`UserRole`) and its variants.
    pub role_enum: String,
    pub roles: Vec<EnumVariant>,
    pub default_role: String,
    pub admin_role: Option<String>,
    pub token_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    pub issuer: String,
    pub audience: String,
    pub password_min: u64,
    pub password_max: u64,
    /// `SELECT "id", "role", "password_hash" FROM .. WHERE login = $1`.
    pub sql_login: String,
    pub sql_role: String,
    pub sql_me: String,
    /// The credentials resource's INSERT with `password_hash` as the last parameter.
    pub sql_register: String,
    /// `.bind(new.x)` for every body field of a registration, in parameter order.
    pub register_binds: Vec<String>,
    /// The body fields of the credentials resource (what registration takes
    /// besides the password).
    pub register_fields: Vec<Field>,
    /// `{self, Registration, User}`, sorted the way rustfmt sorts it.
    pub module_import: String,
}

/// Token buckets per client, from the spec's `rate_limit` keys (or defaults).
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Every API request of a client draws from this bucket.
    pub global: Bucket,
    /// For a login route: a much smaller bucket, so password guessing is slow.
    pub login: Bucket,
    /// Routes with a bucket of their own (resource or action level), in
    /// route order; every other API route draws from `global` only.
    pub routes: Vec<RouteLimit>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub capacity: u64,
    pub refill_per_second: f64,
    /// `Policy::new(100, 50.0)`, as the service's `rate_limit.rs` writes it.
    pub rust: String,
}

impl Bucket {
    fn new(capacity: u64, refill_per_second: f64) -> Self {
        Bucket {
            capacity,
            refill_per_second,
            rust: format!("Policy::new({capacity}, {refill_per_second:?})"),
        }
    }
}

/// The bucket of one route (method and axum route template).
#[derive(Debug, Clone)]
pub struct RouteLimit {
    pub method: &'static str,
    pub route: String,
    /// The bucket's name: `order` for a resource-wide bucket shared by its
    /// routes, `order.create` for an action's own.
    pub scope: String,
    pub bucket: Bucket,
}

/// Used when the spec sets no service-wide `rate_limit`: generous for one
/// client, yet a flood from one address is cut off within a second.
pub const DEFAULT_RATE_LIMIT: (u64, f64) = (100, 50.0);
/// Used when the spec sets no `rate_limit.login`: a burst of 5 attempts, then
/// one every 10 seconds.
pub const DEFAULT_LOGIN_RATE_LIMIT: (u64, f64) = (5, 0.1);

#[derive(Debug, Clone)]
pub struct Resource {
    /// snake_case singular (`order_item`).
    pub name: String,
    /// UpperCamelCase (`OrderItem`).
    pub struct_name: String,
    /// snake_case plural (`order_items`), also the table name.
    pub plural: String,
    /// The table, quoted for SQL.
    pub table_q: String,
    /// The collection route (`/v1/order_items`).
    pub route: String,
    /// Human label for docs and messages (`order item`).
    pub label: String,
    pub pk: Pk,
    pub timestamps: bool,
    /// Foreign key columns first, then the spec's fields, in spec order.
    pub fields: Vec<Field>,
    pub parents: Vec<Parent>,
    pub indexes: Vec<Index>,
    /// Comma-separated quoted columns of a full row, for SELECT and RETURNING.
    pub select_columns: String,
    /// Quoted columns of an INSERT and its `$n` placeholders.
    pub insert_columns: String,
    pub insert_placeholders: String,
    /// `"a" = $1, "b" = $2, ...` for a full replacement (PUT).
    pub update_set: String,
    /// `$n` of the id in the UPDATE statement.
    pub update_id_param: String,
    /// Constraint names mapped to the field they report on (unique and
    /// foreign-key violations).
    pub constraints: Vec<ConstraintMap>,
    pub pk_constraint: String,
    /// Enum types declared by this resource's fields.
    pub enums: Vec<EnumType>,
    /// The statements of the resource module, as SQL text.
    pub sql: ResourceSql,
    /// `let (Some(a), Some(b)) = (a, b) else {` for the required fields of a
    /// create body; empty when nothing is required.
    pub required_destructure: String,
    /// The validated create struct's fields in shorthand (`email, name`) and
    /// whether rustfmt keeps that literal on one line.
    pub new_fields: String,
    pub new_fields_inline: bool,
    pub changes_fields: String,
    pub changes_fields_inline: bool,
    /// Whether create or PATCH validation records any error at all (otherwise
    /// the validator is not created).
    pub input_validates: bool,
    pub patch_validates: bool,
    /// `.bind(..)` arguments of the PATCH statement after the id.
    pub patch_binds: Vec<String>,
    pub has_patterns: bool,
    /// Some field is `unique` (the generated tests check the 409).
    pub has_unique: bool,
    /// `const COLLECTION`, `const ITEM` and the nested routes' consts, each
    /// with its doc comment, laid out as rustfmt does.
    pub route_consts: Vec<String>,
    /// `const SQL_DELETE: &str = ...;`
    pub sql_delete_decl: String,
    /// rustfmt writes a one-element array of a struct literal as `&[Constraint {`.
    pub single_constraint: bool,
    /// The lines between `CREATE TABLE (` and `);`, commas included.
    pub table_lines: Vec<String>,
    /// The table's columns and named constraints, as the schema state that
    /// later migrations are computed against.
    pub columns: Vec<ColumnDef>,
    pub constraint_defs: Vec<NamedDef>,
    /// What the module imports from `crate::validation` (`Validator`,
    /// `{Validator, taken_from_path}`, or nothing).
    pub validation_import: String,
    /// The fields a request body may carry: every field but the owner column
    /// that is taken from the caller's token.
    pub body_fields: Vec<Field>,
    /// Access control; `None` when the spec has no `auth` section.
    pub access: Option<Access>,
    /// `cache:` in the spec: GET by id goes through the service's cache.
    pub cache: Option<ResourceCache>,
    /// The resource has create routes (all but the credentials resource,
    /// whose rows are created by registration).
    pub creates: bool,
    /// The counters to bump after a DELETE of this resource, because the
    /// database itself deletes or changes rows of other cached resources
    /// (`on_delete: cascade`, transitively, or `set_null`): the functions
    /// naming their list generation (`super::order::generation`) and by-id
    /// epoch (`super::order::epoch`).
    pub cascade_bumps: Vec<String>,
    /// `cache: { lists: true }`.
    pub cache_lists: bool,
    /// The resource is cached and a parent's DELETE changes its rows in the
    /// database: its by-id entries are stored under an epoch counter that
    /// such a DELETE bumps.
    pub cache_epoch: bool,
}

/// A resource's access rules, lowered.
#[derive(Debug, Clone)]
pub struct Access {
    /// `const LIST: Rule = ...;` for each action, with the doc line above it.
    pub rules: Vec<RuleConst>,
    /// The resource has a `belongs_to` chain to the credentials resource, so
    /// every statement takes an owner parameter (NULL = any row).
    pub owned: bool,
    /// This is the credentials resource: rows are created by registration.
    pub is_credentials: bool,
    /// The foreign key filled from the caller's token (`user_id`), when the
    /// resource belongs to the credentials resource directly.
    pub token_owner: Option<TokenOwner>,
    /// The owner chain is longer than one step: an INSERT checks that the
    /// parent belongs to the caller and returns no row when it does not.
    pub insert_checked: bool,
    /// `w.check(..)` statements for fields not every caller may write.
    pub write_checks: Vec<String>,
    /// What the module imports from `crate::auth`.
    pub auth_import: String,
    /// Which actions' rules include `owner`, by action name, for the tests.
    pub rules_json: Vec<(String, Vec<String>)>,
}

/// Cache-aside for GET by id. Entries are keyed by id alone and hold the
/// whole row; a hit is checked against the caller like the SQL would.
#[derive(Debug, Clone)]
pub struct ResourceCache {
    /// `const CACHE_TTL: Duration = Duration::from_secs(300);`
    pub ttl_decl: String,
    /// For owned resources, the owner of a cached `row` (`row.user_id`; the
    /// credentials resource owns itself: `row.id`).
    pub owner_of_row: Option<String>,
    /// `lists: true`: list pages (direct and nested) are cached too, keyed by
    /// the resource's generation, which every write bumps.
    pub lists: bool,
}

#[derive(Debug, Clone)]
pub struct RuleConst {
    pub name: String,
    pub doc: String,
    pub decl: String,
}

#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub column: String,
    pub ident: String,
    pub parent: String,
}

#[derive(Debug, Clone)]
pub struct ResourceSql {
    pub list: String,
    pub get: String,
    pub insert: String,
    pub replace: String,
    pub patch: String,
    pub delete: String,
}

/// A column: its name and everything after the name in `CREATE TABLE`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnDef {
    pub name: String,
    pub definition: String,
}

/// A named constraint or index and its definition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NamedDef {
    pub name: String,
    pub definition: String,
}

#[derive(Debug, Clone)]
pub struct Pk {
    pub rust_type: &'static str,
    pub sql_type: &'static str,
    /// The column definition after the name.
    pub sql_decl: &'static str,
    pub is_uuid: bool,
}

#[derive(Debug, Clone)]
pub struct Field {
    /// The JSON property and the column name (snake_case).
    pub name: String,
    /// The Rust identifier (raw when a keyword: `r#type`).
    pub ident: String,
    /// The column, quoted for SQL.
    pub column_q: String,
    /// The Rust type of a value (`String`, `i64`, `OrderStatus`).
    pub rust_type: String,
    /// The Rust type in the row struct (`Option<..>` when nullable).
    pub row_type: String,
    /// The Rust type in the validated create struct: the row type, except
    /// that a field only some callers may write stays optional (absent =
    /// the column default on create, unchanged on a full replace).
    pub new_type: String,
    /// How INSERT and a full-replace UPDATE write the parameter: `$n`, or
    /// `COALESCE($n, <default>)` / `COALESCE($n, "column")` for such fields.
    pub insert_expr: Option<String>,
    /// The SQL column type (`text`, `bigint`, `"order_status"`).
    pub sql_type: String,
    /// The column definition after the type (`NOT NULL DEFAULT 'pending'`).
    pub sql_modifiers: String,
    pub nullable: bool,
    /// Missing on create is a validation error.
    pub required: bool,
    /// A Rust expression for the value used when create omits the field.
    pub default_rust: Option<String>,
    /// A foreign key to a parent resource.
    pub parent: Option<String>,
    /// The type is `Copy`, so a value is passed by value, not borrowed.
    pub is_copy: bool,
    pub is_enum: bool,
    /// Position in the INSERT placeholder list (1-based).
    pub param: usize,
    /// Human-readable type for docs.
    pub doc_type: String,
    /// Statements validating this field in a create body (`input_*`) and a
    /// PATCH body (`patch_*`): the `let` that binds it, then the checks.
    pub input_let: String,
    pub input_checks: Vec<String>,
    pub patch_let: String,
    pub patch_checks: Vec<String>,
    /// The field's type in the validated PATCH struct.
    pub changes_type: String,
    /// `pub name: Type,` lines of the row (and validated create), create
    /// body, PATCH body and validated PATCH structs.
    pub row_decl: String,
    pub new_decl: String,
    pub input_decl: String,
    pub patch_decl: String,
    pub changes_decl: String,
    /// `const NAME_DEFAULT: &str = "...";` for a text default.
    pub default_const_decl: Option<String>,
    /// The `#[serde(..)]` attribute of the field in the create body, when
    /// serde's own impl is too lenient (decimals: strings of one shape only).
    pub input_serde: Option<String>,
    /// The `deserialize_with` function of the field in the PATCH body.
    pub patch_with: &'static str,
    /// `static NAME_PATTERN` holding the compiled `pattern`, if any.
    pub pattern_static: Option<String>,
    pub pattern_literal: String,
    /// The spec's view of the field, for docs and for tests that build
    /// valid request bodies from the model.
    pub spec: FieldSpec,
    /// `write:` roles; `Some(empty)` for `write: server`.
    pub writers: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Parent {
    /// The parent resource's snake_case name.
    pub resource: String,
    pub struct_name: String,
    pub table_q: String,
    /// The FK column (`user_id`) and its quoted form.
    pub column: String,
    pub column_q: String,
    pub ident: String,
    pub pk_rust_type: &'static str,
    /// The nested collection route (`/v1/users/{user_id}/orders`).
    pub nested_route: String,
    pub fk_constraint: String,
    pub fk_index: String,
    pub fk_index_q: String,
    pub on_delete_sql: &'static str,
    /// Keyset listing of the children of one parent, and the parent's existence check.
    pub sql_list: String,
    pub sql_exists: String,
    /// `list_by_user` / `create_for_user`, and the nested route's constant.
    pub list_handler: String,
    pub create_handler: String,
    pub route_const: String,
    /// The route part of a cached nested page's key, with the parent's id:
    /// `format!("{UNDER_USER}:{parent}")`.
    pub page_route: String,
    /// The nested route below `/v1` (`/users/{user_id}/orders`).
    pub nested_path: String,
    /// How rustfmt lays out `.route(UNDER_X, get(list_by_x).post(create_for_x))`:
    /// on one line, with its arguments on their own lines, or with the
    /// method chain broken as well.
    pub route_one_line: bool,
    pub route_chain_one_line: bool,
    pub sql_list_const: String,
    pub fk_const: String,
    /// The declarations of `fk_const` and `sql_exists_const`.
    pub fk_const_decl: String,
    /// The body of the generated test of the nested routes.
    pub nested_test_call: String,
    pub sql_exists_decl: String,
    pub sql_exists_const: String,
    /// The FK column is nullable (`on_delete: set_null`).
    pub nullable: bool,
    /// With auth: this parent is the credentials resource and the column is
    /// filled from the caller's token.
    pub from_token: bool,
    /// With auth: the parent has an owner chain, so its existence check takes
    /// the owner parameter.
    pub exists_scoped: bool,
}

#[derive(Debug, Clone)]
pub struct Index {
    pub name: String,
    pub name_q: String,
    pub unique: bool,
    /// `"user_id", "created_at" DESC`
    pub columns_sql: String,
}

#[derive(Debug, Clone)]
pub struct ConstraintMap {
    pub constraint: String,
    pub field: String,
    /// The `errors[].message` of a violation.
    pub message: String,
    pub is_unique: bool,
}

#[derive(Debug, Clone)]
pub struct EnumType {
    /// The Rust enum (`OrderStatus`).
    pub rust_name: String,
    /// The PostgreSQL type (`order_status`) and its quoted form.
    pub sql_name: String,
    pub sql_name_q: String,
    /// The module of the resource that owns it, and the field.
    pub resource: String,
    pub field: String,
    pub variants: Vec<EnumVariant>,
    pub has_default: bool,
    /// `'pending', 'paid'`
    pub sql_values: String,
}

#[derive(Debug, Clone)]
pub struct EnumVariant {
    pub rust_name: String,
    pub value: String,
    /// The spec's `default` (the enum derives `Default` with it).
    pub is_default: bool,
}

/// A constraint or index name PostgreSQL will keep intact: names longer than
/// 63 bytes are shortened with a hash suffix so two long names never merge.
fn pg_name(base: String) -> String {
    if base.len() <= PG_MAX_IDENT {
        return base;
    }
    let hash = hex::encode(Sha256::digest(base.as_bytes()));
    format!("{}_{}", &base[..PG_MAX_IDENT - 9], &hash[..8])
}

/// Lowers a spec that passed validation.
pub fn lower(spec: &RawSpec) -> Service {
    let package = spec
        .service
        .as_ref()
        .map(|s| s.value.clone())
        .unwrap_or_default();
    let ctx = spec.auth.as_ref().map(|a| AuthCtx::new(a, &package));
    // The credentials resource gets its `role` field here, so the rest of the
    // lowering treats it like any declared enum field.
    let raw_resources: Vec<RawResource> = spec
        .resources
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(ctx) = &ctx
                && names::snake(&r.name.value) == ctx.credentials
            {
                r.fields.push(ctx.role_field());
            }
            r
        })
        .collect();
    let by_name: BTreeMap<String, &RawResource> = raw_resources
        .iter()
        .map(|r| (names::snake(&r.name.value), r))
        .collect();
    let order = topological(&raw_resources, &by_name);
    let mut enums = Vec::new();
    let mut resources: Vec<Resource> = order
        .iter()
        .map(|r| lower_resource(r, &by_name, &mut enums, ctx.as_ref()))
        .collect();
    let touched: Vec<Vec<String>> = resources
        .iter()
        .map(|r| cascade_touched(&resources, &r.name))
        .collect();
    let epochs: BTreeSet<String> = touched.iter().flatten().cloned().collect();
    for r in resources.iter_mut() {
        r.cache_epoch = r.cache.is_some() && epochs.contains(&r.name);
    }
    for (i, touched) in touched.into_iter().enumerate() {
        let mut bumps = Vec::new();
        for child in touched {
            let c = resources
                .iter()
                .find(|r| r.name == child)
                .expect("a resource");
            if c.cache_lists {
                bumps.push(format!("super::{child}::generation"));
            }
            if c.cache_epoch {
                bumps.push(format!("super::{child}::epoch"));
            }
        }
        resources[i].cascade_bumps = bumps;
    }
    let auth = ctx.as_ref().map(|ctx| lower_auth(ctx, &resources));
    let nested_checks = resources
        .iter()
        .any(|r| r.creates && r.parents.iter().any(|p| !p.from_token));
    let mut modules_sorted: Vec<String> = resources.iter().map(|r| r.name.clone()).collect();
    modules_sorted.sort();
    let chain: usize = "Router::new()".len()
        + resources
            .iter()
            .map(|r| ".merge(::routes())".len() + r.name.len())
            .sum::<usize>();
    let rate_limits = lower_rate_limits(spec, &resources);
    Service {
        any_unique: resources.iter().any(|r| r.has_unique),
        any_cache: resources.iter().any(|r| r.cache.is_some()),
        any_cache_lists: resources.iter().any(|r| r.cache_lists),
        rate_limits,
        email_pattern: raw_string(crate::spec::EMAIL_PATTERN),
        url_pattern: raw_string(crate::spec::URL_PATTERN),
        modules_sorted,
        router_inline: chain <= 60,
        crate_name: package.replace('-', "_"),
        package,
        resources,
        enums,
        stamp: crate::STAMP_VERSION,
        nested_checks,
        auth,
    }
}

/// What lowering needs to know about `auth` while it lowers each resource.
struct AuthCtx {
    credentials: String,
    login: String,
    roles: Vec<String>,
    default_role: String,
    admin_role: Option<String>,
    token_ttl_secs: u64,
    refresh_ttl_secs: u64,
    issuer: String,
    audience: String,
    password_min: u64,
    password_max: u64,
}

impl AuthCtx {
    fn new(a: &RawAuth, package: &str) -> Self {
        let text = |v: &Option<Sp<String>>| v.as_ref().map(|x| x.value.clone());
        AuthCtx {
            credentials: a
                .credentials
                .as_ref()
                .map(|c| names::snake(&c.value))
                .unwrap_or_default(),
            login: a
                .login
                .as_ref()
                .map_or_else(|| "email".to_string(), |l| names::snake(&l.value)),
            roles: a
                .roles
                .as_ref()
                .map(|r| r.value.iter().map(|x| x.value.clone()).collect())
                .unwrap_or_default(),
            default_role: text(&a.default_role).unwrap_or_default(),
            admin_role: text(&a.admin_role),
            token_ttl_secs: a.token_ttl.as_ref().map_or(15 * 60, |t| t.value),
            refresh_ttl_secs: a.refresh_ttl.as_ref().map_or(30 * 86_400, |t| t.value),
            issuer: text(&a.issuer).unwrap_or_else(|| package.to_string()),
            audience: text(&a.audience).unwrap_or_else(|| package.to_string()),
            password_min: a.password_min_length.as_ref().map_or(8, |m| m.value),
            password_max: a.password_max_length.as_ref().map_or(128, |m| m.value),
        }
    }

    /// The `role` field auth adds to the credentials resource: an enum of the
    /// roles, defaulting to `default_role`, written only by `admin_role`.
    fn role_field(&self) -> RawField {
        let sp = |value: String, path: &str| Sp {
            value,
            loc: Loc::default(),
            path: path.to_string(),
        };
        let path = format!("resources.{}.fields.role", self.credentials);
        let mut f = RawField {
            name: sp("role".into(), &path),
            ty: Some(Sp {
                value: FieldType::Enum,
                loc: Loc::default(),
                path: path.clone(),
            }),
            required: None,
            unique: None,
            default: Some(sp(self.default_role.clone(), &path)),
            min: None,
            max: None,
            min_length: None,
            max_length: None,
            pattern: None,
            renamed_from: None,
            values: Some(Sp {
                value: self.roles.iter().map(|r| sp(r.clone(), &path)).collect(),
                loc: Loc::default(),
                path: path.clone(),
            }),
            write: None,
            loc: Loc::default(),
            path: path.clone(),
        };
        let writers = match &self.admin_role {
            Some(admin) => vec![sp(admin.clone(), &path)],
            None => vec![sp(SERVER_WRITE.to_string(), &path)],
        };
        f.write = Some(Sp {
            value: writers,
            loc: Loc::default(),
            path,
        });
        f
    }
}

fn lower_auth(ctx: &AuthCtx, resources: &[Resource]) -> Auth {
    let r = resources
        .iter()
        .find(|r| r.name == ctx.credentials)
        .expect("validation checked the credentials resource");
    let role_enum = format!("{}Role", r.struct_name);
    let login_q = sql_ident(&ctx.login);
    let n = r.body_fields.len();
    let columns = r
        .body_fields
        .iter()
        .map(|f| f.column_q.clone())
        .chain(std::iter::once(sql_ident("password_hash")))
        .collect::<Vec<_>>()
        .join(", ");
    let placeholders = r
        .body_fields
        .iter()
        .enumerate()
        .map(|(i, f)| match &f.insert_expr {
            Some(default) => format!("COALESCE(${}, {default})", i + 1),
            None => format!("${}", i + 1),
        })
        .chain(std::iter::once(format!("${}", n + 1)))
        .collect::<Vec<_>>()
        .join(", ");
    Auth {
        cache_lists: r.cache_lists,
        module: r.name.clone(),
        struct_name: r.struct_name.clone(),
        table_q: r.table_q.clone(),
        route: r.route.clone(),
        id_is_uuid: r.pk.is_uuid,
        login_ident: names::rust_field_ident(&ctx.login),
        login: ctx.login.clone(),
        roles: ctx
            .roles
            .iter()
            .map(|x| EnumVariant {
                rust_name: names::camel(x),
                is_default: *x == ctx.default_role,
                value: x.clone(),
            })
            .collect(),
        role_enum,
        default_role: names::camel(&ctx.default_role),
        admin_role: ctx.admin_role.as_deref().map(names::camel),
        token_ttl_secs: ctx.token_ttl_secs,
        refresh_ttl_secs: ctx.refresh_ttl_secs,
        issuer: ctx.issuer.clone(),
        audience: ctx.audience.clone(),
        password_min: ctx.password_min,
        password_max: ctx.password_max,
        sql_login: format!(
            "SELECT \"id\", \"role\", \"password_hash\" FROM {} WHERE {login_q} = $1",
            r.table_q
        ),
        sql_role: format!("SELECT \"role\" FROM {} WHERE \"id\" = $1", r.table_q),
        sql_me: format!(
            "\n    SELECT {}\n    FROM {}\n    WHERE \"id\" = $1",
            r.select_columns, r.table_q
        ),
        sql_register: format!(
            "\n    INSERT INTO {} ({columns})\n    VALUES ({placeholders})\n    RETURNING {}",
            r.table_q, r.select_columns
        ),
        register_binds: r
            .body_fields
            .iter()
            .map(|f| format!("new.{}", f.ident))
            .collect(),
        register_fields: r.body_fields.clone(),
        module_import: {
            let mut names = ["Registration".to_string(), r.struct_name.clone()];
            names.sort();
            format!("{{self, {}}}", names.join(", "))
        },
    }
}

/// The condition "this row of `table_q` belongs to the user in `param`",
/// following the owner chain; `link` is the expression holding the first
/// foreign key (the row's own column, or a new value being written).
fn owner_cond(
    chain: &[(String, String)],
    table_q: &str,
    link: Option<&str>,
    by_name: &BTreeMap<String, &RawResource>,
    param: &str,
) -> String {
    match chain {
        [] => format!("{table_q}.\"id\" = {param}"),
        [(_, column)] => {
            let first = link.map_or_else(
                || format!("{table_q}.{}", sql_ident(column)),
                str::to_string,
            );
            format!("{first} = {param}")
        }
        [(_, first_col), rest @ ..] => {
            let first = link.map_or_else(
                || format!("{table_q}.{}", sql_ident(first_col)),
                str::to_string,
            );
            let mut from = String::new();
            for (i, (res, _)) in rest.iter().enumerate() {
                let table = sql_ident(&table_of(by_name[res]));
                if i == 0 {
                    from = format!("{table} AS \"o1\"");
                } else {
                    from.push_str(&format!(
                        " JOIN {table} AS \"o{}\" ON \"o{}\".\"id\" = \"o{i}\".{}",
                        i + 1,
                        i + 1,
                        sql_ident(&rest[i - 1].1)
                    ));
                }
            }
            let last = rest.len();
            format!(
                "EXISTS (SELECT 1 FROM {from} WHERE \"o1\".\"id\" = {first} AND \"o{last}\".{} = {param})",
                sql_ident(&rest[last - 1].1)
            )
        }
    }
}

/// `($n IS NULL OR <owner condition>)`: a NULL owner means the caller may
/// see every row (a role or `authenticated` granted the action).
fn scoped(cond: &str, param: &str) -> String {
    format!("({param} IS NULL OR {cond})")
}

/// `const LIST: Rule = Rule(&[Grant::Owner, Grant::Role(Role::Admin)]);`
/// laid out as rustfmt lays it out.
fn rule_const(name: &str, rules: &[String]) -> String {
    let grants: Vec<String> = rules
        .iter()
        .map(|r| match r.as_str() {
            "public" => "Grant::Public".to_string(),
            "authenticated" => "Grant::Authenticated".to_string(),
            "owner" => "Grant::Owner".to_string(),
            role => format!("Grant::Role(Role::{})", names::camel(role)),
        })
        .collect();
    let joined = grants.join(", ");
    let one = format!("const {name}: Rule = Rule(&[{joined}]);");
    if one.len() <= 100 && joined.len() + 2 <= 60 {
        return one;
    }
    let mut out = format!("const {name}: Rule = Rule(&[\n");
    for g in &grants {
        out.push_str(&format!("    {g},\n"));
    }
    out.push_str("]);");
    out
}

fn bucket_of(limit: Option<&RawRateLimit>, default: (u64, f64)) -> Bucket {
    match limit.and_then(|l| {
        Some((
            l.capacity.as_ref()?.value,
            l.refill_per_second.as_ref()?.value,
        ))
    }) {
        Some((capacity, refill)) => Bucket::new(capacity, refill),
        None => Bucket::new(default.0, default.1),
    }
}

fn lower_rate_limits(spec: &RawSpec, resources: &[Resource]) -> RateLimits {
    let service = spec.rate_limit.as_ref();
    let mut routes = Vec::new();
    for raw in &spec.resources {
        let Some(limit) = &raw.rate_limit else {
            continue;
        };
        let name = names::snake(&raw.name.value);
        let Some(r) = resources.iter().find(|r| r.name == name) else {
            continue;
        };
        let shared = match (&limit.capacity, &limit.refill_per_second) {
            (Some(c), Some(f)) => Some(Bucket::new(c.value, f.value)),
            _ => None,
        };
        let item = format!("{}/{{id}}", r.route);
        let nested = |method| {
            r.parents
                .iter()
                .map(move |p| (method, p.nested_route.clone()))
        };
        let by_action: Vec<(RateAction, Vec<(&'static str, String)>)> = vec![
            (
                RateAction::List,
                std::iter::once(("GET", r.route.clone()))
                    .chain(nested("GET"))
                    .collect(),
            ),
            (
                RateAction::Create,
                std::iter::once(("POST", r.route.clone()))
                    .chain(nested("POST"))
                    .collect(),
            ),
            (RateAction::Get, vec![("GET", item.clone())]),
            (RateAction::Replace, vec![("PUT", item.clone())]),
            (RateAction::Update, vec![("PATCH", item.clone())]),
            (RateAction::Delete, vec![("DELETE", item)]),
        ];
        for (action, methods) in by_action {
            let own = limit.actions.iter().find(|(a, _)| a.value == action);
            let (scope, bucket) = match (own, &shared) {
                (Some((_, l)), _) => (
                    format!("{name}.{}", action.as_str()),
                    bucket_of(Some(l), DEFAULT_RATE_LIMIT),
                ),
                (None, Some(b)) => (name.clone(), b.clone()),
                (None, None) => continue,
            };
            for (method, route) in methods {
                routes.push(RouteLimit {
                    method,
                    route,
                    scope: scope.clone(),
                    bucket: bucket.clone(),
                });
            }
        }
    }
    RateLimits {
        global: bucket_of(service, DEFAULT_RATE_LIMIT),
        login: bucket_of(
            service.and_then(|l| l.login.as_deref()),
            DEFAULT_LOGIN_RATE_LIMIT,
        ),
        routes,
    }
}

fn pk_of(r: &RawResource) -> Pk {
    match r.primary_key.as_ref().map(|p| p.value) {
        Some(PkKind::Uuid) => Pk {
            rust_type: "uuid::Uuid",
            sql_type: "uuid",
            sql_decl: "uuid NOT NULL DEFAULT gen_random_uuid()",
            is_uuid: true,
        },
        _ => Pk {
            rust_type: "i64",
            sql_type: "bigint",
            sql_decl: "bigint GENERATED ALWAYS AS IDENTITY",
            is_uuid: false,
        },
    }
}

fn table_of(r: &RawResource) -> String {
    match &r.plural {
        Some(p) => names::snake(&p.value),
        None => names::plural(&names::snake(&r.name.value)),
    }
}

fn lower_resource(
    r: &RawResource,
    by_name: &BTreeMap<String, &RawResource>,
    all_enums: &mut Vec<EnumType>,
    ctx: Option<&AuthCtx>,
) -> Resource {
    let name = names::snake(&r.name.value);
    let struct_name = names::camel(&r.name.value);
    let plural = table_of(r);
    let table_q = sql_ident(&plural);
    let route = format!("/v1/{plural}");
    let timestamps = r.timestamps.as_ref().is_none_or(|t| t.value);
    // With auth: the path of foreign keys up to the credentials resource.
    let chain = ctx.and_then(|c| owner_chain(&name, &c.credentials, by_name));
    let token_column = match chain.as_deref() {
        Some([(_, column)]) => Some(column.clone()),
        _ => None,
    };

    let mut fields = Vec::new();
    let mut parents = Vec::new();
    let mut constraints = Vec::new();
    let mut enums = Vec::new();
    for p in &r.belongs_to {
        let parent_name = names::snake(&p.resource.value);
        let Some(parent) = by_name.get(&parent_name) else {
            continue;
        };
        let column = format!("{parent_name}_id");
        let ppk = pk_of(parent);
        let on_delete = p
            .on_delete
            .as_ref()
            .map(|o| o.value)
            .unwrap_or(OnDelete::Cascade);
        let nullable = on_delete == OnDelete::SetNull;
        let fk_constraint = pg_name(format!("{plural}_{column}_fkey"));
        constraints.push(ConstraintMap {
            constraint: fk_constraint.clone(),
            field: column.clone(),
            message: format!(
                "must reference an existing {}",
                parent_name.replace('_', " ")
            ),
            is_unique: false,
        });
        let ident = names::rust_field_ident(&column);
        let rust_type = format!("super::{parent_name}::Id");
        fields.push(Field {
            ident: ident.clone(),
            column_q: sql_ident(&column),
            row_type: wrap_option(&rust_type, nullable),
            sql_type: ppk.sql_type.to_string(),
            sql_modifiers: if nullable {
                String::new()
            } else {
                "NOT NULL".to_string()
            },
            nullable,
            required: !nullable,
            default_rust: None,
            parent: Some(parent_name.clone()),
            is_copy: true,
            is_enum: false,
            param: 0,
            doc_type: format!("id of a {}", parent_name.replace('_', " ")),
            spec: FieldSpec::default(),
            input_let: input_let(&ident, &column, !nullable, None),
            input_checks: Vec::new(),
            patch_let: patch_let(&ident, &column, nullable),
            patch_checks: Vec::new(),
            changes_type: changes_type(&rust_type, nullable),
            row_decl: String::new(),
            new_decl: String::new(),
            input_decl: String::new(),
            patch_decl: String::new(),
            changes_decl: String::new(),
            input_serde: (!ppk.is_uuid).then(|| INTEGER_SERDE.to_string()),
            patch_with: if ppk.is_uuid {
                "double_option"
            } else {
                "crate::extract::integer_patch"
            },
            pattern_static: None,
            pattern_literal: String::new(),
            default_const_decl: None,
            writers: None,
            new_type: wrap_option(&rust_type, nullable),
            insert_expr: None,
            rust_type,
            name: column.clone(),
        });
        let parent_table = table_of(parent);
        let fk_index = pg_name(format!("{plural}_{column}_idx"));
        let parent_chain = ctx.and_then(|c| owner_chain(&parent_name, &c.credentials, by_name));
        let list_handler = format!("list_by_{parent_name}");
        let create_handler = format!("create_for_{parent_name}");
        let route_const = format!("UNDER_{}", parent_name.to_uppercase());
        // How rustfmt lays out `.route(UNDER_X, get(list_by_x).post(create_for_x))`
        // at 8 columns in: the arguments must fit `fn_call_width` (60) and the
        // line 100 columns; `get(..).post(..)` alone stays on its line while
        // the line fits.
        let route_chain = format!("get({list_handler}).post({create_handler})");
        let route_args = format!("{route_const}, {route_chain}");
        let route_one_line =
            route_args.len() <= 60 && 8 + ".route()".len() + route_args.len() <= 100;
        let route_chain_one_line = 12 + route_chain.len() + ",".len() <= 100;
        parents.push(Parent {
            struct_name: names::camel(&parent_name),
            table_q: sql_ident(&parent_table),
            ident,
            column_q: sql_ident(&column),
            pk_rust_type: ppk.rust_type,
            nested_route: format!("/v1/{parent_table}/{{{column}}}/{plural}"),
            fk_index_q: sql_ident(&fk_index),
            fk_index,
            on_delete_sql: match on_delete {
                OnDelete::Cascade => "CASCADE",
                OnDelete::Restrict => "RESTRICT",
                OnDelete::SetNull => "SET NULL",
            },
            nullable,
            fk_constraint,
            sql_list: String::new(),
            sql_exists: match &parent_chain {
                Some(parent_chain) => format!(
                    "SELECT EXISTS (SELECT 1 FROM {pt} WHERE \"id\" = $1 AND {})",
                    scoped(
                        &owner_cond(parent_chain, &sql_ident(&parent_table), None, by_name, "$2"),
                        "$2"
                    ),
                    pt = sql_ident(&parent_table)
                ),
                None => format!(
                    "SELECT EXISTS (SELECT 1 FROM {} WHERE \"id\" = $1)",
                    sql_ident(&parent_table)
                ),
            },
            exists_scoped: parent_chain.is_some(),
            from_token: token_column.as_deref() == Some(column.as_str()),
            list_handler,
            create_handler,
            page_route: format!("format!(\"{{{route_const}}}:{{parent}}\")"),
            route_const,
            nested_path: format!("/{parent_table}/{{{column}}}/{plural}"),
            route_one_line,
            route_chain_one_line,
            sql_list_const: format!("SQL_LIST_BY_{}", parent_name.to_uppercase()),
            fk_const: format!("FK_{}", parent_name.to_uppercase()),
            fk_const_decl: String::new(),
            nested_test_call: {
                let args = format!("\"{name}\", \"{parent_name}\"");
                if args.len() <= 60 && 4 + "check_nested().await;".len() + args.len() <= 100 {
                    format!("check_nested({args}).await;")
                } else {
                    format!("check_nested(\n        \"{name}\",\n        \"{parent_name}\",\n    )\n    .await;")
                }
            },
            sql_exists_decl: String::new(),
            sql_exists_const: format!("SQL_{}_EXISTS", parent_name.to_uppercase()),
            column,
            resource: parent_name,
        });
    }
    for f in &r.fields {
        let field = lower_field(&name, &struct_name, f, &mut enums);
        if field.spec.unique {
            constraints.push(ConstraintMap {
                constraint: pg_name(format!("{plural}_{}_key", field.name)),
                field: field.name.clone(),
                message: "is already taken".to_string(),
                is_unique: true,
            });
        }
        fields.push(field);
    }
    for f in fields.iter_mut() {
        f.row_decl = struct_field(&f.ident, &f.row_type);
        f.new_decl = struct_field(&f.ident, &f.new_type);
        f.input_decl = struct_field(&f.ident, &format!("Option<{}>", f.rust_type));
        f.patch_decl = struct_field(&f.ident, &format!("Option<Option<{}>>", f.rust_type));
        f.changes_decl = struct_field(&f.ident, &f.changes_type);
    }
    // Body fields take the first parameters; the owner column filled from
    // the token comes last.
    let mut next = 1;
    for f in fields
        .iter_mut()
        .filter(|f| Some(&f.name) != token_column.as_ref())
    {
        f.param = next;
        next += 1;
    }
    for f in fields
        .iter_mut()
        .filter(|f| Some(&f.name) == token_column.as_ref())
    {
        f.param = next;
    }
    let body_fields: Vec<Field> = fields
        .iter()
        .filter(|f| Some(&f.name) != token_column.as_ref())
        .cloned()
        .collect();

    let mut indexes = Vec::new();
    for ix in &r.indexes {
        let cols: Vec<String> = ix
            .columns
            .iter()
            .map(|c| names::snake(&c.value.name))
            .collect();
        let unique = ix.unique.as_ref().is_some_and(|u| u.value);
        let suffix = if unique { "key" } else { "idx" };
        let columns_sql = ix
            .columns
            .iter()
            .map(|c| {
                let q = sql_ident(&names::snake(&c.value.name));
                if c.value.desc { format!("{q} DESC") } else { q }
            })
            .collect::<Vec<_>>()
            .join(", ");
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
        indexes.push(Index {
            name_q: sql_ident(&index_name),
            name: index_name,
            unique,
            columns_sql,
        });
    }

    let mut all_columns = vec![sql_ident("id")];
    all_columns.extend(fields.iter().map(|f| f.column_q.clone()));
    if timestamps {
        all_columns.push(sql_ident("created_at"));
        all_columns.push(sql_ident("updated_at"));
    }
    let select_columns = all_columns.join(", ");
    let mut by_param: Vec<&Field> = fields.iter().collect();
    by_param.sort_by_key(|f| f.param);
    let insert_columns = by_param
        .iter()
        .map(|f| f.column_q.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let insert_placeholders = by_param
        .iter()
        .map(|f| match &f.insert_expr {
            Some(default) => format!("COALESCE(${}, {default})", f.param),
            None => format!("${}", f.param),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let touch = if timestamps {
        ", \"updated_at\" = now()"
    } else {
        ""
    };
    let replace_set = body_fields
        .iter()
        .map(|f| match &f.writers {
            Some(_) => format!("{c} = COALESCE(${}, {c})", f.param + 1, c = f.column_q),
            None => format!("{} = ${}", f.column_q, f.param + 1),
        })
        .collect::<Vec<_>>()
        .join(", ");
    // PATCH: NOT NULL columns take one parameter (NULL = unchanged);
    // nullable columns take two ("was it sent", "the value"), since NULL is a
    // value they may be set to.
    let mut patch_sets = Vec::new();
    let mut patch_binds = Vec::new();
    let mut n = 2;
    for f in &body_fields {
        if f.nullable {
            patch_sets.push(format!(
                "{c} = CASE WHEN ${n} THEN ${m} ELSE {c} END",
                c = f.column_q,
                m = n + 1
            ));
            patch_binds.push(format!("changes.{}.is_some()", f.ident));
            patch_binds.push(format!("changes.{}.flatten()", f.ident));
            n += 2;
        } else {
            patch_sets.push(format!("{c} = COALESCE(${n}, {c})", c = f.column_q));
            patch_binds.push(format!("changes.{}", f.ident));
            n += 1;
        }
    }
    if timestamps {
        patch_sets.push("\"updated_at\" = now()".to_string());
    }
    // With an owner chain every statement takes one more parameter, the
    // caller's id or NULL, and `AND ($n IS NULL OR <owner condition>)`.
    let scope = |param: usize| -> String {
        match &chain {
            Some(chain) => {
                let p = format!("${param}");
                format!(
                    " AND {}",
                    scoped(&owner_cond(chain, &table_q, None, by_name, &p), &p)
                )
            }
            None => String::new(),
        }
    };
    // A chain longer than one step: a written first foreign key must lead to
    // a row the caller owns as well.
    let link_scope = |link: &str, param: usize| -> String {
        match chain.as_deref() {
            Some(c) if c.len() > 1 => {
                let p = format!("${param}");
                format!(
                    " AND {}",
                    scoped(&owner_cond(c, &table_q, Some(link), by_name, &p), &p)
                )
            }
            _ => String::new(),
        }
    };
    let n_body = body_fields.len();
    let first_fk = chain
        .as_ref()
        .and_then(|c| c.first())
        .and_then(|(_, column)| fields.iter().find(|f| &f.name == column));
    let insert = match (chain.as_deref(), first_fk) {
        (Some(c), Some(fk)) if c.len() > 1 => {
            let owner = next;
            format!(
                "\n    INSERT INTO {table_q} ({insert_columns})\n    SELECT {insert_placeholders}\n    WHERE {}\n    RETURNING {select_columns}",
                scoped(
                    &owner_cond(
                        c,
                        &table_q,
                        Some(&format!("${}", fk.param)),
                        by_name,
                        &format!("${owner}")
                    ),
                    &format!("${owner}")
                )
            )
        }
        _ => format!(
            "\n    INSERT INTO {table_q} ({insert_columns})\n    VALUES ({insert_placeholders})\n    RETURNING {select_columns}"
        ),
    };
    let replace_link = first_fk
        .map(|fk| link_scope(&format!("${}", fk.param + 1), n_body + 2))
        .unwrap_or_default();
    let patch_link = first_fk
        .and_then(|fk| {
            let pos = body_fields.iter().position(|f| f.name == fk.name)?;
            // The PATCH parameter of the key: after the id and the earlier
            // fields (nullable fields take two).
            let mut p = 2;
            for f in &body_fields[..pos] {
                p += if f.nullable { 2 } else { 1 };
            }
            let value = if fk.nullable { p + 1 } else { p };
            Some(link_scope(
                &format!("COALESCE(${value}, {table_q}.{})", fk.column_q),
                n,
            ))
        })
        .unwrap_or_default();
    let sql = ResourceSql {
        list: format!(
            "\n    SELECT {select_columns}\n    FROM {table_q}\n    WHERE \"id\" > $1{}\n    ORDER BY \"id\"\n    LIMIT $2",
            scope(3)
        ),
        get: format!(
            "\n    SELECT {select_columns}\n    FROM {table_q}\n    WHERE \"id\" = $1{}",
            scope(2)
        ),
        insert,
        replace: format!(
            "\n    UPDATE {table_q}\n    SET {replace_set}{touch}\n    WHERE \"id\" = $1{}{replace_link}\n    RETURNING {select_columns}",
            scope(n_body + 2)
        ),
        patch: format!(
            "\n    UPDATE {table_q}\n    SET {}\n    WHERE \"id\" = $1{}{patch_link}\n    RETURNING {select_columns}",
            patch_sets.join(",\n        "),
            scope(n)
        ),
        delete: match &chain {
            Some(_) => format!(
                "\n    DELETE FROM {table_q}\n    WHERE \"id\" = $1{}",
                scope(2)
            ),
            None => format!("DELETE FROM {table_q} WHERE \"id\" = $1"),
        },
    };
    for p in &mut parents {
        p.fk_const_decl = const_str(&p.fk_const, &format!("\"{}\"", p.fk_constraint));
        p.sql_exists_decl = const_str(&p.sql_exists_const, &format!("r#\"{}\"#", p.sql_exists));
        p.sql_list = format!(
            "\n    SELECT {select_columns}\n    FROM {table_q}\n    WHERE {} = $1 AND \"id\" > $2{}\n    ORDER BY \"id\"\n    LIMIT $3",
            p.column_q,
            scope(4)
        );
    }

    // CREATE TABLE: columns, then named constraints. Every constraint is
    // named so the service can map a violation back to the field, and so a
    // later migration can drop or replace it by name.
    let mut columns = vec![ColumnDef {
        name: "id".to_string(),
        definition: pk_of(r).sql_decl.to_string(),
    }];
    for f in &fields {
        columns.push(ColumnDef {
            name: f.name.clone(),
            definition: format!("{} {}", f.sql_type, f.sql_modifiers)
                .trim_end()
                .to_string(),
        });
    }
    let is_credentials = ctx.is_some_and(|c| c.credentials == name);
    if is_credentials {
        // The PHC string of the argon2id hash; the password itself is never stored.
        columns.push(ColumnDef {
            name: "password_hash".to_string(),
            definition: "text NOT NULL".to_string(),
        });
    }
    if timestamps {
        for name in ["created_at", "updated_at"] {
            columns.push(ColumnDef {
                name: name.to_string(),
                definition: "timestamptz NOT NULL DEFAULT now()".to_string(),
            });
        }
    }
    let mut constraint_defs = vec![NamedDef {
        name: pg_name(format!("{plural}_pkey")),
        definition: "PRIMARY KEY (\"id\")".to_string(),
    }];
    for p in &parents {
        constraint_defs.push(NamedDef {
            name: p.fk_constraint.clone(),
            definition: format!(
                "FOREIGN KEY ({}) REFERENCES {} (\"id\") ON DELETE {}",
                p.column_q, p.table_q, p.on_delete_sql
            ),
        });
    }
    for f in &fields {
        let spec = &f.spec;
        if spec.unique {
            constraint_defs.push(NamedDef {
                name: pg_name(format!("{plural}_{}_key", f.name)),
                definition: format!("UNIQUE ({})", f.column_q),
            });
        }
        let mut check = |suffix: &str, expr: String, message: String| {
            let cname = pg_name(format!("{plural}_{}_{suffix}", f.name));
            constraint_defs.push(NamedDef {
                name: cname.clone(),
                definition: format!("CHECK ({expr})"),
            });
            constraints.push(ConstraintMap {
                constraint: cname,
                field: f.name.clone(),
                message,
                is_unique: false,
            });
        };
        let c = &f.column_q;
        if let Some(m) = spec.min_length {
            check(
                "min_length",
                format!("char_length({c}) >= {m}"),
                format!("must be at least {m} characters"),
            );
        }
        if let Some(m) = spec.max_length {
            check(
                "max_length",
                format!("char_length({c}) <= {m}"),
                format!("must be at most {m} characters"),
            );
        }
        if let Some(m) = spec.min {
            check(
                "min",
                format!("{c} >= {m}"),
                format!("must be greater than or equal to {m}"),
            );
        }
        if let Some(m) = spec.max {
            check(
                "max",
                format!("{c} <= {m}"),
                format!("must be less than or equal to {m}"),
            );
        }
    }
    let mut lines: Vec<String> = columns
        .iter()
        .map(|c| format!("{} {}", sql_ident(&c.name), c.definition))
        .collect();
    lines.extend(
        constraint_defs
            .iter()
            .map(|c| format!("CONSTRAINT {} {}", sql_ident(&c.name), c.definition)),
    );
    let last = lines.len() - 1;
    let table_lines: Vec<String> = lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| if i == last { l } else { format!("{l},") })
        .collect();

    let required: Vec<&Field> = body_fields.iter().filter(|f| f.required).collect();
    let required_destructure = match required.as_slice() {
        [] => String::new(),
        [one] => format!("let Some({0}) = {0} else {{", one.ident),
        many => format!(
            "let ({}) = ({}) else {{",
            many.iter()
                .map(|f| format!("Some({})", f.ident))
                .collect::<Vec<_>>()
                .join(", "),
            many.iter()
                .map(|f| f.ident.clone())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let new_fields = body_fields
        .iter()
        .map(|f| f.ident.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let has_checks = |f: &Field| !f.input_checks.is_empty();
    let access = ctx.map(|_| {
        let mut rules = Vec::new();
        let mut rules_json = Vec::new();
        let routes = [
            (Action::List, "LIST", format!("`GET {route}`")),
            (Action::Get, "GET", format!("`GET {route}/{{id}}`")),
            (Action::Create, "CREATE", format!("`POST {route}`")),
            (
                Action::Update,
                "UPDATE",
                format!("`PUT` and `PATCH {route}/{{id}}`"),
            ),
            (Action::Delete, "DELETE", format!("`DELETE {route}/{{id}}`")),
        ];
        for (action, konst, doc) in routes {
            if is_credentials && action == Action::Create {
                continue;
            }
            let declared = r.access.as_ref().and_then(|a| {
                a.value
                    .rules
                    .iter()
                    .find(|(x, _)| x.value == action)
                    .map(|(_, v)| v.value.iter().map(|x| x.value.clone()).collect::<Vec<_>>())
            });
            // Unlisted actions need a signed-in caller: with auth on,
            // nothing is public unless the spec says so.
            let list = declared.unwrap_or_else(|| vec!["authenticated".to_string()]);
            rules.push(RuleConst {
                name: konst.to_string(),
                doc,
                decl: rule_const(konst, &list),
            });
            rules_json.push((action.as_str().to_string(), list));
        }
        let write_checks: Vec<String> = body_fields
            .iter()
            .filter_map(|f| {
                let writers = f.writers.as_ref()?;
                let roles = writers
                    .iter()
                    .map(|w| format!("Role::{}", names::camel(w)))
                    .collect::<Vec<_>>()
                    .join(", ");
                Some(call_stmt(
                    "",
                    "w.check",
                    &[
                        format!("\"{}\"", f.name),
                        format!("self.{}.is_some()", f.ident),
                        format!("&[{roles}]"),
                    ],
                ))
            })
            .collect();
        let mut import = vec!["Caller", "Grant"];
        if !write_checks.is_empty()
            || rules_json.iter().any(|(_, l)| {
                l.iter()
                    .any(|x| !matches!(x.as_str(), "public" | "authenticated" | "owner"))
            })
        {
            import.push("Role");
        }
        import.push("Rule");
        if !write_checks.is_empty() {
            import.push("Writes");
        }
        Access {
            rules,
            owned: chain.is_some(),
            is_credentials,
            token_owner: token_column.as_ref().map(|column| TokenOwner {
                ident: names::rust_field_ident(column),
                parent: column.trim_end_matches("_id").to_string(),
                column: column.clone(),
            }),
            insert_checked: chain.as_ref().is_some_and(|c| c.len() > 1),
            write_checks,
            auth_import: format!("{{{}}}", import.join(", ")),
            rules_json,
        }
    });
    let cache = r.cache.as_ref().map(|c| ResourceCache {
        ttl_decl: format!(
            "const CACHE_TTL: Duration = Duration::from_secs({});",
            c.ttl.as_ref().map_or(300, |t| t.value)
        ),
        owner_of_row: match (chain.as_deref(), token_column.as_deref()) {
            (Some([]), _) => Some("row.id".to_string()),
            (_, Some(column)) => Some(format!("row.{}", names::rust_field_ident(column))),
            _ => None,
        },
        lists: c.lists.as_ref().is_some_and(|l| l.value),
    });
    Resource {
        cascade_bumps: Vec::new(),
        cache_epoch: false,
        cache_lists: cache.as_ref().is_some_and(|c| c.lists),
        cache,
        creates: !is_credentials,
        body_fields: body_fields.clone(),
        access,
        label: name.replace('_', " "),
        pk: pk_of(r),
        pk_constraint: pg_name(format!("{plural}_pkey")),
        select_columns,
        insert_columns,
        insert_placeholders,
        update_set: replace_set,
        update_id_param: "$1".to_string(),
        input_validates: !required.is_empty() || body_fields.iter().any(has_checks),
        patch_validates: body_fields
            .iter()
            .any(|f| !f.nullable || !f.patch_checks.is_empty()),
        // rustfmt keeps a struct literal on one line while its fields fit in
        // `struct_lit_width` (18 columns).
        new_fields_inline: new_fields.len() <= 18,
        changes_fields_inline: new_fields.len() <= 18,
        changes_fields: new_fields.clone(),
        new_fields,
        required_destructure,
        has_patterns: fields.iter().any(|f| f.pattern_static.is_some()),
        table_lines,
        columns,
        constraint_defs,
        has_unique: fields.iter().any(|f| f.spec.unique),
        single_constraint: constraints.len() == 1,
        route_consts: {
            let mut consts = vec![
                format!(
                    "/// The collection and item routes.\n{}",
                    const_str("COLLECTION", &format!("\"/{plural}\""))
                ),
                const_str("ITEM", &format!("\"/{plural}/{{id}}\"")),
            ];
            for p in &parents {
                consts.push(format!(
                    "/// The {plural} of one {}.\n{}",
                    p.resource,
                    const_str(&p.route_const, &format!("\"{}\"", p.nested_path))
                ));
            }
            consts
        },
        sql_delete_decl: const_str("SQL_DELETE", &format!("r#\"{}\"#", sql.delete)),
        validation_import: {
            let validates = !required.is_empty()
                || body_fields.iter().any(|f| {
                    !f.input_checks.is_empty() || !f.nullable || !f.patch_checks.is_empty()
                });
            let mut items = Vec::new();
            if validates {
                items.push("Validator");
            }
            if fields
                .iter()
                .any(|f| f.patch_checks.iter().any(|c| c.contains("present(&")))
            {
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
        },
        patch_binds,
        sql,
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
        enums: {
            all_enums.extend(enums.iter().cloned());
            enums
        },
    }
}

/// Create-body attributes of fields whose serde impl is not what the OpenAPI
/// document promises: JSON Schema counts `3.0` as an integer, and decimals
/// travel as strings of one documented shape.
const INTEGER_SERDE: &str = "#[serde(default, deserialize_with = \"crate::extract::integer\")]";
const DECIMAL_SERDE: &str = "#[serde(default, deserialize_with = \"crate::extract::decimal\")]";

fn wrap_option(t: &str, nullable: bool) -> String {
    if nullable {
        format!("Option<{t}>")
    } else {
        t.to_string()
    }
}

fn changes_type(t: &str, nullable: bool) -> String {
    if nullable {
        format!("Option<Option<{t}>>")
    } else {
        format!("Option<{t}>")
    }
}

/// Validation statements sit at this indentation inside `validate()`.
const STMT_INDENT: usize = 8;

/// A call statement laid out the way rustfmt lays it out: on one line while
/// the arguments fit in `fn_call_width` (60) and the line in `max_width`
/// (100); for a `let`, next on the line after the `=` if it fits there;
/// otherwise one argument per line. Generated code must be rustfmt-clean as
/// emitted, and the bytes must not depend on the user's rustfmt, so the
/// rules live here (tests/rustfmt.rs holds them to rustfmt's).
fn call_stmt(prefix: &str, callee: &str, args: &[String]) -> String {
    let joined = args.join(", ");
    let one = format!("{prefix}{callee}({joined});");
    if joined.len() <= 60 && STMT_INDENT + one.len() <= 100 {
        return one;
    }
    let pad = " ".repeat(STMT_INDENT + 4);
    let rhs = format!("{callee}({joined});");
    if prefix.starts_with("let ") && joined.len() <= 60 && pad.len() + rhs.len() <= 100 {
        return format!("{}\n{pad}{rhs}", prefix.trim_end());
    }
    let mut out = format!("{prefix}{callee}(\n");
    for a in args {
        out.push_str(&format!("{pad}{a},\n"));
    }
    out.push_str(&" ".repeat(STMT_INDENT));
    out.push_str(");");
    out
}

/// `let x = self.x.method(arg);` with rustfmt's rules: one line while the
/// chain fits in `chain_width` (60) and the line in 100 columns, next on the
/// line after the `=` if it fits there, otherwise one element per line.
fn chain_let(ident: &str, method_call: &str) -> String {
    let chain = format!("self.{ident}.{method_call}");
    let one = format!("let {ident} = {chain};");
    if chain.len() <= 60 && STMT_INDENT + one.len() <= 100 {
        return one;
    }
    let pad = " ".repeat(STMT_INDENT + 4);
    if chain.len() <= 60 && pad.len() + format!("{chain};").len() <= 100 {
        return format!("let {ident} =\n{pad}{chain};");
    }
    format!("let {ident} = self\n{pad}.{ident}\n{pad}.{method_call};")
}

/// `pub name: Type,` in a struct, as rustfmt writes it: the type moves to
/// the next line when the field does not fit in 100 columns.
fn struct_field(ident: &str, ty: &str) -> String {
    let one = format!("pub {ident}: {ty},");
    if 4 + one.len() <= 100 {
        one
    } else {
        format!("pub {ident}:\n        {ty},")
    }
}

/// `let name = expr;` with the expression moved after the `=` when the
/// statement does not fit.
fn simple_let(ident: &str, expr: &str) -> String {
    let one = format!("let {ident} = {expr};");
    if STMT_INDENT + one.len() <= 100 {
        one
    } else {
        format!("let {ident} =\n{}{expr};", " ".repeat(STMT_INDENT + 4))
    }
}

/// `const NAME: &str = "...";` as rustfmt writes it: on one line when it
/// fits, otherwise the literal on the next line.
pub fn const_str(name: &str, literal: &str) -> String {
    let one = format!("const {name}: &str = {literal};");
    // rustfmt moves the literal only when that makes the line fit; a
    // multi-line literal starts where it is.
    if literal.contains('\n') || one.len() <= 100 || 4 + literal.len() + 1 > 100 {
        one
    } else {
        format!("const {name}: &str =\n    {literal};")
    }
}

/// The `let` binding a create-body field before its checks run.
fn input_let(ident: &str, name: &str, required: bool, default_call: Option<&str>) -> String {
    match (required, default_call) {
        (true, _) => call_stmt(
            &format!("let {ident} = "),
            "v.required",
            &[format!("\"{name}\""), format!("self.{ident}")],
        ),
        (false, Some(call)) => chain_let(ident, call),
        (false, None) => simple_let(ident, &format!("self.{ident}")),
    }
}

fn patch_let(ident: &str, name: &str, nullable: bool) -> String {
    if nullable {
        simple_let(ident, &format!("self.{ident}"))
    } else {
        call_stmt(
            &format!("let {ident} = "),
            "v.not_null",
            &[format!("\"{name}\""), format!("self.{ident}")],
        )
    }
}

/// A numeric bound as a Rust expression of the field's type.
fn bound_literal(ty: FieldType, v: f64) -> String {
    match ty {
        FieldType::I32 | FieldType::I64 => format!("{}", v as i64),
        FieldType::Decimal => {
            let text = format!("{v}");
            let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
            let mantissa: i64 = format!("{int}{frac}").parse().unwrap_or_default();
            format!("rust_decimal::Decimal::new({mantissa}, {})", frac.len())
        }
        _ => format!("{v:?}"),
    }
}

fn lower_field(
    resource: &str,
    resource_struct: &str,
    f: &RawField,
    enums: &mut Vec<EnumType>,
) -> Field {
    let name = names::snake(&f.name.value);
    let ident = names::rust_field_ident(&name);
    let ty = f.ty.as_ref().map(|t| t.value).unwrap_or(FieldType::String);
    let nullable = f.required.as_ref().is_some_and(|r| !r.value);
    let default = f.default.as_ref().map(|d| d.value.clone());
    let (rust_type, sql_type, is_copy, doc_type) = match ty {
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url => (
            "String".to_string(),
            "text".to_string(),
            false,
            ty.as_str().to_string(),
        ),
        FieldType::Bool => ("bool".into(), "boolean".into(), true, "bool".into()),
        FieldType::I32 => ("i32".into(), "integer".into(), true, "i32".into()),
        FieldType::I64 => ("i64".into(), "bigint".into(), true, "i64".into()),
        FieldType::F64 => ("f64".into(), "double precision".into(), true, "f64".into()),
        FieldType::Decimal => (
            "rust_decimal::Decimal".into(),
            "numeric".into(),
            true,
            "decimal (string)".into(),
        ),
        FieldType::Uuid => ("uuid::Uuid".into(), "uuid".into(), true, "uuid".into()),
        FieldType::Date => (
            "chrono::NaiveDate".into(),
            "date".into(),
            true,
            "date (YYYY-MM-DD)".into(),
        ),
        FieldType::Timestamp => (
            "chrono::DateTime<chrono::Utc>".into(),
            "timestamptz".into(),
            true,
            "timestamp (RFC 3339)".into(),
        ),
        FieldType::Json => (
            "serde_json::Value".into(),
            "jsonb".into(),
            false,
            "json".into(),
        ),
        FieldType::Enum => {
            let rust_name = format!("{resource_struct}{}", names::camel(&name));
            let sql_name = pg_name(format!("{resource}_{name}"));
            let variants: Vec<EnumVariant> = f
                .values
                .as_ref()
                .map(|v| {
                    v.value
                        .iter()
                        .map(|x| EnumVariant {
                            rust_name: names::camel(&x.value),
                            is_default: default.as_deref() == Some(x.value.as_str()),
                            value: x.value.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            enums.push(EnumType {
                sql_values: variants
                    .iter()
                    .map(|v| format!("'{}'", v.value))
                    .collect::<Vec<_>>()
                    .join(", "),
                has_default: variants.iter().any(|v| v.is_default),
                rust_name: rust_name.clone(),
                sql_name_q: sql_ident(&sql_name),
                sql_name: sql_name.clone(),
                resource: resource.to_string(),
                field: name.clone(),
                variants,
            });
            (rust_name, sql_ident(&sql_name), true, "enum".into())
        }
    };
    let is_str = matches!(
        ty,
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url
    );
    // A field not every caller may write takes its default from the
    // database, so a caller who may not send it still creates a valid row.
    let restricted = f.write.is_some();
    let default_rust = default
        .as_ref()
        .filter(|_| !restricted)
        .map(|d| rust_literal(ty, d, &rust_type));
    let required = !nullable && default_rust.is_none() && !restricted;
    // Defaults that would make long expressions live in a `const` or in the
    // enum's `Default`, so the statement using them stays short.
    let default_const = match (default.as_ref().filter(|_| !restricted), is_str) {
        (Some(d), true) => Some((format!("{}_DEFAULT", name.to_uppercase()), d.clone())),
        _ => None,
    };
    let default_call = default_rust.as_ref().map(|d| match (&default_const, ty) {
        (Some((c, _)), _) => format!("unwrap_or_else(|| {c}.to_owned())"),
        (None, FieldType::Enum) => "unwrap_or_default()".to_string(),
        (None, _) if is_copy => format!("unwrap_or({d})"),
        (None, _) => format!("unwrap_or_else(|| {d})"),
    });

    // The argument each check receives: `Option<&str>` for text, `Option<T>`
    // for numbers, built from how the local is bound in each context.
    let input_arg = match (is_str, default_call.is_some()) {
        (true, false) => format!("{ident}.as_deref()"),
        (true, true) => format!("Some({ident}.as_str())"),
        (false, false) => ident.clone(),
        (false, true) => format!("Some({ident})"),
    };
    let patch_arg = match (is_str, nullable) {
        (true, false) => format!("{ident}.as_deref()"),
        (true, true) => format!("present(&{ident})"),
        (false, false) => ident.clone(),
        (false, true) => format!("{ident}.flatten()"),
    };
    let pattern_static = f
        .pattern
        .as_ref()
        .map(|_| format!("{}_PATTERN", name.to_uppercase()));
    // Each check: the validator method and the arguments after the value.
    let mut checks: Vec<(&str, Option<String>)> = Vec::new();
    match ty {
        FieldType::Email => checks.push(("v.email", None)),
        FieldType::Url => checks.push(("v.url", None)),
        _ => {}
    }
    if let Some(m) = &f.min_length {
        checks.push(("v.min_chars", Some(m.value.to_string())));
    }
    if let Some(m) = &f.max_length {
        checks.push(("v.max_chars", Some(m.value.to_string())));
    }
    if let Some(p) = &pattern_static {
        checks.push(("v.pattern", Some(format!("&{p}"))));
    }
    if let Some(m) = &f.min {
        checks.push(("v.min", Some(bound_literal(ty, m.value))));
    }
    if let Some(m) = &f.max {
        checks.push(("v.max", Some(bound_literal(ty, m.value))));
    }
    let render = |arg: &str| -> Vec<String> {
        checks
            .iter()
            .map(|(method, extra)| {
                let mut args = vec![format!("\"{name}\""), arg.to_string()];
                args.extend(extra.clone());
                call_stmt("", method, &args)
            })
            .collect()
    };
    let input_checks = render(&input_arg);
    let patch_checks = render(&patch_arg);

    let default_sql = default.as_ref().map(|d| sql_literal(ty, d));
    let mut modifiers = Vec::new();
    if !nullable {
        modifiers.push("NOT NULL".to_string());
    }
    if let Some(d) = default_sql {
        modifiers.push(format!("DEFAULT {d}"));
    }
    Field {
        new_type: wrap_option(&rust_type, nullable || restricted),
        insert_expr: match (restricted, default.as_ref()) {
            (true, Some(d)) => Some(sql_literal(ty, d)),
            _ => None,
        },
        writers: f.write.as_ref().map(|w| {
            w.value
                .iter()
                .filter(|x| x.value != SERVER_WRITE)
                .map(|x| x.value.clone())
                .collect()
        }),
        input_let: input_let(&ident, &name, required, default_call.as_deref()),
        default_const_decl: default_const.map(|(c, d)| const_str(&c, &format!("{d:?}"))),
        patch_let: patch_let(&ident, &name, nullable),
        input_checks,
        patch_checks,
        changes_type: changes_type(&rust_type, nullable),
        row_decl: String::new(),
        new_decl: String::new(),
        input_decl: String::new(),
        patch_decl: String::new(),
        changes_decl: String::new(),
        input_serde: match ty {
            FieldType::Decimal => Some(DECIMAL_SERDE.to_string()),
            FieldType::I32 | FieldType::I64 => Some(INTEGER_SERDE.to_string()),
            _ => None,
        },
        patch_with: match ty {
            FieldType::Decimal => "crate::extract::decimal_patch",
            FieldType::I32 | FieldType::I64 => "crate::extract::integer_patch",
            _ => "double_option",
        },
        pattern_literal: f
            .pattern
            .as_ref()
            .map(|p| raw_string(&p.value))
            .unwrap_or_default(),
        pattern_static,
        column_q: sql_ident(&name),
        row_type: wrap_option(&rust_type, nullable),
        rust_type,
        sql_type,
        sql_modifiers: modifiers.join(" "),
        nullable,
        required,
        default_rust,
        parent: None,
        is_copy,
        is_enum: ty == FieldType::Enum,
        param: 0,
        doc_type,
        spec: FieldSpec {
            ty: Some(ty),
            unique: f.unique.as_ref().is_some_and(|u| u.value),
            min: f.min.as_ref().map(|m| m.value),
            max: f.max.as_ref().map(|m| m.value),
            min_length: f.min_length.as_ref().map(|m| m.value),
            max_length: f.max_length.as_ref().map(|m| m.value),
            pattern: f.pattern.as_ref().map(|p| p.value.clone()),
            values: f
                .values
                .as_ref()
                .map(|v| v.value.iter().map(|x| x.value.clone()).collect())
                .unwrap_or_default(),
            renamed_from: f.renamed_from.as_ref().map(|r| names::snake(&r.value)),
            loc: f.loc,
            path: f.path.clone(),
        },
        ident,
        name,
    }
}

/// A Rust raw string literal holding `s` (regular expressions are full of
/// backslashes).
fn raw_string(s: &str) -> String {
    let mut hashes = String::new();
    while s.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{s}\"{hashes}")
}

fn rust_literal(ty: FieldType, v: &str, rust_type: &str) -> String {
    match ty {
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url => {
            format!("{v:?}.to_owned()")
        }
        FieldType::Enum => format!("{rust_type}::{}", names::camel(v)),
        FieldType::Decimal => bound_literal(ty, v.parse().unwrap_or_default()),
        FieldType::F64 if !v.contains('.') => format!("{v}.0"),
        _ => v.to_string(),
    }
}

fn sql_literal(ty: FieldType, v: &str) -> String {
    match ty {
        FieldType::Bool | FieldType::I32 | FieldType::I64 | FieldType::F64 | FieldType::Decimal => {
            v.to_string()
        }
        _ => format!("'{}'", v.replace('\'', "''")),
    }
}
