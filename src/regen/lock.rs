//! `scaffold.lock`: what the last generation wrote, committed with the
//! service. It records the hash of every generated file (so a hand edit is
//! detected, never silently overwritten), the migrations in order, and the
//! schema they produce (so the next migration is exactly the difference).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::files::{GeneratedFile, Owner};
use crate::regen::lock_v1;
use crate::regen::schema::Schema;

pub const LOCK_PATH: &str = "scaffold.lock";

/// The shape of `scaffold.lock`. Format 1 (no `format` key) recorded each
/// column and constraint as SQL text; format 2 records them structured. A
/// format 1 lock is still read, so a service generated before regenerates
/// without a spurious migration.
pub const LOCK_FORMAT: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub format: u32,
    /// The generator's major.minor that wrote this lock.
    pub scaffold: String,
    /// Migration files in the order they apply.
    pub migrations: Vec<String>,
    /// Path → SHA-256 of every generated (not user-owned) file.
    pub files: BTreeMap<String, String>,
    /// The schema after the last migration.
    pub schema: Schema,
}

pub fn hash(contents: &[u8]) -> String {
    hex::encode(Sha256::digest(contents))
}

impl Lock {
    /// The lock for `files` (which include every migration that exists after
    /// this generation, kept ones included).
    pub fn new(
        files: &[GeneratedFile],
        kept: &BTreeMap<String, String>,
        migrations: Vec<String>,
        schema: Schema,
    ) -> Lock {
        let mut recorded: BTreeMap<String, String> = kept.clone();
        for f in files.iter().filter(|f| f.owner == Owner::Generated) {
            recorded.insert(f.path.clone(), hash(f.contents.as_bytes()));
        }
        Lock {
            format: LOCK_FORMAT,
            scaffold: crate::STAMP_VERSION.to_string(),
            migrations,
            files: recorded,
            schema,
        }
    }

    /// Reads a lock of the current format or of format 1.
    pub fn parse(text: &str) -> Result<Lock, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        match value.get("format").map(serde_json::Value::as_u64) {
            None => lock_v1::upgrade(serde_json::from_value(value)?),
            Some(Some(n)) if n == u64::from(LOCK_FORMAT) => serde_json::from_value(value),
            Some(_) => Err(serde::de::Error::custom(format!(
                "unsupported lock format {}; this scaffold reads formats 1 to {LOCK_FORMAT}",
                value["format"]
            ))),
        }
    }

    pub fn to_file(&self) -> GeneratedFile {
        let mut contents = serde_json::to_string_pretty(self).expect("the lock always serializes");
        contents.push('\n');
        GeneratedFile {
            path: LOCK_PATH.to_string(),
            contents,
            owner: Owner::Generated,
        }
    }
}
