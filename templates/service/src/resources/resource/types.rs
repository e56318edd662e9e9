{#- Representation: the Id and Row aliases, route constants, defaults,
    patterns, enums, the row and body structs, validation, access rules. #}

// ---------------------------------------------------------------------------
// Representation
// ---------------------------------------------------------------------------

/// The primary key type of {{ r.table_q }}.
pub type Id = {{ r.pk.rust_type }};

/// The row type the handlers below work with.
pub type Row = {{ r.struct_name }};
{% for g in r.route_groups() %}
{%- if let Some(parent) = g.parent %}
/// The {{ r.plural }} of one {{ parent }}.
{%- else if loop.first %}
/// The collection and item routes.
{%- endif %}
{{ g.path_const|const_str(g.local_path, 0) }}
{%- endfor %}
{%- for f in r.fields %}
{%- if let Some(d) = f.default_const %}

/// The default of `{{ f.name }}`.
{{ d.name|const_str(d.value, 0) }}
{%- endif %}
{%- if let Some(s) = f.pattern_static %}

/// `{{ f.name }}` must match this pattern; compiled once, on first use.
static {{ s }}: LazyLock<Regex> = LazyLock::new(|| {
    let source = {{ f.pattern_literal }};
    Regex::new(source).expect("the spec's pattern is valid")
});
{%- endif %}
{%- endfor %}
{%- for e in r.enums %}

/// Values of `{{ e.field }}`, stored as the PostgreSQL enum {{ e.sql_name_q }}.
#[derive(Clone, Copy, Debug, {% if e.has_default %}Default, {% endif %}PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "{{ e.sql_name }}")]
pub enum {{ e.rust_name }} {
{%- for v in e.variants %}
{%- if v.is_default %}
    /// The default when a create body omits the field.
    #[default]
{%- endif %}
    #[serde(rename = "{{ v.value }}")]
    #[sqlx(rename = "{{ v.value }}")]
    {{ v.rust_name }},
{%- endfor %}
}
{%- endfor %}

/// A row of {{ r.table_q }}, as stored and as returned by the API.
#[derive(Clone, Debug, Serialize, {% if r.cache.is_some() %}Deserialize, {% endif %}sqlx::FromRow)]
pub struct {{ r.struct_name }} {
    pub id: Id,
{%- for f in r.fields %}
    {{ f.ident|struct_field(f.row_type, 4) }}
{%- endfor %}
{%- if r.timestamps %}
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
{%- endif %}
}

/// Body of create (POST) and full replace (PUT). Every field is optional at
/// the serde level so that all missing fields are reported together by
/// `validate` instead of serde stopping at the first one. Unknown fields,
/// including the server-owned `id`
{%- if r.timestamps %}, `created_at` and `updated_at`{% endif %}, are rejected.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
{%- for f in r.body_fields %}
{%- if let Some(a) = f.input_serde %}
    {{ a }}
{%- endif %}
    {{ f.ident|struct_field(f.input_type, 4) }}
{%- endfor %}
}

/// Body of a partial update (PATCH): absent = unchanged, `null` = set NULL
/// (rejected for non-nullable fields).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
{%- for f in r.body_fields %}
    #[serde(default, deserialize_with = "{{ f.patch_with }}")]
    {{ f.ident|struct_field(f.patch_type, 4) }}
{%- endfor %}
}

/// A validated [`Input`].
#[derive(Debug)]
pub struct New {
{%- for f in r.body_fields %}
    {{ f.ident|struct_field(f.new_type, 4) }}
{%- endfor %}
}

/// A validated [`Patch`]: `None` = leave the column unchanged; for nullable
/// columns `Some(None)` = set NULL.
#[derive(Debug)]
pub struct Changes {
{%- for f in r.body_fields %}
    {{ f.ident|struct_field(f.changes_type, 4) }}
{%- endfor %}
}

{#- `Ok(New { .. })`: shorthand fields, on one line where rustfmt keeps them. #}
{%- macro ok_literal(ty, fields) %}
{%- if fields|struct_lit_inline %}
        Ok({{ ty }} { {{ fields }} })
{%- else %}
        Ok({{ ty }} {
{%- for f in r.body_fields %}
            {{ f.ident }},
{%- endfor %}
        })
{%- endif %}
{%- endmacro %}

impl Input {
    /// Runs every check before failing, so one 422 names every bad field.
    pub fn validate(self) -> Result<New, ApiError> {
{%- if r.input_validates %}
        let mut v = Validator::new();
{%- endif %}
{%- for f in r.body_fields %}
        {{ f|input_let(8) }}
{%- if f.normalise %}
        let {{ f.ident }} = {{ f.ident }}.map(crate::auth::login_key);
{%- endif %}
{%- for c in f.input_checks %}
        {{ c|call_stmt(8) }}
{%- endfor %}
{%- endfor %}
{%- for f in r.body_fields %}
{%- if f.required %}
        let Some({{ f.ident }}) = {{ f.ident }} else {
            return Err(v.into_error());
        };
{%- endif %}
{%- endfor %}
{%- if r.input_validates %}
        v.finish()?;
{%- endif %}
{%- call ok_literal("New", r.new_fields) %}{% endcall %}
    }
}

impl Patch {
    /// Like [`Input::validate`], for the fields that are present.
    pub fn validate(self) -> Result<Changes, ApiError> {
{%- if r.patch_validates %}
        let mut v = Validator::new();
{%- endif %}
{%- for f in r.body_fields %}
        {{ f|patch_let(8) }}
{%- if f.normalise %}
        let {{ f.ident }} = {{ f.ident }}.map(crate::auth::login_key);
{%- endif %}
{%- for c in f.patch_checks %}
        {{ c|call_stmt(8) }}
{%- endfor %}
{%- endfor %}
{%- if r.patch_validates %}

        v.finish()?;
{%- endif %}
{%- call ok_literal("Changes", r.new_fields) %}{% endcall %}
    }
}

{%- if let Some(a) = r.access %}
{%- if !a.write_checks.is_empty() %}
{%- for ty in ["Input", "Patch"] %}

impl {{ ty }} {
{%- if loop.first %}
    /// Fields the caller's role may not write are refused (422), never
    /// silently dropped or applied.
{%- else %}
    /// Like [`Input::check_writers`].
{%- endif %}
    pub fn check_writers(&self, caller: Option<&Caller>) -> Result<(), ApiError> {
        let mut w = Writes::new(caller);
{%- for c in a.write_checks %}
        {{ c|call_stmt(8) }}
{%- endfor %}
        w.finish()
    }
}
{%- endfor %}
{%- endif %}
{%- if a.is_credentials %}

/// Body of `POST /v1/auth/register`: the fields of [`Input`] and the
/// password, which is only ever stored as a hash (and which its `Debug`
/// prints as `<redacted>`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub password: Option<crate::auth::Password>,
{%- for f in r.body_fields %}
{%- if let Some(a) = f.input_serde %}
    {{ a }}
{%- endif %}
    {{ f.ident|struct_field(f.input_type, 4) }}
{%- endfor %}
}

impl Registration {
    /// The account fields and the password, validated separately.
    pub fn split(self) -> (Input, Option<String>) {
        let input = Input {
{%- for f in r.body_fields %}
            {{ f.ident }}: self.{{ f.ident }},
{%- endfor %}
        };
        (input, self.password.map(|password| password.0))
    }
}
{%- endif %}

// Who may call each route: `access` in scaffold.yaml.
{%- for rule in a.rules %}

/// {{ rule.doc }}
{{ rule|const_rule(0) }}
{%- endfor %}
{%- endif %}
