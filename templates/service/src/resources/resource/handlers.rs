{#- The HTTP part of a resource module: the routes and one copy of each
    handler. With auth a handler also takes the caller and checks its rule
    (macros.rs); an owned resource binds the owner as the last parameter of
    each statement. #}
{%- import "service/src/resources/resource/macros.rs" as m %}

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

pub fn routes() -> Router<AppState> {
    Router::new()
{%- if r.creates %}
        .route(COLLECTION, get(list).post(create))
{%- else %}
        // Accounts are created by `POST /v1/auth/register`.
        .route(COLLECTION, get(list))
{%- endif %}
        .route(ITEM, get(fetch).put(replace).patch(update).delete(remove))
{%- for p in r.parents %}
{%- if !r.creates %}
        .route({{ p.route_const }}, get({{ p.list_handler }}))
{%- else if p.route_one_line %}
        .route({{ p.route_const }}, get({{ p.list_handler }}).post({{ p.create_handler }}))
{%- else if p.route_chain_one_line %}
        .route(
            {{ p.route_const }},
            get({{ p.list_handler }}).post({{ p.create_handler }}),
        )
{%- else %}
        .route(
            {{ p.route_const }},
            get({{ p.list_handler }})
                .post({{ p.create_handler }}),
        )
{%- endif %}
{%- endfor %}
}

async fn list(
    State(state): State<AppState>,
{%- call m::caller_param() %}{% endcall %}
    page: PageRequest<Id>,
) -> Result<Json<Page<Row>>, ApiError> {
{%- call m::check("LIST") %}{% endcall %}
{%- if r.cache_lists %}
    let key = page_key(COLLECTION, {% if r.owned() %}owner, {% endif %}page);
    let pool = &state.pool;
    let load = move || async move {
{%- call m::select_page("SQL_LIST", false, "        ", "pool") %}{% endcall %}
        Ok::<_, ApiError>(page.into_page(rows, |row| row.id))
    };
{%- call m::page_from_cache() %}{% endcall %}
{%- else %}
{%- call m::select_page("SQL_LIST", false, "    ", "&state.pool") %}{% endcall %}
    Ok(Json(page.into_page(rows, |row| row.id)))
{%- endif %}
}
{%- if r.creates %}

async fn create(
    State(state): State<AppState>,
{%- call m::caller_param() %}{% endcall %}
    Json(input): Json<Input>,
) -> Result<Response, ApiError> {
{%- call m::create_check(true) %}{% endcall %}
{%- call m::check_writers("input") %}{% endcall %}
    let mut new = input.validate()?;
    hooks::before_create(&state, &mut new).await?;
{%- if r.token_owner().is_some() %}
    let row = insert(&state, new, owner).await.map_err(db_error)?;
{%- else if r.insert_checked() %}
    let row = insert(&state, new, owner)
        .await
        .map_err(db_error)?
        .ok_or_else(not_owned)?;
{%- else %}
    let row = insert(&state, new).await.map_err(db_error)?;
{%- endif %}
{%- call m::create_end() %}{% endcall %}
}
{%- endif %}
{%- for p in r.parents %}

async fn {{ p.list_handler }}(
    State(state): State<AppState>,
{%- call m::caller_param() %}{% endcall %}
    Path(parent): Path<super::{{ p.resource }}::Id>,
    page: PageRequest<Id>,
) -> Result<Json<Page<Row>>, ApiError> {
{%- call m::check("LIST") %}{% endcall %}
{%- if r.cache_lists %}
    let route = {{ p.page_route }};
    let key = page_key(&route, {% if r.owned() %}owner, {% endif %}page);
    let pool = &state.pool;
    let load = move || async move {
{%- call m::select_page(p.sql_list_const, true, "        ", "pool") %}{% endcall %}
{%- call m::parent_exists(p, "        ", "pool", true) %}{% endcall %}
        Ok(page.into_page(rows, |row| row.id))
    };
{%- call m::page_from_cache() %}{% endcall %}
{%- else %}
{%- call m::select_page(p.sql_list_const, true, "    ", "&state.pool") %}{% endcall %}
{%- call m::parent_exists(p, "    ", "&state.pool", false) %}{% endcall %}
    Ok(Json(page.into_page(rows, |row| row.id)))
{%- endif %}
}
{%- if r.creates %}
{%- if p.from_token %}

/// Rows are created for the caller: a path naming anyone else is a 404, as
/// if that {{ p.resource }} did not exist.
{%- else %}

/// The parent id comes from the path; the same field in the body is a 422.
{%- endif %}
async fn {{ p.create_handler }}(
    State(state): State<AppState>,
{%- call m::caller_param() %}{% endcall %}
    Path(parent): Path<super::{{ p.resource }}::Id>,
    Json({% if !p.from_token %}mut {% endif %}input): Json<Input>,
) -> Result<Response, ApiError> {
{%- if p.from_token %}
    CREATE.check(caller.as_ref())?;
    if caller.as_ref().is_none_or(|caller| caller.id != parent) {
        return Err(ApiError::not_found("{{ p.resource }}", parent));
    }
{%- else %}
{%- call m::create_check(false) %}{% endcall %}
    if input.{{ p.ident }}.is_some() {
        return Err(taken_from_path("{{ p.column }}"));
    }
    input.{{ p.ident }} = Some(parent);
{%- endif %}
{%- call m::check_writers("input") %}{% endcall %}
    let mut new = input.validate()?;
    hooks::before_create(&state, &mut new).await?;
{%- if p.from_token %}
    let row = insert(&state, new, parent).await.map_err(db_error)?;
{%- else %}
    let row = insert(&state, new{% if r.insert_takes_owner() %}, owner{% endif %}).await.map_err(|err| {
        // On this route the foreign key names the URL's parent: a 404.
        if ApiError::violates(&err, {{ p.fk_const }}) {
            ApiError::not_found("{{ p.resource }}", parent)
        } else {
            db_error(err)
        }
    })?;
{%- if r.insert_checked() %}
    let row = row.ok_or_else(not_owned)?;
{%- endif %}
{%- endif %}
{%- call m::create_end() %}{% endcall %}
}
{%- endif %}
{%- endfor %}
{%- if r.creates %}

/// Where a created row lives, for the `Location` header.
fn location(id: Id) -> String {
    format!("/v1{COLLECTION}/{id}")
}
{%- if let Some(t) = r.token_owner() %}

/// Shared by every create route; `owner` fills {{ t.column }}.
async fn insert(state: &AppState, new: New, owner: super::{{ t.parent }}::Id) -> Result<Row, sqlx::Error> {
{%- else if r.insert_checked() %}

/// Shared by every create route. With an owner, no row is inserted (and
/// `None` returned) unless the parent belongs to them.
async fn insert(
    state: &AppState,
    new: New,
    owner: Option<crate::auth::UserId>,
) -> Result<Option<Row>, sqlx::Error> {
{%- else %}

/// Shared by every create route.
async fn insert(state: &AppState, new: New) -> Result<Row, sqlx::Error> {
{%- endif %}
    sqlx::query_as::<_, Row>(SQL_INSERT)
{%- for f in r.body_fields %}
        .bind(new.{{ f.ident }})
{%- endfor %}
{%- if r.insert_takes_owner() %}
        .bind(owner)
{%- endif %}
        .fetch_{% if r.insert_checked() %}optional{% else %}one{% endif %}(&state.pool)
        .await
}
{%- if r.insert_checked() %}

/// The parent named in the body is not the caller's: reported like a
/// parent that does not exist, so other users' rows stay invisible.
fn not_owned() -> ApiError {
    ApiError::validation(vec![crate::validation::FieldError::new(
        "{{ r.body_fields[0].name }}",
        "must reference an existing row",
    )])
}
{%- endif %}
{%- endif %}
{%- if r.cache.is_some() %}
{%- include "service/src/resources/resource/cache.rs" %}
{%- else %}
{%- if r.has_auth() %}

async fn fetch(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Path(id): Path<Id>,
) -> Result<Json<Row>, ApiError> {
{%- call m::check("GET") %}{% endcall %}
{%- else %}

async fn fetch(State(state): State<AppState>, Path(id): Path<Id>) -> Result<Json<Row>, ApiError> {
{%- endif %}
    sqlx::query_as::<_, Row>(SQL_GET)
        .bind(id)
{%- call m::bind_owner("    ") %}{% endcall %}
        .fetch_optional(&state.pool)
        .await
        .map_err(db_error)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("{{ r.name }}", id))
}
{%- endif %}

async fn replace(
    State(state): State<AppState>,
{%- call m::caller_param() %}{% endcall %}
    Path(id): Path<Id>,
    Json(input): Json<Input>,
) -> Result<Json<Row>, ApiError> {
{%- call m::check("UPDATE") %}{% endcall %}
{%- call m::check_writers("input") %}{% endcall %}
    let mut new = input.validate()?;
    hooks::before_replace(&state, id, &mut new).await?;
    let row = sqlx::query_as::<_, Row>(SQL_REPLACE)
        .bind(id)
{%- for f in r.body_fields %}
        .bind(new.{{ f.ident }})
{%- endfor %}
{%- call m::bind_owner("    ") %}{% endcall %}
        .fetch_optional(&state.pool)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ApiError::not_found("{{ r.name }}", id))?;
{%- call m::after_write(false) %}{% endcall %}
    hooks::after_update(&state, &row).await;
    Ok(Json(row))
}

async fn update(
    State(state): State<AppState>,
{%- call m::caller_param() %}{% endcall %}
    Path(id): Path<Id>,
    Json(patch): Json<Patch>,
) -> Result<Json<Row>, ApiError> {
{%- call m::check("UPDATE") %}{% endcall %}
{%- call m::check_writers("patch") %}{% endcall %}
    let mut changes = patch.validate()?;
    hooks::before_update(&state, id, &mut changes).await?;
    let row = sqlx::query_as::<_, Row>(SQL_PATCH)
        .bind(id)
{%- for b in r.patch_binds %}
        .bind({{ b }})
{%- endfor %}
{%- call m::bind_owner("    ") %}{% endcall %}
        .fetch_optional(&state.pool)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ApiError::not_found("{{ r.name }}", id))?;
{%- call m::after_write(false) %}{% endcall %}
    hooks::after_update(&state, &row).await;
    Ok(Json(row))
}
{%- if r.has_auth() %}

async fn remove(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Path(id): Path<Id>,
) -> Result<StatusCode, ApiError> {
{%- call m::check("DELETE") %}{% endcall %}
{%- else %}

async fn remove(State(state): State<AppState>, Path(id): Path<Id>) -> Result<StatusCode, ApiError> {
{%- endif %}
    hooks::before_delete(&state, id).await?;
    let result = sqlx::query(SQL_DELETE)
        .bind(id)
{%- call m::bind_owner("    ") %}{% endcall %}
        .execute(&state.pool)
        .await
        .map_err(db_error)?;
    if result.rows_affected() == 0 {
        return Err(ApiError::not_found("{{ r.name }}", id));
    }
{%- call m::after_write(false) %}{% endcall %}
{%- if !r.cascade_bumps.is_empty() %}
    // `on_delete` made the database delete or detach child rows too, so
    // the children's cached pages and rows are stale as well.
{%- endif %}
{%- for c in r.cascade_bumps %}
    let counter = {{ c }}();
    state.cache.bump(&counter).await;
{%- endfor %}
    hooks::after_delete(&state, id).await;
    Ok(StatusCode::NO_CONTENT)
}
