//! Render: the model → files in memory. One askama template per output file;
//! templates loop over the model and print it, nothing more.

use crate::model::Service;

/// Who owns a file: `Generated` files are rewritten by every generation;
/// `User` files are extension points written once and then left alone.
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

pub fn render(service: &Service, spec_source: &str) -> Vec<GeneratedFile> {
    let mut files = vec![GeneratedFile {
        path: "scaffold.yaml".to_string(),
        contents: spec_source.to_string(),
        owner: Owner::User,
    }];
    let _ = service;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}
