//! Auth: the `auth` section (roles, token and password settings), the
//! credentials resource and its login field, and the tables auth reserves.
//! Without `auth`, `access` and `write` rules are refused.

use std::collections::BTreeMap;

use super::access::access_and_write_rules;
use crate::diag::{Diagnostics, one_of_help};
use crate::names;
use crate::spec::{Action, FieldType, RawAuth, RawResource, RawSpec, SERVER_WRITE};

/// Rule words an `access` entry may use besides the spec's roles; none of
/// them may be a role name.
pub const RULE_WORDS: &[&str] = &["public", "authenticated", "owner"];
/// Tables the auth routes create next to the resources' tables.
pub const AUTH_TABLES: &[&str] = &["refresh_tokens", "revoked_tokens"];
/// Columns auth adds to the credentials resource.
pub const CREDENTIAL_COLUMNS: &[&str] = &["password", "password_hash", "role"];

/// `access:` and `write:` mean nothing without an `auth` section.
pub(super) fn without_auth(spec: &RawSpec, diags: &mut Diagnostics) {
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

/// The rules of a spec with `auth`: the section itself, the credentials
/// resource, then every access and write rule.
pub(super) fn auth_rules(
    spec: &RawSpec,
    auth: &RawAuth,
    by_name: &BTreeMap<String, &RawResource>,
    known: &[&str],
    diags: &mut Diagnostics,
) {
    let roles = roles(auth, diags);
    settings(auth, &roles, diags);

    // The credentials resource and its login field.
    let credentials = credentials(auth, by_name, known, diags);
    if let Some((_, cred)) = &credentials {
        credentials_resource(auth, cred, diags);
    }
    auth_tables(spec, diags);
    access_and_write_rules(spec, auth, &roles, &credentials, by_name, diags);
}

/// Roles: distinct lowercase names, none of them a rule word.
fn roles<'a>(auth: &'a RawAuth, diags: &mut Diagnostics) -> Vec<&'a str> {
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
    roles
}

/// The roles `default_role` and `admin_role` name, the token lifetimes, the
/// issuer and audience, and the password length limits.
fn settings(auth: &RawAuth, roles: &[&str], diags: &mut Diagnostics) {
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
                    .help(one_of_help(&v.value, roles)),
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
}

/// The resource `credentials` names, with its key in `by_name`.
fn credentials<'a>(
    auth: &RawAuth,
    by_name: &BTreeMap<String, &'a RawResource>,
    known: &[&str],
    diags: &mut Diagnostics,
) -> Option<(String, &'a RawResource)> {
    auth.credentials.as_ref().and_then(|c| {
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
    })
}

/// The credentials resource: a login field fit to log in with, none of the
/// columns auth adds, and no `create` rule (registration creates its rows).
fn credentials_resource(auth: &RawAuth, cred: &RawResource, diags: &mut Diagnostics) {
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
                        .diag(format!(
                            "login field `{login}` must be a required, unique `email` or `string`"
                        ))
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

/// No resource may take a table name the auth routes use.
fn auth_tables(spec: &RawSpec, diags: &mut Diagnostics) {
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
}
