{#- HTTP: the routes and one copy of each handler. With auth a handler takes
    the caller and checks its rule; an owned resource binds the owner last. #}
{%- import "service/src/resources/resource/macros.rs" as m %}

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

pub fn routes() -> Router<AppState> {
    Router::new()
{%- if !r.creates %}
        // Accounts are created by `POST /v1/auth/register`.
{%- endif %}
{%- for g in r.route_groups() %}
        {{ g|route_call(8) }}
{%- endfor %}
}

async fn list(
    State(state): State<AppState>,
{%- call m::caller_param() %}{% endcall %}
    {% if r.list.is_some() %}RawQuery(query): RawQuery{% else %}page: PageRequest<Id>{% endif %},
) -> Result<{% if r.list.is_some() %}Response{% else %}Json<Page<Row>>{% endif %}, ApiError> {
{%- call m::check("LIST") %}{% endcall %}
{%- if r.list.is_some() %}
    let request = &LISTING.request(query.as_deref())?;
    let scope = &LISTING.scope(None, {{ r.list_owner() }});
{%- endif %}
{%- call(pad, reads) m::page("COLLECTION", false) %}
{%- call m::select_page("SQL_LIST", false, pad, reads) %}{% endcall %}
{%- endcall %}
}
{%- if let Some(l) = r.list %}
{%- if !l.includes.is_empty() %}

/// A list's response: the page shaped by `?fields=` and `?include=`. Each
/// included relation is one statement for the whole page, whatever its
/// size, under the included resource's own access rule; it is never cached
/// with the page, so what a caller sees of it is decided on every request.
async fn respond(
    state: &AppState,
{%- if r.has_auth() %}
    caller: Option<&Caller>,
{%- endif %}
    request: &listing::ListRequest,
    page: Page<Row>,
) -> Result<Response, ApiError> {
    if request.plain() {
        return Ok(request.respond(page));
    }
    let reads = state.reads();
    let mut items = listing::objects(&page.items);
{%- for i in l.includes %}
    if let Some(include) = request.included("{{ i.name }}") {
{%- if !r.has_auth() %}
        let owner = None;
{%- else if i.owner_cond.is_some() %}
        let owner = super::{{ i.module }}::{{ i.rule }}.check(caller)?;
        let owner = owner.map(listing::Value::from);
{%- else %}
        super::{{ i.module }}::{{ i.rule }}.check(caller)?;
        let owner = None;
{%- endif %}
        include
            .embed::<super::{{ i.module }}::Row>(reads, &mut items, owner)
            .await?;
    }
{%- endfor %}
    Ok(request.finish(page, items))
}
{%- endif %}
{%- endif %}
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
{%- call m::to_completion() %}{% endcall %}
{%- if r.insert_checked() %}
        let row = insert(&state, new, owner)
            .await
            .map_err(db_error)?
            .ok_or_else(not_owned)?;
{%- else %}
        let row = insert(&state, new{% if r.insert_takes_owner() %}, owner{% endif %}).await.map_err(db_error)?;
{%- endif %}
{%- call m::create_end() %}{% endcall %}
}
{%- endif %}
{%- for p in r.parents %}

async fn {{ p.list_handler }}(
    State(state): State<AppState>,
{%- call m::caller_param() %}{% endcall %}
    Path(parent): Path<super::{{ p.resource }}::Id>,
    {% if r.list.is_some() %}RawQuery(query): RawQuery{% else %}page: PageRequest<Id>{% endif %},
) -> Result<{% if r.list.is_some() %}Response{% else %}Json<Page<Row>>{% endif %}, ApiError> {
{%- call m::check("LIST") %}{% endcall %}
{%- if r.list.is_some() %}
    let request = &LISTING.request(query.as_deref())?;
    let scope = &LISTING.scope(Some(({{ loop.index0 }}, parent.into())), {{ r.list_owner() }});
{%- endif %}
{%- if r.cache_lists %}
    let route = {{ p.page_route }};
{%- endif %}
{%- call(pad, reads) m::page("&route", true) %}
{%- call m::select_page(p.sql_list_const, true, pad, reads) %}{% endcall %}
{%- call m::parent_exists(p, pad, reads) %}{% endcall %}
{%- endcall %}
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
{%- call m::to_completion() %}{% endcall %}
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
    format!("{}{COLLECTION}/{id}", super::API_PREFIX)
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
        .instrument(db_query(SQL_INSERT))
        .await
}
{%- if r.insert_checked() %}
{%- if let Some(column) = r.owner_column() %}

/// The parent named in the body is not the caller's: reported like a
/// parent that does not exist, so other users' rows stay invisible.
fn not_owned() -> ApiError {
    ApiError::validation(vec![crate::validation::FieldError::new(
        "{{ column }}",
        "must reference an existing row",
    )])
}
{%- endif %}
{%- endif %}
{%- endif %}
{%- if r.cache.is_some() %}
{%- include "service/src/resources/resource/cache.rs" %}
{%- else %}

{% call m::by_id("fetch", "Json<Row>", false) %}{% endcall %}
{%- call m::check("GET") %}{% endcall %}
    let reads = state.reads();
    reads
        .run(|pool| {
            sqlx::query_as::<_, Row>(SQL_GET)
                .bind(id)
{%- call m::bind_owner("            ") %}{% endcall %}
                .fetch_optional(pool)
                .instrument(db_query(SQL_GET))
        })
        .await
        .map_err(db_error)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("{{ r.name }}", id))
}
{%- endif %}
{#- PUT (`replace`, the whole `Input`) and PATCH (`update`, the `Patch`'s
    changes): the same handler around a different statement. #}
{%- macro write(name, body, ty, valid, hook, sql) %}

async fn {{ name }}(
    State(state): State<AppState>,
{%- call m::caller_param() %}{% endcall %}
    Path(id): Path<Id>,
    Json({{ body }}): Json<{{ ty }}>,
) -> Result<Json<Row>, ApiError> {
{%- call m::check("UPDATE") %}{% endcall %}
{%- call m::check_writers(body) %}{% endcall %}
    let mut {{ valid }} = {{ body }}.validate()?;
{%- call m::owned_row() %}{% endcall %}
    hooks::{{ hook }}(&state, id, &mut {{ valid }}).await?;
{%- call m::to_completion() %}{% endcall %}
{%- if r.role_writable() %}
        // Tokens carry the role they were signed with: a write that changes
        // the role revokes the account's sessions in its own transaction.
        let mut tx = state.pool.begin().await.map_err(db_error)?;
        let before = match {{ valid }}.role {
            Some(_) => crate::auth::lock_account(&mut tx, id).await?,
            None => None,
        };
{%- endif %}
        let row = sqlx::query_as::<_, Row>({{ sql }})
            .bind(id)
{%- if valid == "new" %}
{%- for f in r.body_fields %}
            .bind(new.{{ f.ident }})
{%- endfor %}
{%- else %}
{%- for b in r.patch_binds %}
            .bind({{ b }})
{%- endfor %}
{%- endif %}
{%- call m::bind_owner("        ") %}{% endcall %}
            .fetch_optional({% if r.role_writable() %}&mut *tx{% else %}&state.pool{% endif %})
            .instrument(db_query({{ sql }}))
            .await
{%- if r.insert_checked() %}
            .map_err(db_error)?;
        let Some(row) = row else {
            return Err(no_row_changed(&state, id, owner).await);
        };
{%- else %}
            .map_err(db_error)?
            .ok_or_else(|| ApiError::not_found("{{ r.name }}", id))?;
{%- endif %}
{%- if r.role_writable() %}
        let mut revoked = Vec::new();
        if before.is_some_and(|role| role != row.role) {
            revoked = crate::auth::revoke_account(&mut tx, &state, id).await?;
        }
        tx.commit().await.map_err(db_error)?;
        state.revocations.revoked_families(&revoked);
{%- endif %}
{%- call m::after_write(false, "        ") %}{% endcall %}
        hooks::after_update(&state, &row).await;
        Ok(Json(row))
    })
    .await
}
{%- endmacro %}
{%- if r.owned() %}

/// A 404 unless the row exists and `owner` may change it: asked before a
/// `before_*` hook runs, so your hooks only ever see the caller's own rows.
/// (The write's statement checks the owner again, in case the row changed
/// hands in between.)
async fn ensure_owned(
    state: &AppState,
    id: Id,
    owner: Option<crate::auth::UserId>,
) -> Result<(), ApiError> {
    sqlx::query_as::<_, Row>(SQL_GET)
        .bind(id)
        .bind(owner)
        .fetch_optional(&state.pool)
        .instrument(db_query(SQL_GET))
        .await
        .map_err(db_error)?
        .map(drop)
        .ok_or_else(|| ApiError::not_found("{{ r.name }}", id))
}
{%- endif %}
{%- if r.insert_checked() %}

/// Why a write's statement changed no row: it checks both that the row is
/// the caller's and that the parent the body names is. A 404 when the row
/// is gone (or no longer the caller's); otherwise the parent is someone
/// else's, the 422 naming it that a create answers.
async fn no_row_changed(state: &AppState, id: Id, owner: Option<crate::auth::UserId>) -> ApiError {
    match ensure_owned(state, id, owner).await {
        Ok(()) => not_owned(),
        Err(err) => err,
    }
}
{%- endif %}
{%- call write("replace", "input", "Input", "new", "before_replace", "SQL_REPLACE") %}{% endcall %}
{%- call write("update", "patch", "Patch", "changes", "before_update", "SQL_PATCH") %}{% endcall %}

{% call m::by_id("remove", "StatusCode", false) %}{% endcall %}
{%- call m::check("DELETE") %}{% endcall %}
{%- call m::owned_row() %}{% endcall %}
    hooks::before_delete(&state, id).await?;
{%- call m::to_completion() %}{% endcall %}
{%- if r.is_credentials() %}
        // The account's sessions are revoked in the delete's transaction,
        // and recorded where they outlive its refresh tokens (deleted with
        // it): its tokens are refused at once, on every replica. The
        // account is locked first, as a refresh takes the two, so the two
        // never deadlock.
        let mut tx = state.pool.begin().await.map_err(db_error)?;
        crate::auth::lock_account(&mut tx, id).await?;
        let revoked = crate::auth::revoke_account(&mut tx, &state, id).await?;
{%- endif %}
        let result = sqlx::query(SQL_DELETE)
            .bind(id)
{%- call m::bind_owner("        ") %}{% endcall %}
            .execute({% if r.is_credentials() %}&mut *tx{% else %}&state.pool{% endif %})
            .instrument(db_query(SQL_DELETE))
            .await
            .map_err(db_error)?;
        if result.rows_affected() == 0 {
            return Err(ApiError::not_found("{{ r.name }}", id));
        }
{%- if r.is_credentials() %}
        tx.commit().await.map_err(db_error)?;
        state.revocations.revoked_families(&revoked);
{%- endif %}
{%- call m::after_write(false, "        ") %}{% endcall %}
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
    })
    .await
}
