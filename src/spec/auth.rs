//! The parser's reading of who may call what and how often: the `auth`
//! section, a resource's `access` rules and the `rate_limit` buckets (service
//! and resource level).

use super::parse::{Parser, join};
use super::{Action, RateAction, RawAccess, RawAuth, RawRateLimit, Sp};
use crate::diag::{Loc, one_of_help};
use marked_yaml::Node;

const AUTH_KEYS: &[&str] = &[
    "credentials",
    "login",
    "roles",
    "default_role",
    "admin_role",
    "token_ttl",
    "refresh_ttl",
    "issuer",
    "audience",
    "password_min_length",
    "password_max_length",
];
pub(super) const SERVICE_RATE_LIMIT_KEYS: &[&str] = &["capacity", "refill_per_second", "login"];
pub(super) const RESOURCE_RATE_LIMIT_KEYS: &[&str] = &["capacity", "refill_per_second", "actions"];
const BUCKET_KEYS: &[&str] = &["capacity", "refill_per_second"];

impl Parser<'_> {
    pub(super) fn auth(&mut self, node: &Node) -> Option<RawAuth> {
        let path = "auth";
        let map = self.mapping(
            node,
            path,
            "write `auth:` followed by `  credentials: user` and the other auth keys",
        )?;
        self.check_keys(map, path, AUTH_KEYS);
        if map.get_node("credentials").is_none() {
            self.missing(
                map,
                path,
                "credentials",
                "name the resource whose rows log in: `credentials: user`",
            );
        }
        for key in ["roles", "default_role"] {
            if map.get_node(key).is_none() {
                self.missing(
                    map,
                    path,
                    key,
                    "list the roles and the one new accounts get: `roles: [user, admin]` and `default_role: user`",
                );
            }
        }
        Some(RawAuth {
            credentials: self.str_at(map, path, "credentials"),
            login: self.str_at(map, path, "login"),
            roles: map.get_node("roles").and_then(|n| {
                self.names(
                    n,
                    &join(path, "roles"),
                    "a role name",
                    "write `roles: [user, admin]`",
                )
            }),
            default_role: self.str_at(map, path, "default_role"),
            admin_role: self.str_at(map, path, "admin_role"),
            token_ttl: self.duration_at(map, path, "token_ttl"),
            refresh_ttl: self.duration_at(map, path, "refresh_ttl"),
            issuer: self.str_at(map, path, "issuer"),
            audience: self.str_at(map, path, "audience"),
            password_min_length: self.u64_at(map, path, "password_min_length"),
            password_max_length: self.u64_at(map, path, "password_max_length"),
            loc: Loc::from_span(map.span()),
        })
    }

    pub(super) fn access(&mut self, node: &Node, path: &str) -> Option<Sp<RawAccess>> {
        let map = self.mapping(
            node,
            path,
            "write one `action: rule` per line, for example `get: owner`",
        )?;
        let mut access = RawAccess::default();
        for (key, value) in map.iter() {
            let key = self.key(key, path);
            let Some(action) = Action::parse(&key.value) else {
                self.diags.push(
                    key.diag(format!("unknown action `{}`", key.value))
                        .help(one_of_help(&key.value, Action::NAMES)),
                );
                continue;
            };
            let help = "write `public`, `authenticated`, `owner`, a role, or a list of them";
            if let Some(rules) = self.names(value, &key.path, "an access rule", help) {
                if rules.value.is_empty() {
                    self.diags.push(
                        rules
                            .diag(format!("`{}` has no access rule", key.value))
                            .help(help),
                    );
                    continue;
                }
                access.rules.push((
                    Sp {
                        value: action,
                        loc: key.loc,
                        path: key.path.clone(),
                    },
                    rules,
                ));
            }
        }
        Some(Sp {
            value: access,
            loc: Loc::from_span(map.span()),
            path: path.to_string(),
        })
    }

    /// A `rate_limit` mapping with the keys `allowed` (which decide whether
    /// `login` or `actions` may appear).
    pub(super) fn rate_limit(
        &mut self,
        node: &Node,
        path: &str,
        allowed: &[&str],
    ) -> Option<RawRateLimit> {
        let map = self.mapping(
            node,
            path,
            "write `rate_limit: { capacity: 100, refill_per_second: 50 }`",
        )?;
        self.check_keys(map, path, allowed);
        let login = match map.get_node("login") {
            Some(node) if allowed.contains(&"login") => self
                .rate_limit(node, &join(path, "login"), BUCKET_KEYS)
                .map(Box::new),
            _ => None,
        };
        let mut actions = Vec::new();
        if let Some(node) = map.get_node("actions")
            && allowed.contains(&"actions")
        {
            let apath = join(path, "actions");
            if let Some(amap) = self.mapping(
                node,
                &apath,
                "write one `create: { capacity: 5, refill_per_second: 1 }` entry per action",
            ) {
                for (key, value) in amap.iter() {
                    let name = self.key(key, &apath);
                    let Some(action) = RateAction::parse(&name.value) else {
                        self.diags.push(
                            name.diag(format!("unknown action `{}`", name.value))
                                .help(one_of_help(&name.value, RateAction::NAMES)),
                        );
                        continue;
                    };
                    if let Some(limit) = self.rate_limit(value, &name.path, BUCKET_KEYS) {
                        let action = Sp {
                            value: action,
                            loc: name.loc,
                            path: name.path,
                        };
                        actions.push((action, limit));
                    }
                }
            }
        }
        Some(RawRateLimit {
            capacity: self.u64_at(map, path, "capacity"),
            refill_per_second: self.f64_at(map, path, "refill_per_second"),
            login,
            actions,
            written: (
                map.get_node("capacity").is_some(),
                map.get_node("refill_per_second").is_some(),
            ),
            loc: Loc::from_span(map.span()),
            path: path.to_string(),
        })
    }
}
