//! The parser's reading of one field, in its short (`title: string`) or
//! long (`title: { type: string, ... }`) form.

use super::parse::{Parser, join, list};
use super::{FieldType, RawField, Sp};
use crate::diag::{Diagnostic, Loc, one_of_help};
use marked_yaml::Node;

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

impl Parser<'_> {
    pub(super) fn field(&mut self, name: Sp<String>, node: &Node) -> Option<RawField> {
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

    pub(super) fn field_type(&mut self, t: Sp<String>) -> Option<Sp<FieldType>> {
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
