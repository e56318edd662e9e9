//! Diagnostics: every problem found in a spec, rendered cargo-style.
//!
//! A diagnostic always carries a location (1-based line and column), the key
//! path inside the spec (`resources.post.fields.title.type`) and, where we can
//! say what to write instead, a `help:` line.

use std::fmt::Write as _;

/// A 1-based position in the spec file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Loc {
    pub line: usize,
    pub col: usize,
}

impl Loc {
    pub fn from_span(span: &marked_yaml::Span) -> Self {
        span.start()
            .map(|m| Loc {
                line: m.line(),
                col: m.column(),
            })
            .unwrap_or_default()
    }
}

/// One problem in a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub loc: Loc,
    pub path: String,
    pub help: Option<String>,
    /// A second location that takes part in the problem (the first of two
    /// colliding names, for example).
    pub related: Option<(Loc, String)>,
}

impl Diagnostic {
    pub fn new(loc: Loc, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            loc,
            path: path.into(),
            help: None,
            related: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn related(mut self, loc: Loc, note: impl Into<String>) -> Self {
        self.related = Some((loc, note.into()));
        self
    }
}

/// Collects diagnostics while a pass keeps going past each problem.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The diagnostics in file order, so the output reads top to bottom and is
    /// stable whatever order the passes found them in.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items
            .sort_by(|a, b| (a.loc, &a.path, &a.message).cmp(&(b.loc, &b.path, &b.message)));
        self.items.dedup();
        self.items
    }
}

/// Renders diagnostics for a file the way cargo does.
pub fn render(file: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let _ = writeln!(out, "error: {}", d.message);
        let _ = writeln!(out, "  --> {}:{}:{}", file, d.loc.line, d.loc.col);
        if !d.path.is_empty() {
            let _ = writeln!(out, "   = at: {}", d.path);
        }
        if let Some((loc, note)) = &d.related {
            let _ = writeln!(
                out,
                "   = note: {} at {}:{}:{}",
                note, file, loc.line, loc.col
            );
        }
        if let Some(help) = &d.help {
            let _ = writeln!(out, "   = help: {help}");
        }
    }
    match diagnostics.len() {
        0 => {}
        1 => out.push_str("error: aborting due to 1 previous error\n"),
        n => {
            let _ = writeln!(out, "error: aborting due to {n} previous errors");
        }
    }
    out
}

/// "did you mean" for a closed set, using Jaro-Winkler similarity the way
/// cargo and clap suggest close matches.
pub fn did_you_mean<'a>(value: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(value, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `expected one of `a`, `b`, `c`; did you mean `b`?`
pub fn one_of_help(value: &str, candidates: &[&str]) -> String {
    let list = candidates
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match did_you_mean(value, candidates) {
        Some(s) => format!("expected one of {list}; did you mean `{s}`?"),
        None => format!("expected one of {list}"),
    }
}
