//! One snapshot per generated file of every spec in specs/, plus a manifest
//! of paths and owners. A snapshot proves the text did not change; the
//! end-to-end tests prove the text works.

fn spec(name: &str) -> String {
    std::fs::read_to_string(format!("{}/specs/{name}.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn snapshot_spec(name: &str) {
    let files = scaffold::compile(&spec(name)).unwrap_or_else(|d| panic!("{name}: {d:?}"));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(format!("../snapshots/{name}"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        let manifest: String = files
            .iter()
            .map(|f| format!("{:?} {}\n", f.owner, f.path))
            .collect();
        insta::assert_snapshot!("manifest", manifest);
        for f in &files {
            insta::assert_snapshot!(f.path.replace('/', "__"), &f.contents);
        }
    });
}

#[test]
fn shop() {
    snapshot_spec("shop");
}

#[test]
fn blog() {
    snapshot_spec("blog");
}

#[test]
fn catalog() {
    snapshot_spec("catalog");
}

#[test]
fn tracker() {
    snapshot_spec("tracker");
}

#[test]
fn crlf_and_lf_specs_generate_the_same_bytes() {
    let lf = spec("shop");
    let crlf = lf.replace('\n', "\r\n");
    assert_eq!(
        scaffold::compile(&lf).unwrap(),
        scaffold::compile(&crlf).unwrap()
    );
}

#[test]
fn every_example_spec_is_in_this_test() {
    let mut names: Vec<String> = std::fs::read_dir(format!("{}/specs", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["blog.yaml", "catalog.yaml", "shop.yaml", "tracker.yaml"]
    );
}
