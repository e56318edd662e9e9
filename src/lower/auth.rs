//! The `auth` section: what lowering needs to know about it while it
//! lowers each resource, the `role` field it adds to the credentials
//! resource, and the service-level [`Auth`] the auth routes are written from.

use super::sql::auth_statements;
use crate::diag::Loc;
use crate::model::{Auth, EnumVariant, Field, Resource};
use crate::names;
use crate::spec::{FieldType, RawAuth, RawField, SERVER_WRITE, Sp};

/// What lowering needs to know about `auth` while it lowers each resource.
pub struct AuthCtx {
    pub credentials: String,
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
    pub fn new(a: &RawAuth, package: &str) -> Self {
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

    /// Whether `f` of `resource` is the login field and an `email`: stored
    /// and looked up trimmed and lowercased (`Field::normalise`).
    pub fn normalises(&self, resource: &str, f: &Field) -> bool {
        resource == self.credentials && f.name == self.login && f.spec.ty == Some(FieldType::Email)
    }

    /// The `role` field auth adds to the credentials resource: an enum of the
    /// roles, defaulting to `default_role`, written only by `admin_role`.
    pub fn role_field(&self) -> RawField {
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

pub fn lower_auth(ctx: &AuthCtx, resources: &[Resource]) -> Auth {
    let r = resources
        .iter()
        .find(|r| r.name == ctx.credentials)
        .expect("validation checked the credentials resource");
    let login_normalised = r.fields.iter().any(|f| f.normalise);
    let sql = auth_statements(r, &ctx.login, login_normalised);
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
        role_enum: format!("{}Role", r.struct_name),
        default_role: names::camel(&ctx.default_role),
        admin_role: ctx.admin_role.as_deref().map(names::camel),
        token_ttl_secs: ctx.token_ttl_secs,
        refresh_ttl_secs: ctx.refresh_ttl_secs,
        issuer: ctx.issuer.clone(),
        audience: ctx.audience.clone(),
        password_min: ctx.password_min,
        password_max: ctx.password_max,
        login_normalised,
        sql_login: sql.login,
        sql_session_account: sql.session_account,
        sql_lock_account: sql.lock_account,
        sql_me: sql.me,
        sql_register: sql.register,
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
