//! What this binary is: version, commit, build date, compiler (recorded by `build.rs`).

/// The agent version (Cargo package version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Short commit hash the binary was built from, or `unknown`.
pub const COMMIT: &str = env!("DATAKIT_BUILD_COMMIT");
/// UTC build date (the commit date unless pinned by `SOURCE_DATE_EPOCH`/`DATAKIT_BUILD_DATE`).
pub const BUILD_DATE: &str = env!("DATAKIT_BUILD_DATE");
/// `rustc --version` of the compiler that built the binary.
pub const RUSTC: &str = env!("DATAKIT_RUSTC_VERSION");
/// Target triple.
pub const TARGET: &str = env!("DATAKIT_TARGET");

/// What `datakit --version` prints after the name.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ncommit:     ",
    env!("DATAKIT_BUILD_COMMIT"),
    "\nbuild date: ",
    env!("DATAKIT_BUILD_DATE"),
    "\nrustc:      ",
    env!("DATAKIT_RUSTC_VERSION"),
    "\ntarget:     ",
    env!("DATAKIT_TARGET"),
);

/// `os/arch` in the original agent's spelling (`linux/amd64`).
pub fn os_arch() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}/{}", std::env::consts::OS, arch)
}
