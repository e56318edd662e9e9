//! Generated Rust is rustfmt-clean as emitted, for specs that push the
//! layout rules: one-field resources, long names, many parents, every type,
//! nullable-only resources, single constraints. (The example specs are also
//! checked with `cargo fmt --check` by the end-to-end tests; this covers the
//! shapes they do not have, without compiling anything.)

use std::process::Command;

const SPECS: &[(&str, &str)] = &[
    (
        "minimal",
        "version: 1\nservice: m\nresources:\n  a:\n    fields:\n      b: string\n",
    ),
    (
        "single_unique",
        "version: 1\nservice: su\nresources:\n  coupon:\n    fields:\n      code: { type: string, unique: true }\n",
    ),
    (
        "nullable_only",
        "version: 1\nservice: nullable-only\nresources:\n  note:\n    timestamps: false\n    fields:\n      body: { type: text, required: false }\n      seen: { type: bool, required: false }\n",
    ),
    (
        "long_names",
        r#"version: 1
service: a-service-with-a-rather-long-name-indeed
resources:
  warehouse_location_zone:
    fields:
      human_readable_zone_label: { type: string, min_length: 3, max_length: 120, pattern: "^[A-Z][A-Za-z0-9 ]+$", unique: true }
    list:
      include: [warehouse_inventory_items, stock_movement_records]
  warehouse_inventory_item:
    primary_key: uuid
    cache: { ttl: 90s, lists: true }
    belongs_to:
      - { resource: warehouse_location_zone, on_delete: restrict }
    fields:
      replenishment_threshold_units: { type: i64, min: 0, max: 1000000000, default: 10 }
      storage_temperature_class: { type: enum, values: [ambient_storage, chilled_storage, frozen_storage], default: ambient_storage }
      supplier_reference_description: { type: text, required: false, max_length: 4000, min_length: 1 }
      last_audited_inventory_timestamp: { type: timestamp, required: false }
      default_handling_instructions: { type: string, default: "handle with care and keep upright at all times" }
      unit_weight_in_kilograms: { type: f64, min: 0.001, max: 25000, required: false }
      unit_price_including_all_taxes: { type: decimal, min: 0.01, max: 99999999.99 }
  stock_movement_record:
    belongs_to: [warehouse_inventory_item, warehouse_location_zone]
    cache: { ttl: 1h, lists: true }
    fields:
      quantity_moved_in_units: { type: i32, min: -100000, max: 100000 }
      movement_reason_code: { type: string, max_length: 16, required: false }
    list:
      include: [warehouse_inventory_item, warehouse_location_zone]
"#,
    ),
    (
        "auth_cached",
        r#"version: 1
service: auth-cached
auth:
  credentials: user
  roles: [member, admin]
  default_role: member
resources:
  user:
    cache: { ttl: 1h, lists: true }
    access: { get: [owner, admin], update: [owner, admin], delete: [owner, admin] }
    fields:
      email: { type: email, unique: true }
  renewal_reminder_note:
    belongs_to: user
    cache: { ttl: 30s, lists: true }
    access: { list: [owner, admin], get: [owner, admin], create: [owner, admin], update: [owner, admin], delete: [owner, admin] }
    fields:
      body: text
    list:
      include: [user]
  x:
    cache: { ttl: 1s, lists: true }
    access: { get: public }
    fields:
      y: string
"#,
    ),
    (
        "every_type",
        r#"version: 1
service: every-type
resources:
  x:
    fields:
      s: { type: string, min_length: 1, max_length: 5 }
      t: text
      b: bool
      i: { type: i32, min: 1 }
      l: { type: i64, max: 9 }
      f: { type: f64, min: 0.5 }
      d: { type: decimal, max: 10.5 }
      u: uuid
      dt: date
      ts: timestamp
      j: json
      e: { type: enum, values: [a, b] }
      m: email
      w: url
      type: { type: string, required: false }
"#,
    ),
    (
        // Every resource has `list` and one has `cache` without list pages:
        // pagination.rs keeps only the page, cache.rs is emitted.
        "every_resource_listed",
        r#"version: 1
service: listed
resources:
  author:
    cache: { ttl: 5m }
    fields:
      handle: { type: string, max_length: 30, unique: true }
    list:
      filter:
        handle: [eq, prefix]
      sort: [handle]
  post:
    primary_key: uuid
    belongs_to: author
    fields:
      title: { type: string, max_length: 200 }
    list:
      filter:
        title: [eq]
      sort: [-created_at]
"#,
    ),
];

/// Field and resource names of many lengths, each with every kind of
/// statement the validation code has (required, default, nullable, checks).
fn name_lengths_spec() -> String {
    let mut spec = String::from("version: 1\nservice: lengths\nresources:\n");
    let mut previous: Option<String> = None;
    for (i, len) in [3usize, 9, 14, 18, 22, 26, 32].into_iter().enumerate() {
        let resource = format!("r{}", "e".repeat(len - 1));
        spec.push_str(&format!("  {resource}:\n"));
        if let Some(parent) = &previous {
            spec.push_str(&format!("    belongs_to: {parent}\n"));
        }
        // Every other resource caches its list pages too.
        let lists = if i % 2 == 0 { ", lists: true" } else { "" };
        spec.push_str(&format!("    cache: {{ ttl: 5m{lists} }}\n    fields:\n"));
        for (j, flen) in [4usize, 9, 12, 16, 19, 22, 24, 27, 29, 31, 32]
            .into_iter()
            .enumerate()
        {
            let field = format!("f{}{}", i, "x".repeat(flen - 2));
            let def = match j % 6 {
                0 => "{ type: string, max_length: 40, min_length: 1 }".to_string(),
                1 => "{ type: string, required: false, max_length: 30, pattern: \"^[a-z]+$\" }"
                    .to_string(),
                2 => "{ type: i64, min: 0, max: 100, default: 7 }".to_string(),
                3 => format!(
                    "{{ type: enum, values: [first_value_{j}, second_value], default: second_value }}"
                ),
                4 => "{ type: string, default: \"a fairly long default value for the field\" }"
                    .to_string(),
                _ => "{ type: f64, required: false, min: 0.5 }".to_string(),
            };
            spec.push_str(&format!("      {field}: {def}\n"));
        }
        previous = Some(resource);
    }
    spec
}

#[test]
fn generated_rust_is_rustfmt_clean_for_edge_case_specs() {
    let lengths = name_lengths_spec();
    let mut specs: Vec<(&str, &str)> = SPECS.to_vec();
    specs.push(("name_lengths", &lengths));
    for (name, spec) in specs {
        let files = scaffold::compile(spec).unwrap_or_else(|d| panic!("{name}: {d:?}"));
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(name);
        scaffold::write::write_new_tree(&dir, &files, |_| {}).unwrap();
        let rust: Vec<String> = files
            .iter()
            .filter(|f| f.path.ends_with(".rs"))
            .map(|f| dir.join(&f.path).to_string_lossy().into_owned())
            .collect();
        let out = Command::new("rustfmt")
            .args(["--check", "--edition", "2024"])
            .args(&rust)
            .output()
            .expect("rustfmt runs");
        assert!(
            out.status.success(),
            "{name}: generated Rust is not rustfmt-clean:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
