//! Relations: `belongs_to` targets, parent cycles and indexes.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostics, did_you_mean, one_of_help};
use crate::names;
use crate::spec::{RawResource, RawSpec, Sp};

pub(super) fn parents(
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

pub(super) fn indexes(
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
pub(super) fn cycles(
    spec: &RawSpec,
    by_name: &BTreeMap<String, &RawResource>,
    diags: &mut Diagnostics,
) {
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
