//! `scaffold generate` on an existing service: `--check` for CI, `--dry-run`,
//! hand edits refused and kept, user files never touched, and the next
//! numbered migration holding exactly the schema difference.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scaffold(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scaffold"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("scaffold runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh shop service in a temporary directory.
fn new_shop() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = scaffold(&["new", "svc"], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = tmp.path().join("svc");
    (tmp, dir)
}

fn edit_spec(dir: &Path, from: &str, to: &str) {
    let path = dir.join("scaffold.yaml");
    let spec = std::fs::read_to_string(&path).unwrap();
    assert!(spec.contains(from), "the starter spec contains `{from}`");
    std::fs::write(&path, spec.replace(from, to)).unwrap();
}

fn migrations(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_fresh_service_is_up_to_date() {
    let (_tmp, dir) = new_shop();
    let check = scaffold(&["generate", "--check"], &dir);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert!(text(&check.stdout).is_empty());
    let plan = scaffold(&["generate", "--dry-run"], &dir);
    assert_eq!(plan.status.code(), Some(0));
    assert!(
        text(&plan.stdout)
            .lines()
            .all(|l| l.trim_start().starts_with("unchanged")),
        "{}",
        text(&plan.stdout)
    );
    let again = scaffold(&["generate"], &dir);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(migrations(&dir), ["0001_initial.sql"]);
}

#[test]
fn a_spec_change_is_drift_until_regenerated_and_becomes_one_migration() {
    let (_tmp, dir) = new_shop();
    let initial = std::fs::read_to_string(dir.join("migrations/0001_initial.sql")).unwrap();
    // Add a field with a default, rename a field, add an index and a resource.
    edit_spec(
        &dir,
        "      note: { type: text, required: false }",
        "      note: { type: text, required: false }\n      gift: { type: bool, default: false }",
    );
    edit_spec(
        &dir,
        "      name: { type: string, max_length: 100 }",
        "      full_name: { type: string, max_length: 100, renamed_from: name }",
    );
    edit_spec(
        &dir,
        "      - columns: [user_id, created_at desc]",
        "      - columns: [user_id, created_at desc]\n      - columns: [total_cents]",
    );
    // A new filter brings the indexes it needs.
    edit_spec(
        &dir,
        "        status: [eq, in]",
        "        status: [eq, in]\n        note: [\"null\"]",
    );
    let spec = std::fs::read_to_string(dir.join("scaffold.yaml")).unwrap();
    std::fs::write(
        dir.join("scaffold.yaml"),
        format!("{spec}  coupon:\n    fields:\n      code: {{ type: string, unique: true }}\n"),
    )
    .unwrap();

    let check = scaffold(&["generate", "--check"], &dir);
    assert_eq!(check.status.code(), Some(1), "drift exits 1");
    let diff = text(&check.stdout);
    assert!(diff.contains("+++ b/src/resources/coupon.rs"), "{diff}");
    assert!(diff.contains("+++ b/migrations/0002_"), "{diff}");
    assert!(text(&check.stderr).contains("run `scaffold generate`"));
    assert_eq!(
        migrations(&dir),
        ["0001_initial.sql"],
        "--check writes nothing"
    );

    let plan = scaffold(&["generate", "--dry-run"], &dir);
    let plan = text(&plan.stdout);
    assert!(plan.contains("create  src/resources/coupon.rs"), "{plan}");
    assert!(plan.contains("update  src/resources/order.rs"), "{plan}");

    let out = scaffold(&["generate"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let names = migrations(&dir);
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("migrations/0001_initial.sql")).unwrap(),
        initial,
        "an applied migration is never rewritten"
    );
    let second = std::fs::read_to_string(dir.join("migrations").join(&names[1])).unwrap();
    for statement in [
        "ALTER TABLE \"users\" RENAME COLUMN \"name\" TO \"full_name\";",
        "ALTER TABLE \"orders\" ADD COLUMN \"gift\" boolean NOT NULL DEFAULT false;",
        "CREATE INDEX \"orders_total_cents_idx\" ON \"orders\" (\"total_cents\");",
        "CREATE INDEX \"orders_note_idx\" ON \"orders\" (\"note\");",
        "CREATE INDEX \"orders_user_id_note_idx\" ON \"orders\" (\"user_id\", \"note\");",
        "CREATE TABLE \"coupons\" (",
        "CONSTRAINT \"coupons_code_key\" UNIQUE (\"code\")",
    ] {
        assert!(second.contains(statement), "{statement} in:\n{second}");
    }
    assert!(
        !second.contains("CREATE TABLE \"users\""),
        "only the difference:\n{second}"
    );

    let check = scaffold(&["generate", "--check"], &dir);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));
}

#[test]
fn a_hand_edit_is_refused_and_kept_unless_forced() {
    let (_tmp, dir) = new_shop();
    let path = dir.join("src/resources/user.rs");
    let edited = format!(
        "{}\n// a local change\n",
        std::fs::read_to_string(&path).unwrap()
    );
    std::fs::write(&path, &edited).unwrap();
    edit_spec(
        &dir,
        "name: { type: string, max_length: 100 }",
        "name: { type: string, max_length: 120 }",
    );

    let out = scaffold(&["generate"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("edited by hand") && err.contains("src/resources/user.rs"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        edited,
        "the edit is kept"
    );
    assert_eq!(migrations(&dir), ["0001_initial.sql"], "nothing written");

    let check = scaffold(&["generate", "--check"], &dir);
    assert_eq!(check.status.code(), Some(1));

    let forced = scaffold(&["generate", "--force"], &dir);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("a local change")
    );
    assert_eq!(migrations(&dir).len(), 2);
}

#[test]
fn unsafe_schema_changes_are_refused_with_help() {
    let (_tmp, dir) = new_shop();
    // A required field without a default cannot be added to existing rows.
    edit_spec(
        &dir,
        "      note: { type: text, required: false }",
        "      note: { type: text, required: false }\n      carrier: { type: string }",
    );
    let out = scaffold(&["generate"], &dir);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("new required field `carrier`"), "{err}");
    let spec = std::fs::read_to_string(dir.join("scaffold.yaml")).unwrap();
    let line = spec.lines().position(|l| l.contains("carrier:")).unwrap() + 1;
    assert!(
        err.contains(&format!("scaffold.yaml:{line}:7")),
        "points at the field: {err}"
    );
    assert!(err.contains("help: existing rows need a value"), "{err}");
    assert_eq!(migrations(&dir), ["0001_initial.sql"]);

    // Removing a field drops data: only with --allow-destructive.
    edit_spec(&dir, "\n      carrier: { type: string }", "");
    edit_spec(&dir, "      note: { type: text, required: false }\n", "");
    let out = scaffold(&["generate"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--allow-destructive"));
    let out = scaffold(&["generate", "--allow-destructive"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let names = migrations(&dir);
    let drop = std::fs::read_to_string(dir.join("migrations").join(&names[1])).unwrap();
    assert!(
        drop.contains("ALTER TABLE \"orders\" DROP COLUMN \"note\";"),
        "{drop}"
    );
}

#[test]
fn files_no_longer_generated_are_removed_and_user_files_kept() {
    let (_tmp, dir) = new_shop();
    let spec = std::fs::read_to_string(dir.join("scaffold.yaml")).unwrap();
    let extra = format!("{spec}  coupon:\n    fields:\n      code: string\n");
    std::fs::write(dir.join("scaffold.yaml"), &extra).unwrap();
    assert_eq!(scaffold(&["generate"], &dir).status.code(), Some(0));
    assert!(dir.join("src/resources/coupon.rs").is_file());

    std::fs::write(dir.join("scaffold.yaml"), &spec).unwrap();
    let out = scaffold(&["generate", "--allow-destructive"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!dir.join("src/resources/coupon.rs").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("scaffold.yaml")).unwrap(),
        spec
    );
    let names = migrations(&dir);
    let drop = std::fs::read_to_string(dir.join("migrations").join(&names[2])).unwrap();
    assert!(drop.contains("DROP TABLE \"coupons\";"), "{drop}");
}

#[test]
fn hooks_and_custom_routes_are_written_once_and_kept() {
    let (_tmp, dir) = new_shop();
    let hooks = dir.join("src/hooks/order.rs");
    let custom = dir.join("src/custom.rs");
    assert!(hooks.is_file() && custom.is_file());
    std::fs::write(&hooks, "// mine\n").unwrap();
    std::fs::write(&custom, "// mine too\n").unwrap();
    // A user file that is edited is not drift, and survives regeneration.
    let check = scaffold(&["generate", "--check"], &dir);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));
    edit_spec(
        &dir,
        "name: { type: string, max_length: 100 }",
        "name: { type: string, max_length: 120 }",
    );
    assert_eq!(scaffold(&["generate"], &dir).status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&hooks).unwrap(), "// mine\n");
    assert_eq!(std::fs::read_to_string(&custom).unwrap(), "// mine too\n");
    // A deleted hook file comes back; a new resource gets its own.
    std::fs::remove_file(&hooks).unwrap();
    let spec = std::fs::read_to_string(dir.join("scaffold.yaml")).unwrap();
    std::fs::write(
        dir.join("scaffold.yaml"),
        format!("{spec}  coupon:\n    fields:\n      code: string\n"),
    )
    .unwrap();
    assert_eq!(scaffold(&["generate"], &dir).status.code(), Some(0));
    assert!(hooks.is_file());
    assert!(dir.join("src/hooks/coupon.rs").is_file());
}

#[test]
fn generate_outside_a_service_fails_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("scaffold.yaml"), scaffold::STARTER_SPEC).unwrap();
    let out = scaffold(&["generate"], tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("scaffold.lock"),
        "{}",
        text(&out.stderr)
    );
}

/// A service generated before the lock recorded structured columns has a
/// format 1 lock (`tests/locks/shop-format1.lock`, the lock that version
/// wrote for the starter spec of the time, `shop-format1.yaml`). Regenerating reads it, finds the schema
/// unchanged and writes no migration; the lock is rewritten in the current
/// format.
#[test]
fn a_format_1_lock_regenerates_without_a_migration() {
    // The starter spec as it was when that lock was written.
    let tmp = tempfile::tempdir().unwrap();
    let spec = format!(
        "{}/tests/locks/shop-format1.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = scaffold(&["new", "svc", "--spec", &spec], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = tmp.path().join("svc");
    let old = include_str!("locks/shop-format1.lock");
    assert!(
        !old.contains("\"format\""),
        "the fixture is a format 1 lock"
    );
    std::fs::write(dir.join("scaffold.lock"), old).unwrap();
    let out = scaffold(&["generate"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(migrations(&dir), ["0001_initial.sql"]);
    let lock = std::fs::read_to_string(dir.join("scaffold.lock")).unwrap();
    assert!(lock.contains("\"format\": 2"), "{lock}");
    let check = scaffold(&["generate", "--check"], &dir);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));
}
