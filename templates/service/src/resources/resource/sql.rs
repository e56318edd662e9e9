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

/// Keyset pagination: `"id" > $1` walks the primary key index, so every page
/// costs the same however deep it is.
const SQL_LIST: &str = r#"{{ r.sql.list }}"#;
{%- for p in r.parents %}

/// Served by the index on ({{ p.column_q }}, "id").
const {{ p.sql_list_const }}: &str = r#"{{ p.sql_list }}"#;

{{ p.sql_exists_const|const_sql(p.sql_exists, 0) }}
{%- endfor %}

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
