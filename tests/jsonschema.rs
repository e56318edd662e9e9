//! The JSON Schema of the spec format accepts every example spec and rejects
//! the invalid shapes the parser rejects (unknown keys and types).

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&scaffold::render::jsonschema::spec_schema())
        .expect("the schema is a valid JSON Schema")
}

fn yaml(text: &str) -> serde_json::Value {
    serde_yaml::from_str(text).expect("valid YAML")
}

#[test]
fn every_example_spec_matches_the_schema() {
    let v = validator();
    for name in ["shop", "blog", "catalog", "tracker"] {
        let text =
            std::fs::read_to_string(format!("{}/specs/{name}.yaml", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        let errors: Vec<String> = v.iter_errors(&yaml(&text)).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

#[test]
fn invalid_shapes_do_not_match() {
    let v = validator();
    for (name, fixture) in [
        ("unknown_key", "unknown_key.yaml"),
        ("unknown_type", "unknown_type.yaml"),
        ("wrong_shapes", "wrong_shapes.yaml"),
        ("unsupported_version", "unsupported_version.yaml"),
    ] {
        let text = std::fs::read_to_string(format!(
            "{}/tests/invalid/{fixture}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert!(
            !v.is_valid(&yaml(&text)),
            "{name} should not match the schema"
        );
    }
}

#[test]
fn scaffold_new_writes_the_schema_the_starter_spec_points_to() {
    let files = scaffold::compile(scaffold::STARTER_SPEC).unwrap();
    let schema = files
        .iter()
        .find(|f| f.path == scaffold::render::jsonschema::SCHEMA_FILE)
        .expect("schema file");
    assert_eq!(
        schema.contents,
        scaffold::render::jsonschema::spec_schema_text()
    );
    assert!(
        scaffold::STARTER_SPEC
            .starts_with("# yaml-language-server: $schema=scaffold.schema.json\n")
    );
}

#[test]
fn cache_lists_is_a_boolean() {
    let v = validator();
    let spec = |cache: &str| {
        yaml(&format!(
            "version: 1\nservice: s\nresources:\n  note:\n    cache: {cache}\n    fields:\n      text: string\n"
        ))
    };
    assert!(v.is_valid(&spec("{ ttl: 5m, lists: true }")));
    assert!(v.is_valid(&spec("{ ttl: 5m, lists: false }")));
    assert!(v.is_valid(&spec("{ ttl: 5m }")));
    assert!(!v.is_valid(&spec("{ ttl: 5m, lists: yes please }")));
    assert!(!v.is_valid(&spec("{ ttl: 5m, lists: 1 }")));
}
