//! Files in memory: what rendering produces and the writer, the lock and the
//! snapshot tests consume. Its own module so that rendering and regeneration
//! (which renders the next migration and records files in the lock) both
//! depend on it without depending on each other.

/// Who owns a file: `Generated` files are rewritten by every generation;
/// `User` files are written once and then belong to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    Generated,
    User,
}

/// One output file, path relative to the service root with `/` separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub path: String,
    pub contents: String,
    pub owner: Owner,
}
