//! Regression tests: see the module list in `mod.rs`.

use crate::service::{Stage, snapshot, stderr};
use crate::support::{datakit, stdout};

// ---- install ----

#[test]
fn install_left_a_half_tree_when_an_option_was_refused() {
    for (args, msg) in [
        (vec!["--global-tags", "env="], "has no value"),
        (vec!["--global-tags", "env=a,env=b"], "twice"),
        (
            vec!["--dataway", "openway.guance.com"],
            "invalid DataWay URL",
        ),
        (vec!["--enable-inputs", "dkk"], "did you mean `dk`"),
        (vec!["--token", "tkn_1"], "--token needs a DataWay URL"),
    ] {
        let s = Stage::new();
        let mut full = vec!["install", "--no-service"];
        full.extend(&args);
        let out = s.run(&full);
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = stderr(&out);
        assert!(err.contains(msg), "{args:?}: {err}");
        assert!(err.contains("nothing was written"), "{args:?}: {err}");
        let left: Vec<_> = snapshot(&s.root()).into_keys().collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
}

#[test]
fn install_help_showed_empty_env_values_and_flags_below() {
    let out = datakit()
        .env_remove("DK_DEF_INPUTS")
        .env_remove("DK_GLOBAL_HOST_TAGS")
        .args(["install", "--help"])
        .output()
        .unwrap();
    let help = stdout(&out);
    assert!(!help.contains("DK_DEF_INPUTS=]"), "{help}");
    assert!(!help.contains("DK_GLOBAL_HOST_TAGS=]"), "{help}");
    assert!(!help.contains("flags below"), "{help}");
    // Each variable is named at its flag, and the text after the options says which flag it is.
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for (var, flag) in [
        ("DK_DATAWAY", "--dataway"),
        ("DK_DEF_INPUTS", "--enable-inputs"),
        ("DK_GLOBAL_HOST_TAGS", "--global-tags"),
    ] {
        assert!(flat.contains(&format!("[env: {var}]")), "{var}: {help}");
        assert!(flat.contains(&format!("{var} as {flag}")), "{var}: {help}");
    }
}

#[test]
fn install_without_dataway_did_not_say_where_data_goes() {
    let s = Stage::new();
    let out = s.ok(&["install", "--no-service"]);
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("no DataWay URL: data stays on this host"),
        "{out}"
    );
    assert!(flat.contains("/usr/local/datakit/data/out"), "{out}");
    assert!(flat.contains("--dataway"), "{out}");
    // With a DataWay URL there is no such note.
    let out = s.ok(&[
        "install",
        "--no-service",
        "--dataway",
        "https://openway.guance.com?token=tkn_1",
    ]);
    assert!(!out.contains("stays on this host"), "{out}");
}
