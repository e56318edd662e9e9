//! Hooks around the writes of `{{ r.name }}`: YOUR code. scaffold wrote this
//! file once and never overwrites it; `scaffold generate` keeps it as is.
//!
//! The generated handlers call these after validation and access checks{% if r.owned() %};
//! `before_replace`, `before_update` and `before_delete` run only once the
//! row is known to be one the caller may change (another user's row is a 404
//! before your code runs){% endif %}.
//! A `before_*` hook may change the value about to be written, or refuse the
//! request with an [`ApiError`] (nothing is written). An `after_*` hook runs
//! once the write is committed; it cannot undo it, so it returns nothing. It
//! runs in the write's own task, to its end even when the client disconnects
//! or the request times out (the client then never sees its outcome).
//! Creating an account through `/v1/auth/register` does not call
//! `before_create`.

use crate::error::ApiError;
use crate::resources::{{ r.name }}::{Changes, Id, New, Row};
use crate::state::AppState;

pub async fn before_create(_state: &AppState, _new: &mut New) -> Result<(), ApiError> {
    Ok(())
}

pub async fn after_create(_state: &AppState, _row: &Row) {}

/// PUT: the whole new value.
pub async fn before_replace(_state: &AppState, _id: Id, _new: &mut New) -> Result<(), ApiError> {
    Ok(())
}

/// PATCH: only the fields present in the body are `Some`.
pub async fn before_update(
    _state: &AppState,
    _id: Id,
    _changes: &mut Changes,
) -> Result<(), ApiError> {
    Ok(())
}

/// After a PUT or a PATCH.
pub async fn after_update(_state: &AppState, _row: &Row) {}

pub async fn before_delete(_state: &AppState, _id: Id) -> Result<(), ApiError> {
    Ok(())
}

pub async fn after_delete(_state: &AppState, _id: Id) {}
