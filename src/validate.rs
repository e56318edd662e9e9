//! Validate: every semantic rule a spec must satisfy, checked in one pass that
//! never stops at the first problem. After this pass succeeds, lowering may
//! rely on every rule below holding.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Diagnostics, did_you_mean, one_of_help};
use crate::graph::owner_chain;
use crate::names;
use crate::spec::{
    Action, FieldType, RawAuth, RawField, RawRateLimit, RawResource, RawSpec, SERVER_WRITE,
    SUPPORTED_VERSIONS, Sp,
};

/// Columns every table gets; a field may not reuse their names.
pub const GENERATED_COLUMNS: &[&str] = &["id", "created_at", "updated_at"];

pub fn validate(spec: &RawSpec, diags: &mut Diagnostics) {
    let top = crate::diag::Loc { line: 1, col: 1 };
    match &spec.version {
        None => diags.push(
            Diagnostic::new(top, "version", "missing key `version`")
                .help("add `version: 1` at the top of the spec"),
        ),
        Some(v) if !SUPPORTED_VERSIONS.contains(&v.value) => diags.push(
            v.diag(format!("unsupported spec version `{}`", v.value))
                .help("this scaffold reads `version: 1`"),
        ),
        Some(_) => {}
    }
    match &spec.service {
        None => diags.push(
            Diagnostic::new(top, "service", "missing key `service`")
                .help("add `service: <name>`, a lowercase name such as `shop`"),
        ),
        Some(s) if !names::is_service_name(&s.value) => diags.push(
            s.diag(format!("invalid service name `{}`", s.value)).help(format!(
                "use lowercase letters, digits, `-` and `_`, starting with a letter, at most 48 characters, for example `{}`",
                suggest_service(&s.value)
            )),
        ),
        Some(_) => {}
    }

    let by_name: BTreeMap<String, &RawResource> = spec
        .resources
        .iter()
        .map(|r| (names::snake(&r.name.value), r))
        .collect();
    let known: Vec<&str> = by_name.keys().map(String::as_str).collect();

    // Names that must stay distinct once converted: resource names, table
    // names and the Rust type names we derive (struct and enum types).
    let mut seen_resource: BTreeMap<String, &Sp<String>> = BTreeMap::new();
    let mut seen_table: BTreeMap<String, &Sp<String>> = BTreeMap::new();
    let mut seen_type: BTreeMap<String, &Sp<String>> = BTreeMap::new();

    for r in &spec.resources {
        resource_name(r, diags);
        let snake = names::snake(&r.name.value);
        if let Some(first) = seen_resource.get(&snake) {
            diags.push(
                r.name
                    .diag(format!(
                        "resource `{}` collides with `{}`: both become `{snake}`",
                        r.name.value, first.value
                    ))
                    .related(first.loc, format!("`{}` defined", first.value))
                    .help("rename one of the two resources"),
            );
        } else {
            seen_resource.insert(snake.clone(), &r.name);
        }
        let table_src = r.plural.as_ref().unwrap_or(&r.name);
        if let Some(p) = &r.plural
            && !names::is_spec_ident(&p.value)
        {
            diags.push(
                p.diag(format!("invalid plural `{}`", p.value))
                    .help("use letters, digits and `_`, starting with a letter"),
            );
        }
        let table = match &r.plural {
            Some(p) => names::snake(&p.value),
            None => names::plural(&snake),
        };
        if let Some(first) = seen_table.get(&table) {
            diags.push(
                table_src
                    .diag(format!(
                        "table name `{table}` of `{}` is already used by `{}`",
                        r.name.value, first.value
                    ))
                    .related(first.loc, format!("`{}` defined", first.value))
                    .help("set `plural:` on one of them to a distinct name"),
            );
        } else {
            seen_table.insert(table, &r.name);
        }
        let type_name = names::camel(&r.name.value);
        if let Some(first) = seen_type.get(&type_name) {
            diags.push(
                r.name
                    .diag(format!(
                        "type name `{type_name}` of resource `{}` is already used by `{}`",
                        r.name.value, first.value
                    ))
                    .related(first.loc, format!("`{}` defined", first.value))
                    .help("rename the resource or the field"),
            );
        } else {
            seen_type.insert(type_name, &r.name);
        }
    }

    for r in &spec.resources {
        if r.fields.is_empty() && !r.had_errors {
            diags.push(
                r.name
                    .diag(format!("resource `{}` has no fields", r.name.value))
                    .help("add at least one field under `fields:`, for example `name: string`"),
            );
        }
        parents(r, &by_name, &known, diags);
        let mut seen_field: BTreeMap<String, &Sp<String>> = BTreeMap::new();
        let fk_columns: Vec<String> = r
            .belongs_to
            .iter()
            .map(|p| format!("{}_id", names::snake(&p.resource.value)))
            .collect();
        for f in &r.fields {
            let snake = names::snake(&f.name.value);
            field_name(
                f,
                &snake,
                &fk_columns,
                r.timestamps.as_ref().is_none_or(|t| t.value),
                diags,
            );
            if let Some(first) = seen_field.get(&snake) {
                diags.push(
                    f.name
                        .diag(format!(
                            "field `{}` collides with `{}`: both become `{snake}`",
                            f.name.value, first.value
                        ))
                        .related(first.loc, format!("`{}` defined", first.value))
                        .help("rename one of the two fields"),
                );
            } else {
                seen_field.insert(snake.clone(), &f.name);
            }
            field_rules(f, diags);
            if f.ty.as_ref().is_some_and(|t| t.value == FieldType::Enum) {
                let enum_type = format!(
                    "{}{}",
                    names::camel(&r.name.value),
                    names::camel(&f.name.value)
                );
                if let Some(first) = seen_type.get(&enum_type) {
                    diags.push(
                        f.name
                            .diag(format!("the enum type `{enum_type}` generated for this field is already used by `{}`", first.value))
                            .related(first.loc, format!("`{}` defined", first.value))
                            .help("rename the field or the resource"),
                    );
                } else {
                    seen_type.insert(enum_type, &f.name);
                }
            }
        }
        indexes(r, &seen_field, &fk_columns, diags);
        if let Some(limit) = &r.rate_limit {
            // A resource may set only per-action buckets.
            bucket(limit, limit.actions.is_empty(), diags);
            for (_, action) in &limit.actions {
                bucket(action, true, diags);
            }
        }
    }
    cycles(spec, &by_name, diags);
    if let Some(limit) = &spec.rate_limit {
        bucket(limit, true, diags);
        if let Some(login) = &limit.login {
            bucket(login, true, diags);
        }
    }
    match &spec.auth {
        Some(auth) => auth_rules(spec, auth, &by_name, &known, diags),
        None => without_auth(spec, diags),
    }
}

/// Upper bounds that keep a bucket's arithmetic exact and a typo (an extra
/// zero or three) from switching a limit off in effect.
const MAX_CAPACITY: u64 = 1_000_000;
const MAX_REFILL: f64 = 1_000_000.0;

/// One token bucket: `capacity` and `refill_per_second` come as a pair
/// (`required`: the pair must be there), each within its range.
fn bucket(limit: &RawRateLimit, required: bool, diags: &mut Diagnostics) {
    let pair_help = "a bucket needs both `capacity` (the burst a client may send at once) \
                     and `refill_per_second` (its sustained rate), e.g. \
                     `{ capacity: 100, refill_per_second: 50 }`";
    match limit.written {
        (false, false) if required => diags.push(
            Diagnostic::new(
                limit.loc,
                limit.path.clone(),
                "missing keys `capacity` and `refill_per_second`",
            )
            .help(pair_help),
        ),
        (true, false) => diags.push(
            Diagnostic::new(
                limit.loc,
                limit.path.clone(),
                "missing key `refill_per_second`",
            )
            .help(pair_help),
        ),
        (false, true) => diags.push(
            Diagnostic::new(limit.loc, limit.path.clone(), "missing key `capacity`")
                .help(pair_help),
        ),
        _ => {}
    }
    if let Some(c) = &limit.capacity
        && !(1..=MAX_CAPACITY).contains(&c.value)
    {
        diags.push(
            c.diag(format!("`capacity` {} is out of range", c.value))
                .help(format!(
                    "use a whole number of requests between 1 and {MAX_CAPACITY}"
                )),
        );
    }
    if let Some(r) = &limit.refill_per_second
        && !(r.value > 0.0 && r.value <= MAX_REFILL)
    {
        diags.push(
            r.diag(format!("`refill_per_second` {} is out of range", r.value))
                .help(format!(
                    "use a rate greater than 0 and at most {MAX_REFILL}; `0.1` is one request every 10 seconds"
                )),
        );
    }
}

/// Rule words an `access` entry may use besides the spec's roles; none of
/// them may be a role name.
pub const RULE_WORDS: &[&str] = &["public", "authenticated", "owner"];
/// Tables the auth routes create next to the resources' tables.
pub const AUTH_TABLES: &[&str] = &["refresh_tokens", "revoked_tokens"];
/// Columns auth adds to the credentials resource.
pub const CREDENTIAL_COLUMNS: &[&str] = &["password", "password_hash", "role"];

/// `access:` and `write:` mean nothing without an `auth` section.
fn without_auth(spec: &RawSpec, diags: &mut Diagnostics) {
    for r in &spec.resources {
        if let Some(a) = &r.access {
            diags.push(
                a.diag("`access` rules need an `auth` section")
                    .help("add `auth:` with `credentials:`, `roles:` and `default_role:` at the top of the spec, or remove `access`"),
            );
        }
        for f in &r.fields {
            if let Some(w) = &f.write {
                diags.push(
                    w.diag("`write` rules need an `auth` section")
                        .help("add `auth:` with `credentials:`, `roles:` and `default_role:` at the top of the spec, or remove `write`"),
                );
            }
        }
    }
}

fn auth_rules(
    spec: &RawSpec,
    auth: &RawAuth,
    by_name: &BTreeMap<String, &RawResource>,
    known: &[&str],
    diags: &mut Diagnostics,
) {
    // Roles: distinct lowercase names, none of them a rule word.
    let mut roles: Vec<&str> = Vec::new();
    if let Some(list) = &auth.roles {
        if list.value.is_empty() {
            diags.push(
                list.diag("`roles` needs at least one role")
                    .help("write `roles: [user, admin]`"),
            );
        }
        for role in &list.value {
            let v = role.value.as_str();
            let valid = v.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && v.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && v.len() <= 48;
            if !valid {
                diags.push(
                    role.diag(format!("invalid role name `{v}`"))
                        .help("use lowercase letters, digits and `_`, starting with a letter"),
                );
            } else if RULE_WORDS.contains(&v) || v == SERVER_WRITE {
                diags.push(
                    role.diag(format!("`{v}` cannot be a role name: it is an access rule word"))
                        .help("rename the role, for example `member`; `public`, `authenticated`, `owner` and `server` are reserved"),
                );
            } else if roles.contains(&v) {
                diags.push(
                    role.diag(format!("role `{v}` is listed twice"))
                        .help("remove the duplicate"),
                );
            } else {
                roles.push(v);
            }
        }
    }
    for (key, value) in [
        ("default_role", &auth.default_role),
        ("admin_role", &auth.admin_role),
    ] {
        if let Some(v) = value
            && !roles.is_empty()
            && !roles.contains(&v.value.as_str())
        {
            diags.push(
                v.diag(format!("`{key}` names an unknown role `{}`", v.value))
                    .help(one_of_help(&v.value, &roles)),
            );
        }
    }
    if let (Some(t), Some(r)) = (&auth.token_ttl, &auth.refresh_ttl)
        && t.value >= r.value
    {
        diags.push(
            r.diag("`refresh_ttl` must be longer than `token_ttl`")
                .related(t.loc, "`token_ttl` set")
                .help("access tokens are short-lived and renewed with the refresh token, for example `token_ttl: 15m` and `refresh_ttl: 30d`"),
        );
    }
    for v in [&auth.issuer, &auth.audience].into_iter().flatten() {
        if v.value.trim().is_empty() {
            diags.push(
                v.diag("an empty issuer or audience identifies nothing")
                    .help("write a name, for example the service name"),
            );
        }
    }
    if let Some(min) = &auth.password_min_length
        && min.value < 8
    {
        diags.push(
            min.diag(format!("`password_min_length` {} is below 8", min.value))
                .help(
                    "OWASP asks for at least 8 characters; write `password_min_length: 8` or more",
                ),
        );
    }
    if let Some(max) = &auth.password_max_length
        && !(auth.password_min_length.as_ref().map_or(8, |m| m.value)..=1024).contains(&max.value)
    {
        diags.push(
            max.diag(format!("`password_max_length` {} is out of range", max.value))
                .help("allow at least `password_min_length` and at most 1024 characters; 64 to 128 is usual"),
        );
    }

    // The credentials resource and its login field.
    let credentials = auth.credentials.as_ref().and_then(|c| {
        let name = names::snake(&c.value);
        match by_name.get(&name) {
            Some(r) => Some((name, *r)),
            None => {
                diags.push(
                    c.diag(format!(
                        "`credentials` names an unknown resource `{}`",
                        c.value
                    ))
                    .help(one_of_help(&c.value, known)),
                );
                None
            }
        }
    });
    if let Some((_, cred)) = &credentials {
        let login = auth.login.as_ref().map_or("email", |l| l.value.as_str());
        match cred
            .fields
            .iter()
            .find(|f| names::snake(&f.name.value) == login)
        {
            None => {
                let at = auth.login.as_ref().map_or(&cred.name, |l| l);
                let fields: Vec<&str> = cred.fields.iter().map(|f| f.name.value.as_str()).collect();
                let help = if auth.login.is_some() {
                    one_of_help(login, &fields)
                } else {
                    format!(
                        "add `email: {{ type: email, unique: true }}` to `{}`, or set `auth.login` to a unique string field",
                        cred.name.value
                    )
                };
                diags.push(
                    at.diag(format!(
                        "the credentials resource `{}` has no `{login}` field to log in with",
                        cred.name.value
                    ))
                    .help(help),
                );
            }
            Some(f) => {
                let texty =
                    f.ty.as_ref()
                        .is_some_and(|t| matches!(t.value, FieldType::String | FieldType::Email));
                let unique = f.unique.as_ref().is_some_and(|u| u.value);
                let nullable = f.required.as_ref().is_some_and(|r| !r.value);
                if !texty || !unique || nullable {
                    let ty = match f.ty.as_ref().map(|t| t.value) {
                        Some(FieldType::String) => "string",
                        _ => "email",
                    };
                    diags.push(
                        f.name
                            .diag(format!("login field `{login}` must be a required, unique `email` or `string`"))
                            .help(format!("write `{login}: {{ type: {ty}, unique: true }}`")),
                    );
                }
            }
        }
        for f in &cred.fields {
            let snake = names::snake(&f.name.value);
            if CREDENTIAL_COLUMNS.contains(&snake.as_str()) {
                diags.push(
                    f.name
                        .diag(format!("field `{}` of the credentials resource is generated by `auth`", f.name.value))
                        .help("remove it: auth stores `password_hash` (the password is never stored or returned) and `role`"),
                );
            }
        }
        if let Some(a) = &cred.access
            && let Some((action, _)) = a
                .value
                .rules
                .iter()
                .find(|(a, _)| a.value == Action::Create)
        {
            diags.push(
                action
                    .diag(format!("`{}` rows are created by `POST /v1/auth/register`", cred.name.value))
                    .help("remove `create`: registration is open and gives every new account the `default_role`"),
            );
        }
    }
    for r in &spec.resources {
        let table = match &r.plural {
            Some(p) => names::snake(&p.value),
            None => names::plural(&names::snake(&r.name.value)),
        };
        if AUTH_TABLES.contains(&table.as_str()) {
            diags.push(
                r.name
                    .diag(format!("table `{table}` is used by the auth routes"))
                    .help("rename the resource or set a different `plural:`"),
            );
        }
    }

    // Access rules and field write rules.
    let mut words: Vec<&str> = RULE_WORDS.to_vec();
    words.extend(roles.iter().copied());
    for r in &spec.resources {
        let name = names::snake(&r.name.value);
        let chain = credentials
            .as_ref()
            .and_then(|(c, _)| owner_chain(&name, c, by_name));
        // A cache hit is checked against the owner column of the cached
        // row; further up the chain the owner is not on the row.
        if let (Some(c), Some(chain)) = (&r.cache, &chain)
            && chain.len() > 1
        {
            diags.push(
                Diagnostic::new(c.loc, c.path.clone(), format!(
                    "`cache` on `{}`, whose owner is not a column of its rows (it is reached through `{}`)",
                    r.name.value, chain[1].0
                ))
                .help("cache the resources that belong to the credentials resource directly (or the credentials resource itself), or remove `cache`"),
            );
        }
        if let Some(a) = &r.access {
            let mut seen = BTreeSet::new();
            for (action, rules) in &a.value.rules {
                if !seen.insert(action.value) {
                    diags.push(
                        action
                            .diag(format!(
                                "action `{}` is listed twice",
                                action.value.as_str()
                            ))
                            .help("give each action one rule or one list of rules"),
                    );
                }
                for rule in &rules.value {
                    let v = rule.value.as_str();
                    if !words.contains(&v) {
                        diags.push(
                            rule.diag(format!("unknown access rule or role `{v}`"))
                                .help(one_of_help(v, &words)),
                        );
                    } else if v == "owner" && chain.is_none() && credentials.is_some() {
                        let cred = &auth
                            .credentials
                            .as_ref()
                            .map(|c| c.value.clone())
                            .unwrap_or_default();
                        diags.push(
                            rule.diag(format!(
                                "`owner` needs a `belongs_to` chain from `{}` to the credentials resource `{cred}`",
                                r.name.value
                            ))
                            .help(format!("add `belongs_to: {cred}` (directly or through a parent that has one), or use `authenticated` or a role")),
                        );
                    }
                }
                // The owner column is filled from the token: an anonymous
                // caller has none to give.
                if action.value == Action::Create
                    && chain.as_ref().is_some_and(|c| c.len() == 1)
                    && rules.value.iter().any(|x| x.value == "public")
                {
                    diags.push(
                        action
                            .diag(format!(
                                "`create: public` on `{}`, whose owner is taken from the caller's token",
                                r.name.value
                            ))
                            .help("use `create: authenticated` or `create: owner`"),
                    );
                }
            }
        }
        for f in &r.fields {
            let Some(w) = &f.write else { continue };
            let server = w.value.iter().any(|x| x.value == SERVER_WRITE);
            if server && w.value.len() > 1 {
                diags.push(
                    w.diag("`write: server` cannot be combined with roles")
                        .help(
                            "write `write: server` for a field no caller sets, or list only roles",
                        ),
                );
            }
            for x in &w.value {
                let v = x.value.as_str();
                if v != SERVER_WRITE && !roles.contains(&v) {
                    let mut options = roles.clone();
                    options.push(SERVER_WRITE);
                    diags.push(
                        x.diag(format!("`write` names an unknown role `{v}`"))
                            .help(one_of_help(v, &options)),
                    );
                }
            }
            let nullable = f.required.as_ref().is_some_and(|r| !r.value);
            if f.default.is_none() && !nullable {
                diags.push(
                    w.diag(format!(
                        "field `{}` may not be written by every caller, so it needs a value without one",
                        f.name.value
                    ))
                    .help("add a `default:` or make the field `required: false`"),
                );
            }
        }
    }
}

fn suggest_service(s: &str) -> String {
    let cleaned: String = names::snake(s)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let trimmed = cleaned.trim_start_matches(|c: char| !c.is_ascii_alphabetic());
    if trimmed.is_empty() {
        "my_service".to_string()
    } else {
        trimmed.chars().take(48).collect()
    }
}

fn resource_name(r: &RawResource, diags: &mut Diagnostics) {
    let name = &r.name;
    if !names::is_spec_ident(&name.value) {
        diags.push(
            name.diag(format!("invalid resource name `{}`", name.value)).help(
                "use letters, digits and `_`, starting with a letter, at most 32 characters, for example `order_item`",
            ),
        );
        return;
    }
    let snake = names::snake(&name.value);
    if names::is_rust_keyword(&snake) || names::RUST_UNRAWABLE.contains(&snake.as_str()) {
        diags.push(
            name.diag(format!("resource name `{}` is a Rust keyword", name.value))
                .help(format!(
                    "rename the resource, for example `{snake}_item` or `{snake}_entry`"
                )),
        );
    }
    if snake == "auth" {
        diags.push(
            name.diag("resource name `auth` is reserved for the authentication routes")
                .help("rename the resource, for example `auth_record`"),
        );
    }
}

fn field_name(
    f: &RawField,
    snake: &str,
    fk_columns: &[String],
    timestamps: bool,
    diags: &mut Diagnostics,
) {
    let name = &f.name;
    if !names::is_spec_ident(&name.value) {
        diags.push(
            name.diag(format!("invalid field name `{}`", name.value))
                .help("use letters, digits and `_`, starting with a letter, at most 32 characters"),
        );
        return;
    }
    if names::RUST_UNRAWABLE.contains(&snake) {
        diags.push(
            name.diag(format!(
                "field name `{}` cannot be used as a Rust identifier",
                name.value
            ))
            .help(format!("rename the field, for example `{snake}_ref`")),
        );
    }
    let generated = if timestamps {
        GENERATED_COLUMNS
    } else {
        &GENERATED_COLUMNS[..1]
    };
    if generated.contains(&snake) {
        diags.push(
            name.diag(format!("field `{}` collides with the generated column `{snake}`", name.value))
                .help("every table already has `id`, `created_at` and `updated_at`; remove this field or rename it"),
        );
    }
    if fk_columns.iter().any(|c| c == snake) {
        diags.push(
            name.diag(format!(
                "field `{}` collides with the foreign key column `{snake}` from `belongs_to`",
                name.value
            ))
            .help("remove the field: `belongs_to` already creates this column"),
        );
    }
}

fn field_rules(f: &RawField, diags: &mut Diagnostics) {
    let Some(ty) = &f.ty else { return };
    let t = ty.value;
    let numeric = matches!(
        t,
        FieldType::I32 | FieldType::I64 | FieldType::F64 | FieldType::Decimal
    );
    let integer = matches!(t, FieldType::I32 | FieldType::I64);
    let texty = matches!(
        t,
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url
    );
    let not_for = |key: &str, for_what: &str| {
        format!(
            "remove `{key}`: it applies only to {for_what} fields, and `{}` is `{}`",
            f.name.value,
            t.as_str()
        )
    };
    for c in [&f.min, &f.max].into_iter().flatten() {
        let key = c.path.rsplit('.').next().unwrap_or_default().to_string();
        if !numeric {
            diags.push(
                c.diag(format!("`{key}` does not apply to {} field", a_type(t)))
                    .help(not_for(&key, "i32, i64, f64 and decimal")),
            );
        } else if integer && c.value.fract() != 0.0 {
            diags.push(
                c.diag(format!(
                    "`{key}` of an integer field must be a whole number, found `{}`",
                    c.value
                ))
                .help(format!("write `{key}: {}`", c.value.trunc())),
            );
        } else if t == FieldType::I32 && (c.value < i32::MIN as f64 || c.value > i32::MAX as f64) {
            diags.push(
                c.diag(format!("`{key}` is outside the range of i32"))
                    .help("use `type: i64`, or a bound between -2147483648 and 2147483647"),
            );
        }
    }
    if let (Some(min), Some(max)) = (&f.min, &f.max)
        && min.value > max.value
    {
        diags.push(
            max.diag(format!(
                "`max` ({}) is less than `min` ({})",
                max.value, min.value
            ))
            .related(min.loc, "`min` set")
            .help("swap the two bounds"),
        );
    }
    for c in [&f.min_length, &f.max_length].into_iter().flatten() {
        let key = c.path.rsplit('.').next().unwrap_or_default().to_string();
        if !texty {
            diags.push(
                c.diag(format!("`{key}` does not apply to {} field", a_type(t)))
                    .help(not_for(&key, "string, text, email and url")),
            );
        }
    }
    if let Some(max) = &f.max_length
        && max.value == 0
    {
        diags.push(
            max.diag("`max_length` must be at least 1")
                .help("remove `max_length` or set it to a positive number"),
        );
    }
    if let (Some(min), Some(max)) = (&f.min_length, &f.max_length)
        && min.value > max.value
    {
        diags.push(
            max.diag(format!(
                "`max_length` ({}) is less than `min_length` ({})",
                max.value, min.value
            ))
            .related(min.loc, "`min_length` set")
            .help("swap the two bounds"),
        );
    }
    if let Some(p) = &f.pattern {
        if !texty {
            diags.push(
                p.diag(format!("`pattern` does not apply to {} field", a_type(t)))
                    .help(not_for("pattern", "string, text, email and url")),
            );
        } else if regex::Regex::new(&p.value).is_ok() && patterned_samples(f).is_empty() {
            diags.push(
                p.diag(format!("found no value that matches `{}` within the field's length limits", p.value))
                    .help("the generated tests need sample values; simplify the pattern or loosen `min_length`/`max_length`"),
            );
        } else if let Err(e) = regex::Regex::new(&p.value) {
            let first_line = e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_string();
            diags.push(
                p.diag(format!(
                    "invalid regular expression `{}`: {first_line}",
                    p.value
                ))
                .help("write a pattern in Rust `regex` syntax, for example `^[a-z0-9-]+$`"),
            );
        }
    }
    match (&f.values, t) {
        (Some(v), FieldType::Enum) => {
            if v.value.is_empty() {
                diags.push(
                    v.diag("an enum needs at least one value")
                        .help("write `values: [pending, paid]`"),
                );
            }
            let mut seen: BTreeMap<String, &Sp<String>> = BTreeMap::new();
            for val in &v.value {
                let ok = val
                    .value
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase())
                    && val
                        .value
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    && val.value.len() <= 63;
                if !ok {
                    diags.push(
                        val.diag(format!("invalid enum value `{}`", val.value))
                            .help("use lowercase letters, digits and `_`, starting with a letter"),
                    );
                    continue;
                }
                let camel = names::camel(&val.value);
                if let Some(first) = seen.get(&camel) {
                    diags.push(
                        val.diag(format!(
                            "enum value `{}` collides with `{}`",
                            val.value, first.value
                        ))
                        .related(first.loc, "first defined")
                        .help("remove the duplicate value"),
                    );
                } else {
                    seen.insert(camel, val);
                }
            }
        }
        (None, FieldType::Enum) => diags.push(
            ty.diag("an enum field needs `values`")
                .help("add `values: [a, b, c]` to the field"),
        ),
        (Some(v), _) => diags.push(
            v.diag(format!("`values` does not apply to {} field", a_type(t)))
                .help("remove `values`, or set `type: enum`"),
        ),
        (None, _) => {}
    }
    if let Some(d) = &f.default {
        default_value(f, t, d, diags);
    }
}

fn default_value(f: &RawField, t: FieldType, d: &Sp<String>, diags: &mut Diagnostics) {
    let v = d.value.as_str();
    let bad = |what: &str, example: &str| {
        d.diag(format!("default `{v}` is not {}", an(what)))
            .help(format!(
                "write {}, for example `default: {example}`",
                an(what)
            ))
    };
    match t {
        FieldType::Bool => {
            if v != "true" && v != "false" {
                diags.push(bad("bool", "false"));
            }
        }
        FieldType::I32 => {
            if v.parse::<i32>().is_err() {
                diags.push(bad("i32", "0"));
            }
        }
        FieldType::I64 => {
            if v.parse::<i64>().is_err() {
                diags.push(bad("i64", "0"));
            }
        }
        FieldType::F64 | FieldType::Decimal => {
            if !v.parse::<f64>().is_ok_and(f64::is_finite) || v.contains(['e', 'E', 'i', 'n', 'N'])
            {
                diags.push(bad("number", "0.5"));
            }
        }
        FieldType::Enum => {
            if let Some(values) = &f.values
                && !values.value.iter().any(|x| x.value == v)
            {
                let names: Vec<&str> = values.value.iter().map(|x| x.value.as_str()).collect();
                diags.push(
                    d.diag(format!("default `{v}` is not one of the enum's values"))
                        .help(one_of_help(v, &names)),
                );
            }
        }
        FieldType::Uuid | FieldType::Date | FieldType::Timestamp | FieldType::Json => {
            diags.push(
                d.diag(format!(
                    "a default is not supported for `{}` fields",
                    t.as_str()
                ))
                .help("remove `default`, or make the field `required: false`"),
            );
        }
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url => {
            let len = v.chars().count() as u64;
            if f.max_length.as_ref().is_some_and(|m| len > m.value)
                || f.min_length.as_ref().is_some_and(|m| len < m.value)
            {
                diags.push(
                    d.diag(format!(
                        "default `{v}` breaks the field's own length limits"
                    ))
                    .help("choose a default within `min_length` and `max_length`"),
                );
            }
        }
    }
    if matches!(
        t,
        FieldType::I32 | FieldType::I64 | FieldType::F64 | FieldType::Decimal
    ) && let Ok(x) = v.parse::<f64>()
        && (f.min.as_ref().is_some_and(|m| x < m.value)
            || f.max.as_ref().is_some_and(|m| x > m.value))
    {
        diags.push(
            d.diag(format!(
                "default `{v}` is outside the field's own `min`/`max`"
            ))
            .help("choose a default within the bounds"),
        );
    }
}

fn parents(
    r: &RawResource,
    by_name: &BTreeMap<String, &RawResource>,
    known: &[&str],
    diags: &mut Diagnostics,
) {
    let mut seen = BTreeSet::new();
    for p in &r.belongs_to {
        let target = names::snake(&p.resource.value);
        if !by_name.contains_key(&target) {
            let mut d = p.resource.diag(format!(
                "`belongs_to` names an unknown resource `{}`",
                p.resource.value
            ));
            d = match did_you_mean(&p.resource.value, known) {
                Some(s) => d.help(format!(
                    "did you mean `{s}`? the resources are {}",
                    crate::spec::list(known)
                )),
                None => d.help(format!(
                    "declare the resource under `resources:`, or use one of {}",
                    crate::spec::list(known)
                )),
            };
            diags.push(d);
        } else if target == names::snake(&r.name.value) {
            diags.push(
                p.resource
                    .diag(format!("resource `{}` cannot belong to itself", r.name.value))
                    .help("self-referencing resources are not supported yet; model the hierarchy with a separate resource"),
            );
        }
        if !seen.insert(target) {
            diags.push(
                p.resource
                    .diag(format!(
                        "`{}` is listed twice in `belongs_to`",
                        p.resource.value
                    ))
                    .help("remove the duplicate entry"),
            );
        }
    }
}

fn indexes(
    r: &RawResource,
    fields: &BTreeMap<String, &Sp<String>>,
    fk_columns: &[String],
    diags: &mut Diagnostics,
) {
    let timestamps = r.timestamps.as_ref().is_none_or(|t| t.value);
    let mut columns: Vec<String> = vec!["id".into()];
    columns.extend(fk_columns.iter().cloned());
    columns.extend(fields.keys().cloned());
    if timestamps {
        columns.extend(["created_at".to_string(), "updated_at".to_string()]);
    }
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut seen_sets: BTreeMap<Vec<(String, bool)>, crate::diag::Loc> = BTreeMap::new();
    for ix in &r.indexes {
        if ix.columns.is_empty() {
            diags.push(
                crate::diag::Diagnostic::new(
                    ix.loc,
                    ix.path.clone(),
                    "an index needs at least one column",
                )
                .help("write `columns: [a, b desc]`"),
            );
            continue;
        }
        let mut in_index = BTreeSet::new();
        for c in &ix.columns {
            if !names.contains(&c.value.name.as_str()) {
                diags.push(
                    c.diag(format!("index on unknown column `{}`", c.value.name))
                        .help(one_of_help(&c.value.name, &names)),
                );
            }
            if !in_index.insert(c.value.name.clone()) {
                diags.push(
                    c.diag(format!(
                        "column `{}` appears twice in this index",
                        c.value.name
                    ))
                    .help("list each column once"),
                );
            }
        }
        let key: Vec<(String, bool)> = ix
            .columns
            .iter()
            .map(|c| (c.value.name.clone(), c.value.desc))
            .collect();
        if let Some(first) = seen_sets.get(&key) {
            diags.push(
                crate::diag::Diagnostic::new(ix.loc, ix.path.clone(), "duplicate index")
                    .related(*first, "the same index")
                    .help("remove one of the two indexes"),
            );
        } else {
            seen_sets.insert(key, ix.loc);
        }
    }
}

/// Parent chains must end: `a belongs_to b` and `b belongs_to a` has no table
/// that can be created first.
fn cycles(spec: &RawSpec, by_name: &BTreeMap<String, &RawResource>, diags: &mut Diagnostics) {
    for r in &spec.resources {
        let start = names::snake(&r.name.value);
        // Depth-first walk of parents; a path that comes back to `start` is a cycle.
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        let mut visited = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            let Some(res) = by_name.get(&node) else {
                continue;
            };
            for p in &res.belongs_to {
                let next = names::snake(&p.resource.value);
                if next == node {
                    continue; // self-reference is reported on its own
                }
                if next == start {
                    let mut chain = path.clone();
                    chain.push(start.clone());
                    // Report each cycle once, at its alphabetically first member.
                    if path.iter().all(|m| *m >= start) {
                        diags.push(
                            r.name
                                .diag(format!("`belongs_to` forms a cycle: {}", chain.join(" → ")))
                                .help("remove one `belongs_to` in the cycle; a parent must exist before its children"),
                        );
                    }
                    continue;
                }
                if visited.insert(next.clone()) {
                    let mut np = path.clone();
                    np.push(next.clone());
                    stack.push((next, np));
                }
            }
        }
    }
}

/// "an `i64`", "a `string`".
fn a_type(t: FieldType) -> String {
    an(&format!("`{}`", t.as_str()))
}

fn an(word: &str) -> String {
    let first = word.trim_start_matches('`').chars().next().unwrap_or('x');
    if "aeiou".contains(first) || word.starts_with("`i") {
        format!("an {word}")
    } else {
        format!("a {word}")
    }
}

/// The sample values the generated tests would use for a patterned field.
fn patterned_samples(f: &RawField) -> Vec<serde_json::Value> {
    let spec = crate::spec::FieldSpec {
        ty: Some(FieldType::String),
        pattern: f.pattern.as_ref().map(|p| p.value.clone()),
        min_length: f.min_length.as_ref().map(|m| m.value),
        max_length: f.max_length.as_ref().map(|m| m.value),
        ..Default::default()
    };
    crate::samples::valid(&f.name.value, &spec)
}
