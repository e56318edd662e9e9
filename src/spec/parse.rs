//! Parse: spec bytes → the raw spec, with a location on every value.
//!
//! serde stops at the first problem and serde_yaml keeps no positions, so the
//! spec is read into a span-carrying YAML tree (marked-yaml) and walked by
//! hand. The walk never stops early: every unknown key, wrong type and
//! missing key becomes a diagnostic, and the rest of the spec is still read so
//! the validator can report its own problems in the same run. This module
//! reads the document's top level and holds the node helpers the other
//! parser modules share.

use super::auth::SERVICE_RATE_LIMIT_KEYS;
use super::{RawSpec, Sp};
use crate::diag::{Diagnostic, Diagnostics, Loc, one_of_help};
use marked_yaml::{LoaderOptions, Node, types::MarkedMappingNode};

const TOP_KEYS: &[&str] = &["version", "service", "auth", "resources", "rate_limit"];

/// Parses spec text. Returns the raw spec (as much of it as could be read)
/// and every problem met on the way; `None` only when the text is not YAML
/// at all or not a mapping.
pub fn parse(source: &str, diags: &mut Diagnostics) -> Option<RawSpec> {
    let options = LoaderOptions::default().error_on_duplicate_keys(true);
    let root = match marked_yaml::parse_yaml_with_options(0, source, options) {
        Ok(node) => node,
        Err(err) => {
            diags.push(load_error(&err, source));
            return None;
        }
    };
    let Some(top) = root.as_mapping() else {
        diags.push(
            Diagnostic::new(
                Loc::from_span(root.span()),
                "",
                "a spec must be a YAML mapping",
            )
            .help("start from `version: 1`, `service: <name>` and `resources:`"),
        );
        return None;
    };
    if top.is_empty() {
        diags.push(
            Diagnostic::new(Loc { line: 1, col: 1 }, "", "the spec is empty")
                .help("write at least `version: 1`, `service: <name>` and one resource under `resources:`"),
        );
        return None;
    }
    let mut p = Parser { diags };
    p.check_keys(top, "", TOP_KEYS);
    let version = p.u64_at(top, "", "version");
    let service = p.str_at(top, "", "service");
    let auth = top.get_node("auth").and_then(|node| p.auth(node));
    let mut resources = Vec::new();
    let mut resources_loc = Loc::from_span(top.span());
    match top.get_node("resources") {
        None => p.missing(
            top,
            "",
            "resources",
            "add `resources:` with at least one resource",
        ),
        Some(node) => {
            resources_loc = Loc::from_span(node.span());
            match node.as_mapping() {
                Some(map) if !map.is_empty() => {
                    for (key, value) in map.iter() {
                        let name = p.key(key, "resources");
                        if let Some(r) = p.resource(name, value) {
                            resources.push(r);
                        }
                    }
                }
                _ => p.diags.push(
                    Diagnostic::new(
                        resources_loc,
                        "resources",
                        "`resources` must be a mapping with at least one resource",
                    )
                    .help("write `resources:` followed by `  user:` and its `fields:`"),
                ),
            }
        }
    }
    let rate_limit = top
        .get_node("rate_limit")
        .and_then(|node| p.rate_limit(node, "rate_limit", SERVICE_RATE_LIMIT_KEYS));
    Some(RawSpec {
        version,
        service,
        resources,
        resources_loc,
        auth,
        rate_limit,
    })
}

fn load_error(err: &marked_yaml::LoadError, source: &str) -> Diagnostic {
    use marked_yaml::LoadError as E;
    let at = |m: &marked_yaml::Marker| Loc {
        line: m.line(),
        col: m.column(),
    };
    match err {
        E::DuplicateKey(inner) => {
            let first = Loc::from_span(inner.prev_key.span());
            let second = Loc::from_span(inner.key.span());
            Diagnostic::new(
                second,
                "",
                format!("duplicate key `{}`", inner.key.as_str()),
            )
            .related(first, "first defined")
            .help("each key may appear once in a mapping; rename or merge the two entries")
        }
        E::ScanError(m, e) => {
            let mut loc = at(m);
            if source.is_empty() {
                loc = Loc { line: 1, col: 1 };
            }
            Diagnostic::new(loc, "", format!("invalid YAML: {}", e.info()))
                .help("check the indentation and quoting around this position")
        }
        E::TopLevelMustBeMapping(m) => Diagnostic::new(at(m), "", "a spec must be a YAML mapping")
            .help("start from `version: 1`, `service: <name>` and `resources:`"),
        E::UnexpectedAnchor(m) => {
            Diagnostic::new(at(m), "", "YAML anchors are not supported in specs")
                .help("write the value out in full")
        }
        E::UnexpectedTag(m) => Diagnostic::new(at(m), "", "YAML tags are not supported in specs")
            .help("remove the `!tag`"),
        E::MappingKeyMustBeScalar(m) => {
            Diagnostic::new(at(m), "", "mapping keys must be plain names")
                .help("use a plain name as the key")
        }
        E::TopLevelMustBeSequence(m) => Diagnostic::new(at(m), "", "a spec must be a YAML mapping"),
    }
}

pub(super) struct Parser<'d> {
    pub(super) diags: &'d mut Diagnostics,
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Parser<'_> {
    pub(super) fn check_keys(&mut self, map: &MarkedMappingNode, path: &str, allowed: &[&str]) {
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                let loc = Loc::from_span(key.span());
                self.diags.push(
                    Diagnostic::new(
                        loc,
                        join(path, key.as_str()),
                        format!("unknown key `{}`", key.as_str()),
                    )
                    .help(one_of_help(key.as_str(), allowed)),
                );
            }
        }
    }

    pub(super) fn missing(&mut self, map: &MarkedMappingNode, path: &str, key: &str, help: &str) {
        self.diags.push(
            Diagnostic::new(
                Loc::from_span(map.span()),
                path,
                format!("missing key `{key}`"),
            )
            .help(help),
        );
    }

    pub(super) fn key(
        &mut self,
        key: &marked_yaml::types::MarkedScalarNode,
        path: &str,
    ) -> Sp<String> {
        Sp {
            value: key.as_str().to_string(),
            loc: Loc::from_span(key.span()),
            path: join(path, key.as_str()),
        }
    }

    pub(super) fn scalar(&mut self, node: &Node, path: &str, what: &str) -> Option<Sp<String>> {
        self.scalar_as(node, path, what)
    }

    pub(super) fn scalar_as(&mut self, node: &Node, path: &str, what: &str) -> Option<Sp<String>> {
        match node.as_scalar() {
            Some(s) => Some(Sp {
                value: s.as_str().to_string(),
                loc: Loc::from_span(s.span()),
                path: path.to_string(),
            }),
            None => {
                self.diags.push(
                    Diagnostic::new(
                        Loc::from_span(node.span()),
                        path,
                        format!("expected {what}, found a {}", kind(node)),
                    )
                    .help(format!("write {what} here")),
                );
                None
            }
        }
    }

    pub(super) fn str_at(
        &mut self,
        map: &MarkedMappingNode,
        path: &str,
        key: &str,
    ) -> Option<Sp<String>> {
        self.str_at_as(map, path, key, "a string")
    }

    pub(super) fn str_at_as(
        &mut self,
        map: &MarkedMappingNode,
        path: &str,
        key: &str,
        what: &str,
    ) -> Option<Sp<String>> {
        let node = map.get_node(key)?;
        self.scalar_as(node, &join(path, key), what)
    }

    pub(super) fn typed<T>(
        &mut self,
        map: &MarkedMappingNode,
        path: &str,
        key: &str,
        what: &str,
        conv: impl Fn(&str) -> Option<T>,
    ) -> Option<Sp<T>> {
        let s = self.str_at_as(map, path, key, what)?;
        match conv(s.value.trim()) {
            Some(value) => Some(Sp {
                value,
                loc: s.loc,
                path: s.path,
            }),
            None => {
                self.diags.push(
                    s.diag(format!("expected {what}, found `{}`", s.value))
                        .help(format!("write {what} here")),
                );
                None
            }
        }
    }

    pub(super) fn u64_at(
        &mut self,
        map: &MarkedMappingNode,
        path: &str,
        key: &str,
    ) -> Option<Sp<u64>> {
        self.typed(map, path, key, "a non-negative integer", |s| s.parse().ok())
    }

    pub(super) fn f64_at(
        &mut self,
        map: &MarkedMappingNode,
        path: &str,
        key: &str,
    ) -> Option<Sp<f64>> {
        self.typed(map, path, key, "a number", |s| {
            s.parse::<f64>().ok().filter(|v| v.is_finite())
        })
    }

    pub(super) fn bool_at(
        &mut self,
        map: &MarkedMappingNode,
        path: &str,
        key: &str,
    ) -> Option<Sp<bool>> {
        self.typed(map, path, key, "`true` or `false`", |s| match s {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
    }

    pub(super) fn keyword_at<T>(
        &mut self,
        map: &MarkedMappingNode,
        path: &str,
        key: &str,
        what: &str,
        names: &[&str],
        conv: impl Fn(&str) -> Option<T>,
    ) -> Option<Sp<T>> {
        let s = self.str_at(map, path, key)?;
        match conv(&s.value) {
            Some(value) => Some(Sp {
                value,
                loc: s.loc,
                path: s.path,
            }),
            None => {
                self.diags.push(
                    s.diag(format!("unknown {what} `{}`", s.value))
                        .help(one_of_help(&s.value, names)),
                );
                None
            }
        }
    }

    pub(super) fn mapping<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        help: &str,
    ) -> Option<&'n MarkedMappingNode> {
        match node.as_mapping() {
            Some(m) => Some(m),
            None => {
                self.diags.push(
                    Diagnostic::new(
                        Loc::from_span(node.span()),
                        path,
                        format!("expected a mapping, found a {}", kind(node)),
                    )
                    .help(help.to_string()),
                );
                None
            }
        }
    }

    /// `15m`, `900s`, `12h`, `30d` as seconds.
    pub(super) fn duration_at(
        &mut self,
        map: &MarkedMappingNode,
        path: &str,
        key: &str,
    ) -> Option<Sp<u64>> {
        self.typed(
            map,
            path,
            key,
            "a duration such as `15m`, `900s`, `12h` or `30d`",
            parse_duration,
        )
    }

    /// A scalar or a list of scalars, as a list.
    pub(super) fn names(
        &mut self,
        node: &Node,
        path: &str,
        what: &str,
        help: &str,
    ) -> Option<Sp<Vec<Sp<String>>>> {
        let loc = Loc::from_span(node.span());
        if let Some(s) = node.as_scalar() {
            return Some(Sp {
                value: vec![Sp {
                    value: s.as_str().to_string(),
                    loc,
                    path: path.to_string(),
                }],
                loc,
                path: path.to_string(),
            });
        }
        let Some(seq) = node.as_sequence() else {
            self.diags.push(
                Diagnostic::new(
                    loc,
                    path,
                    format!("expected {what} or a list, found a mapping"),
                )
                .help(help.to_string()),
            );
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in seq.iter().enumerate() {
            if let Some(v) = self.scalar(item, &format!("{path}[{i}]"), what) {
                out.push(v);
            }
        }
        Some(Sp {
            value: out,
            loc,
            path: path.to_string(),
        })
    }
}

/// `15m` → 900. A bare number is not accepted: the unit is what readers get wrong.
pub fn parse_duration(s: &str) -> Option<u64> {
    let unit = s.chars().last()?;
    let n: u64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    n.checked_mul(scale).filter(|v| *v > 0)
}

pub(super) fn kind(node: &Node) -> &'static str {
    match node {
        Node::Scalar(_) => "scalar",
        Node::Mapping(_) => "mapping",
        Node::Sequence(_) => "list",
    }
}

pub fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
