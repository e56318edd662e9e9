{#- Cache-aside (cached resources): GET by id through the cache, the row's
    loader and key, the counters writers bump (by-id epoch, list generation). #}
{%- import "service/src/resources/resource/macros.rs" as m %}
{%- if let Some(c) = r.cache %}
{%- if r.has_auth() %}

/// Cache-aside: the cache holds whole rows keyed by id alone, so the owner
/// check SQL_GET makes is made here, on the owner kept beside the row's
/// JSON, for hits and misses alike. A hit serves the stored JSON.
{%- else %}

/// Cache-aside: a miss reads the database and fills the cache; a hit serves
/// the stored JSON.
{%- endif %}
{% call m::by_id("fetch", "Response", true) %}{% endcall %}
{%- call m::check("GET") %}{% endcall %}
    let load = || read(&state, id);
    let cache = &state.cache;
    let key = cache_key(id);
{%- if r.cache_epoch %}
    let epoch = epoch();
    let epoch = Some(epoch.as_str());
{%- else %}
    let epoch = None;
{%- endif %}
    let row = cache
        .get_or_load(epoch, key, CACHE_TTL, load, owner_of)
        .await?;
{%- if r.owned() %}
    let row = row.filter(|row| visible(row.owner(), owner));
{%- endif %}
    let row = row.ok_or_else(|| ApiError::not_found("{{ r.name }}", id))?;
    Ok(row.respond(&if_none_match))
}

/// The row with this id,
{%- if r.has_auth() %} whoever owns it: what the cache holds.
{%- else %} from the database.
{%- endif %}
async fn read(state: &AppState, id: Id) -> Result<Option<Row>, ApiError> {
    sqlx::query_as::<_, Row>(SQL_GET)
        .bind(id)
{%- if r.owned() %}
        .bind(None::<crate::auth::UserId>)
{%- endif %}
        .fetch_optional(&state.pool)
        .instrument(db_query(SQL_GET))
        .await
        .map_err(db_error)
}
{%- if let Some(o) = c.owner_of_row %}

/// Who owns a row: kept beside its JSON in the cache.
fn owner_of(row: &Row) -> Option<crate::cache::Owner> {
    Some({{ o }})
}

/// The condition SQL_GET puts on the owner: the rule grants every row
/// (`owner` is `None`), or the row is the caller's.
fn visible(row_owner: Option<crate::cache::Owner>, owner: Option<crate::auth::UserId>) -> bool {
    owner.is_none_or(|owner| row_owner == Some(owner))
}
{%- else %}

/// The rule checks no owner on a row: the cache keeps none.
fn owner_of(_row: &Row) -> Option<crate::cache::Owner> {
    None
}
{%- endif %}

/// A row's cache key: the service (as a hash tag), the collection and the
/// id.
fn cache_key(id: Id) -> String {
    crate::cache::row_key(COLLECTION, id)
}
{%- if r.cache_epoch %}

/// The counter a parent's DELETE bumps when the database deletes or changes
/// rows of this resource with it; rows are cached under its current value.
pub(crate) fn epoch() -> String {
    crate::cache::key(format_args!("{COLLECTION}:epoch"))
}
{%- endif %}
{%- if c.lists %}

/// The counter every write of the resource bumps; list pages are cached
/// under its current value.
pub(crate) fn generation() -> String {
    crate::cache::key(format_args!("{COLLECTION}:generation"))
}
{%- if r.owned() %}

/// A list page's cache key: everything its SQL depends on. The route (with
/// the parent's id), the owner the rule restricts the page to (`*` when it
/// does not, so one user's page is never another's), where the page starts
/// and its size. `None`: the page is not cached.
{%- if r.list.is_some() %}
fn page_key(
    route: &str,
    owner: Option<crate::auth::UserId>,
    page: &listing::ListRequest,
) -> Option<String> {
{%- else %}
fn page_key(
    route: &str,
    owner: Option<crate::auth::UserId>,
    page: PageRequest<Id>,
) -> Option<String> {
{%- endif %}
    let owner = owner.map_or_else(|| "*".to_owned(), |owner| owner.to_string());
{%- else %}

/// A list page's cache key: everything its SQL depends on. The route (with
/// the parent's id), where the page starts and its size
{%- if r.has_auth() %}; every caller the
/// rule admits sees the same page.
{%- else %}.
{%- endif %} `None`: the page is not cached.
{%- if r.list.is_some() %}
fn page_key(route: &str, page: &listing::ListRequest) -> Option<String> {
{%- else %}
fn page_key(route: &str, page: PageRequest<Id>) -> Option<String> {
{%- endif %}
{%- endif %}
{%- if r.list.is_some() %}
    // The request's canonical filters, order, cursor, limit and count.
    let key = format!("{route}?{% if r.owned() %}owner={owner}&{% endif %}{page}");
    let key = crate::cache::key(key);
    page.cacheable().then_some(key)
{%- else %}
    let PageRequest { limit, after } = page;
    let key = format!("{route}?{% if r.owned() %}owner={owner}&{% endif %}after={after}&limit={limit}");
    let key = crate::cache::key(key);
    // A cursor is an id of the client's choosing, and every id between two
    // rows names the same page: only the first page's key is fixed, so only
    // the first page is cached.
    page.is_first().then_some(key)
{%- endif %}
}
{%- endif %}
{%- endif -%}
