//! Rate limits: the service-wide and login buckets, and the buckets of the
//! routes a resource's `rate_limit` covers.

use crate::model::{Bucket, RateLimits, Resource, RouteAction, RouteLimit};
use crate::names;
use crate::spec::{RateAction, RawRateLimit, RawSpec};

/// Used when the spec sets no service-wide `rate_limit`: generous for one
/// client, yet a flood from one address is cut off within a second.
pub const DEFAULT_RATE_LIMIT: (u64, f64) = (100, 50.0);
/// Used when the spec sets no `rate_limit.login`: a burst of 5 attempts, then
/// one every 10 seconds.
pub const DEFAULT_LOGIN_RATE_LIMIT: (u64, f64) = (5, 0.1);

fn bucket(capacity: u64, refill_per_second: f64) -> Bucket {
    Bucket {
        capacity,
        refill_per_second,
        rust: format!("Policy::new({capacity}, {refill_per_second:?})"),
    }
}

fn bucket_of(limit: Option<&RawRateLimit>, default: (u64, f64)) -> Bucket {
    match limit.and_then(|l| {
        Some((
            l.capacity.as_ref()?.value,
            l.refill_per_second.as_ref()?.value,
        ))
    }) {
        Some((capacity, refill)) => bucket(capacity, refill),
        None => bucket(default.0, default.1),
    }
}

/// The spec's keyword for a route's action.
fn rate_action(action: RouteAction) -> RateAction {
    match action {
        RouteAction::List => RateAction::List,
        RouteAction::Create => RateAction::Create,
        RouteAction::Get => RateAction::Get,
        RouteAction::Replace => RateAction::Replace,
        RouteAction::Update => RateAction::Update,
        RouteAction::Delete => RateAction::Delete,
    }
}

/// The order the buckets of a resource are listed in: by action, so that a
/// list limit covers the direct and the nested lists one after the other.
const ACTION_ORDER: [RouteAction; 6] = [
    RouteAction::List,
    RouteAction::Create,
    RouteAction::Get,
    RouteAction::Replace,
    RouteAction::Update,
    RouteAction::Delete,
];

pub fn lower_rate_limits(spec: &RawSpec, resources: &[Resource]) -> RateLimits {
    let service = spec.rate_limit.as_ref();
    let mut routes = Vec::new();
    let by_name: std::collections::BTreeMap<&str, &Resource> =
        resources.iter().map(|r| (r.name.as_str(), r)).collect();
    for raw in &spec.resources {
        let Some(limit) = &raw.rate_limit else {
            continue;
        };
        let name = names::snake(&raw.name.value);
        let Some(r) = by_name.get(name.as_str()) else {
            continue;
        };
        let shared = match (&limit.capacity, &limit.refill_per_second) {
            (Some(c), Some(f)) => Some(bucket(c.value, f.value)),
            _ => None,
        };
        for action in ACTION_ORDER {
            let own = limit
                .actions
                .iter()
                .find(|(a, _)| a.value == rate_action(action));
            let (scope, bucket) = match (own, &shared) {
                (Some((_, l)), _) => (
                    format!("{name}.{}", action.as_str()),
                    bucket_of(Some(l), DEFAULT_RATE_LIMIT),
                ),
                (None, Some(b)) => (name.clone(), b.clone()),
                (None, None) => continue,
            };
            for route in r.routes.iter().filter(|route| route.action == action) {
                routes.push(RouteLimit {
                    method: route.method,
                    route: route.path.clone(),
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
