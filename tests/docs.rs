//! The generated service's own documents cannot drift from what it serves:
//! for every example spec, every operation of `openapi.json` is a row of the
//! README's API table, and every variable `.env.example` sets is in the
//! README's configuration table. (That `.env.example` names every variable
//! the configuration reads is a test of the generated service itself,
//! `config::tests::env_example_names_every_variable`, run by the e2e tests.)

use std::collections::BTreeMap;

use serde_json::Value;

fn generated(spec: &str) -> BTreeMap<String, String> {
    let path = format!("{}/specs/{spec}.yaml", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(path).unwrap();
    scaffold::compile(&source)
        .unwrap()
        .into_iter()
        .map(|f| (f.path.clone(), f.contents.clone()))
        .collect()
}

/// `/v1/orders/{order_id}` and `/v1/orders/{id}` are the same route.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// The README's API table: each row's methods and the paths in its second
/// column.
fn api_rows(readme: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let api = readme.split("## API").nth(1).expect("an API section");
    api.lines()
        .skip_while(|l| !l.starts_with("| ---"))
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let methods = cells[1].split(", ").map(str::to_string).collect();
            let paths = cells[2]
                .split(", ")
                .map(|p| shape(p.trim_matches('`')))
                .collect();
            (methods, paths)
        })
        .collect()
}

#[test]
fn every_operation_is_in_the_readme() {
    for spec in ["shop", "blog", "catalog", "tracker"] {
        let files = generated(spec);
        let document: Value = serde_json::from_str(&files["openapi.json"]).unwrap();
        let rows = api_rows(&files["README.md"]);
        assert!(rows.len() > 3, "{spec}: {rows:?}");
        let mut checked = 0;
        for (path, item) in document["paths"].as_object().unwrap() {
            let methods = item.as_object().unwrap().keys();
            let methods =
                methods.filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()));
            for method in methods {
                let method = method.to_uppercase();
                let listed = rows.iter().any(|(methods, paths)| {
                    methods.contains(&method) && paths.contains(&shape(path))
                });
                assert!(
                    listed,
                    "{spec}: {method} {path} is not in the README's API table"
                );
                checked += 1;
            }
        }
        // And no row names a route the document does not have.
        for (methods, paths) in &rows {
            for p in paths {
                for m in methods {
                    let documented =
                        document["paths"]
                            .as_object()
                            .unwrap()
                            .iter()
                            .any(|(path, item)| {
                                shape(path) == *p && item.get(m.to_lowercase()).is_some()
                            });
                    assert!(
                        documented,
                        "{spec}: the README lists {m} {p}, which openapi.json lacks"
                    );
                }
            }
        }
        assert!(checked > 10, "{spec}: {checked} operations");
    }
}

#[test]
fn every_variable_of_env_example_is_documented() {
    for spec in ["shop", "blog", "catalog", "tracker"] {
        let files = generated(spec);
        let readme = &files["README.md"];
        let example = &files[".env.example"];
        let mut names = 0;
        for line in example.lines().filter(|l| !l.starts_with('#')) {
            let Some((name, _)) = line.split_once('=') else {
                continue;
            };
            assert!(
                readme.contains(&format!("| `{name}` |")),
                "{spec}: {name} is in .env.example but not in the README's configuration table"
            );
            names += 1;
        }
        assert!(names > 10, "{spec}: {names} variables");
    }
}
