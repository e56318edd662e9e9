//! The command line as users and CI see it: exit codes, help text, and that an
//! invalid spec or a non-empty directory leaves the disk untouched.

use std::path::Path;
use std::process::{Command, Output};

fn scaffold(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scaffold"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("scaffold runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn spec_path(name: &str) -> String {
    format!("{}/specs/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn help_is_stable() {
    let tmp = tempfile::tempdir().unwrap();
    let out = scaffold(&["--help"], tmp.path());
    assert_eq!(out.status.code(), Some(0));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/cli");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_snapshot!("help", String::from_utf8_lossy(&out.stdout));
        let new_help = scaffold(&["new", "--help"], tmp.path());
        insta::assert_snapshot!("new_help", String::from_utf8_lossy(&new_help.stdout));
    });
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = scaffold(&["frobnicate"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    let out = scaffold(&["new"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn validate_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    for spec in ["shop.yaml", "blog.yaml", "catalog.yaml", "tracker.yaml"] {
        let out = scaffold(&["validate", &spec_path(spec)], tmp.path());
        assert_eq!(out.status.code(), Some(0), "{spec}: {}", stderr(&out));
    }
    let bad = format!(
        "{}/tests/invalid/unknown_type.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = scaffold(&["validate", &bad], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown field type `strng`"), "{err}");
    assert!(err.contains("unknown_type.yaml:6:22"), "{err}");
    assert!(err.contains("did you mean `string`?"), "{err}");
    // A file that does not exist is a failure, not an invalid spec.
    let out = scaffold(&["validate", "missing.yaml"], tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read spec `missing.yaml`"));
}

#[test]
fn new_with_starter_spec_writes_the_spec_and_a_service() {
    let tmp = tempfile::tempdir().unwrap();
    let out = scaffold(&["new", "shop"], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dir = tmp.path().join("shop");
    let spec = std::fs::read_to_string(dir.join("scaffold.yaml")).unwrap();
    assert_eq!(spec, scaffold::STARTER_SPEC);
    assert!(dir.join("Cargo.toml").is_file());
    assert!(dir.join("src/main.rs").is_file());
    assert!(dir.join("migrations/0001_initial.sql").is_file());
    // No staging directory is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, vec!["shop".to_string()]);
}

#[test]
fn new_refuses_a_non_empty_directory_and_keeps_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("taken");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    let out = scaffold(&["new", "taken"], tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("already exists and is not empty"),
        "{}",
        stderr(&out)
    );
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        std::fs::read_to_string(dir.join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn new_into_an_empty_directory_works() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    let out = scaffold(
        &["new", "empty", "--spec", &spec_path("blog.yaml")],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(tmp.path().join("empty/src/resources/comment.rs").is_file());
}

#[test]
fn invalid_spec_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = format!(
        "{}/tests/invalid/wrong_shapes.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = scaffold(&["new", "svc", "--spec", &bad], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("aborting due to 8 previous errors"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing is written"
    );
}

#[test]
fn output_is_identical_across_directories_and_time_zones() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let spec = spec_path("catalog.yaml");
    let run = |cwd: &Path, tz: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_scaffold"))
            .args(["new", "out", "--spec", &spec])
            .current_dir(cwd)
            .env("TZ", tz)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    run(a.path(), "UTC");
    run(b.path(), "Pacific/Kiritimati");
    let files = |root: &Path| {
        let mut v: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(root)
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                (rel, std::fs::read(e.path()).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let fa = files(&a.path().join("out"));
    let fb = files(&b.path().join("out"));
    assert!(fa.len() > 10);
    assert_eq!(fa, fb);
    // No absolute path of either run leaks into the output.
    for (name, bytes) in &fa {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains(&a.path().to_string_lossy().into_owned()),
            "{name} leaks a path"
        );
    }
}
