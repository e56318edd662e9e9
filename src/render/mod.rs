//! Render: the model → files in memory. One askama template per output file;
//! templates loop over the model and print it, nothing more.

pub mod docs;
mod facts;
mod filters;
pub mod jsonschema;
pub mod layout;
pub mod openapi;

use askama::Template;
use serde_json::{Value, json};

use crate::model::{Auth, EnumType, Resource, RouteAction, Service};
use crate::samples;

pub use crate::files::{GeneratedFile, Owner};

/// Declares one template struct per service-wide file. They all see the same
/// fields, taken from the [`Service`].
macro_rules! service_templates {
    ($($name:ident => $path:literal),* $(,)?) => {$(
        #[derive(Template)]
        #[template(path = $path)]
        // Every template sees the same fields and reads only some of them.
        #[allow(dead_code)]
        struct $name<'a> {
            stamp: &'a str,
            package: &'a str,
            crate_name: &'a str,
            resources: &'a [Resource],
            enums: &'a [EnumType],
            modules_sorted: &'a [String],
            any_unique: bool,
            any_cache: bool,
            any_cache_lists: bool,
            /// Some resource has `list`: the service has `src/listing.rs`.
            any_list: bool,
            /// The first migration creates `pg_trgm`.
            trigram: bool,
            /// Some resource has no `list`: its lists page by primary key
            /// through `pagination::PageRequest`.
            any_id_pages: bool,
            auth: Option<&'a Auth>,
            nested_checks: bool,
            email_pattern: &'a str,
            url_pattern: &'a str,
            rate_limits: &'a crate::model::RateLimits,
            /// Kubernetes and compose names (see `deploy_templates!`).
            app: String,
            /// The paths the OpenAPI document spells otherwise than the
            /// router (see [`routed_as`]).
            routed_as: Vec<RoutedAs>,
        }

        impl<'a> $name<'a> {
            fn new(s: &'a Service) -> Self {
                $name {
                    stamp: s.stamp,
                    package: &s.package,
                    crate_name: &s.crate_name,
                    resources: &s.resources,
                    enums: &s.enums,
                    modules_sorted: &s.modules_sorted,
                    any_unique: s.any_unique,
                    any_cache: s.any_cache,
                    any_cache_lists: s.any_cache_lists,
                    any_list: s.resources.iter().any(|r| r.list.is_some()),
                    trigram: s.trigram,
                    any_id_pages: s.resources.iter().any(|r| r.list.is_none()),
                    auth: s.auth.as_ref(),
                    nested_checks: s.nested_checks,
                    email_pattern: &s.email_pattern,
                    url_pattern: &s.url_pattern,
                    rate_limits: &s.rate_limits,
                    app: s.package.replace('_', "-"),
                    routed_as: routed_as(s),
                }
            }
        }
    )*};
}

/// A path the OpenAPI document writes otherwise than the router: the
/// document names an item's id after its resource (`/v1/orders/{order_id}`),
/// the router `{id}` (`/v1/orders/{id}`).
pub(crate) struct RoutedAs {
    pub documented: String,
    pub routed: String,
}

/// Every documented path whose router path differs, once each, in path
/// order: the metrics map the document's operations onto the router's
/// paths with it, so the series registered at startup are the ones requests
/// count into.
fn routed_as(s: &Service) -> Vec<RoutedAs> {
    let pairs: std::collections::BTreeMap<&str, &str> = s
        .resources
        .iter()
        .flat_map(|r| &r.routes)
        .filter(|route| route.openapi_path != route.path)
        .map(|route| (route.openapi_path.as_str(), route.path.as_str()))
        .collect();
    pairs
        .into_iter()
        .map(|(documented, routed)| RoutedAs {
            documented: documented.to_owned(),
            routed: routed.to_owned(),
        })
        .collect()
}

service_templates! {
    CargoToml => "service/Cargo.toml.tmpl",
    HooksModRs => "service/src/hooks/mod.rs",
    CustomRs => "service/src/custom.rs",
    Readme => "service/README.md",
    EnvExample => "service/env.example",
    Gitignore => "service/gitignore.tmpl",
    Migration => "service/migrations/initial.sql",
    MainRs => "service/src/main.rs",
    CliRs => "service/src/cli.rs",
    LibRs => "service/src/lib.rs",
    ConfigRs => "service/src/config.rs",
    DbRs => "service/src/db.rs",
    ErrorRs => "service/src/error.rs",
    ExtractRs => "service/src/extract.rs",
    BreakerRs => "service/src/breaker.rs",
    CacheRs => "service/src/cache.rs",
    HealthRs => "service/src/health.rs",
    OpenapiRs => "service/src/openapi.rs",
    MetricsRs => "service/src/metrics.rs",
    MiddlewareRs => "service/src/middleware.rs",
    RateLimitRs => "service/src/rate_limit.rs",
    SecurityRs => "service/src/security.rs",
    PaginationRs => "service/src/pagination.rs",
    ListingRs => "service/src/listing.rs",
    StateRs => "service/src/state.rs",
    TelemetryRs => "service/src/telemetry.rs",
    ValidationRs => "service/src/validation.rs",
    ResourcesModRs => "service/src/resources/mod.rs",
    TestsCommonRs => "service/tests/common/mod.rs",
    TestsApiRs => "service/tests/api.rs",
}

/// The auth module's files, rendered only when the spec has `auth`.
macro_rules! auth_templates {
    ($($name:ident => $path:literal),* $(,)?) => {$(
        #[derive(Template)]
        #[template(path = $path)]
        // Not every auth file prints something from the model.
        #[allow(dead_code)]
        struct $name<'a> {
            stamp: &'a str,
            a: &'a Auth,
        }
    )*};
}

auth_templates! {
    AuthModRs => "service/src/auth/mod.rs",
    AuthAccessRs => "service/src/auth/access.rs",
    AuthPasswordRs => "service/src/auth/password.rs",
    AuthRevocationsRs => "service/src/auth/revocations.rs",
    AuthTokenRs => "service/src/auth/token.rs",
}

/// The toolchain of the generated Dockerfile and CI workflow: the Rust
/// release scaffold's own tests build the generated services with.
const RUST_VERSION: &str = "1.95";

/// Declares one template struct per deployment file (Dockerfile, compose,
/// Kubernetes manifests, CI workflow). They all see the same fields.
macro_rules! deploy_templates {
    ($($name:ident => $path:literal),* $(,)?) => {$(
        #[derive(Template)]
        #[template(path = $path)]
        // Every template sees the same fields and reads only some of them.
        #[allow(dead_code)]
        struct $name<'a> {
            stamp: &'a str,
            /// The binary's name.
            package: &'a str,
            crate_name: &'a str,
            /// Kubernetes and compose names: a DNS label (`_` is not allowed
            /// in one; service names are lowercase and at most 48 bytes).
            app: String,
            auth: bool,
            /// Some resource has `cache`: Redis also holds the shared cache.
            any_cache: bool,
            rust_version: &'a str,
        }

        impl<'a> $name<'a> {
            fn new(s: &'a Service) -> Self {
                $name {
                    stamp: s.stamp,
                    package: &s.package,
                    crate_name: &s.crate_name,
                    app: s.package.replace('_', "-"),
                    auth: s.auth.is_some(),
                    any_cache: s.any_cache,
                    rust_version: RUST_VERSION,
                }
            }
        }
    )*};
}

deploy_templates! {
    Dockerfile => "service/deploy/Dockerfile.tmpl",
    Dockerignore => "service/deploy/dockerignore.tmpl",
    ComposeYaml => "service/deploy/compose.yaml",
    GithubCi => "service/deploy/github-ci.yaml",
    K8sConfigmap => "service/deploy/k8s/configmap.yaml",
    K8sDeployment => "service/deploy/k8s/deployment.yaml",
    K8sHpa => "service/deploy/k8s/hpa.yaml",
    K8sJob => "service/deploy/k8s/job.yaml",
    K8sKustomization => "service/deploy/k8s/kustomization.yaml",
    K8sPdb => "service/deploy/k8s/pdb.yaml",
    K8sSecretExample => "service/deploy/k8s/secret.example.yaml",
    K8sService => "service/deploy/k8s/service.yaml",
}

#[derive(Template)]
#[template(path = "service/src/hooks/resource.rs")]
struct HooksRs<'a> {
    r: &'a Resource,
}

#[derive(Template)]
#[template(path = "service/src/resources/resource.rs")]
struct ResourceRs<'a> {
    stamp: &'a str,
    r: &'a Resource,
}

/// The dependency part of the service's Cargo.lock; the service's own entry
/// is added at its sorted position by [`cargo_lock`].
const LOCK_DEPS: &str = include_str!("../../templates/service/Cargo.lock.deps");

pub fn render(service: &Service, spec_source: &str) -> Vec<GeneratedFile> {
    // The OpenAPI document and the two files made from it are close to half
    // of the rendering work, and independent of every template: the
    // templates render on a second thread meanwhile. (The document stays on
    // this thread: its many small allocations would grow a second malloc
    // arena a page at a time.) Each file's bytes do not depend on which
    // thread made them, and the list is sorted at the end.
    std::thread::scope(|scope| {
        let templates = scope.spawn(|| render_templates(service, spec_source));
        let document = crate::render::openapi::document(service);
        let api = [
            ("docs.html", crate::render::docs::page(&document)),
            ("openapi.json", crate::render::openapi::to_json(&document)),
        ];
        let mut files = match templates.join() {
            Ok(files) => files,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        files.extend(api.map(|(path, contents)| GeneratedFile {
            path: path.to_string(),
            contents,
            owner: Owner::Generated,
        }));
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files
    })
}

/// Every file of [`render`] but the OpenAPI document and the docs page.
fn render_templates(service: &Service, spec_source: &str) -> Vec<GeneratedFile> {
    let mut files = Vec::new();
    let mut add = |path: &str, contents: String| {
        files.push(GeneratedFile {
            path: path.to_string(),
            contents,
            owner: Owner::Generated,
        });
    };
    let s = service;
    add("Cargo.toml", render_one(CargoToml::new(s)));
    add("Cargo.lock", cargo_lock(&s.package));
    add("README.md", render_one(Readme::new(s)));
    add(".env.example", render_one(EnvExample::new(s)));
    add(".gitignore", render_one(Gitignore::new(s)));
    add("src/main.rs", render_one(MainRs::new(s)));
    add("src/cli.rs", render_one(CliRs::new(s)));
    add("src/lib.rs", render_one(LibRs::new(s)));
    add("src/config.rs", render_one(ConfigRs::new(s)));
    add("src/db.rs", render_one(DbRs::new(s)));
    add("src/error.rs", render_one(ErrorRs::new(s)));
    add("src/extract.rs", render_one(ExtractRs::new(s)));
    add("src/breaker.rs", render_one(BreakerRs::new(s)));
    if s.any_cache {
        add("src/cache.rs", render_one(CacheRs::new(s)));
    }
    add("src/health.rs", render_one(HealthRs::new(s)));
    add("src/openapi.rs", render_one(OpenapiRs::new(s)));
    add("src/metrics.rs", render_one(MetricsRs::new(s)));
    add("src/middleware.rs", render_one(MiddlewareRs::new(s)));
    add("src/rate_limit.rs", render_one(RateLimitRs::new(s)));
    add("src/security.rs", render_one(SecurityRs::new(s)));
    add("src/pagination.rs", render_one(PaginationRs::new(s)));
    if s.resources.iter().any(|r| r.list.is_some()) {
        add("src/listing.rs", render_one(ListingRs::new(s)));
    }
    add("src/state.rs", render_one(StateRs::new(s)));
    add("src/telemetry.rs", render_one(TelemetryRs::new(s)));
    add("src/validation.rs", render_one(ValidationRs::new(s)));
    add("src/resources/mod.rs", render_one(ResourcesModRs::new(s)));
    add("src/hooks/mod.rs", render_one(HooksModRs::new(s)));
    if let Some(a) = &s.auth {
        let stamp = s.stamp;
        add("src/auth/mod.rs", render_one(AuthModRs { stamp, a }));
        add("src/auth/access.rs", render_one(AuthAccessRs { stamp, a }));
        add(
            "src/auth/password.rs",
            render_one(AuthPasswordRs { stamp, a }),
        );
        add(
            "src/auth/revocations.rs",
            render_one(AuthRevocationsRs { stamp, a }),
        );
        add("src/auth/token.rs", render_one(AuthTokenRs { stamp, a }));
    }
    for r in &s.resources {
        add(
            &format!("src/resources/{}.rs", r.name),
            render_one(ResourceRs { stamp: s.stamp, r }),
        );
    }
    add("Dockerfile", render_one(Dockerfile::new(s)));
    add(".dockerignore", render_one(Dockerignore::new(s)));
    add("compose.yaml", render_one(ComposeYaml::new(s)));
    add(".github/workflows/ci.yml", render_one(GithubCi::new(s)));
    add(
        "deploy/k8s/configmap.yaml",
        render_one(K8sConfigmap::new(s)),
    );
    add(
        "deploy/k8s/deployment.yaml",
        render_one(K8sDeployment::new(s)),
    );
    add("deploy/k8s/hpa.yaml", render_one(K8sHpa::new(s)));
    add("deploy/k8s/job.yaml", render_one(K8sJob::new(s)));
    add(
        "deploy/k8s/kustomization.yaml",
        render_one(K8sKustomization::new(s)),
    );
    add("deploy/k8s/pdb.yaml", render_one(K8sPdb::new(s)));
    add(
        "deploy/k8s/secret.example.yaml",
        render_one(K8sSecretExample::new(s)),
    );
    add("deploy/k8s/service.yaml", render_one(K8sService::new(s)));
    add("tests/common/mod.rs", render_one(TestsCommonRs::new(s)));
    add("tests/api.rs", render_one(TestsApiRs::new(s)));
    add("tests/fixtures.json", fixtures(s));
    add(
        crate::render::jsonschema::SCHEMA_FILE,
        crate::render::jsonschema::spec_schema_text(),
    );
    // Extension points: written once, then the user's.
    for r in &s.resources {
        files.push(GeneratedFile {
            path: format!("src/hooks/{}.rs", r.name),
            contents: render_one(HooksRs { r }),
            owner: Owner::User,
        });
    }
    files.push(GeneratedFile {
        path: "src/custom.rs".to_string(),
        contents: render_one(CustomRs::new(s)),
        owner: Owner::User,
    });
    files.push(GeneratedFile {
        path: "scaffold.yaml".to_string(),
        contents: spec_source.to_string(),
        owner: Owner::User,
    });
    files
}

/// The first migration of a new service: the whole schema, commented.
pub fn initial_migration(service: &Service) -> GeneratedFile {
    GeneratedFile {
        path: format!("{MIGRATIONS_DIR}/0001_initial.sql"),
        contents: render_one(Migration::new(service)),
        owner: Owner::Generated,
    }
}

/// A later migration: the difference between the recorded schema and the
/// spec's, as one or more files numbered from `first`, after the last applied
/// one.
pub fn next_migrations(
    service: &Service,
    first: usize,
    migration: &crate::regen::schema::Migration,
) -> Vec<GeneratedFile> {
    let count = migration.files.len();
    migration
        .files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let number = first + i;
            // sqlx looks for this marker at the very start of the file.
            let mut contents = if file.no_transaction {
                "-- no-transaction\n".to_string()
            } else {
                String::new()
            };
            contents.push_str(&format!(
                "-- @generated by scaffold {} from scaffold.yaml. Once applied, a migration is never rewritten.\n--\n-- Brings the schema of migration {:04} up to date with scaffold.yaml",
                service.stamp,
                first - 1
            ));
            if count > 1 {
                contents.push_str(&format!(", step {} of {count}", i + 1));
            }
            contents.push_str(".\n");
            if !file.purpose.is_empty() {
                contents.push_str("--\n");
                for line in wrap(file.purpose, 77) {
                    contents.push_str(&format!("-- {line}\n"));
                }
            }
            for statement in &file.statements {
                contents.push('\n');
                contents.push_str(statement);
                contents.push('\n');
            }
            GeneratedFile {
                path: format!("{MIGRATIONS_DIR}/{number:04}_{}.sql", file.slug),
                contents,
                owner: Owner::Generated,
            }
        })
        .collect()
}

/// Words into lines of at most `width` characters (a longer word stands
/// alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

pub const MIGRATIONS_DIR: &str = "migrations";

/// Renders a template. Our templates only print strings and loop over
/// vectors, so rendering cannot fail; a failure is a bug in scaffold itself.
fn render_one(t: impl Template) -> String {
    let mut out = t.render().expect("templates only print model fields");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Cargo.lock for the service: the pinned dependency graph plus the
/// service's own package, placed where cargo sorts it (by name) so that
/// `cargo build --locked` accepts the file unchanged.
fn cargo_lock(package: &str) -> String {
    const SEP: &str = "\n[[package]]\n";
    let mut blocks: Vec<String> = LOCK_DEPS.split(SEP).map(str::to_string).collect();
    let header = blocks.remove(0);
    let own = format!(
        "name = \"{package}\"\nversion = \"0.1.0\"\ndependencies = [\n{}]\n",
        SERVICE_DEPENDENCIES
            .iter()
            .map(|d| format!(" \"{d}\",\n"))
            .collect::<String>()
    );
    let name_of = |b: &str| b.lines().next().unwrap_or_default().to_string();
    let at = blocks.partition_point(|b| name_of(b) < format!("name = \"{package}\""));
    blocks.insert(at, own);
    let mut out = header;
    for b in blocks {
        out.push_str(SEP);
        out.push_str(b.trim_end_matches('\n'));
        out.push('\n');
    }
    out
}

/// The service's direct dependencies as Cargo.lock names them (a version is
/// added where the graph holds two versions of one crate).
const SERVICE_DEPENDENCIES: &[&str] = &[
    "argon2",
    "async-trait",
    "axum",
    "base64 0.23.1",
    "chrono",
    "futures-util",
    "getrandom 0.4.3",
    "hashbrown 0.17.1",
    "hmac 0.13.0",
    "http-body-util",
    "hyper",
    "hyper-util",
    "itoa",
    "jsonwebtoken",
    "moka",
    "opentelemetry",
    "opentelemetry-http",
    "opentelemetry-otlp",
    "opentelemetry_sdk",
    "pin-project-lite",
    "prometheus-client",
    "redis",
    "regex",
    "rust_decimal",
    "serde",
    "serde_json",
    "serde_path_to_error",
    "sha2 0.11.1",
    "smallvec",
    "sqlx",
    "thiserror",
    "tokio",
    "tower",
    "tower-http",
    "tracing",
    "tracing-opentelemetry",
    "tracing-subscriber",
    "url",
    "uuid",
];

/// `tests/fixtures.json`: what the generated test suite needs to know about
/// each resource, with valid and invalid sample values for every field.
/// A resource's `list`: what the generated list test asks for and checks.
fn list_fixture(l: &crate::model::ListQuery) -> Value {
    use crate::model::ListKind;
    let kind = |k: &ListKind| match k {
        ListKind::Int => "int",
        ListKind::Float => "float",
        ListKind::Decimal => "decimal",
        ListKind::Text => "text",
        ListKind::Bool => "bool",
        ListKind::Uuid => "uuid",
        ListKind::Date => "date",
        ListKind::Timestamp => "timestamp",
        ListKind::Enum { .. } => "enum",
    };
    json!({
        "count": l.count,
        "search": l.search,
        "filters": l.filters.iter().map(|f| json!({
            "column": f.column,
            "kind": kind(&f.kind),
            "ops": f.ops,
        })).collect::<Vec<_>>(),
        "orders": l.orders.iter().map(|o| json!({
            "name": o.name,
            "keys": o.keys.iter().map(|k| json!({ "column": k.column, "desc": k.desc })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "fields": l.fields,
        "includes": l.includes.iter().map(|i| json!({
            "name": i.name,
            "resource": i.module,
            "from": i.from,
            "to": i.to,
            "many": i.many,
        })).collect::<Vec<_>>(),
    })
}

fn fixtures(s: &Service) -> String {
    let resources: Vec<Value> = s
        .resources
        .iter()
        .map(|r| {
            let fields: Vec<Value> = r
                .body_fields
                .iter()
                .map(|f| {
                    let mut field = json!({
                        "name": f.name,
                        "required": f.required,
                        "nullable": f.nullable,
                        "unique": f.spec.unique,
                        "parent": f.parent,
                        "samples": samples::valid(&f.name, &f.spec),
                        "invalid": samples::invalid(&f.spec)
                            .into_iter()
                            .map(|(value, breaks)| json!({ "value": value, "breaks": breaks }))
                            .collect::<Vec<_>>(),
                    });
                    if let Some(writers) = &f.writers {
                        field["writers"] = json!(writers);
                    }
                    field
                })
                .collect();
            let parents: Vec<Value> = r
                .parents
                .iter()
                .map(|p| {
                    let nested_route = r
                        .routes
                        .iter()
                        .find(|route| route.parent.as_ref() == Some(&p.resource))
                        .map(|route| &route.path);
                    let mut parent = json!({
                        "resource": p.resource,
                        "column": p.column,
                        "nested_route": nested_route,
                        "on_delete": p.on_delete_sql,
                    });
                    if p.from_token {
                        parent["from_token"] = json!(true);
                    }
                    parent
                })
                .collect();
            let mut resource = json!({
                "name": r.name,
                "route": r.route,
                "table": r.table_q,
                "uuid_id": r.pk.is_uuid,
                "timestamps": r.timestamps,
                "fields": fields,
                "parents": parents,
            });
            if let Some(l) = &r.list {
                resource["list"] = list_fixture(l);
            }
            // The OpenAPI operation ids of its list and create routes, for
            // tools that configure checks per operation (CI's schemathesis).
            let ids = |action: RouteAction| -> Vec<&str> {
                r.routes
                    .iter()
                    .filter(|route| route.action == action)
                    .map(|route| route.operation_id.as_str())
                    .collect()
            };
            resource["operations"] = json!({
                "list": ids(RouteAction::List),
                "create": ids(RouteAction::Create),
            });
            if let Some(a) = &r.access {
                let rules: serde_json::Map<String, Value> = a
                    .rules_json
                    .iter()
                    .map(|(action, list)| (action.clone(), json!(list)))
                    .collect();
                resource["access"] = json!({
                    "credentials": a.is_credentials,
                    "owned": a.owned,
                    "token_owner": a.token_owner.as_ref().map(|t| &t.column),
                    "rules": rules,
                });
            }
            resource
        })
        .collect();
    let mut document = json!({ "resources": resources });
    if let Some(a) = &s.auth {
        document["auth"] = json!({
            "credentials": a.module,
            "login": a.login,
            "default_role": a.roles.iter().find(|r| r.rust_name == a.default_role).map(|r| &r.value),
            "admin_role": a.admin_role.as_ref().and_then(|admin| a.roles.iter().find(|r| &r.rust_name == admin)).map(|r| &r.value),
            "password_max": a.password_max,
        });
    }
    let mut out = serde_json::to_string_pretty(&document).expect("JSON values always serialize");
    out.push('\n');
    out
}
