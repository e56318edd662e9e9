{#- The keys of one sort order, at `pad`. #}
{%- macro include_fields(i, pad) %}
{{ pad }}name: "{{ i.name }}",
{{ pad }}from: "{{ i.from }}",
{{ pad }}to: "{{ i.to }}",
{{ pad }}many: {{ i.many }},
{{ pad }}id: {{ i.id.rust(pad, 0) }},
{{ pad }}head: r#"{{ i.head }}"#,
{{ pad }}middle: r#"{{ i.middle }}"#,
{{ pad }}tail: r#"{{ i.tail }}"#,
{%- if let Some((before, after)) = i.owner_cond %}
{{ pad }}owner_before: r#"{{ before }}"#,
{{ pad }}owner_after: r#"{{ after }}"#,
{%- else %}
{{ pad }}owner_before: "",
{{ pad }}owner_after: "",
{%- endif %}
{%- endmacro %}
{%- macro keys(o, pad) %}
{%- if o.keys.len() == 1 %}
{%- for k in o.keys %}
{{ pad }}keys: &[listing::Key {
{{ pad }}    column: "{{ k.column }}",
{{ pad }}    desc: {{ k.desc }},
{{ pad }}    kind: {{ k.kind.rust(pad, 4) }},
{{ pad }}}],
{%- endfor %}
{%- else %}
{{ pad }}keys: &[
{%- for k in o.keys %}
{{ pad }}    listing::Key {
{{ pad }}        column: "{{ k.column }}",
{{ pad }}        desc: {{ k.desc }},
{{ pad }}        kind: {{ k.kind.rust(pad, 8) }},
{{ pad }}    },
{%- endfor %}
{{ pad }}],
{%- endif %}
{%- endmacro %}
{#- Database: the constraint map and `db_error`, the foreign keys a nested
    create turns into 404s, every statement as a constant. #}

// ---------------------------------------------------------------------------
// Database
// ---------------------------------------------------------------------------

/// Named constraints of {{ r.table_q }} and the request field each one guards.
{%- if r.constraints.is_empty() %}
const CONSTRAINTS: &[Constraint] = &[];
{%- else if r.single_constraint %}
{%- for c in r.constraints %}
const CONSTRAINTS: &[Constraint] = &[Constraint {
    name: "{{ c.constraint }}",
    field: "{{ c.field }}",
    message: "{{ c.message }}",
}];
{%- endfor %}
{%- else %}
const CONSTRAINTS: &[Constraint] = &[
{%- for c in r.constraints %}
    Constraint {
        name: "{{ c.constraint }}",
        field: "{{ c.field }}",
        message: "{{ c.message }}",
    },
{%- endfor %}
];
{%- endif %}

{%- for p in r.parents %}
{%- if r.creates && !p.from_token %}

/// The foreign key to the parent; on the nested routes its violation means
/// the parent named in the URL does not exist.
{{ p.fk_const|const_str(p.fk_constraint, 0) }}
{%- endif %}
{%- endfor %}

{% if r.is_credentials() %}pub(crate) {% endif %}fn db_error(err: sqlx::Error) -> ApiError {
    ApiError::from_db(err, CONSTRAINTS)
}

{%- if let Some(l) = r.list %}

/// What a list of {{ r.table_q }} may ask for (`list` in scaffold.yaml); the
/// statements are assembled from it per request by `crate::listing`, and the
/// migrations index every filter and order under every scope.
static LISTING: listing::Listing = listing::Listing {
    table: r#"{{ r.table_q }}"#,
    columns: r#"{{ r.select_columns }}"#,
    parents: "{{ crate::model::ListQuery::parent_columns(r.parents) }}",
{%- if let Some((before, after)) = r.owner_cond %}
    owner_before: r#"{{ before }}"#,
    owner_after: r#"{{ after }}"#,
{%- else %}
    owner_before: "",
    owner_after: "",
{%- endif %}
    id: {% if r.pk.is_uuid %}listing::Kind::Uuid{% else %}listing::Kind::Int{% endif %},
{%- if l.filters.is_empty() %}
    filters: &[],
{%- else if l.filters.len() == 1 %}
{%- for f in l.filters %}
    filters: &[listing::Filter {
        column: "{{ f.column }}",
        kind: {{ f.kind.rust("", 8) }},
        ops: "{{ f.ops.join(",") }}",
    }],
{%- endfor %}
{%- else %}
    filters: &[
{%- for f in l.filters %}
        listing::Filter {
            column: "{{ f.column }}",
            kind: {{ f.kind.rust("", 12) }},
            ops: "{{ f.ops.join(",") }}",
        },
{%- endfor %}
    ],
{%- endif %}
{%- if l.orders.is_empty() %}
    orders: &[],
{%- else if l.orders.len() == 1 %}
{%- for o in l.orders %}
    orders: &[listing::Order {
        name: "{{ o.name }}",
        reverse: "{{ o.reverse }}",
{%- call keys(o, "        ") %}{% endcall %}
    }],
{%- endfor %}
{%- else %}
    orders: &[
{%- for o in l.orders %}
        listing::Order {
            name: "{{ o.name }}",
            reverse: "{{ o.reverse }}",
{%- call keys(o, "            ") %}{% endcall %}
        },
{%- endfor %}
    ],
{%- endif %}
    count: {{ l.count }},
    search: "{% if let Some(c) = l.search_column %}{{ c }}{% endif %}",
    search_language: "{{ l.search_language }}",
    fields: "{{ l.fields.join(",") }}",
{%- if l.includes.is_empty() %}
    includes: &[],
{%- else if l.includes.len() == 1 %}
{%- for i in l.includes %}
    includes: &[listing::Include {
{%- call include_fields(i, "        ") %}{% endcall %}
    }],
{%- endfor %}
{%- else %}
    includes: &[
{%- for i in l.includes %}
        listing::Include {
{%- call include_fields(i, "            ") %}{% endcall %}
        },
{%- endfor %}
    ],
{%- endif %}
};
{%- for p in r.parents %}

{{ p.sql_exists_const|const_sql(p.sql_exists, 0) }}
{%- endfor %}
{%- else %}

/// Keyset pagination: `"id" > $1` walks the primary key index, so every page
/// costs the same however deep it is.
const SQL_LIST: &str = r#"{{ r.sql.list }}"#;
{%- for p in r.parents %}

/// Served by the index on ({{ p.column_q }}, "id").
const {{ p.sql_list_const }}: &str = r#"{{ p.sql_list }}"#;

{{ p.sql_exists_const|const_sql(p.sql_exists, 0) }}
{%- endfor %}
{%- endif %}

const SQL_GET: &str = r#"{{ r.sql.get }}"#;
{%- if let Some(c) = r.cache %}

/// How long a row stays in the cache (±10% jitter).
{{ c.ttl_decl }}
{%- endif %}
{%- if r.creates %}

const SQL_INSERT: &str = r#"{{ r.sql.insert }}"#;
{%- endif %}

const SQL_REPLACE: &str = r#"{{ r.sql.replace }}"#;

/// NOT NULL columns: a NULL parameter means "unchanged" (COALESCE). Nullable
/// columns take a pair of parameters, "was the field sent" and "its value",
/// because NULL is a legitimate value for them.
const SQL_PATCH: &str = r#"{{ r.sql.patch }}"#;

{{ "SQL_DELETE"|const_sql(r.sql.delete, 0) }}
