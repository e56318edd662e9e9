//! The parser's reading of a resource's `list` mapping: the filters, sort
//! orders and counts a list request may ask for.

use marked_yaml::Node;

use super::parse::{Parser, join};
use super::{FilterOp, RawFilter, RawList, SortKey, Sp};
use crate::diag::{Diagnostic, Loc, one_of_help};

const LIST_KEYS: &[&str] = &["filter", "sort", "search", "count", "include"];

impl Parser<'_> {
    /// `list: { filter: { status: [eq, in] }, sort: [-created_at], count: true }`.
    pub(super) fn list(&mut self, node: &Node, path: &str) -> Option<RawList> {
        let map = self.mapping(
            node,
            path,
            "write `list: { filter: { status: [eq, in] }, sort: [-created_at], count: true }`",
        )?;
        self.check_keys(map, path, LIST_KEYS);
        let filter = match map.get_node("filter") {
            Some(node) => self.filters(node, &join(path, "filter")),
            None => Vec::new(),
        };
        let sort = match map.get_node("sort") {
            Some(node) => self.sort_orders(node, &join(path, "sort")),
            None => Vec::new(),
        };
        let (search, search_language) = match map.get_node("search") {
            Some(node) => self.search(node, &join(path, "search")),
            None => (Vec::new(), None),
        };
        let include = map
            .get_node("include")
            .and_then(|node| {
                self.names(
                    node,
                    &join(path, "include"),
                    "a relation",
                    "list the parents (by name) and children (by plural) `?include=` may embed: `include: [author, comments]`",
                )
            })
            .map(|names| names.value)
            .unwrap_or_default();
        Some(RawList {
            filter,
            sort,
            search,
            search_language,
            include,
            count: self.bool_at(map, path, "count"),
            loc: Loc::from_span(map.span()),
            path: path.to_string(),
        })
    }

    /// `search: [title, body]`, or `search: { fields: [title, body],
    /// language: english }` for words stemmed in that language.
    fn search(&mut self, node: &Node, path: &str) -> (Vec<Sp<String>>, Option<Sp<String>>) {
        let help = "list the text fields `?q=` searches: `search: [title, body]`, or `search: { fields: [title, body], language: english }`";
        let (fields, language) = match node.as_mapping() {
            Some(map) => {
                self.check_keys(map, path, &["fields", "language"]);
                let language = self.str_at(map, path, "language");
                match map.get_node("fields") {
                    Some(fields) => (fields, language),
                    None => {
                        self.diags.push(
                            Diagnostic::new(
                                Loc::from_span(map.span()),
                                path.to_string(),
                                "missing key `fields`",
                            )
                            .help(help),
                        );
                        return (Vec::new(), language);
                    }
                }
            }
            None => (node, None),
        };
        let fields_path = if node.as_mapping().is_some() {
            join(path, "fields")
        } else {
            path.to_string()
        };
        let names = self
            .names(fields, &fields_path, "a field name", help)
            .map(|names| names.value)
            .unwrap_or_default();
        (names, language)
    }

    fn filters(&mut self, node: &Node, path: &str) -> Vec<RawFilter> {
        let Some(map) = self.mapping(
            node,
            path,
            "write one `field: [operators]` entry per filtered field, e.g. `status: [eq, in]`",
        ) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in map.iter() {
            let field = self.key(key, path);
            let Some(ops) = self.names(
                value,
                &field.path,
                "an operator",
                "write the operators as a list, e.g. `[eq, in]`",
            ) else {
                continue;
            };
            let mut parsed = Vec::new();
            for op in ops.value {
                match FilterOp::parse(&op.value) {
                    Some(value) => parsed.push(Sp {
                        value,
                        loc: op.loc,
                        path: op.path,
                    }),
                    None => self.diags.push(
                        op.diag(format!("unknown filter operator `{}`", op.value))
                            .help(one_of_help(&op.value, FilterOp::NAMES)),
                    ),
                }
            }
            out.push(RawFilter { field, ops: parsed });
        }
        out
    }

    fn sort_orders(&mut self, node: &Node, path: &str) -> Vec<Sp<Vec<SortKey>>> {
        let Some(orders) = self.names(
            node,
            path,
            "a sort order",
            "write the orders as a list, e.g. `sort: [-created_at, \"status,-created_at\"]`",
        ) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for order in orders.value {
            let mut keys = Vec::new();
            for part in order.value.split(',') {
                let part = part.trim();
                let (desc, column) = match part.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, part),
                };
                if column.is_empty() {
                    self.diags.push(
                        order
                            .diag(format!("invalid sort order `{}`", order.value))
                            .help("write column names separated by commas, each optionally led by `-` for descending: `\"status,-created_at\"`"),
                    );
                    keys.clear();
                    break;
                }
                keys.push(SortKey {
                    column: column.to_string(),
                    desc,
                });
            }
            if !keys.is_empty() {
                out.push(Sp {
                    value: keys,
                    loc: order.loc,
                    path: order.path,
                });
            }
        }
        out
    }
}

/// The same keys in the opposite direction: the reverse a client may also
/// ask for.
pub fn reversed(keys: &[SortKey]) -> Vec<SortKey> {
    keys.iter()
        .map(|k| SortKey {
            column: k.column.clone(),
            desc: !k.desc,
        })
        .collect()
}

/// `-created_at` or `status,-created_at`: the spelling of an order in the
/// spec, in the query string and in diagnostics.
pub fn order_text(keys: &[SortKey]) -> String {
    keys.iter()
        .map(|k| format!("{}{}", if k.desc { "-" } else { "" }, k.column))
        .collect::<Vec<_>>()
        .join(",")
}

impl RawList {
    /// Where the mapping is, for diagnostics about the whole of it.
    pub fn diag(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.loc, self.path.clone(), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reverse_flips_every_key() {
        let keys = [
            SortKey {
                column: "created_at".into(),
                desc: true,
            },
            SortKey {
                column: "status".into(),
                desc: false,
            },
        ];
        assert_eq!(order_text(&keys), "-created_at,status");
        assert_eq!(order_text(&reversed(&keys)), "created_at,-status");
    }
}
