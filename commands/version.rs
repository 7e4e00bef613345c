//! `datakit version`: what this binary is.

use std::process::ExitCode;

use crate::prelude::Globals;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn exec(args: Args, _g: &Globals) -> anyhow::Result<ExitCode> {
    use datakit::app::build_info as b;
    if args.json {
        let v = serde_json::json!({
            "version": b::VERSION,
            "commit": b::COMMIT,
            "build_date": b::BUILD_DATE,
            "rustc": b::RUSTC,
            "target": b::TARGET,
            "os_arch": b::os_arch(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("datakit {}", b::LONG_VERSION);
    }
    Ok(ExitCode::SUCCESS)
}
