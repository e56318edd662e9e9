//! Lower: the validated spec → the model every template reads.
//!
//! Lowering is split by what it produces: [`resource`] assembles each
//! resource from its [`field`]s, statements ([`sql`]) and access rules
//! ([`access`]); [`auth`] and [`rate_limit`] lower the service-wide
//! sections; [`routes`] makes each resource's route table. Lowering holds
//! facts: where the layout of generated Rust depends on the length of a
//! name, the templates lay it out at render time.

mod access;
mod auth;
mod field;
mod include;
mod list;
pub(crate) mod naming;
mod rate_limit;
mod resource;
mod routes;
mod sql;

use std::collections::{BTreeMap, BTreeSet};

use crate::graph::{self, cascade_touched, topological};
use crate::model::{Resource, Service};
use crate::names;
use crate::spec::{RawResource, RawSpec};

pub use include::CHILDREN_LIMIT;
pub use list::TRIGRAM_OPS;
pub use rate_limit::{DEFAULT_LOGIN_RATE_LIMIT, DEFAULT_RATE_LIMIT};

/// Lowers a spec that passed validation.
pub fn lower(spec: &RawSpec) -> Service {
    let package = spec
        .service
        .as_ref()
        .map(|s| s.value.clone())
        .unwrap_or_default();
    let ctx = spec.auth.as_ref().map(|a| auth::AuthCtx::new(a, &package));
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
        .map(|r| resource::lower_resource(r, &by_name, &mut enums, ctx.as_ref()))
        .collect();
    cascade_counters(&mut resources);
    include::lower_includes(&raw_resources, &mut resources);
    let auth = ctx.as_ref().map(|ctx| auth::lower_auth(ctx, &resources));
    let nested_checks = resources
        .iter()
        .any(|r| r.creates && r.parents.iter().any(|p| !p.from_token));
    let mut modules_sorted: Vec<String> = resources.iter().map(|r| r.name.clone()).collect();
    modules_sorted.sort();
    let rate_limits = rate_limit::lower_rate_limits(spec, &resources);
    Service {
        any_unique: resources.iter().any(|r| r.has_unique),
        any_cache: resources.iter().any(|r| r.cache.is_some()),
        any_cache_lists: resources.iter().any(|r| r.cache_lists),
        rate_limits,
        email_pattern: field::raw_string(crate::spec::EMAIL_PATTERN),
        url_pattern: field::raw_string(crate::spec::URL_PATTERN),
        trigram: crate::ddl::uses_trigram(resources.iter().map(|r| &r.table)),
        modules_sorted,
        crate_name: package.replace('-', "_"),
        package,
        resources,
        enums,
        stamp: crate::STAMP_VERSION,
        nested_checks,
        auth,
    }
}

/// The cache counters a DELETE bumps because the database changes rows of
/// other cached resources (`Resource::cascade_bumps`), and which resources
/// store their by-id entries under an epoch for that reason
/// (`Resource::cache_epoch`).
fn cascade_counters(resources: &mut [Resource]) {
    let children = graph::children(resources);
    let touched: Vec<Vec<usize>> = (0..resources.len())
        .map(|i| cascade_touched(resources, &children, i))
        .collect();
    let epochs: BTreeSet<usize> = touched.iter().flatten().copied().collect();
    for (i, r) in resources.iter_mut().enumerate() {
        r.cache_epoch = r.cache.is_some() && epochs.contains(&i);
    }
    for (i, touched) in touched.into_iter().enumerate() {
        let mut bumps = Vec::new();
        for child in touched {
            let c = &resources[child];
            if c.cache_lists {
                bumps.push(format!("super::{}::generation", c.name));
            }
            if c.cache_epoch {
                bumps.push(format!("super::{}::epoch", c.name));
            }
        }
        resources[i].cascade_bumps = bumps;
    }
}
