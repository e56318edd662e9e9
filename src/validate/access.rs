//! Access: the `access` rules of each resource and the `write` rules of
//! each field, against the roles of the `auth` section and the `belongs_to`
//! chain from a resource to the credentials resource.

use std::collections::{BTreeMap, BTreeSet};

use super::RULE_WORDS;
use super::limits;
use crate::diag::{Diagnostics, one_of_help};
use crate::graph::owner_chain;
use crate::names;
use crate::spec::{
    Action, Grants, RawAccess, RawAuth, RawField, RawResource, RawSpec, SERVER_WRITE, Sp,
};

/// Access rules and field write rules, resource by resource.
pub(super) fn access_and_write_rules(
    spec: &RawSpec,
    auth: &RawAuth,
    roles: &[&str],
    credentials: &Option<(String, &RawResource)>,
    by_name: &BTreeMap<String, &RawResource>,
    diags: &mut Diagnostics,
) {
    let mut words: Vec<&str> = RULE_WORDS.to_vec();
    words.extend(roles.iter().copied());
    for r in &spec.resources {
        let name = names::snake(&r.name.value);
        let chain = credentials
            .as_ref()
            .and_then(|(c, _)| owner_chain(&name, c, by_name));
        limits::cache(r, &chain, diags);
        if let Some(a) = &r.access {
            access(r, a, auth, &chain, credentials, &words, diags);
        }
        for f in &r.fields {
            let Some(w) = &f.write else { continue };
            write_rule(f, w, roles, diags);
        }
    }
}

/// One resource's `access` section: each action once, each rule a rule word
/// or a role, `owner` only with a chain to the credentials resource.
fn access(
    r: &RawResource,
    a: &Sp<RawAccess>,
    auth: &RawAuth,
    chain: &Option<Vec<(String, String)>>,
    credentials: &Option<(String, &RawResource)>,
    words: &[&str],
    diags: &mut Diagnostics,
) {
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
                        .help(one_of_help(v, words)),
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

/// One field's `write` rule: `server` alone or known roles, and a value for
/// the callers who may not write the field.
fn write_rule(f: &RawField, w: &Grants, roles: &[&str], diags: &mut Diagnostics) {
    let server = w.value.iter().any(|x| x.value == SERVER_WRITE);
    if server && w.value.len() > 1 {
        diags.push(
            w.diag("`write: server` cannot be combined with roles")
                .help("write `write: server` for a field no caller sets, or list only roles"),
        );
    }
    for x in &w.value {
        let v = x.value.as_str();
        if v != SERVER_WRITE && !roles.contains(&v) {
            let mut options = roles.to_vec();
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
