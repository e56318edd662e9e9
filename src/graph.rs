//! The `belongs_to` graph, walked by validation and by lowering: the order
//! tables are created in, the path from a resource to the account that owns
//! it, and what a parent's DELETE changes in its children.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::Resource;
use crate::names;
use crate::spec::RawResource;

/// Parents before children; ties keep the spec's order. Validation rejected
/// cycles, so every resource is placed.
pub fn topological<'a>(
    resources: &'a [RawResource],
    by_name: &BTreeMap<String, &'a RawResource>,
) -> Vec<&'a RawResource> {
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    while out.len() < resources.len() {
        let before = out.len();
        for r in resources {
            let name = names::snake(&r.name.value);
            if placed.contains(&name) {
                continue;
            }
            let ready = r.belongs_to.iter().all(|p| {
                let parent = names::snake(&p.resource.value);
                placed.contains(&parent) || !by_name.contains_key(&parent)
            });
            if ready {
                placed.insert(name);
                out.push(r);
            }
        }
        if out.len() == before {
            break;
        }
    }
    out
}

/// The belongs_to path from `resource` up to `credentials`: the
/// (resource, foreign key column) steps, starting at `resource`. Follows the
/// first `belongs_to` (in spec order) that leads there; empty when
/// `resource` is `credentials`, `None` when no path exists.
pub fn owner_chain(
    resource: &str,
    credentials: &str,
    by_name: &BTreeMap<String, &RawResource>,
) -> Option<Vec<(String, String)>> {
    fn walk(
        at: &str,
        credentials: &str,
        by_name: &BTreeMap<String, &RawResource>,
        seen: &mut BTreeSet<String>,
    ) -> Option<Vec<(String, String)>> {
        if at == credentials {
            return Some(Vec::new());
        }
        if !seen.insert(at.to_string()) {
            return None;
        }
        let r = by_name.get(at)?;
        for p in &r.belongs_to {
            let parent = names::snake(&p.resource.value);
            if let Some(mut rest) = walk(&parent, credentials, by_name, seen) {
                rest.insert(0, (at.to_string(), format!("{parent}_id")));
                return Some(rest);
            }
        }
        None
    }
    walk(resource, credentials, by_name, &mut BTreeSet::new())
}

/// Each resource's children: for every `belongs_to` naming it, the child's
/// index in `resources` and its `on_delete` SQL, in the resources' order.
/// Built once, so walking the graph does not scan every resource per step.
pub fn children(resources: &[Resource]) -> BTreeMap<&str, Vec<(usize, &'static str)>> {
    let mut children: BTreeMap<&str, Vec<(usize, &'static str)>> = BTreeMap::new();
    for (i, child) in resources.iter().enumerate() {
        for p in &child.parents {
            children
                .entry(p.resource.as_str())
                .or_default()
                .push((i, p.on_delete_sql));
        }
    }
    children
}

/// The resources whose rows the database changes when a row of
/// `resources[at]` is deleted: children by `on_delete: cascade` (and, since
/// their rows go too, their own children), children by `set_null`. Their
/// indexes in `resources`, in the resources' order, each once. `children`
/// is [`children`] of `resources`.
pub fn cascade_touched(
    resources: &[Resource],
    children: &BTreeMap<&str, Vec<(usize, &'static str)>>,
    at: usize,
) -> Vec<usize> {
    let mut touched = BTreeSet::new();
    let mut deleted = BTreeSet::from([resources[at].name.as_str()]);
    let mut pending = vec![resources[at].name.as_str()];
    while let Some(parent) = pending.pop() {
        for &(i, on_delete) in children.get(parent).into_iter().flatten() {
            let child = resources[i].name.as_str();
            match on_delete {
                "CASCADE" => {
                    touched.insert(i);
                    if deleted.insert(child) {
                        pending.push(child);
                    }
                }
                "SET NULL" => {
                    touched.insert(i);
                }
                _ => {}
            }
        }
    }
    touched.into_iter().collect()
}
