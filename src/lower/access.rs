//! Access control: the owner condition each statement carries, the rule
//! constants of each action, and the write checks of fields not every caller
//! may write.

use std::collections::BTreeMap;

use super::naming::table_of;
use crate::model::{Access, Call, Field, RuleConst, TokenOwner};
use crate::names::{self, sql_ident};
use crate::spec::{Action, RawResource};

/// The path of foreign keys from a table up to the credentials resource, and
/// what is needed to write the condition "this row belongs to the caller".
pub struct Owner<'a> {
    /// The (resource, foreign key column) steps, starting at the table;
    /// empty for the credentials resource itself.
    pub chain: &'a [(String, String)],
    /// The table, quoted.
    pub table_q: String,
    pub by_name: &'a BTreeMap<String, &'a RawResource>,
}

impl Owner<'_> {
    /// `($n IS NULL OR <owner condition>)`: a NULL owner means the caller may
    /// see every row (a role or `authenticated` granted the action). `link`
    /// is the expression holding the first foreign key when it is not the
    /// row's own column (a new value being written).
    pub fn scoped(&self, link: Option<&str>, param: usize) -> String {
        let param = format!("${param}");
        format!("({param} IS NULL OR {})", self.cond(link, &param))
    }

    /// The owner condition cut around its one parameter, for statements a
    /// service assembles at run time (`"orders"."user_id" = ` and ``).
    pub fn split_cond(&self) -> (String, String) {
        let cond = self.cond(None, "\u{0}");
        let (before, after) = cond.split_once('\u{0}').unwrap_or((&cond, ""));
        (before.to_string(), after.to_string())
    }

    /// The condition "this row belongs to the user in `param`", following
    /// the chain through `EXISTS` and joins when it is longer than one step.
    fn cond(&self, link: Option<&str>, param: &str) -> String {
        let table_q = &self.table_q;
        let first = |column: &str| {
            link.map_or_else(
                || format!("{table_q}.{}", sql_ident(column)),
                str::to_string,
            )
        };
        match self.chain {
            [] => format!("{table_q}.\"id\" = {param}"),
            [(_, column)] => format!("{} = {param}", first(column)),
            [(_, first_col), rest @ ..] => {
                let mut from = String::new();
                for (i, (res, _)) in rest.iter().enumerate() {
                    let table = sql_ident(&table_of(self.by_name[res]));
                    if i == 0 {
                        from = format!("{table} AS \"o1\"");
                    } else {
                        from.push_str(&format!(
                            " JOIN {table} AS \"o{}\" ON \"o{}\".\"id\" = \"o{i}\".{}",
                            i + 1,
                            i + 1,
                            sql_ident(&rest[i - 1].1)
                        ));
                    }
                }
                let last = rest.len();
                format!(
                    "EXISTS (SELECT 1 FROM {from} WHERE \"o1\".\"id\" = {} AND \"o{last}\".{} = {param})",
                    first(first_col),
                    sql_ident(&rest[last - 1].1)
                )
            }
        }
    }
}

/// The grants of a rule: `Grant::Owner`, `Grant::Role(Role::Admin)`.
fn grants(rules: &[String]) -> Vec<String> {
    rules
        .iter()
        .map(|r| match r.as_str() {
            "public" => "Grant::Public".to_string(),
            "authenticated" => "Grant::Authenticated".to_string(),
            "owner" => "Grant::Owner".to_string(),
            role => format!("Grant::Role(Role::{})", names::camel(role)),
        })
        .collect()
}

/// `w.check("field", self.field.is_some(), &[Role::Admin]);` for each field
/// not every caller may write.
fn write_checks(body_fields: &[Field]) -> Vec<Call> {
    body_fields
        .iter()
        .filter_map(|f| {
            let writers = f.writers.as_ref()?;
            let roles = writers
                .iter()
                .map(|w| format!("Role::{}", names::camel(w)))
                .collect::<Vec<_>>()
                .join(", ");
            Some(Call {
                callee: "w.check",
                args: vec![
                    format!("\"{}\"", f.name),
                    format!("self.{}.is_some()", f.ident),
                    format!("&[{roles}]"),
                ],
            })
        })
        .collect()
}

/// What lowering knows about a resource when it lowers its access rules.
pub struct AccessInput<'a> {
    pub raw: &'a RawResource,
    pub route: &'a str,
    pub is_credentials: bool,
    pub body_fields: &'a [Field],
    /// The owner chain, when the resource has one.
    pub chain: Option<&'a [(String, String)]>,
    /// The foreign key filled from the caller's token.
    pub token_column: Option<&'a str>,
}

pub fn lower_access(a: &AccessInput) -> Access {
    let route = a.route;
    let mut rules = Vec::new();
    let mut rules_json = Vec::new();
    let routes = [
        (Action::List, "LIST", format!("`GET {route}`")),
        (Action::Get, "GET", format!("`GET {route}/{{id}}`")),
        (Action::Create, "CREATE", format!("`POST {route}`")),
        (
            Action::Update,
            "UPDATE",
            format!("`PUT` and `PATCH {route}/{{id}}`"),
        ),
        (Action::Delete, "DELETE", format!("`DELETE {route}/{{id}}`")),
    ];
    for (action, konst, doc) in routes {
        if a.is_credentials && action == Action::Create {
            continue;
        }
        let declared = a.raw.access.as_ref().and_then(|acc| {
            acc.value
                .rules
                .iter()
                .find(|(x, _)| x.value == action)
                .map(|(_, v)| v.value.iter().map(|x| x.value.clone()).collect::<Vec<_>>())
        });
        // Unlisted actions need a signed-in caller: with auth on, nothing is
        // public unless the spec says so.
        let list = declared.unwrap_or_else(|| vec!["authenticated".to_string()]);
        rules.push(RuleConst {
            name: konst.to_string(),
            doc,
            grants: grants(&list),
        });
        rules_json.push((action.as_str().to_string(), list));
    }
    let write_checks = write_checks(a.body_fields);
    let names_a_role = rules_json.iter().any(|(_, l)| {
        l.iter()
            .any(|x| !matches!(x.as_str(), "public" | "authenticated" | "owner"))
    });
    let mut import = vec!["Caller", "Grant"];
    if !write_checks.is_empty() || names_a_role {
        import.push("Role");
    }
    import.push("Rule");
    if !write_checks.is_empty() {
        import.push("Writes");
    }
    Access {
        rules,
        owned: a.chain.is_some(),
        is_credentials: a.is_credentials,
        token_owner: a.token_column.map(|column| TokenOwner {
            ident: names::rust_field_ident(column),
            parent: column.trim_end_matches("_id").to_string(),
            column: column.to_string(),
        }),
        insert_checked: a.chain.is_some_and(|c| c.len() > 1),
        write_checks,
        auth_import: format!("{{{}}}", import.join(", ")),
        rules_json,
    }
}
