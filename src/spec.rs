//! Parse: spec bytes → the raw spec, with a location on every value.
//!
//! serde stops at the first problem and serde_yaml keeps no positions, so the
//! spec is read into a span-carrying YAML tree (marked-yaml) and walked by
//! hand here. The walk never stops early: every unknown key, wrong type and
//! missing key becomes a diagnostic, and the rest of the spec is still read so
//! the validator can report its own problems in the same run.

use crate::diag::{Diagnostic, Diagnostics, Loc, one_of_help};
use marked_yaml::{LoaderOptions, Node, types::MarkedMappingNode};

/// The spec format versions this build understands.
pub const SUPPORTED_VERSIONS: &[u64] = &[1];

/// A value with the place it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sp<T> {
    pub value: T,
    pub loc: Loc,
    pub path: String,
}

impl<T> Sp<T> {
    pub fn diag(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.loc, self.path.clone(), message)
    }
}

#[derive(Debug, Clone)]
pub struct RawSpec {
    pub version: Option<Sp<u64>>,
    pub service: Option<Sp<String>>,
    pub resources: Vec<RawResource>,
    /// Where `resources` is, for problems about the set as a whole.
    pub resources_loc: Loc,
    pub auth: Option<RawAuth>,
    /// The service-wide `rate_limit` (per client, every API request).
    pub rate_limit: Option<RawRateLimit>,
}

/// The `auth` section: who logs in, with which roles, and the token rules.
#[derive(Debug, Clone)]
pub struct RawAuth {
    pub credentials: Option<Sp<String>>,
    pub login: Option<Sp<String>>,
    pub roles: Option<Sp<Vec<Sp<String>>>>,
    pub default_role: Option<Sp<String>>,
    pub admin_role: Option<Sp<String>>,
    /// Lifetimes in seconds, written as `15m`, `900s`, `12h`, `30d`.
    pub token_ttl: Option<Sp<u64>>,
    pub refresh_ttl: Option<Sp<u64>>,
    pub issuer: Option<Sp<String>>,
    pub audience: Option<Sp<String>>,
    pub password_min_length: Option<Sp<u64>>,
    pub password_max_length: Option<Sp<u64>>,
    pub loc: Loc,
}

/// The grants of one action: `owner`, `public`, role names, ...
pub type Grants = Sp<Vec<Sp<String>>>;

/// A resource's `access` section: the rules of each action, `None` where the
/// action is not listed.
#[derive(Debug, Clone, Default)]
pub struct RawAccess {
    pub rules: Vec<(Sp<Action>, Grants)>,
}

/// A `rate_limit` mapping: a token bucket (`capacity`, `refill_per_second`)
/// and, depending on where it stands, a `login` bucket (service level) or
/// per-action buckets (resource level).
#[derive(Debug, Clone)]
pub struct RawRateLimit {
    pub capacity: Option<Sp<u64>>,
    pub refill_per_second: Option<Sp<f64>>,
    pub login: Option<Box<RawRateLimit>>,
    pub actions: Vec<(Sp<RateAction>, RawRateLimit)>,
    /// Which bucket keys are written at all (a value may be present but
    /// unreadable, which is reported once, by the parser).
    pub written: (bool, bool),
    pub loc: Loc,
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct RawResource {
    pub name: Sp<String>,
    pub plural: Option<Sp<String>>,
    pub primary_key: Option<Sp<PkKind>>,
    pub timestamps: Option<Sp<bool>>,
    pub belongs_to: Vec<RawParent>,
    pub fields: Vec<RawField>,
    pub indexes: Vec<RawIndex>,
    /// Reading this resource already reported a problem, so checks that
    /// would only repeat it (an empty field list after a misspelt
    /// `fields:`) stay quiet.
    pub had_errors: bool,
    pub access: Option<Sp<RawAccess>>,
    pub rate_limit: Option<RawRateLimit>,
    /// `cache: { ttl: 5m, lists: true }`: GET by id (and list pages with
    /// `lists`) through cache-aside; off when absent.
    pub cache: Option<RawCache>,
}

/// A resource's `cache` mapping.
#[derive(Debug, Clone)]
pub struct RawCache {
    /// How long an entry lives, in seconds (jittered by ±10% at run time).
    pub ttl: Option<Sp<u64>>,
    /// List pages are cached too; `false` when absent.
    pub lists: Option<Sp<bool>>,
    pub loc: Loc,
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct RawParent {
    pub resource: Sp<String>,
    pub on_delete: Option<Sp<OnDelete>>,
}

#[derive(Debug, Clone)]
pub struct RawField {
    pub name: Sp<String>,
    pub ty: Option<Sp<FieldType>>,
    pub required: Option<Sp<bool>>,
    pub unique: Option<Sp<bool>>,
    pub default: Option<Sp<String>>,
    pub min: Option<Sp<f64>>,
    pub max: Option<Sp<f64>>,
    pub min_length: Option<Sp<u64>>,
    pub max_length: Option<Sp<u64>>,
    pub pattern: Option<Sp<String>>,
    pub values: Option<Sp<Vec<Sp<String>>>>,
    /// The field's previous name: the next migration renames the column
    /// instead of dropping one and adding another.
    pub renamed_from: Option<Sp<String>>,
    /// `write:` the roles that may set the field, or `server`.
    pub write: Option<Sp<Vec<Sp<String>>>>,
    pub loc: Loc,
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct RawIndex {
    pub columns: Vec<Sp<IndexColumn>>,
    pub unique: Option<Sp<bool>>,
    pub loc: Loc,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexColumn {
    pub name: String,
    pub desc: bool,
}

/// Declares a closed set of spec keywords as an enum with its spelling list,
/// so the parser, the diagnostics and the README all use one list.
macro_rules! keyword_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }
    };
}

keyword_enum!(FieldType {
    String => "string",
    Text => "text",
    Bool => "bool",
    I32 => "i32",
    I64 => "i64",
    F64 => "f64",
    Decimal => "decimal",
    Uuid => "uuid",
    Date => "date",
    Timestamp => "timestamp",
    Json => "json",
    Enum => "enum",
    Email => "email",
    Url => "url",
});

keyword_enum!(PkKind {
    BigInt => "bigint",
    Uuid => "uuid",
});

keyword_enum!(Action {
    List => "list",
    Get => "get",
    Create => "create",
    Update => "update",
    Delete => "delete",
});

keyword_enum!(OnDelete {
    Cascade => "cascade",
    Restrict => "restrict",
    SetNull => "set_null",
});

const TOP_KEYS: &[&str] = &["version", "service", "auth", "resources", "rate_limit"];
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
// Rate limits tell PUT (`replace`) from PATCH (`update`); access rules
// treat both as `update`.
keyword_enum!(RateAction {
    List => "list",
    Get => "get",
    Create => "create",
    Replace => "replace",
    Update => "update",
    Delete => "delete",
});

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
];
const CACHE_KEYS: &[&str] = &["ttl", "lists"];
const SERVICE_RATE_LIMIT_KEYS: &[&str] = &["capacity", "refill_per_second", "login"];
const RESOURCE_RATE_LIMIT_KEYS: &[&str] = &["capacity", "refill_per_second", "actions"];
const BUCKET_KEYS: &[&str] = &["capacity", "refill_per_second"];
const PARENT_KEYS: &[&str] = &["resource", "on_delete"];
const FIELD_KEYS: &[&str] = &[
    "type",
    "required",
    "unique",
    "default",
    "min",
    "max",
    "min_length",
    "max_length",
    "pattern",
    "values",
    "renamed_from",
    "write",
];
const INDEX_KEYS: &[&str] = &["columns", "unique"];

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

struct Parser<'d> {
    diags: &'d mut Diagnostics,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Parser<'_> {
    fn check_keys(&mut self, map: &MarkedMappingNode, path: &str, allowed: &[&str]) {
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

    fn missing(&mut self, map: &MarkedMappingNode, path: &str, key: &str, help: &str) {
        self.diags.push(
            Diagnostic::new(
                Loc::from_span(map.span()),
                path,
                format!("missing key `{key}`"),
            )
            .help(help),
        );
    }

    fn key(&mut self, key: &marked_yaml::types::MarkedScalarNode, path: &str) -> Sp<String> {
        Sp {
            value: key.as_str().to_string(),
            loc: Loc::from_span(key.span()),
            path: join(path, key.as_str()),
        }
    }

    fn scalar(&mut self, node: &Node, path: &str, what: &str) -> Option<Sp<String>> {
        self.scalar_as(node, path, what)
    }

    fn scalar_as(&mut self, node: &Node, path: &str, what: &str) -> Option<Sp<String>> {
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

    fn str_at(&mut self, map: &MarkedMappingNode, path: &str, key: &str) -> Option<Sp<String>> {
        self.str_at_as(map, path, key, "a string")
    }

    fn str_at_as(
        &mut self,
        map: &MarkedMappingNode,
        path: &str,
        key: &str,
        what: &str,
    ) -> Option<Sp<String>> {
        let node = map.get_node(key)?;
        self.scalar_as(node, &join(path, key), what)
    }

    fn typed<T>(
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

    fn u64_at(&mut self, map: &MarkedMappingNode, path: &str, key: &str) -> Option<Sp<u64>> {
        self.typed(map, path, key, "a non-negative integer", |s| s.parse().ok())
    }

    fn f64_at(&mut self, map: &MarkedMappingNode, path: &str, key: &str) -> Option<Sp<f64>> {
        self.typed(map, path, key, "a number", |s| {
            s.parse::<f64>().ok().filter(|v| v.is_finite())
        })
    }

    fn bool_at(&mut self, map: &MarkedMappingNode, path: &str, key: &str) -> Option<Sp<bool>> {
        self.typed(map, path, key, "`true` or `false`", |s| match s {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
    }

    fn keyword_at<T>(
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

    fn mapping<'n>(
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

    fn resource(&mut self, name: Sp<String>, node: &Node) -> Option<RawResource> {
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
        })
    }

    /// `cache: { ttl: 5m, lists: true }`.
    fn cache(&mut self, node: &Node, path: &str) -> Option<RawCache> {
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

    fn auth(&mut self, node: &Node) -> Option<RawAuth> {
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

    /// `15m`, `900s`, `12h`, `30d` as seconds.
    fn duration_at(&mut self, map: &MarkedMappingNode, path: &str, key: &str) -> Option<Sp<u64>> {
        self.typed(
            map,
            path,
            key,
            "a duration such as `15m`, `900s`, `12h` or `30d`",
            parse_duration,
        )
    }

    /// A scalar or a list of scalars, as a list.
    fn names(
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

    fn access(&mut self, node: &Node, path: &str) -> Option<Sp<RawAccess>> {
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
    fn rate_limit(&mut self, node: &Node, path: &str, allowed: &[&str]) -> Option<RawRateLimit> {
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

    fn parents(&mut self, node: &Node, path: &str) -> Vec<RawParent> {
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

    fn field(&mut self, name: Sp<String>, node: &Node) -> Option<RawField> {
        let path = name.path.clone();
        // The short form `title: string` is the same as `title: { type: string }`.
        if let Some(s) = node.as_scalar() {
            let ty = self.field_type(Sp {
                value: s.as_str().to_string(),
                loc: Loc::from_span(s.span()),
                path: join(&path, "type"),
            });
            return Some(RawField::bare(name, ty));
        }
        let map = self.mapping(
            node,
            &path,
            "write `{ type: string }` or just the type name",
        )?;
        self.check_keys(map, &path, FIELD_KEYS);
        let ty = match self.str_at(map, &path, "type") {
            Some(t) => self.field_type(t),
            None => {
                if map.get_node("type").is_none() {
                    self.missing(
                        map,
                        &path,
                        "type",
                        &format!("add `type:`, one of {}", list(FieldType::NAMES)),
                    );
                }
                None
            }
        };
        let values = match map.get_node("values") {
            None => None,
            Some(node) => {
                let vpath = join(&path, "values");
                match node.as_sequence() {
                    Some(seq) => {
                        let mut vals = Vec::new();
                        for (i, item) in seq.iter().enumerate() {
                            if let Some(v) =
                                self.scalar(item, &format!("{vpath}[{i}]"), "an enum value")
                            {
                                vals.push(v);
                            }
                        }
                        Some(Sp {
                            value: vals,
                            loc: Loc::from_span(node.span()),
                            path: vpath,
                        })
                    }
                    None => {
                        self.diags.push(
                            Diagnostic::new(
                                Loc::from_span(node.span()),
                                vpath,
                                "`values` must be a list",
                            )
                            .help("write `values: [pending, paid]`"),
                        );
                        None
                    }
                }
            }
        };
        Some(RawField {
            ty,
            required: self.bool_at(map, &path, "required"),
            unique: self.bool_at(map, &path, "unique"),
            default: self.str_at(map, &path, "default"),
            min: self.f64_at(map, &path, "min"),
            max: self.f64_at(map, &path, "max"),
            min_length: self.u64_at(map, &path, "min_length"),
            max_length: self.u64_at(map, &path, "max_length"),
            pattern: self.str_at(map, &path, "pattern"),
            renamed_from: self.str_at(map, &path, "renamed_from"),
            values,
            write: map.get_node("write").and_then(|n| {
                self.names(
                    n,
                    &join(&path, "write"),
                    "a role name",
                    "write `write: admin`, a list of roles, or `write: server`",
                )
            }),
            loc: name.loc,
            path,
            name,
        })
    }

    fn field_type(&mut self, t: Sp<String>) -> Option<Sp<FieldType>> {
        match FieldType::parse(&t.value) {
            Some(value) => Some(Sp {
                value,
                loc: t.loc,
                path: t.path,
            }),
            None => {
                self.diags.push(
                    t.diag(format!("unknown field type `{}`", t.value))
                        .help(one_of_help(&t.value, FieldType::NAMES)),
                );
                None
            }
        }
    }

    fn index(&mut self, node: &Node, path: &str) -> Option<RawIndex> {
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

impl RawField {
    fn bare(name: Sp<String>, ty: Option<Sp<FieldType>>) -> Self {
        RawField {
            loc: name.loc,
            path: name.path.clone(),
            name,
            ty,
            required: None,
            unique: None,
            default: None,
            min: None,
            max: None,
            min_length: None,
            max_length: None,
            pattern: None,
            values: None,
            renamed_from: None,
            write: None,
        }
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

fn kind(node: &Node) -> &'static str {
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

/// `write: server`: no caller may set the field.
pub const SERVER_WRITE: &str = "server";

/// The service's `email` check (`validation.rs` holds the same pattern):
/// something@something.tld, no spaces or control characters.
pub const EMAIL_PATTERN: &str = r"^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+\.[^@\x00-\x20\x7f]+$";

/// The service's `url` check (`validation.rs` holds the same pattern): an
/// absolute http(s) URL with a DNS name or IPv4 host and an optional port.
pub const URL_PATTERN: &str = r"^https?://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:[0-9]{1,5})?([/?#][^\x00-\x20\x7f]*)?$";

/// The field as the spec declared it.
#[derive(Debug, Clone, Default)]
pub struct FieldSpec {
    /// `None` for a foreign key column.
    pub ty: Option<FieldType>,
    pub unique: bool,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<String>,
    pub values: Vec<String>,
    pub renamed_from: Option<String>,
    /// Where the field is declared, for diagnostics about schema changes.
    pub loc: Loc,
    pub path: String,
}
