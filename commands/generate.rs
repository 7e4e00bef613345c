//! Hidden `datakit __generate DIR`: writes every generated file (shell completions, man pages,
//! the sample datakit.conf and one sample per input) under DIR with the repository's layout. The generated-files test
//! compares this output with the checked-in copies.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap_complete::Shell;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output directory (the repository root to update the checked-in copies)
    pub dir: PathBuf,
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// `cli` is the whole command-line definition.
pub fn exec(args: Args, cli: clap::Command) -> anyhow::Result<ExitCode> {
    let dir = &args.dir;
    // The generated files must not depend on the commit or the build date (the sync test runs
    // in any checkout): use the plain version.
    let mut cmd = cli.long_version(datakit::app::build_info::VERSION);
    cmd.build();

    for (shell, file) in [
        (Shell::Bash, "datakit.bash"),
        (Shell::Zsh, "_datakit"),
        (Shell::Fish, "datakit.fish"),
        (Shell::Elvish, "datakit.elv"),
        (Shell::PowerShell, "_datakit.ps1"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "datakit", &mut buf);
        write(&dir.join("completions").join(file), &buf)?;
    }

    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    write(&dir.join("man/datakit.1"), &buf)?;
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let name = format!("datakit-{}", sub.get_name());
        let page = sub
            .clone()
            .name(name.clone())
            .version(datakit::app::build_info::VERSION);
        let mut buf = Vec::new();
        clap_mangen::Man::new(page).render(&mut buf)?;
        write(&dir.join("man").join(format!("{name}.1")), &buf)?;
    }

    write(
        &dir.join("conf.d/datakit.conf"),
        datakit::app::config::main_conf_sample().as_bytes(),
    )?;
    // One sample per input, from its InputSpec and options (test-only inputs excluded).
    for e in datakit::app::inputs::registry()
        .iter()
        .filter(|e| e.spec.catalog != "testing")
    {
        let sample = datakit::app::inputs::sample(e.spec.name)
            .with_context(|| format!("rendering the sample of `{}`", e.spec.name))?;
        write(
            &dir.join("conf.d")
                .join(e.spec.catalog)
                .join(format!("{}.conf", e.spec.name)),
            sample.as_bytes(),
        )?;
    }
    datakit::app::doc::export(&dir.join("docs"), |_, _| {})?;
    Ok(ExitCode::SUCCESS)
}
