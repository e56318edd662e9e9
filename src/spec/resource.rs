//! The parser's reading of one resource: its keys, `belongs_to`, `indexes`
//! and `cache`; its fields are read by `field.rs`.

use super::auth::RESOURCE_RATE_LIMIT_KEYS;
use super::parse::{Parser, join};
use super::{IndexColumn, OnDelete, PkKind, RawCache, RawIndex, RawParent, RawResource, Sp};
use crate::diag::{Diagnostic, Loc, one_of_help};
use marked_yaml::{Node, types::MarkedMappingNode};

const RESOURCE_KEYS: &[&str] = &[
    "plural",
    "primary_key",
    "timestamps",
    "belongs_to",
    "access",
    "fields",
    "indexes",
    "rate_limit",
    "cache",
    "list",
];
const CACHE_KEYS: &[&str] = &["ttl", "lists"];
const PARENT_KEYS: &[&str] = &["resource", "on_delete"];
const INDEX_KEYS: &[&str] = &["columns", "unique"];

impl Parser<'_> {
    pub(super) fn resource(&mut self, name: Sp<String>, node: &Node) -> Option<RawResource> {
        let path = name.path.clone();
        let errors_before = self.diags.len();
        // `user: {}` and a bare `user:` both declare a resource with no fields.
        let empty = MarkedMappingNode::new_empty(*node.span());
        let map = match node.as_scalar() {
            Some(s) if s.as_str().is_empty() => &empty,
            _ => self.mapping(
                node,
                &path,
                "write the resource's keys (`fields:`, `belongs_to:`, ...) under its name",
            )?,
        };
        self.check_keys(map, &path, RESOURCE_KEYS);
        let plural = self.str_at(map, &path, "plural");
        let primary_key = self.keyword_at(
            map,
            &path,
            "primary_key",
            "primary key type",
            PkKind::NAMES,
            PkKind::parse,
        );
        let timestamps = self.bool_at(map, &path, "timestamps");
        let access = map
            .get_node("access")
            .and_then(|node| self.access(node, &join(&path, "access")));
        let belongs_to = match map.get_node("belongs_to") {
            Some(node) => self.parents(node, &join(&path, "belongs_to")),
            None => Vec::new(),
        };
        let mut fields = Vec::new();
        if let Some(node) = map.get_node("fields") {
            let fpath = join(&path, "fields");
            let is_empty_scalar = node.as_scalar().is_some_and(|s| s.as_str().is_empty());
            if !is_empty_scalar
                && let Some(fmap) = self.mapping(
                    node,
                    &fpath,
                    "write one `name: { type: ... }` entry per field",
                )
            {
                for (key, value) in fmap.iter() {
                    let fname = self.key(key, &fpath);
                    if let Some(f) = self.field(fname, value) {
                        fields.push(f);
                    }
                }
            }
        }
        let mut indexes = Vec::new();
        if let Some(node) = map.get_node("indexes") {
            let ipath = join(&path, "indexes");
            match node.as_sequence() {
                Some(seq) => {
                    for (i, item) in seq.iter().enumerate() {
                        if let Some(ix) = self.index(item, &format!("{ipath}[{i}]")) {
                            indexes.push(ix);
                        }
                    }
                }
                None => self.diags.push(
                    Diagnostic::new(
                        Loc::from_span(node.span()),
                        ipath,
                        "`indexes` must be a list",
                    )
                    .help("write `indexes:` followed by `  - columns: [a, b desc]`"),
                ),
            }
        }
        let rate_limit = map.get_node("rate_limit").and_then(|node| {
            self.rate_limit(node, &join(&path, "rate_limit"), RESOURCE_RATE_LIMIT_KEYS)
        });
        let cache = map
            .get_node("cache")
            .and_then(|node| self.cache(node, &join(&path, "cache")));
        let list = map
            .get_node("list")
            .and_then(|node| self.list(node, &join(&path, "list")));
        Some(RawResource {
            had_errors: self.diags.len() > errors_before,
            name,
            plural,
            primary_key,
            timestamps,
            belongs_to,
            fields,
            indexes,
            access,
            rate_limit,
            cache,
            list,
        })
    }

    /// `cache: { ttl: 5m, lists: true }`.
    pub(super) fn cache(&mut self, node: &Node, path: &str) -> Option<RawCache> {
        let map = self.mapping(node, path, "write `cache: { ttl: 5m }`")?;
        self.check_keys(map, path, CACHE_KEYS);
        if map.get_node("ttl").is_none() {
            self.missing(
                map,
                path,
                "ttl",
                "say how long a cached row lives: `cache: { ttl: 5m }`",
            );
        }
        Some(RawCache {
            ttl: self.duration_at(map, path, "ttl"),
            lists: self.bool_at(map, path, "lists"),
            loc: Loc::from_span(map.span()),
            path: path.to_string(),
        })
    }

    pub(super) fn parents(&mut self, node: &Node, path: &str) -> Vec<RawParent> {
        let items: Vec<(&Node, String)> = match node.as_sequence() {
            Some(seq) => seq
                .iter()
                .enumerate()
                .map(|(i, n)| (n, format!("{path}[{i}]")))
                .collect(),
            None => vec![(node, path.to_string())],
        };
        let mut out = Vec::new();
        for (item, ipath) in items {
            if let Some(s) = item.as_scalar() {
                out.push(RawParent {
                    resource: Sp {
                        value: s.as_str().to_string(),
                        loc: Loc::from_span(s.span()),
                        path: ipath,
                    },
                    on_delete: None,
                });
                continue;
            }
            let Some(map) = self.mapping(
                item,
                &ipath,
                "write a resource name, or `{ resource: user, on_delete: cascade }`",
            ) else {
                continue;
            };
            self.check_keys(map, &ipath, PARENT_KEYS);
            let on_delete = self.keyword_at(
                map,
                &ipath,
                "on_delete",
                "on_delete rule",
                OnDelete::NAMES,
                OnDelete::parse,
            );
            match self.str_at(map, &ipath, "resource") {
                Some(resource) => out.push(RawParent {
                    resource,
                    on_delete,
                }),
                None => self.missing(
                    map,
                    &ipath,
                    "resource",
                    "name the parent resource: `resource: user`",
                ),
            }
        }
        out
    }

    pub(super) fn index(&mut self, node: &Node, path: &str) -> Option<RawIndex> {
        let map = self.mapping(node, path, "write `- columns: [a, b desc]`")?;
        self.check_keys(map, path, INDEX_KEYS);
        let unique = self.bool_at(map, path, "unique");
        let mut columns = Vec::new();
        match map.get_node("columns") {
            None => self.missing(
                map,
                path,
                "columns",
                "list the indexed columns: `columns: [user_id, created_at desc]`",
            ),
            Some(node) => {
                let cpath = join(path, "columns");
                match node.as_sequence() {
                    Some(seq) => {
                        for (i, item) in seq.iter().enumerate() {
                            let ipath = format!("{cpath}[{i}]");
                            let Some(s) = self.scalar(item, &ipath, "a column name") else {
                                continue;
                            };
                            let mut words = s.value.split_whitespace();
                            let name = words.next().unwrap_or_default().to_string();
                            let order = words.next();
                            let desc = match order.map(|o| o.to_ascii_lowercase()) {
                                None => false,
                                Some(o) if o == "asc" => false,
                                Some(o) if o == "desc" => true,
                                Some(o) => {
                                    self.diags.push(
                                        s.diag(format!("unknown sort order `{o}`"))
                                            .help(one_of_help(&o, &["asc", "desc"])),
                                    );
                                    false
                                }
                            };
                            if name.is_empty() || words.next().is_some() {
                                self.diags.push(
                                    s.diag(format!("invalid index column `{}`", s.value))
                                        .help("write a column name, optionally followed by `asc` or `desc`"),
                                );
                                continue;
                            }
                            columns.push(Sp {
                                value: IndexColumn { name, desc },
                                loc: s.loc,
                                path: s.path,
                            });
                        }
                    }
                    None => self.diags.push(
                        Diagnostic::new(
                            Loc::from_span(node.span()),
                            cpath,
                            "`columns` must be a list",
                        )
                        .help("write `columns: [user_id, created_at desc]`"),
                    ),
                }
            }
        }
        Some(RawIndex {
            columns,
            unique,
            loc: Loc::from_span(map.span()),
            path: path.to_string(),
        })
    }
}
