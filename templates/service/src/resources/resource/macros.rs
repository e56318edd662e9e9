{#- The pieces the handlers share. Each emits whole lines, every one led by
    its newline; `pad` indents a handler body or a cached list's loader. #}

{#- `caller: Option<Caller>,` among a handler's extractors, with auth. #}
{%- macro caller_param() %}
{%- if r.has_auth() %}
    caller: Option<Caller>,
{%- endif %}
{%- endmacro %}

{#- The route's rule; an owned resource keeps the owner it grants (`None` = any). #}
{%- macro check(rule) %}
{%- if r.has_auth() %}
    {% if r.owned() %}let owner = {% endif %}{{ rule }}.check(caller.as_ref())?;
{%- endif %}
{%- endmacro %}

{#- Before a `before_*` hook of an owned resource: the row must be one the
    caller may change, so a hook never runs on another user's row. #}
{%- macro owned_row() %}
{%- if r.owned() %}
    if owner.is_some() {
        ensure_owned(&state, id, owner).await?;
    }
{%- endif %}
{%- endmacro %}

{#- The signature of a handler of `ITEM` without a body, one line if it fits;
    where it stands: the caller writes what goes before it. #}
{%- macro by_id(name, ret, headers) %}
{%- if r.has_auth() || headers -%}
async fn {{ name }}(
    State(state): State<AppState>,
{%- call caller_param() %}{% endcall %}
    Path(id): Path<Id>,
{%- if headers %}
    if_none_match: IfNoneMatch,
{%- endif %}
) -> Result<{{ ret }}, ApiError> {
{%- else -%}
async fn {{ name }}(State(state): State<AppState>, Path(id): Path<Id>) -> Result<{{ ret }}, ApiError> {
{%- endif %}
{%- endmacro %}

{#- The rule of a create route, and the owner its INSERT takes. #}
{%- macro create_check(direct) %}
{%- if r.insert_checked() %}
    let owner = CREATE.check(caller.as_ref())?;
{%- else if r.token_owner().is_some() %}
    CREATE.check(caller.as_ref())?;
{%- if direct %}
    // The row belongs to the caller, whichever grant admitted them.
{%- endif %}
    let owner = caller.as_ref().map(|caller| caller.id);
    let owner = owner.ok_or_else(ApiError::missing_token)?;
{%- else if r.has_auth() %}
    CREATE.check(caller.as_ref())?;
{%- endif %}
{%- endmacro %}

{#- Fields the caller's role may not write are refused before validation. #}
{%- macro check_writers(body) %}
{%- if r.write_checked() %}
    {{ body }}.check_writers(caller.as_ref())?;
{%- endif %}
{%- endmacro %}

{#- `.bind(owner)`, the last parameter of an owned resource's statements. #}
{%- macro bind_owner(pad) %}
{%- if r.owned() %}
{{ pad }}    .bind(owner)
{%- endif %}
{%- endmacro %}

{#- Invalidation after a write: the row's entry (under its epoch, if any) and
    the generation of the cached list pages. #}
{%- macro after_write(created, pad) %}
{%- if r.cache.is_some() %}
{%- if created %}
{{ pad }}// A lookup of this id before it existed may have cached "absent".
{%- else %}
{{ pad }}// Only after the statement has committed: deleting first would let a
{{ pad }}// concurrent reader refill the old row.
{%- endif %}
{%- if !r.cache_epoch %}
{{ pad }}state.cache.invalidate(&cache_key({% if created %}row.id{% else %}id{% endif %})).await;
{%- else if created %}
{{ pad }}let key = cache_key(row.id);
{{ pad }}state.cache.invalidate_in(&epoch(), &key).await;
{%- else %}
{{ pad }}state.cache.invalidate_in(&epoch(), &cache_key(id)).await;
{%- endif %}
{%- endif %}
{%- if r.cache_lists %}
{%- if created %}
{{ pad }}// And every cached list page: the new row may belong on any of them.
{%- else %}
{{ pad }}// Every cached list page of the resource may show the row.
{%- endif %}
{{ pad }}state.cache.bump(&generation()).await;
{%- endif %}
{%- endmacro %}

{#- The end of every create route, inside its `to_completion` block. #}
{%- macro create_end() %}
{%- call after_write(true, "        ") %}{% endcall %}
        hooks::after_create(&state, &row).await;
        Ok(created(location(row.id), row))
    })
    .await
{%- endmacro %}

{#- Where a write's statement starts: from here on, the statement, the
    invalidation and the after-hook run as a task of their own. #}
{%- macro to_completion() %}
{%- if r.cache.is_some() %}
    // From the statement on, the write runs in a task of its own, to its
    // end (invalidation and after-hook included) even when the client goes
    // away or the request times out: a committed row never keeps stale
    // cache entries.
{%- else %}
    // From the statement on, the write runs in a task of its own, to its
    // end (after-hook included) even when the client goes away or the
    // request times out.
{%- endif %}
    to_completion(async move {
{%- endmacro %}

{#- One page of rows, directly or below the parent in the path, through
    `reads` (the `Reader` the page's statements go to). #}
{%- macro select_page(sql, nested, pad, reads) %}
{%- if r.list.is_some() %}
{{ pad }}let rows = {{ reads }}
{{ pad }}    .run(|pool| request.fetch::<Row>(pool, scope))
{{ pad }}    .await
{{ pad }}    .map_err(db_error)?;
{%- else %}
{{ pad }}let rows = {{ reads }}
{{ pad }}    .run(|pool| {
{{ pad }}        sqlx::query_as::<_, Row>({{ sql }})
{%- if nested %}
{{ pad }}            .bind(parent)
{%- endif %}
{{ pad }}            .bind(page.after)
{{ pad }}            .bind(page.fetch_limit())
{%- call bind_owner(pad ~ "        ") %}{% endcall %}
{{ pad }}            .fetch_all(pool)
{{ pad }}            .instrument(db_query({{ sql }}))
{{ pad }}    })
{{ pad }}    .await
{{ pad }}    .map_err(db_error)?;
{%- endif %}
{%- endmacro %}

{#- A nested list's empty page: is the parent there at all (for the caller)? #}
{%- macro parent_exists(p, pad, reads) %}
{{ pad }}// A non-empty page proves the parent exists (foreign key), so the extra
{{ pad }}// query is only paid to tell "no {{ r.plural }}" from "no such {{ p.resource }}"
{%- if r.has_auth() %}
{{ pad }}// (or one the caller may not see, which is the same 404).
{%- if r.cache_lists %} Empty pages
{{ pad }}// are not cached, so the check is made on every such read.
{%- endif %}
{%- else %}.
{%- if r.cache_lists %}
{{ pad }}// Empty pages are not cached, so the check is made on every such read.
{%- endif %}
{%- endif %}
{{ pad }}if rows.is_empty() {
{{ pad }}    let exists: bool = {{ reads }}
{{ pad }}        .run(|pool| {
{{ pad }}            sqlx::query_scalar({{ p.sql_exists_const }})
{{ pad }}                .bind(parent)
{%- if p.exists_scoped %}
{{ pad }}                .bind(owner)
{%- endif %}
{{ pad }}                .fetch_one(pool)
{{ pad }}                .instrument(db_query({{ p.sql_exists_const }}))
{{ pad }}        })
{{ pad }}        .await
{{ pad }}        .map_err(db_error)?;
{{ pad }}    if !exists {
{{ pad }}        return Err(ApiError::not_found("{{ p.resource }}", parent));
{{ pad }}    }
{{ pad }}}
{%- endmacro %}

{#- A list body around its statement (the call block, given `pad` and
    `reads`): in the loader of a cached page, or inline. A cached page is
    loaded from the primary, as the cache keeps what it loads: a page read
    from a lagging replica could be stored after the write it missed and
    outlive that write's invalidation. An uncached page is read where the
    request's reads go (`AppState::reads`). #}
{%- macro page(route, nested) %}
{%- if r.cache_lists %}
    let key = page_key({{ route }}, {% if r.owned() %}owner, {% endif %}{% if r.list.is_some() %}request{% else %}page{% endif %});
    let reads = state.primary_reads();
    let load = move || async move {
{{- caller("        ", "reads") }}
{%- if r.list.is_some() %}
        let total = reads
            .run(|pool| request.total(pool, scope))
            .await
            .map_err(db_error)?;
        Ok{% if !nested %}::<_, ApiError>{% endif %}(request.into_page(rows, total))
{%- else %}
        Ok{% if !nested %}::<_, ApiError>{% endif %}(page.into_page(rows, |row| row.id))
{%- endif %}
    };
    let cache = &state.cache;
    let counter = generation();
    let page = cache.page_or_load(&counter, key, CACHE_TTL, load).await?;
{%- if r.list.is_some() %}
{%- call respond() %}{% endcall %}
{%- else %}
    Ok(Json(page))
{%- endif %}
{%- else if r.list.is_some() %}
    let reads = state.reads();
{{- caller("    ", "reads") }}
    let total = reads
        .run(|pool| request.total(pool, scope))
        .await
        .map_err(db_error)?;
    let page = request.into_page(rows, total);
{%- call respond() %}{% endcall %}
{%- else %}
    let reads = state.reads();
{{- caller("    ", "reads") }}
    Ok(Json(page.into_page(rows, |row| row.id)))
{%- endif %}
{%- endmacro %}

{#- The end of a list handler: the page, shaped by `?fields=` and, with
    includes, `?include=`. #}
{%- macro respond() %}
{%- if r.list_includes() %}
    respond(&state, {% if r.has_auth() %}caller.as_ref(), {% endif %}request, page).await
{%- else %}
    Ok(request.respond(page))
{%- endif %}
{%- endmacro %}
