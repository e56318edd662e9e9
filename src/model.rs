//! The model: what the templates read, lowered from a valid spec by
//! [`crate::lower`].
//!
//! Every name a template prints is a field here, computed once: struct,
//! module, table, column, route, constraint and index names, the Rust and SQL
//! types, the SQL text of each statement and the validation calls of each
//! field. Templates only loop over this model and print it.

use crate::spec::FieldSpec;

/// How deep a `json` field's value may nest: a scalar is one level, an array
/// or object one more than its deepest element. The service refuses deeper
/// values (422), and the OpenAPI document spells the limit out as one schema
/// per level, which keeps the document free of recursive schemas: client
/// generators such as openapi-python-client drop every operation that
/// touches a recursive one.
pub const JSON_MAX_DEPTH: usize = 8;

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
    /// Some `contains` filter's index needs the `pg_trgm` extension.
    pub trigram: bool,
    /// Resource modules in the order rustfmt sorts `mod` items.
    pub modules_sorted: Vec<String>,
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
    /// The login is an `email`: stored and looked up trimmed and lowercased.
    pub login_normalised: bool,
    /// `SELECT "id", "role", "password_hash" FROM .. WHERE login = $1`.
    pub sql_login: String,
    /// The account of a refresh token and the role of an account, locked
    /// (see `AuthSql`).
    pub sql_session_account: String,
    pub sql_lock_account: String,
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

/// What a route does to its resource. Access rules name `Replace` and
/// `Update` alike (`update`); rate limits tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteAction {
    List,
    Create,
    Get,
    Replace,
    Update,
    Delete,
}

/// One method on one path of a resource. The resource's routes are the one
/// table the router, the OpenAPI document, the rate limits, the generated
/// tests' fixtures and `scaffold routes` all read, in this order: the
/// collection, the item, then the nested collection under each parent.
#[derive(Debug, Clone)]
pub struct Route {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// axum's method router for it (`get`, `post`, ...).
    pub method_fn: &'static str,
    pub action: RouteAction,
    /// The path as the service routes it (`/v1/orders/{id}`).
    pub path: String,
    /// The resource module's constant for the path below `/v1`
    /// (`COLLECTION`, `ITEM`, `UNDER_USER`), and that path (`/orders/{id}`).
    pub path_const: String,
    pub local_path: String,
    /// The path as the OpenAPI document writes it: the item's id is named
    /// after the resource (`/v1/orders/{order_id}`).
    pub openapi_path: String,
    pub operation_id: String,
    /// The handler function (`list`, `fetch`, `list_by_user`, ...).
    pub handler: String,
    /// The access rule the handler checks (`list`, `get`, `create`,
    /// `update`, `delete`).
    pub rule: &'static str,
    /// For a nested collection route, the parent resource's snake_case name.
    pub parent: Option<String>,
}

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
    /// Every route of the resource, from `crate::lower::routes`.
    pub routes: Vec<Route>,
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
    /// Constraint names mapped to the field they report on (unique and
    /// foreign-key violations).
    pub constraints: Vec<ConstraintMap>,
    /// Enum types declared by this resource's fields.
    pub enums: Vec<EnumType>,
    /// The statements of the resource module, as SQL text.
    pub sql: ResourceSql,
    /// The validated create and PATCH structs' fields in shorthand
    /// (`email, name`).
    pub new_fields: String,
    /// Whether create or PATCH validation records any error at all (otherwise
    /// the validator is not created).
    pub input_validates: bool,
    pub patch_validates: bool,
    /// `.bind(..)` arguments of the PATCH statement after the id.
    pub patch_binds: Vec<String>,
    pub has_patterns: bool,
    /// Some field is `unique` (the generated tests check the 409).
    pub has_unique: bool,
    /// rustfmt writes a one-element array of a struct literal as `&[Constraint {`.
    pub single_constraint: bool,
    /// The table as the database sees it: the schema state later
    /// migrations are computed against.
    pub table: TableDef,
    /// Its `CREATE TABLE` statement, written by `crate::ddl`.
    pub create_table: String,
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
    /// `list`: filtered, sorted and counted lists, assembled at run time.
    pub list: Option<ListQuery>,
    /// Indexes the list's filters and orders need that no declared index
    /// serves: created with the table, named after their columns.
    pub list_indexes: Vec<Index>,
    /// The owner condition cut around its one parameter (for statements
    /// assembled at run time); `None` when the resource has no owner.
    pub owner_cond: Option<(String, String)>,
}

/// `list`: the filters, orders and counts a list request may ask for.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filters: Vec<ListFilter>,
    pub orders: Vec<ListOrder>,
    /// `?count=exact|estimated` is allowed.
    pub count: bool,
    /// The fields `?q=` searches.
    pub search: Vec<String>,
    /// The generated column holding their words, when there are some.
    pub search_column: Option<String>,
    /// The text search configuration of the column and of `?q=`
    /// (`simple`, `english`, ...).
    pub search_language: String,
    /// The keys of a row in a response, which `?fields=` may name.
    pub fields: Vec<String>,
    /// The relations `?include=` may embed, in spec order.
    pub includes: Vec<ListInclude>,
}

/// A relation a list's rows may embed with `?include=`, and the statement
/// that loads it for a whole page.
#[derive(Debug, Clone)]
pub struct ListInclude {
    /// A parent's name (`user`) or the children's plural (`comments`): the
    /// query value and the key in each row.
    pub name: String,
    /// The included resource's module.
    pub module: String,
    /// The included resource's rule a caller must pass: `GET` for a parent,
    /// `LIST` for children.
    pub rule: &'static str,
    /// The key of a listed row linking it (the foreign key, or `id`), and
    /// the key of an included row it matches (`id`, or the foreign key).
    pub from: String,
    pub to: String,
    pub many: bool,
    /// The kind of the linking ids (`Int` or `Uuid`).
    pub id: ListKind,
    /// The statement around the bound ids and the owner condition.
    pub head: String,
    pub middle: String,
    pub tail: String,
    /// The included resource's owner condition around its one parameter.
    pub owner_cond: Option<(String, String)>,
}

/// How a listed column's values are parsed and bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListKind {
    Int,
    Float,
    Decimal,
    Text,
    Bool,
    Uuid,
    Date,
    Timestamp,
    /// A PostgreSQL enum: its quoted type and its values.
    Enum {
        sql_type: String,
        values: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub struct ListFilter {
    pub column: String,
    /// Table-qualified and quoted.
    pub sql: String,
    pub kind: ListKind,
    pub nullable: bool,
    /// The operators, as their spec names (`eq`, `in`, `range`, `null`,
    /// `prefix`), in spec order.
    pub ops: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct ListOrder {
    /// `-created_at` or `status,-created_at`.
    pub name: String,
    /// The same order reversed, which a client may ask for too.
    pub reverse: String,
    pub keys: Vec<ListKey>,
}

#[derive(Debug, Clone)]
pub struct ListKey {
    pub column: String,
    pub sql: String,
    pub desc: bool,
    pub kind: ListKind,
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
    /// `w.check(..)` calls for fields not every caller may write.
    pub write_checks: Vec<Call>,
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
    /// The grants of the rule (`Grant::Owner`, `Grant::Role(Role::Admin)`).
    pub grants: Vec<String>,
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

/// A table as the database sees it. It is what `scaffold.lock` records and
/// what `crate::ddl` writes both the first migration and every later one
/// from, so a column's type, nullability and default are facts here, never
/// text to be parsed back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TableDef {
    /// The table's name, unquoted.
    pub name: String,
    pub columns: Vec<ColumnDef>,
    /// Named constraints, in the order `CREATE TABLE` declares them.
    pub constraints: Vec<ConstraintDef>,
    /// Foreign-key indexes, then the declared ones.
    pub indexes: Vec<IndexDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnDef {
    pub name: String,
    /// The SQL type (`text`, `bigint`, `"order_status"` for an enum).
    pub sql_type: String,
    /// `GENERATED ALWAYS AS IDENTITY`: the database numbers the rows, and
    /// the column is implicitly NOT NULL.
    pub identity: bool,
    pub nullable: bool,
    /// The `DEFAULT` expression, as SQL (`'pending'`, `now()`).
    pub default: Option<String>,
    /// `GENERATED ALWAYS AS (<expression>) STORED`: derived from the other
    /// columns (the full-text `search_vector`); absent from older locks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
}

/// A named table constraint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConstraintDef {
    pub name: String,
    #[serde(flatten)]
    pub kind: ConstraintKind,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConstraintKind {
    PrimaryKey {
        column: String,
    },
    ForeignKey {
        column: String,
        /// The referenced table (its `"id"` column).
        table: String,
        /// `CASCADE`, `RESTRICT` or `SET NULL`.
        on_delete: String,
    },
    Unique {
        column: String,
    },
    /// A CHECK mirroring a field's bound; `expr` is the SQL condition.
    Check {
        expr: String,
    },
}

/// A named index of a table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IndexDef {
    pub name: String,
    pub unique: bool,
    pub keys: Vec<IndexKey>,
    /// `USING gin` for the full-text index; btree when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IndexKey {
    pub column: String,
    pub desc: bool,
    /// An operator class (`text_pattern_ops` serves a `prefix` filter in
    /// any collation); absent from locks written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opclass: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Pk {
    pub rust_type: &'static str,
    pub sql_type: &'static str,
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
    /// The column's `DEFAULT`, as SQL.
    pub sql_default: Option<String>,
    pub nullable: bool,
    /// Missing on create is a validation error.
    pub required: bool,
    /// A foreign key to a parent resource.
    pub parent: Option<String>,
    /// Position in the INSERT placeholder list (1-based).
    pub param: usize,
    /// How an optional create-body field without a value gets its default:
    /// the method called on the `Option` (`unwrap_or(0)`,
    /// `unwrap_or_else(|| NAME_DEFAULT.to_owned())`).
    pub default_call: Option<String>,
    /// The validator calls checking this field in a create body and in a
    /// PATCH body, after the `let` that binds it.
    pub input_checks: Vec<Call>,
    pub patch_checks: Vec<Call>,
    /// The field's type in the validated PATCH struct.
    pub changes_type: String,
    /// The field's types in the create body and the PATCH body: every
    /// field is optional there (`Option<..>`, and `Option<Option<..>>` so a
    /// PATCH tells absent from `null`).
    pub input_type: String,
    pub patch_type: String,
    /// `NAME_DEFAULT`, the constant holding a text default, and the text.
    pub default_const: Option<StrConst>,
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
    /// The credentials resource's `email` login: trimmed and lowercased
    /// before it is validated, so one mailbox is one account.
    pub normalise: bool,
}

/// A `&str` constant of generated code: its name and its value.
#[derive(Debug, Clone)]
pub struct StrConst {
    pub name: String,
    pub value: String,
}

/// A call statement of generated code (`v.min_chars("name", name, 3);`):
/// the callee and its arguments as Rust expressions. Its layout depends on
/// their lengths, so it is made at render time.
#[derive(Debug, Clone)]
pub struct Call {
    pub callee: &'static str,
    pub args: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Parent {
    /// The parent resource's snake_case name.
    pub resource: String,
    pub struct_name: String,
    /// The parent's table, unquoted and quoted.
    pub table: String,
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
    /// The `CREATE INDEX` of the foreign key (with `"id"`, so the same index
    /// serves the nested keyset listing).
    pub create_index: String,
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
    pub sql_list_const: String,
    pub fk_const: String,
    /// The call the generated test of the nested routes awaits.
    pub nested_test_call: Call,
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
    pub unique: bool,
    /// Its `CREATE [UNIQUE] INDEX` statement.
    pub create: String,
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
    /// Its `CREATE TYPE` statement.
    pub create: String,
}

#[derive(Debug, Clone)]
pub struct EnumVariant {
    pub rust_name: String,
    pub value: String,
    /// The spec's `default` (the enum derives `Default` with it).
    pub is_default: bool,
}
