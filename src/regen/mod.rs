//! Regeneration: the database schema a spec describes, the migration between
//! two of them, and `scaffold.lock`, which records what was generated.

pub mod lock;
pub mod schema;
