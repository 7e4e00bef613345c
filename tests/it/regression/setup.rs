//! Regression tests: see the module list in `mod.rs`.

use std::path::Path;

use crate::service::{Stage, VERSION, arch, sha256_hex, snapshot, stderr, tarball};
use crate::support::releases::{ReleaseServer, Served};
use crate::support::servers::free_port;
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

// ---- upgrade ----

/// A release binary that runs the agent built for the tests (so it reports this version), with
/// `tag` in a comment to tell two of them apart.
fn forwarding_binary(tag: &str) -> Vec<u8> {
    let real = assert_cmd::cargo::cargo_bin("datakit");
    format!("#!/bin/sh\n# {tag}\nexec '{}' \"$@\"\n", real.display()).into_bytes()
}

#[test]
fn upgrade_could_not_take_a_local_tarball() {
    let s = Stage::new();
    s.ok(&["install", "--no-service"]);
    let dir = tempfile::tempdir().unwrap();
    let name = format!("datakit-{VERSION}-linux-{}.tar.gz", arch());

    // No HTTP client is built for a local tarball: a proxy setting that cannot be used (on a
    // host without network, nobody fixes it) does not stand in the way.
    s.set_conf("http_proxy = \"\"", "http_proxy = \"::no proxy::\"");

    // --file PATH --sha256 HEX
    let first = forwarding_binary("first");
    let tgz = tarball(&first, None);
    let path = dir.path().join(&name);
    std::fs::write(&path, &tgz).unwrap();
    let out = s.run(&[
        "upgrade",
        "--file",
        path.to_str().unwrap(),
        "--sha256",
        &sha256_hex(&tgz),
    ]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("verified"), "{}", stdout(&out));
    assert_eq!(std::fs::read(s.wd().join("datakit")).unwrap(), first);

    // --url file:///… with SHA256SUMS next to the tarball.
    let second = forwarding_binary("second");
    let tgz = tarball(&second, Some("datakit"));
    std::fs::write(&path, &tgz).unwrap();
    std::fs::write(
        dir.path().join("SHA256SUMS"),
        format!("{}  {name}\n", sha256_hex(&tgz)),
    )
    .unwrap();
    let url = format!("file://{}", path.display());
    let out = s.run(&["upgrade", "--url", &url]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(std::fs::read(s.wd().join("datakit")).unwrap(), second);
    assert_eq!(std::fs::read(s.wd().join("datakit.bak")).unwrap(), first);

    // A wrong checksum for a local file is refused like a download's.
    let before = snapshot(&s.root());
    let out = s.run(&[
        "upgrade",
        "--file",
        path.to_str().unwrap(),
        "--sha256",
        &"0".repeat(64),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("checksum mismatch"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&s.root()), before);
}

#[test]
fn upgrade_first_error_blamed_the_checksum_when_the_tarball_could_not_be_fetched() {
    let s = Stage::new();
    s.ok(&["install", "--no-service"]);
    let name = format!("datakit-9.9.9-linux-{}.tar.gz", arch());

    // Nothing listens there: the server is the problem, not a missing --sha256.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/rel/{name}");
    let out = s.run(&["upgrade", "--url", &url]);
    assert!(!out.status.success());
    let err = stderr(&out);
    let first = err.lines().next().unwrap_or("");
    assert!(first.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(first.contains("cannot be reached"), "{err}");
    assert!(!err.contains("cannot verify"), "{err}");
    assert!(!err.contains("pass --sha256"), "{err}");
    assert!(
        err.contains("--file PATH"),
        "the way without network is named: {err}"
    );

    // A local tarball with no SHA256SUMS beside it: that file is named, and --sha256 is the fix.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(&name);
    std::fs::write(&path, tarball(b"x", None)).unwrap();
    let out = s.run(&["upgrade", "--url", &format!("file://{}", path.display())]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&dir.path().join("SHA256SUMS").display().to_string()),
        "{err}"
    );
    assert!(err.contains("--sha256"), "{err}");
    assert!(!err.contains("only http://"), "{err}");

    // A local tarball that is not there.
    let missing = dir.path().join("nope.tar.gz");
    let out = s.run(&[
        "upgrade",
        "--file",
        missing.to_str().unwrap(),
        "--sha256",
        &"0".repeat(64),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(!err.contains("checksum"), "{err}");
}

#[test]
fn upgrade_reported_this_binary_version_as_the_installed_one_and_hid_a_mismatch() {
    let server = ReleaseServer::start();
    let s = Stage::new();
    s.ok(&["install", "--no-service"]);
    // The installed binary is an older release than the one running the command.
    std::fs::write(
        s.wd().join("datakit"),
        "#!/bin/sh\n[ \"$1\" = --version ] && echo 'datakit 0.0.1' && exit 0\nexit 1\n",
    )
    .unwrap();
    // A tarball named 9.9.9 whose binary reports this build's version.
    let name = format!("datakit-9.9.9-linux-{}.tar.gz", arch());
    let tgz = tarball(&forwarding_binary("mislabelled"), None);
    server.put(&format!("rel/{name}"), Served::Full(tgz.clone()));
    server.put(
        "rel/SHA256SUMS",
        Served::Full(format!("{}  {name}\n", sha256_hex(&tgz)).into_bytes()),
    );
    let out = s.run(&["upgrade", "--url", &server.url(&format!("rel/{name}"))]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains(&format!("0.0.1 -> {VERSION}")), "{text}");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(&format!("named 9.9.9, but its binary reports {VERSION}")),
        "{text}"
    );
}

// ---- the test suite on a fresh Debian machine ----

fn tests_run() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/run")).unwrap()
}

/// The script's lines without comments.
fn code_lines(script: &str) -> Vec<&str> {
    script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn tests_run_installed_python_packages_with_a_pip_debian_refuses() {
    let script = tests_run();
    let pips: Vec<&str> = code_lines(&script)
        .into_iter()
        .filter(|l| l.contains("pip install") || l.contains("pip3 install"))
        .collect();
    assert!(!pips.is_empty(), "tests/run installs the Python clients");
    for l in pips {
        assert!(
            l.contains("\"$venv/bin/python\" -m pip install"),
            "pip outside the virtual environment (refused by Debian's PEP 668 marker): {l}"
        );
    }
    assert!(script.contains("-m venv"), "tests/run creates the venv");
    assert!(
        script.contains("python3-venv"),
        "Debian's python3 needs python3-venv to create one"
    );
}

#[test]
fn tests_run_needed_an_npm_debian_does_not_have() {
    let script = tests_run();
    let code = code_lines(&script).join("\n");
    assert!(!code.contains("npm install --global"), "{code}");
    assert!(!code.contains("npm install -g"), "{code}");
    // npm comes from Debian when missing, and the linter goes into a private prefix, pinned.
    assert!(code.contains("npm:npm"), "npm is installed from Debian");
    assert!(
        code.contains("markdownlint-cli2@"),
        "the linter's version is pinned"
    );
    assert!(code.contains("npm install --prefix"), "{code}");
}

#[test]
fn tests_run_left_the_test_servers_enabled_and_listening() {
    let script = tests_run();
    let code = code_lines(&script).join("\n");
    // While apt-get installs, a policy-rc.d answering 101 keeps the packages' services from
    // starting; it is removed afterwards, and the services the new packages enabled are
    // disabled.
    assert!(code.contains("/usr/sbin/policy-rc.d"), "{code}");
    assert!(code.contains("exit 101"), "{code}");
    assert!(
        code.contains("trap"),
        "the guard is removed on exit: {code}"
    );
    assert!(code.contains("systemctl disable"), "{code}");
    let at = |what: &str| code.find(what).unwrap_or(usize::MAX);
    assert!(
        at("exit 101") < at("apt-get install"),
        "the guard is in place before apt-get installs"
    );
}
