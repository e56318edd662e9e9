//! Fields: constraints that fit the field's type, defaults, patterns and
//! enum values.

use std::collections::BTreeMap;

use crate::diag::{Diagnostics, one_of_help};
use crate::names;
use crate::spec::{FieldType, RawField, Sp};

pub(super) fn field_rules(f: &RawField, diags: &mut Diagnostics) {
    let Some(ty) = &f.ty else { return };
    let t = ty.value;
    let texty = matches!(
        t,
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url
    );
    bounds(f, t, texty, diags);
    if let Some(p) = &f.pattern {
        pattern(f, t, texty, p, diags);
    }
    enum_values(f, ty, diags);
    if let Some(d) = &f.default {
        default_value(f, t, d, diags);
    }
}

/// The help for a constraint `key` that the field's type does not take.
fn not_for(f: &RawField, t: FieldType, key: &str, for_what: &str) -> String {
    format!(
        "remove `{key}`: it applies only to {for_what} fields, and `{}` is `{}`",
        f.name.value,
        t.as_str()
    )
}

/// `min` and `max` of numbers, `min_length` and `max_length` of text: each
/// only on a type it applies to, and each pair in order.
fn bounds(f: &RawField, t: FieldType, texty: bool, diags: &mut Diagnostics) {
    let numeric = matches!(
        t,
        FieldType::I32 | FieldType::I64 | FieldType::F64 | FieldType::Decimal
    );
    let integer = matches!(t, FieldType::I32 | FieldType::I64);
    for c in [&f.min, &f.max].into_iter().flatten() {
        let key = c.path.rsplit('.').next().unwrap_or_default().to_string();
        if !numeric {
            diags.push(
                c.diag(format!("`{key}` does not apply to {} field", a_type(t)))
                    .help(not_for(f, t, &key, "i32, i64, f64 and decimal")),
            );
        } else if integer && c.value.fract() != 0.0 {
            diags.push(
                c.diag(format!(
                    "`{key}` of an integer field must be a whole number, found `{}`",
                    c.value
                ))
                .help(format!("write `{key}: {}`", c.value.trunc())),
            );
        } else if t == FieldType::I32 && (c.value < i32::MIN as f64 || c.value > i32::MAX as f64) {
            diags.push(
                c.diag(format!("`{key}` is outside the range of i32"))
                    .help("use `type: i64`, or a bound between -2147483648 and 2147483647"),
            );
        }
    }
    if let (Some(min), Some(max)) = (&f.min, &f.max)
        && min.value > max.value
    {
        diags.push(
            max.diag(format!(
                "`max` ({}) is less than `min` ({})",
                max.value, min.value
            ))
            .related(min.loc, "`min` set")
            .help("swap the two bounds"),
        );
    }
    for c in [&f.min_length, &f.max_length].into_iter().flatten() {
        let key = c.path.rsplit('.').next().unwrap_or_default().to_string();
        if !texty {
            diags.push(
                c.diag(format!("`{key}` does not apply to {} field", a_type(t)))
                    .help(not_for(f, t, &key, "string, text, email and url")),
            );
        }
    }
    if let Some(max) = &f.max_length
        && max.value == 0
    {
        diags.push(
            max.diag("`max_length` must be at least 1")
                .help("remove `max_length` or set it to a positive number"),
        );
    }
    if let (Some(min), Some(max)) = (&f.min_length, &f.max_length)
        && min.value > max.value
    {
        diags.push(
            max.diag(format!(
                "`max_length` ({}) is less than `min_length` ({})",
                max.value, min.value
            ))
            .related(min.loc, "`min_length` set")
            .help("swap the two bounds"),
        );
    }
}

/// A `pattern`: only on text, a valid regular expression, and one the
/// generated tests can find sample values for.
fn pattern(f: &RawField, t: FieldType, texty: bool, p: &Sp<String>, diags: &mut Diagnostics) {
    if !texty {
        diags.push(
            p.diag(format!("`pattern` does not apply to {} field", a_type(t)))
                .help(not_for(f, t, "pattern", "string, text, email and url")),
        );
    } else if regex::Regex::new(&p.value).is_ok() && patterned_samples(f).is_empty() {
        diags.push(
            p.diag(format!("found no value that matches `{}` within the field's length limits", p.value))
                .help("the generated tests need sample values; simplify the pattern or loosen `min_length`/`max_length`"),
        );
    } else if let Err(e) = regex::Regex::new(&p.value) {
        let first_line = e
            .to_string()
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        diags.push(
            p.diag(format!(
                "invalid regular expression `{}`: {first_line}",
                p.value
            ))
            .help("write a pattern in Rust `regex` syntax, for example `^[a-z0-9-]+$`"),
        );
    }
}

/// `values`: required on an enum, refused on any other type; each value a
/// distinct lowercase name.
fn enum_values(f: &RawField, ty: &Sp<FieldType>, diags: &mut Diagnostics) {
    let t = ty.value;
    match (&f.values, t) {
        (Some(v), FieldType::Enum) => {
            if v.value.is_empty() {
                diags.push(
                    v.diag("an enum needs at least one value")
                        .help("write `values: [pending, paid]`"),
                );
            }
            let mut seen: BTreeMap<String, &Sp<String>> = BTreeMap::new();
            for val in &v.value {
                let ok = val
                    .value
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase())
                    && val
                        .value
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    && val.value.len() <= 63;
                if !ok {
                    diags.push(
                        val.diag(format!("invalid enum value `{}`", val.value))
                            .help("use lowercase letters, digits and `_`, starting with a letter"),
                    );
                    continue;
                }
                let camel = names::camel(&val.value);
                if let Some(first) = seen.get(&camel) {
                    diags.push(
                        val.diag(format!(
                            "enum value `{}` collides with `{}`",
                            val.value, first.value
                        ))
                        .related(first.loc, "first defined")
                        .help("remove the duplicate value"),
                    );
                } else {
                    seen.insert(camel, val);
                }
            }
        }
        (None, FieldType::Enum) => diags.push(
            ty.diag("an enum field needs `values`")
                .help("add `values: [a, b, c]` to the field"),
        ),
        (Some(v), _) => diags.push(
            v.diag(format!("`values` does not apply to {} field", a_type(t)))
                .help("remove `values`, or set `type: enum`"),
        ),
        (None, _) => {}
    }
}

fn default_value(f: &RawField, t: FieldType, d: &Sp<String>, diags: &mut Diagnostics) {
    let v = d.value.as_str();
    let bad = |what: &str, example: &str| {
        d.diag(format!("default `{v}` is not {}", an(what)))
            .help(format!(
                "write {}, for example `default: {example}`",
                an(what)
            ))
    };
    match t {
        FieldType::Bool => {
            if v != "true" && v != "false" {
                diags.push(bad("bool", "false"));
            }
        }
        FieldType::I32 => {
            if v.parse::<i32>().is_err() {
                diags.push(bad("i32", "0"));
            }
        }
        FieldType::I64 => {
            if v.parse::<i64>().is_err() {
                diags.push(bad("i64", "0"));
            }
        }
        FieldType::F64 | FieldType::Decimal => {
            if !v.parse::<f64>().is_ok_and(f64::is_finite) || v.contains(['e', 'E', 'i', 'n', 'N'])
            {
                diags.push(bad("number", "0.5"));
            }
        }
        FieldType::Enum => {
            if let Some(values) = &f.values
                && !values.value.iter().any(|x| x.value == v)
            {
                let names: Vec<&str> = values.value.iter().map(|x| x.value.as_str()).collect();
                diags.push(
                    d.diag(format!("default `{v}` is not one of the enum's values"))
                        .help(one_of_help(v, &names)),
                );
            }
        }
        FieldType::Uuid | FieldType::Date | FieldType::Timestamp | FieldType::Json => {
            diags.push(
                d.diag(format!(
                    "a default is not supported for `{}` fields",
                    t.as_str()
                ))
                .help("remove `default`, or make the field `required: false`"),
            );
        }
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url => {
            let len = v.chars().count() as u64;
            if f.max_length.as_ref().is_some_and(|m| len > m.value)
                || f.min_length.as_ref().is_some_and(|m| len < m.value)
            {
                diags.push(
                    d.diag(format!(
                        "default `{v}` breaks the field's own length limits"
                    ))
                    .help("choose a default within `min_length` and `max_length`"),
                );
            }
        }
    }
    if matches!(
        t,
        FieldType::I32 | FieldType::I64 | FieldType::F64 | FieldType::Decimal
    ) && let Ok(x) = v.parse::<f64>()
        && (f.min.as_ref().is_some_and(|m| x < m.value)
            || f.max.as_ref().is_some_and(|m| x > m.value))
    {
        diags.push(
            d.diag(format!(
                "default `{v}` is outside the field's own `min`/`max`"
            ))
            .help("choose a default within the bounds"),
        );
    }
}

/// "an `i64`", "a `string`".
fn a_type(t: FieldType) -> String {
    an(&format!("`{}`", t.as_str()))
}

fn an(word: &str) -> String {
    let first = word.trim_start_matches('`').chars().next().unwrap_or('x');
    if "aeiou".contains(first) || word.starts_with("`i") {
        format!("an {word}")
    } else {
        format!("a {word}")
    }
}

/// The sample values the generated tests would use for a patterned field.
fn patterned_samples(f: &RawField) -> Vec<serde_json::Value> {
    let spec = crate::spec::FieldSpec {
        ty: Some(FieldType::String),
        pattern: f.pattern.as_ref().map(|p| p.value.clone()),
        min_length: f.min_length.as_ref().map(|m| m.value),
        max_length: f.max_length.as_ref().map(|m| m.value),
        ..Default::default()
    };
    crate::samples::valid(&f.name.value, &spec)
}
