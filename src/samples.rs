//! Sample values for the generated test suite: for every field, a few
//! distinct values that pass its constraints, and values that break each
//! constraint. Computed here, deterministically (a fixed seed for pattern
//! fields), and written to the service's `tests/fixtures.json`.

use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

use crate::spec::FieldSpec;
use crate::spec::FieldType;

/// How many distinct valid values each field gets; enough for the tests'
/// pages of rows with unique fields.
pub const SAMPLES: usize = 12;

/// `SAMPLES` distinct valid values (fewer only for an enum or bool).
pub fn valid(name: &str, spec: &FieldSpec) -> Vec<Value> {
    let Some(ty) = spec.ty else { return Vec::new() };
    let n_range = 0..SAMPLES as i64;
    match ty {
        FieldType::String | FieldType::Text => match &spec.pattern {
            Some(p) => patterned(p, spec),
            None => n_range.map(|n| json!(text(name, n, spec))).collect(),
        },
        FieldType::Email => n_range
            .map(|n| json!(format!("person{n}@example.com")))
            .collect(),
        FieldType::Url => n_range
            .map(|n| json!(format!("https://example.com/items/{n}")))
            .collect(),
        FieldType::Bool => vec![json!(true), json!(false)],
        FieldType::I32 | FieldType::I64 => n_range.map(|n| json!(int_in(spec, n))).collect(),
        FieldType::F64 => n_range.map(|n| json!(float_in(spec, n))).collect(),
        FieldType::Decimal => n_range
            .map(|n| json!(format!("{}.25", int_in_below_max(spec, n))))
            .collect(),
        FieldType::Uuid => n_range
            .map(|n| json!(format!("00000000-0000-4000-8000-{n:012}")))
            .collect(),
        FieldType::Date => n_range
            .map(|n| json!(format!("2024-03-{:02}", n + 1)))
            .collect(),
        FieldType::Timestamp => n_range
            .map(|n| json!(format!("2024-03-04T05:06:{:02}Z", n)))
            .collect(),
        FieldType::Json => n_range
            .map(|n| json!({ "n": n, "tags": ["a", "b"] }))
            .collect(),
        FieldType::Enum => spec.values.iter().map(|v| json!(v)).collect(),
    }
}

/// Values that each break one constraint of the field, with what they break.
pub fn invalid(spec: &FieldSpec) -> Vec<(Value, String)> {
    let Some(ty) = spec.ty else { return Vec::new() };
    let mut out = Vec::new();
    match ty {
        FieldType::Email => out.push((json!("not-an-email"), "email format".to_string())),
        FieldType::Url => out.push((json!("not a url"), "url format".to_string())),
        FieldType::Enum => out.push((json!("not_a_value"), "enum value".to_string())),
        FieldType::Uuid => out.push((json!("not-a-uuid"), "uuid format".to_string())),
        FieldType::Date => {
            out.push((json!("2024-13-45"), "date format".to_string()));
            // chrono parses these; PostgreSQL refuses the first (before
            // 4713 BC) and the `date` format has no room for the second.
            out.push((json!("-4714-01-01"), "year range".to_string()));
            out.push((json!("10000-01-01"), "year range".to_string()));
        }
        FieldType::Timestamp => {
            out.push((json!("yesterday"), "timestamp format".to_string()));
            out.push((json!("-4714-01-01T00:00:00Z"), "year range".to_string()));
            out.push((json!("10000-01-01T00:00:00Z"), "year range".to_string()));
        }
        FieldType::Bool => out.push((json!("maybe"), "type".to_string())),
        FieldType::I32 | FieldType::I64 | FieldType::F64 => {
            out.push((json!("seven"), "type".to_string()))
        }
        FieldType::Decimal => out.push((json!("seven"), "type".to_string())),
        FieldType::String | FieldType::Text | FieldType::Json => {}
    }
    if matches!(ty, FieldType::String | FieldType::Text) {
        out.push((json!(12), "type".to_string()));
    }
    if let Some(max) = spec.max_length {
        out.push((
            json!("x".repeat(max as usize + 1)),
            "max_length".to_string(),
        ));
    }
    if let Some(min) = spec.min_length
        && min > 0
    {
        out.push((
            json!("x".repeat(min as usize - 1)),
            "min_length".to_string(),
        ));
    }
    if let Some(p) = &spec.pattern
        && let Ok(re) = regex::Regex::new(p)
        && let Some(bad) = pattern_breaker(&re, spec)
    {
        out.push((json!(bad), "pattern".to_string()));
    }
    let integer = matches!(ty, FieldType::I32 | FieldType::I64);
    if let Some(min) = spec.min {
        let v = if integer {
            json!(min as i64 - 1)
        } else if ty == FieldType::Decimal {
            json!(format!("{}", min - 1.0))
        } else {
            json!(min - 0.5)
        };
        out.push((v, "min".to_string()));
    }
    if let Some(max) = spec.max {
        let v = if integer {
            json!(max as i64 + 1)
        } else if ty == FieldType::Decimal {
            json!(format!("{}", max + 1.0))
        } else {
            json!(max + 0.5)
        };
        out.push((v, "max".to_string()));
    }
    out
}

/// A string that breaks `re` but keeps within the length limits, so it is
/// refused for the pattern alone.
fn pattern_breaker(re: &regex::Regex, spec: &FieldSpec) -> Option<String> {
    let len = spec.min_length.unwrap_or(1).max(1) as usize;
    if spec.max_length.is_some_and(|max| (max as usize) < len) {
        return None;
    }
    ["!", "~", " ", "0", "A", "a", "-"]
        .into_iter()
        .map(|c| c.repeat(len))
        .find(|c| !re.is_match(c))
}

fn text(name: &str, n: i64, spec: &FieldSpec) -> String {
    let mut s = format!("{} {n}", name.replace('_', " "));
    if let Some(max) = spec.max_length {
        // Keep the distinguishing number at the end when truncating.
        let chars: Vec<char> = s.chars().collect();
        let keep = (max as usize).min(chars.len());
        s = chars[chars.len() - keep..].iter().collect();
    }
    while (s.chars().count() as u64) < spec.min_length.unwrap_or(0) {
        s.insert(0, 'x');
    }
    s
}

fn int_in(spec: &FieldSpec, n: i64) -> i64 {
    let lo = spec.min.map(|m| m as i64).unwrap_or(1);
    let hi = spec
        .max
        .map(|m| m as i64)
        .unwrap_or(lo.saturating_add(1_000_000));
    let span = hi.saturating_sub(lo).saturating_add(1).max(1);
    lo.saturating_add(n.rem_euclid(span))
}

/// For decimals written as `<int>.25`: the integer part stays below `max`.
fn int_in_below_max(spec: &FieldSpec, n: i64) -> i64 {
    let lo = spec.min.map(|m| m.ceil() as i64).unwrap_or(0);
    let hi = spec
        .max
        .map(|m| m.floor() as i64 - 1)
        .unwrap_or(lo + 1_000_000)
        .max(lo);
    lo + n.rem_euclid(hi - lo + 1)
}

fn float_in(spec: &FieldSpec, n: i64) -> f64 {
    let x = int_in_below_max(spec, n) as f64 + 0.5;
    match spec.max {
        Some(max) if x > max => max,
        _ => x,
    }
}

/// Strings matching `pattern` and the length limits, from a fixed seed so
/// every generation gives the same values.
fn patterned(pattern: &str, spec: &FieldSpec) -> Vec<Value> {
    // The generator does not take anchors; sample the unanchored pattern and
    // keep what the real (anchored) pattern accepts.
    let unanchored = pattern.strip_prefix('^').unwrap_or(pattern);
    let unanchored = match unanchored.strip_suffix('$') {
        Some(rest) if !rest.ends_with('\\') => rest,
        _ => unanchored,
    };
    let Ok(gen_re) = rand_regex::Regex::compile(unanchored, 8) else {
        return Vec::new();
    };
    let Ok(check) = regex::Regex::new(pattern) else {
        return Vec::new();
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5ca1_f01d);
    let mut out: Vec<String> = Vec::new();
    for _ in 0..2000 {
        let s: String = rng.sample(&gen_re);
        let len = s.chars().count() as u64;
        let fits =
            spec.max_length.is_none_or(|m| len <= m) && spec.min_length.is_none_or(|m| len >= m);
        if fits && check.is_match(&s) && !out.contains(&s) {
            out.push(s);
            if out.len() == SAMPLES {
                break;
            }
        }
    }
    out.into_iter().map(Value::String).collect()
}
