//! Records what `datakit version` prints: the commit, the build date and the compiler.
//! Every value can be pinned from the environment for reproducible packaging builds.

use std::process::Command;

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd)
        .args(args)
        .env("TZ", "UTC")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=DATAKIT_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=DATAKIT_BUILD_DATE");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    for p in [".git/HEAD", ".git/packed-refs"] {
        if std::path::Path::new(p).exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    if let Some(head) = std::fs::read_to_string(".git/HEAD").ok()
        && let Some(r) = head.trim().strip_prefix("ref: ")
    {
        let path = format!(".git/{r}");
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }

    let commit = std::env::var("DATAKIT_BUILD_COMMIT")
        .ok()
        .or_else(|| run("git", &["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    // The build date is the commit date (reproducible), unless pinned.
    let date = std::env::var("DATAKIT_BUILD_DATE")
        .ok()
        .or_else(|| {
            let epoch = std::env::var("SOURCE_DATE_EPOCH").ok()?;
            run(
                "date",
                &["-u", "-d", &format!("@{epoch}"), "+%Y-%m-%dT%H:%M:%SZ"],
            )
        })
        .or_else(|| {
            run(
                "git",
                &[
                    "log",
                    "-1",
                    "--format=%cd",
                    "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
                ],
            )
        })
        .unwrap_or_else(|| "unknown".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = run(&rustc, &["--version"]).unwrap_or_else(|| "rustc (unknown)".into());

    println!("cargo:rustc-env=DATAKIT_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=DATAKIT_BUILD_DATE={date}");
    println!("cargo:rustc-env=DATAKIT_RUSTC_VERSION={rustc_version}");
    println!(
        "cargo:rustc-env=DATAKIT_TARGET={}",
        std::env::var("TARGET").unwrap_or_default()
    );
}
