//! `datakit check-config`: every diagnostic with its exact position.

use crate::support::{Workdir, stdout};

#[test]
fn missing_main_config_is_reported_and_defaults_apply() {
    let w = Workdir::new();
    let out = w.cmd(&["check-config"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("main config not found: built-in defaults apply"),
        "{text}"
    );
    assert!(text.contains("missing"), "{text}");
}
