//! Every invalid spec under tests/invalid/ is rejected, and its rendered
//! diagnostics match the snapshot in snapshots/diagnostics/.

#[test]
fn invalid_specs_render_every_problem() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/diagnostics");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::glob!("invalid/*.yaml", |path| {
            let source = std::fs::read_to_string(path).expect("fixture is readable");
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let diags = match scaffold::compile(&source) {
                Ok(_) => panic!("{name} should be rejected"),
                Err(d) => d,
            };
            assert!(!diags.is_empty());
            for d in &diags {
                assert!(
                    d.loc.line >= 1 && d.loc.col >= 1,
                    "{name}: every diagnostic has a location"
                );
                assert!(
                    d.help.is_some(),
                    "{name}: every diagnostic has a help line: {d:?}"
                );
            }
            insta::assert_snapshot!(scaffold::diag::render(&format!("invalid/{name}"), &diags));
        });
    });
}
