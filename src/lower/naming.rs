//! Names and keys every lowering module derives the same way from the raw
//! spec. A leaf module, so the others can share it without depending on each
//! other.

use sha2::{Digest, Sha256};

use crate::model::Pk;
use crate::names::PG_MAX_IDENT;
use crate::spec::{PkKind, RawResource};

/// A constraint or index name PostgreSQL will keep intact: names longer than
/// 63 bytes are shortened with a hash suffix so two long names never merge.
pub fn pg_name(base: String) -> String {
    if base.len() <= PG_MAX_IDENT {
        return base;
    }
    let hash = hex::encode(Sha256::digest(base.as_bytes()));
    format!("{}_{}", &base[..PG_MAX_IDENT - 9], &hash[..8])
}

/// The table of a resource: its `plural`, or the plural of its name.
pub fn table_of(r: &RawResource) -> String {
    r.table_name()
}

/// The primary key of a resource: an identity `bigint` unless the spec asks
/// for a UUID.
pub fn pk_of(r: &RawResource) -> Pk {
    match r.primary_key.as_ref().map(|p| p.value) {
        Some(PkKind::Uuid) => Pk {
            rust_type: "uuid::Uuid",
            sql_type: "uuid",
            is_uuid: true,
        },
        _ => Pk {
            rust_type: "i64",
            sql_type: "bigint",
            is_uuid: false,
        },
    }
}
