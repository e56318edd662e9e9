//! Your own routes: YOUR code. scaffold wrote this file once and never
//! overwrites it. The router is merged into the service's, behind the same
//! middleware (request ids, logs, errors as problem+json, limits), e.g.
//!
//! ```ignore
//! Router::new().route("/v1/reports/daily", get(daily_report))
//! ```

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
