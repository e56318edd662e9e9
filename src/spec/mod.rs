//! The raw spec: what a spec file says, with a location on every value.
//!
//! These types are the parser's output and the validator's input. The closed
//! keyword sets (`FieldType`, `PkKind`, `Action`, `OnDelete`, `RateAction`)
//! are declared once with `keyword_enum!`, so the parser, the diagnostics and
//! the spec's JSON Schema share one spelling list. The parser itself lives in
//! the submodules, split by what it reads.

use crate::diag::{Diagnostic, Loc};

mod auth;
mod field;
mod list;
mod parse;
mod resource;

pub use list::{order_text, reversed};
pub use parse::{list, parse, parse_duration};

/// The spec format versions this build understands.
pub const SUPPORTED_VERSIONS: &[u64] = &[1];

/// A value with the place it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sp<T> {
    pub value: T,
    pub loc: Loc,
    pub path: String,
}

impl RawResource {
    /// The table's name: `plural`, or the name's plural. Also the JSON key
    /// under which a parent's `?include=` embeds rows of this resource.
    pub fn table_name(&self) -> String {
        match &self.plural {
            Some(p) => crate::names::snake(&p.value),
            None => crate::names::plural(&crate::names::snake(&self.name.value)),
        }
    }
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
    /// `list: { filter, sort, count }`: what a list request may ask for
    /// besides a page; only `limit` and `cursor` when absent.
    pub list: Option<RawList>,
}

/// A resource's `list` mapping.
#[derive(Debug, Clone)]
pub struct RawList {
    /// `field: [eq, in, range, null, prefix]`, in spec order.
    pub filter: Vec<RawFilter>,
    /// The orders a client may ask for: each a list of keys (`-` = descending),
    /// written `created_at` or `"status,-created_at"`; the reverse of each is
    /// allowed too.
    pub sort: Vec<Sp<Vec<SortKey>>>,
    /// `count: true`: `?count=exact` and `?count=estimated` add a `total`.
    pub count: Option<Sp<bool>>,
    /// `search: [title, body]`: the text fields `?q=` searches.
    pub search: Vec<Sp<String>>,
    /// `search: { language: english }`: PostgreSQL's text search
    /// configuration; `simple` (lowercased, not stemmed) without it.
    pub search_language: Option<Sp<String>>,
    /// `include: [author, comments]`: the parents (by resource name) and
    /// children (by their table's plural) `?include=` may embed.
    pub include: Vec<Sp<String>>,
    pub loc: Loc,
    pub path: String,
}

/// One filtered field and its operators.
#[derive(Debug, Clone)]
pub struct RawFilter {
    pub field: Sp<String>,
    pub ops: Vec<Sp<FilterOp>>,
}

/// One key of a sort order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub column: String,
    pub desc: bool,
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

// What a list filter may do with a field; `range` is `gt`, `gte`, `lt` and
// `lte` together.
keyword_enum!(FilterOp {
    Eq => "eq",
    In => "in",
    Range => "range",
    Null => "null",
    Prefix => "prefix",
    Contains => "contains",
});

keyword_enum!(OnDelete {
    Cascade => "cascade",
    Restrict => "restrict",
    SetNull => "set_null",
});

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
