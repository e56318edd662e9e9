//! Limits: the token buckets of `rate_limit` (service, login and per
//! action) and the `cache` of a resource.

use crate::diag::{Diagnostic, Diagnostics};
use crate::spec::{RawRateLimit, RawResource};

/// Upper bounds that keep a bucket's arithmetic exact and a typo (an extra
/// zero or three) from switching a limit off in effect.
const MAX_CAPACITY: u64 = 1_000_000;
const MAX_REFILL: f64 = 1_000_000.0;

/// One token bucket: `capacity` and `refill_per_second` come as a pair
/// (`required`: the pair must be there), each within its range.
pub(super) fn bucket(limit: &RawRateLimit, required: bool, diags: &mut Diagnostics) {
    let pair_help = "a bucket needs both `capacity` (the burst a client may send at once) \
                     and `refill_per_second` (its sustained rate), e.g. \
                     `{ capacity: 100, refill_per_second: 50 }`";
    match limit.written {
        (false, false) if required => diags.push(
            Diagnostic::new(
                limit.loc,
                limit.path.clone(),
                "missing keys `capacity` and `refill_per_second`",
            )
            .help(pair_help),
        ),
        (true, false) => diags.push(
            Diagnostic::new(
                limit.loc,
                limit.path.clone(),
                "missing key `refill_per_second`",
            )
            .help(pair_help),
        ),
        (false, true) => diags.push(
            Diagnostic::new(limit.loc, limit.path.clone(), "missing key `capacity`")
                .help(pair_help),
        ),
        _ => {}
    }
    if let Some(c) = &limit.capacity
        && !(1..=MAX_CAPACITY).contains(&c.value)
    {
        diags.push(
            c.diag(format!("`capacity` {} is out of range", c.value))
                .help(format!(
                    "use a whole number of requests between 1 and {MAX_CAPACITY}"
                )),
        );
    }
    if let Some(r) = &limit.refill_per_second
        && !(r.value > 0.0 && r.value <= MAX_REFILL)
    {
        diags.push(
            r.diag(format!("`refill_per_second` {} is out of range", r.value))
                .help(format!(
                    "use a rate greater than 0 and at most {MAX_REFILL}; `0.1` is one request every 10 seconds"
                )),
        );
    }
}

/// A cache hit is checked against the owner column of the cached row;
/// further up the `chain` to the credentials resource the owner is not on
/// the row, so such a resource may not be cached.
pub(super) fn cache(
    r: &RawResource,
    chain: &Option<Vec<(String, String)>>,
    diags: &mut Diagnostics,
) {
    if let (Some(c), Some(chain)) = (&r.cache, chain)
        && chain.len() > 1
    {
        diags.push(
            Diagnostic::new(c.loc, c.path.clone(), format!(
                "`cache` on `{}`, whose owner is not a column of its rows (it is reached through `{}`)",
                r.name.value, chain[1].0
            ))
            .help("cache the resources that belong to the credentials resource directly (or the credentials resource itself), or remove `cache`"),
        );
    }
}
