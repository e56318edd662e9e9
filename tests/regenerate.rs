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

/// The text of every migration after the first, in order.
fn later_migrations(dir: &Path) -> Vec<(String, String)> {
    migrations(dir)
        .into_iter()
        .skip(1)
        .map(|name| {
            let text = std::fs::read_to_string(dir.join("migrations").join(&name)).unwrap();
            (name, text)
        })
        .collect()
}

#[test]
fn a_spec_change_is_drift_until_regenerated_and_becomes_migrations() {
    let (_tmp, dir) = new_shop();
    let initial = std::fs::read_to_string(dir.join("migrations/0001_initial.sql")).unwrap();
    // Add a field with a default, an index and a resource.
    edit_spec(
        &dir,
        "      note: { type: text, required: false }",
        "      note: { type: text, required: false }\n      gift: { type: bool, default: false }",
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
    assert_eq!(
        std::fs::read_to_string(dir.join("migrations/0001_initial.sql")).unwrap(),
        initial,
        "an applied migration is never rewritten"
    );
    let later = later_migrations(&dir);
    let names: Vec<&str> = later.iter().map(|(n, _)| n.as_str()).collect();
    // The new table and column in one transaction, then each index on the
    // existing table in a file of its own, outside a transaction.
    assert_eq!(
        names,
        [
            "0002_add_orders_gift_create_coupons.sql",
            "0003_index_orders_total_cents_idx.sql",
            "0004_index_orders_note_idx.sql",
            "0005_index_orders_user_id_note_idx.sql",
        ],
        "{later:#?}"
    );
    let main = &later[0].1;
    for statement in [
        "ALTER TABLE \"orders\" ADD COLUMN \"gift\" boolean NOT NULL DEFAULT false;",
        "CREATE TABLE \"coupons\" (",
        "CONSTRAINT \"coupons_code_key\" UNIQUE (\"code\")",
    ] {
        assert!(main.contains(statement), "{statement} in:\n{main}");
    }
    assert!(!main.starts_with("-- no-transaction"), "{main}");
    assert!(
        !main.contains("CREATE TABLE \"users\""),
        "only the difference:\n{main}"
    );
    for ((_, file), statement) in later[1..].iter().zip([
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"orders_total_cents_idx\" ON \"orders\" (\"total_cents\");",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"orders_note_idx\" ON \"orders\" (\"note\");",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"orders_user_id_note_idx\" ON \"orders\" (\"user_id\", \"note\");",
    ]) {
        // sqlx runs a file outside a transaction only when it starts with
        // the marker; PostgreSQL runs CONCURRENTLY only alone in its query.
        assert!(file.starts_with("-- no-transaction\n"), "{file}");
        assert!(file.contains(statement), "{statement} in:\n{file}");
        assert_eq!(
            file.lines()
                .filter(|l| !l.starts_with("--") && l.ends_with(';'))
                .count(),
            1,
            "one statement:\n{file}"
        );
    }

    let check = scaffold(&["generate", "--check"], &dir);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));
}

/// A foreign key, a NOT NULL and a unique constraint added to a table with
/// rows, and a new enum value used as the default: nothing scans a table
/// while holding a lock that blocks writes, and the value is committed
/// before it is used.
#[test]
fn constraints_on_existing_tables_are_added_not_valid_and_validated_apart() {
    let (_tmp, dir) = new_shop();
    edit_spec(
        &dir,
        "    belongs_to: user # orders",
        "    belongs_to: [user, { resource: coupon, on_delete: set_null }] # orders",
    );
    edit_spec(
        &dir,
        "      note: { type: text, required: false }",
        "      note: { type: text, default: \"-\" }",
    );
    edit_spec(
        &dir,
        "values: [pending, paid, shipped], default: pending",
        "values: [pending, paid, shipped, held], default: held",
    );
    edit_spec(
        &dir,
        "      name: { type: string, max_length: 100 }",
        "      name: { type: string, max_length: 100, unique: true }",
    );
    let spec = std::fs::read_to_string(dir.join("scaffold.yaml")).unwrap();
    std::fs::write(
        dir.join("scaffold.yaml"),
        format!("{spec}  coupon:\n    fields:\n      code: {{ type: string, unique: true }}\n"),
    )
    .unwrap();
    // `note` becomes required, which the previous version's NULLs break
    // (see `renames_and_narrowing_changes_are_destructive`).
    let out = scaffold(&["generate", "--allow-destructive"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let later = later_migrations(&dir);
    let position = |statement: &str| {
        let found: Vec<usize> = later
            .iter()
            .enumerate()
            .filter(|(_, (_, f))| f.contains(statement))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(found.len(), 1, "`{statement}` in one file: {later:#?}");
        found[0]
    };
    let add_value = position("ALTER TYPE \"order_status\" ADD VALUE 'held';");
    let default = position("ALTER TABLE \"orders\" ALTER COLUMN \"status\" SET DEFAULT 'held';");
    assert!(add_value < default, "the value is committed before use");
    let fk = position(
        "ALTER TABLE \"orders\" ADD CONSTRAINT \"orders_coupon_id_fkey\" FOREIGN KEY (\"coupon_id\") REFERENCES \"coupons\" (\"id\") ON DELETE SET NULL NOT VALID;",
    );
    let check = position(
        "ALTER TABLE \"orders\" ADD CONSTRAINT \"orders_note_not_null\" CHECK (\"note\" IS NOT NULL) NOT VALID;",
    );
    assert_eq!(fk, default, "the quick changes share a transaction");
    assert_eq!(check, default);
    let validate_fk =
        position("ALTER TABLE \"orders\" VALIDATE CONSTRAINT \"orders_coupon_id_fkey\";");
    let validate_check =
        position("ALTER TABLE \"orders\" VALIDATE CONSTRAINT \"orders_note_not_null\";");
    assert!(validate_fk > fk, "validated in a later transaction");
    assert_eq!(validate_check, validate_fk);
    let unique_index = position(
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"users_name_key\" ON \"users\" (\"name\");",
    );
    assert!(later[unique_index].1.starts_with("-- no-transaction\n"));
    let set_not_null = position("ALTER TABLE \"orders\" ALTER COLUMN \"note\" SET NOT NULL;");
    let drop_check = position("ALTER TABLE \"orders\" DROP CONSTRAINT \"orders_note_not_null\";");
    let attach = position(
        "ALTER TABLE \"users\" ADD CONSTRAINT \"users_name_key\" UNIQUE USING INDEX \"users_name_key\";",
    );
    assert!(set_not_null > validate_check && drop_check == set_not_null);
    assert!(attach > unique_index);
    // The new table's own constraints are plain: it has no rows.
    let create = position("CREATE TABLE \"coupons\" (");
    assert!(
        later[create]
            .1
            .contains("CONSTRAINT \"coupons_code_key\" UNIQUE (\"code\")")
    );
    assert!(!later[create].1.contains("\"coupons_code_key\" NOT VALID"));
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
    // The wider bound: the check added NOT VALID, then validated.
    assert_eq!(migrations(&dir).len(), 3, "{:?}", migrations(&dir));
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

/// Asserts that `generate` refuses the spec with a diagnostic pointing at
/// the line holding `at`, with a help naming the expand/contract path and
/// the flag, exit code 2, and writes nothing.
fn refused(dir: &Path, at: &str, message: &str) {
    let lock = std::fs::read_to_string(dir.join("scaffold.lock")).unwrap();
    let out = scaffold(&["generate"], dir);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains(message), "{message} in:\n{err}");
    let spec = std::fs::read_to_string(dir.join("scaffold.yaml")).unwrap();
    let line = spec.lines().position(|l| l.contains(at)).unwrap() + 1;
    assert!(
        err.contains(&format!("scaffold.yaml:{line}:7")),
        "points at the field: {err}"
    );
    assert!(err.contains("help: expand/contract"), "{err}");
    assert!(err.contains("`--allow-destructive`"), "{err}");
    assert_eq!(migrations(dir), ["0001_initial.sql"], "nothing written");
    assert_eq!(
        std::fs::read_to_string(dir.join("scaffold.lock")).unwrap(),
        lock
    );
}

/// A rename, a narrowing change or a field made required breaks the
/// replicas still running the previous version during a rolling deploy, or
/// loses data: refused with
/// the expand/contract path, allowed with `--allow-destructive`.
#[test]
fn renames_and_narrowing_changes_are_destructive() {
    let (_tmp, dir) = new_shop();
    let original = std::fs::read_to_string(dir.join("scaffold.yaml")).unwrap();

    edit_spec(
        &dir,
        "      name: { type: string, max_length: 100 }",
        "      full_name: { type: string, max_length: 100, renamed_from: name }",
    );
    refused(
        &dir,
        "full_name:",
        "renaming the column `name` of `users` to `full_name` breaks replicas still running the previous version",
    );
    std::fs::write(dir.join("scaffold.yaml"), &original).unwrap();

    // bigint → integer.
    edit_spec(
        &dir,
        "      total_cents: { type: i64, min: 0 }",
        "      total_cents: { type: i32, min: 0 }",
    );
    refused(
        &dir,
        "total_cents:",
        "the column `total_cents` of `orders` narrows from bigint to integer",
    );
    std::fs::write(dir.join("scaffold.yaml"), &original).unwrap();

    // An optional field made required.
    edit_spec(
        &dir,
        "      note: { type: text, required: false }",
        "      note: { type: text, default: \"-\" }",
    );
    refused(
        &dir,
        "note: { type: text, default",
        "the column `note` of `orders` becomes NOT NULL: replicas still running the previous version write NULL",
    );
    std::fs::write(dir.join("scaffold.yaml"), &original).unwrap();

    // A shorter max_length than before.
    edit_spec(
        &dir,
        "      name: { type: string, max_length: 100 }",
        "      name: { type: string, max_length: 50 }",
    );
    refused(
        &dir,
        "name: { type: string, max_length: 50 }",
        "the constraint `users_name_max_length` of `users` tightens from `char_length(\"name\") <= 100` to `char_length(\"name\") <= 50`",
    );

    // Each is written with the flag.
    edit_spec(
        &dir,
        "      name: { type: string, max_length: 50 }",
        "      full_name: { type: string, max_length: 50, renamed_from: name }",
    );
    edit_spec(
        &dir,
        "      total_cents: { type: i64, min: 0 }",
        "      total_cents: { type: i32, min: 0 }",
    );
    let out = scaffold(&["generate", "--allow-destructive"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let all: String = later_migrations(&dir).into_iter().map(|(_, t)| t).collect();
    for statement in [
        "ALTER TABLE \"users\" RENAME COLUMN \"name\" TO \"full_name\";",
        "ALTER TABLE \"orders\" ALTER COLUMN \"total_cents\" TYPE integer USING \"total_cents\"::integer;",
        "ALTER TABLE \"users\" ADD CONSTRAINT \"users_full_name_max_length\" CHECK (char_length(\"full_name\") <= 50) NOT VALID;",
        "ALTER TABLE \"users\" VALIDATE CONSTRAINT \"users_full_name_max_length\";",
    ] {
        assert!(all.contains(statement), "{statement} in:\n{all}");
    }
}

/// Widening keeps every value: no flag needed.
#[test]
fn widening_changes_need_no_flag() {
    let (_tmp, dir) = new_shop();
    edit_spec(
        &dir,
        "      name: { type: string, max_length: 100 }",
        "      name: { type: string, max_length: 200 }",
    );
    edit_spec(
        &dir,
        "      total_cents: { type: i64, min: 0 }",
        "      total_cents: { type: decimal, min: 0 }",
    );
    let out = scaffold(&["generate"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let all: String = later_migrations(&dir).into_iter().map(|(_, t)| t).collect();
    assert!(
        all.contains("ALTER TABLE \"orders\" ALTER COLUMN \"total_cents\" TYPE numeric USING \"total_cents\"::numeric;"),
        "{all}"
    );
}

/// A `contains` filter added to an existing list: the next migration creates
/// `pg_trgm` (in its transaction) before building the column's trigram index
/// concurrently, in a file of its own.
#[test]
fn a_contains_filter_brings_pg_trgm_then_its_index() {
    let (_tmp, dir) = new_shop();
    edit_spec(
        &dir,
        "        status: [eq, in]",
        "        status: [eq, in]\n        note: [contains]",
    );
    let out = scaffold(&["generate"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let later = later_migrations(&dir);
    let names: Vec<&str> = later.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["0002_pg_trgm.sql", "0003_index_orders_note_trgm_idx.sql"],
        "{later:#?}"
    );
    assert!(
        later[0]
            .1
            .contains("CREATE EXTENSION IF NOT EXISTS pg_trgm;"),
        "{}",
        later[0].1
    );
    let index = &later[1].1;
    assert!(index.starts_with("-- no-transaction\n"), "{index}");
    assert!(
        index.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"orders_note_trgm_idx\" ON \"orders\" USING gin (\"note\" gin_trgm_ops);"),
        "{index}"
    );
    // The applied first migration is left as it was.
    let initial = std::fs::read_to_string(dir.join("migrations/0001_initial.sql")).unwrap();
    assert!(
        !initial.contains("pg_trgm"),
        "applied migrations stay as they were"
    );
}
