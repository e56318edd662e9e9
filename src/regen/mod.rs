//! Regeneration: the database schema a spec describes, the migration between
//! two of them, and `scaffold.lock`, which records what was generated.

pub mod lock;
mod lock_v1;
pub mod schema;
