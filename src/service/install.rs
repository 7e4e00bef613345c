//! `datakit install`: lays out the workdir, writes the configs, copies the binary into place,
//! links it into `PATH`, installs and enables the service. Every file is written only when its
//! content differs, so a second run with the same options changes nothing.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::layout::Layout;
use super::systemd::Manager;
use super::unit::{self, UnitOptions};
use super::{Change, ServiceError, create_dir_all, fs_err, remove_file, write_if_changed};
use crate::config::MainConfig;
use crate::config::sample;
use crate::workdir::Workdir;

/// What `datakit install` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// `--dataway`: DataWay URLs (replace the configured ones).
    pub dataway: Vec<String>,
    /// `--token`: the workspace token, added to DataWay URLs that have none.
    pub token: Option<String>,
    /// `--enable-inputs`: replaces `default_enabled_inputs` (`-name` disables one).
    pub enable_inputs: Option<Vec<String>>,
    /// `--global-tags`: set in `[global_host_tags]`.
    pub global_tags: Vec<(String, String)>,
    /// `--merge-defaults`: rewrite an existing datakit.conf with every current key.
    pub merge_defaults: bool,
    /// Install and enable the service (`--no-service` clears it).
    pub service: bool,
    /// The binary to copy into the workdir (normally the running one).
    pub binary: PathBuf,
}

impl InstallOptions {
    fn changes_config(&self) -> bool {
        !self.dataway.is_empty()
            || self.token.is_some()
            || self.enable_inputs.is_some()
            || !self.global_tags.is_empty()
    }
}

/// What an install, uninstall or service action did, file by file.
#[derive(Debug, Default)]
pub struct Report {
    /// Paths on this machine and what happened to them.
    pub files: Vec<(PathBuf, Change)>,
    /// What the user should know (skipped steps, backups).
    pub notes: Vec<String>,
    /// systemctl actions carried out.
    pub actions: Vec<String>,
}

impl Report {
    fn file(&mut self, path: PathBuf, change: Change) {
        self.files.push((path, change));
    }

    /// Whether anything on disk changed.
    pub fn changed(&self) -> bool {
        self.files.iter().any(|(_, c)| c.changed())
    }
}

/// Splits a comma-separated flag value, dropping empty items.
pub fn parse_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// `k=v,k2=v2` → pairs. Refused: an item without `=` or with an empty key or value (a tag
/// without a value is never sent), a key given twice, and a line break or a trailing backslash
/// (which line protocol cannot carry).
pub fn parse_tags(s: &str) -> Result<Vec<(String, String)>, ServiceError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for kv in parse_list(s) {
        let bad = |why: &str| {
            ServiceError::Refused(format!(
                "--global-tags: `{kv}` {why} (write KEY=VALUE,KEY2=VALUE2)"
            ))
        };
        let Some((k, v)) = kv.split_once('=') else {
            return Err(bad("is not `key=value`"));
        };
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() {
            return Err(bad("has no key"));
        }
        if v.is_empty() {
            return Err(bad("has no value: a tag without a value is never sent"));
        }
        if [k, v]
            .iter()
            .any(|t| t.chars().any(char::is_control) || t.ends_with('\\'))
        {
            return Err(bad(
                "holds a control character or ends with a backslash, which a point cannot carry",
            ));
        }
        if out.iter().any(|(seen, _)| seen == k) {
            return Err(bad(&format!("sets the tag `{k}` twice")));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// `url` with `token=<token>` in its query. A URL that already has a different token is refused.
pub fn with_token(url: &str, token: &str) -> Result<String, ServiceError> {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let query = base.split_once('?').map(|(_, q)| q).unwrap_or("");
    let existing = query.split('&').find_map(|kv| kv.strip_prefix("token="));
    let mut out = match existing {
        Some(t) if t == token => base.to_string(),
        Some(_) => {
            return Err(ServiceError::Refused(format!(
                "the DataWay URL `{url}` already has another token; pass the token in the URL or with --token, not both"
            )));
        }
        None if base.contains('?') => {
            let sep = if base.ends_with('?') || base.ends_with('&') {
                ""
            } else {
                "&"
            };
            format!("{base}{sep}token={token}")
        }
        None => format!("{base}?token={token}"),
    };
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    Ok(out)
}

/// Applies the install flags to `cfg`.
pub fn apply_flags(cfg: &mut MainConfig, o: &InstallOptions) -> Result<(), ServiceError> {
    if !o.dataway.is_empty() {
        cfg.dataway.urls = o.dataway.clone();
    }
    if let Some(token) = &o.token {
        let token = token.trim();
        if token.is_empty() || token.contains(['&', '#', '?', ' ', '/']) {
            return Err(ServiceError::Refused(format!(
                "--token `{token}` is not a workspace token (expected e.g. tkn_...)"
            )));
        }
        if cfg.dataway.urls.is_empty() {
            return Err(ServiceError::Refused(
                "--token needs a DataWay URL: pass --dataway https://openway.guance.com (or set [dataway] urls)".into(),
            ));
        }
        cfg.dataway.urls = cfg
            .dataway
            .urls
            .iter()
            .map(|u| with_token(u, token))
            .collect::<Result<_, _>>()?;
    }
    for url in &cfg.dataway.urls {
        if let Err(e) = crate::config::validate::check_url(url) {
            return Err(ServiceError::Refused(format!(
                "invalid DataWay URL `{url}`: {e} (write it as https://openway.guance.com?token=tkn_...)"
            )));
        }
    }
    if let Some(names) = &o.enable_inputs {
        let known: Vec<&str> = crate::inputs::registry()
            .iter()
            .map(|e| e.spec.name)
            .collect();
        for n in names {
            let bare = n.strip_prefix('-').unwrap_or(n);
            if !bare.is_empty() && !known.contains(&bare) {
                let near = crate::config::decode::suggest(bare, known.iter().copied());
                let hint = near
                    .first()
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                return Err(ServiceError::Refused(format!(
                    "--enable-inputs: unknown input `{bare}`{hint}; known inputs: {}",
                    known.join(", ")
                )));
            }
        }
        cfg.default_enabled_inputs = names.clone();
    }
    for (k, v) in &o.global_tags {
        cfg.global_host_tags.insert(k.clone(), v.clone());
    }
    Ok(())
}

/// The comment lines above an installed datakit.conf.
const INSTALLED_INTRO: &str = "\
# DataKit main configuration: <workdir>/conf.d/datakit.conf
#
# Written by `datakit install`, which keeps this file as it is on later runs unless it is given
# settings (--dataway, --token, --enable-inputs, --global-tags) or --merge-defaults; it then
# rewrites it in this layout, keeping every value, and saves the previous file beside it.
# Values set here are overridden by the ENV_* variables named below, and those by
# command-line flags: flag > environment > this file > default.
# Strings may reference environment variables as $NAME or ${NAME}.
";

fn render_config(cfg: &MainConfig) -> Result<String, ServiceError> {
    sample::render_main_conf(cfg, INSTALLED_INTRO)
        .map_err(|e| ServiceError::Invalid(format!("cannot render datakit.conf: {e}")))
}

/// Reads the main config at `path` as written (no environment expansion); `None` if missing.
pub fn read_config(path: &Path) -> Result<Option<(String, MainConfig)>, ServiceError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fs_err(path)(e)),
    };
    let cfg: MainConfig = toml::from_str(&text).map_err(|e| ServiceError::BadConfig {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })?;
    Ok(Some((text, cfg)))
}

/// The main config the service will run with: the workdir's, or the defaults.
pub fn current_config(layout: &Layout) -> Result<MainConfig, ServiceError> {
    Ok(read_config(&layout.workdir_host().main_conf())?
        .map(|(_, c)| c)
        .unwrap_or_default())
}

/// Dotted paths of every key in `t`.
fn key_paths(t: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in t {
        let p = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(sub) => key_paths(sub, &p, out),
            _ => out.push(p),
        }
    }
}

/// Keys of `old` that a rewrite from `cfg` would not carry over.
fn dropped_keys(old: &str, cfg: &MainConfig) -> Vec<String> {
    let (Ok(old), Ok(new)) = (old.parse::<toml::Table>(), toml::Table::try_from(cfg)) else {
        return Vec::new();
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    key_paths(&old, "", &mut a);
    key_paths(&new, "", &mut b);
    a.retain(|k| !b.contains(k));
    a
}

/// What becomes of `conf.d/datakit.conf`, decided before anything is written.
struct MainPlan {
    path: PathBuf,
    /// The config the agent will run with.
    cfg: MainConfig,
    action: MainAction,
}

enum MainAction {
    /// No file yet: write this text.
    Create(String),
    /// The file stays as it is, on purpose (no settings given).
    Keep,
    /// Rewriting it would give the same text.
    Unchanged,
    /// Save the old text beside it, then write the new one.
    Rewrite { old_text: String, text: String },
}

/// Reads the existing datakit.conf, applies the flags and renders the result: every option is
/// checked here, before the first write.
fn plan_main_config(layout: &Layout, o: &InstallOptions) -> Result<MainPlan, ServiceError> {
    let path = layout.workdir_host().main_conf();
    let Some((old_text, mut cfg)) = read_config(&path)? else {
        let mut cfg = MainConfig::default();
        apply_flags(&mut cfg, o)?;
        let text = render_config(&cfg)?;
        return Ok(MainPlan {
            path,
            cfg,
            action: MainAction::Create(text),
        });
    };
    if !o.changes_config() && !o.merge_defaults {
        return Ok(MainPlan {
            path,
            cfg,
            action: MainAction::Keep,
        });
    }
    apply_flags(&mut cfg, o)?;
    let text = render_config(&cfg)?;
    let action = if text == old_text {
        MainAction::Unchanged
    } else {
        MainAction::Rewrite { old_text, text }
    };
    Ok(MainPlan { path, cfg, action })
}

/// Carries out the plan; the config the agent will run with.
fn write_main_config(plan: MainPlan, r: &mut Report) -> Result<MainConfig, ServiceError> {
    let MainPlan { path, cfg, action } = plan;
    let (old_text, text) = match action {
        MainAction::Create(text) => {
            let change = write_if_changed(&path, text.as_bytes(), config_mode(&cfg))?;
            r.file(path, change);
            return Ok(cfg);
        }
        MainAction::Keep => {
            r.file(path, Change::Kept);
            return Ok(cfg);
        }
        MainAction::Unchanged => {
            r.file(path, Change::Unchanged);
            return Ok(cfg);
        }
        MainAction::Rewrite { old_text, text } => (old_text, text),
    };
    let stamp = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%Y.%m.%d-%H.%M.%S")
        .to_string();
    let backup = path.with_file_name(format!("datakit.conf.old.{stamp}"));
    super::write_atomic(&backup, old_text.as_bytes(), 0o600)?;
    r.file(backup.clone(), Change::Created);
    r.notes.push(format!(
        "{} rewritten with every current key; the previous file is {}",
        path.display(),
        backup.display()
    ));
    let dropped = dropped_keys(&old_text, &cfg);
    if !dropped.is_empty() {
        r.notes.push(format!(
            "keys this agent does not know were not carried over (they are in {}): {}",
            backup.display(),
            dropped.join(", ")
        ));
    }
    write_atomic_config(&path, &text, &cfg)?;
    r.file(path, Change::Updated);
    Ok(cfg)
}

/// Where the agent will send data when the config names no DataWay: nowhere but the file
/// output under the workdir (as the target system sees it).
fn local_data_note(layout: &Layout, cfg: &MainConfig) -> Option<String> {
    if !cfg.dataway.urls.is_empty() || !cfg.outputs.influxdb.is_empty() {
        return None;
    }
    let out = Workdir::new(layout.workdir()).join_config_path(&cfg.outputs.file.path);
    Some(format!(
        "no DataWay URL: data stays on this host, as line-protocol files in {} (the file output); \
to send it to Guance, run `datakit install --dataway https://openway.guance.com --token tkn_...`",
        out.display()
    ))
}

fn write_atomic_config(path: &Path, text: &str, cfg: &MainConfig) -> Result<(), ServiceError> {
    super::write_atomic(path, text.as_bytes(), config_mode(cfg))
}

/// datakit.conf holds the workspace token: readable by root only, unless the agent runs as
/// another user (who then needs to read it).
fn config_mode(cfg: &MainConfig) -> u32 {
    let user = cfg.datakit_user.trim();
    if user.is_empty() || user == "root" {
        0o600
    } else {
        0o644
    }
}

/// Sample configs (rewritten when they differ) and a config for each enabled input (written
/// only when missing).
fn write_input_configs(
    layout: &Layout,
    cfg: &MainConfig,
    r: &mut Report,
) -> Result<(), ServiceError> {
    let wd = layout.workdir_host();
    let samples = wd.conf_d().join("samples");
    let main_sample = wd.conf_d().join("datakit.conf.sample");
    let change = write_if_changed(&main_sample, sample::main_conf_sample().as_bytes(), 0o644)?;
    r.file(main_sample, change);
    let mut enabled = BTreeMap::new();
    for n in &cfg.default_enabled_inputs {
        if !n.starts_with('-') {
            enabled.insert(n.as_str(), ());
        }
    }
    for entry in crate::inputs::registry() {
        let name = entry.spec.name;
        let Some(text) = crate::inputs::sample(name) else {
            continue;
        };
        let p = samples.join(format!("{name}.conf.sample"));
        let change = write_if_changed(&p, text.as_bytes(), 0o644)?;
        r.file(p, change);
        if enabled.contains_key(name) {
            let p = wd.conf_d().join(format!("{name}.conf"));
            if p.exists() {
                r.file(p, Change::Kept);
            } else {
                let change = write_if_changed(&p, text.as_bytes(), 0o644)?;
                r.file(p, change);
            }
        }
    }
    Ok(())
}

/// Whether two files hold the same bytes.
fn same_content(a: &Path, b: &Path) -> Result<bool, ServiceError> {
    let (ma, mb) = match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(ma), Ok(mb)) => (ma, mb),
        _ => return Ok(false),
    };
    if ma.len() != mb.len() {
        return Ok(false);
    }
    let mut fa = std::fs::File::open(a).map_err(fs_err(a))?;
    let mut fb = std::fs::File::open(b).map_err(fs_err(b))?;
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = read_full(&mut fa, &mut ba).map_err(fs_err(a))?;
        let m = read_full(&mut fb, &mut bb).map_err(fs_err(b))?;
        if n != m || ba[..n] != bb[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Copies the binary into the workdir (through a temporary file and a rename, so a running
/// agent keeps its old inode).
fn copy_binary(layout: &Layout, src: &Path, r: &mut Report) -> Result<(), ServiceError> {
    let dst = layout.binary_host();
    if let (Ok(a), Ok(b)) = (src.canonicalize(), dst.canonicalize())
        && a == b
    {
        r.file(dst, Change::Unchanged);
        return Ok(());
    }
    let mode_ok = std::fs::metadata(&dst)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777 == 0o755)
        .unwrap_or(false);
    if mode_ok && same_content(src, &dst)? {
        r.file(dst, Change::Unchanged);
        return Ok(());
    }
    let existed = dst.exists();
    let dir = super::parent_dir(&dst);
    create_dir_all(dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(".datakit-new-")
        .tempfile_in(dir)
        .map_err(fs_err(dir))?;
    let mut from = std::fs::File::open(src).map_err(fs_err(src))?;
    std::io::copy(&mut from, &mut tmp.as_file()).map_err(fs_err(tmp.path()))?;
    tmp.as_file().sync_all().map_err(fs_err(tmp.path()))?;
    std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .map_err(fs_err(tmp.path()))?;
    tmp.persist(&dst).map_err(|e| fs_err(&dst)(e.error))?;
    r.file(
        dst,
        if existed {
            Change::Updated
        } else {
            Change::Created
        },
    );
    Ok(())
}

/// `/usr/local/bin/datakit` → the workdir's binary. An existing file that is not a link is
/// left alone.
fn link_command(layout: &Layout, r: &mut Report) -> Result<(), ServiceError> {
    let link = layout.command_link_host();
    let target = layout.binary();
    match std::fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => {
            if std::fs::read_link(&link).ok().as_deref() == Some(target.as_path()) {
                r.file(link, Change::Unchanged);
                return Ok(());
            }
        }
        Ok(_) => {
            r.notes.push(format!(
                "{} exists and is not a link: left alone (run {} directly)",
                link.display(),
                target.display()
            ));
            r.file(link, Change::Kept);
            return Ok(());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fs_err(&link)(e)),
    }
    let existed = std::fs::symlink_metadata(&link).is_ok();
    let dir = super::parent_dir(&link);
    create_dir_all(dir)?;
    let tmp = dir.join(format!(".datakit-link-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&target, &tmp).map_err(fs_err(&tmp))?;
    std::fs::rename(&tmp, &link).map_err(fs_err(&link))?;
    r.file(
        link,
        if existed {
            Change::Updated
        } else {
            Change::Created
        },
    );
    Ok(())
}

/// Removes `/usr/local/bin/datakit` if it is our link.
fn unlink_command(layout: &Layout, r: &mut Report) -> Result<(), ServiceError> {
    let link = layout.command_link_host();
    if std::fs::read_link(&link).ok().as_deref() == Some(layout.binary().as_path()) {
        let change = remove_file(&link)?;
        r.file(link, change);
    }
    Ok(())
}

/// Writes the unit, reloads systemd when it changed, enables the service, and (with `start`)
/// starts it, or restarts it when `restart` or the unit changed.
pub fn install_service(
    layout: &Layout,
    cfg: &MainConfig,
    manager: &Manager,
    start: bool,
    restart: bool,
    r: &mut Report,
) -> Result<(), ServiceError> {
    if let Manager::None(why) = manager
        && !layout.is_staging()
    {
        r.notes.push(format!("service not installed: {why}"));
        return Ok(());
    }
    if !layout.binary_host().exists() {
        return Err(ServiceError::Invalid(format!(
            "{} is missing: run `datakit install` first",
            layout.binary_host().display()
        )));
    }
    let text = unit::render(&UnitOptions::from_config(layout, cfg));
    let unit_path = layout.unit_host();
    let change = write_if_changed(&unit_path, text.as_bytes(), 0o644)?;
    r.file(unit_path, change);
    let s = match manager {
        Manager::Systemd(s) => s,
        Manager::None(why) => {
            r.notes
                .push(format!("the unit was written but not enabled: {why}"));
            return Ok(());
        }
    };
    if change.changed() && s.daemon_reload()? {
        r.actions.push("daemon-reload".into());
    }
    s.enable()?;
    r.actions.push("enable".into());
    if start {
        if restart || change.changed() {
            if s.restart()? {
                r.actions.push("restart".into());
            }
        } else if s.start()? {
            r.actions.push("start".into());
        }
    }
    if !s.is_live() {
        r.notes.push(format!(
            "staging tree {}: the service was enabled there, not started",
            layout.root().display()
        ));
    }
    Ok(())
}

/// Stops and disables the service and removes its unit.
pub fn uninstall_service(
    layout: &Layout,
    manager: &Manager,
    r: &mut Report,
) -> Result<(), ServiceError> {
    let unit_path = layout.unit_host();
    let present = unit_path.exists();
    if let Manager::Systemd(s) = manager {
        if s.is_active()? == Some(true) {
            s.stop()?;
            r.actions.push("stop".into());
        }
        if present {
            s.disable()?;
            r.actions.push("disable".into());
        }
    }
    // What `systemctl disable` removes, in case the unit file was already gone.
    let wants = layout.host(Path::new(&format!(
        "{}/multi-user.target.wants/{}",
        super::layout::UNIT_DIR,
        super::UNIT_NAME
    )));
    if std::fs::symlink_metadata(&wants).is_ok() {
        let change = remove_file(&wants)?;
        r.file(wants, change);
    }
    let change = remove_file(&unit_path)?;
    r.file(unit_path, change);
    if change.changed()
        && let Manager::Systemd(s) = manager
        && s.daemon_reload()?
    {
        r.actions.push("daemon-reload".into());
    }
    Ok(())
}

/// The whole install. Every option is checked, the existing config read and the new one
/// rendered before the first directory is made, so a refused option leaves nothing behind.
pub fn install(
    layout: &Layout,
    o: &InstallOptions,
    manager: &Manager,
) -> Result<Report, ServiceError> {
    let system = layout.is_staging() || super::is_root();
    if o.service && !system {
        return Err(ServiceError::Refused(
            "installing the system service needs root: run `sudo datakit install`, or pass --no-service to install into your own workdir".into(),
        ));
    }
    let plan = plan_main_config(layout, o)?;
    if let Err(e) = std::fs::File::open(&o.binary) {
        return Err(ServiceError::Refused(format!(
            "cannot read the binary to install, {}: {e}",
            o.binary.display()
        )));
    }

    let mut r = Report::default();
    let wd = layout.workdir_host();
    for d in [
        wd.root().to_path_buf(),
        wd.conf_d(),
        wd.conf_d().join("samples"),
        wd.pipeline(),
        wd.data(),
        wd.cache(),
    ] {
        if !d.is_dir() {
            create_dir_all(&d)?;
            r.file(d, Change::Created);
        }
    }
    let cfg = write_main_config(plan, &mut r)?;
    write_input_configs(layout, &cfg, &mut r)?;
    copy_binary(layout, &o.binary, &mut r)?;
    if system {
        link_command(layout, &mut r)?;
    }
    if o.service {
        let restart = r.changed();
        install_service(layout, &cfg, manager, true, restart, &mut r)?;
    }
    r.notes.extend(local_data_note(layout, &cfg));
    Ok(r)
}

/// `datakit service uninstall`: the service and the command link; the workdir stays.
pub fn uninstall(layout: &Layout, manager: &Manager) -> Result<Report, ServiceError> {
    let mut r = Report::default();
    uninstall_service(layout, manager, &mut r)?;
    unlink_command(layout, &mut r)?;
    r.notes.push(format!(
        "kept {} (configuration, data and the binary): remove it to delete them",
        layout.workdir_host().root().display()
    ));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_join_the_url_query() {
        assert_eq!(
            with_token("https://openway.guance.com", "tkn_1").unwrap(),
            "https://openway.guance.com?token=tkn_1"
        );
        assert_eq!(
            with_token("https://dw:9528/v1?x=1", "tkn_1").unwrap(),
            "https://dw:9528/v1?x=1&token=tkn_1"
        );
        assert_eq!(
            with_token("https://dw?token=tkn_1", "tkn_1").unwrap(),
            "https://dw?token=tkn_1"
        );
        assert!(with_token("https://dw?token=tkn_2", "tkn_1").is_err());
    }

    #[test]
    fn flags_apply_to_the_config() {
        let mut cfg = MainConfig::default();
        let o = InstallOptions {
            dataway: vec!["https://dw.example".into()],
            token: Some("tkn_abc".into()),
            enable_inputs: Some(vec!["-dk".into()]),
            global_tags: parse_tags("env=prod, team = obs").unwrap(),
            ..Default::default()
        };
        apply_flags(&mut cfg, &o).unwrap();
        assert_eq!(cfg.dataway.urls, vec!["https://dw.example?token=tkn_abc"]);
        assert_eq!(cfg.default_enabled_inputs, vec!["-dk"]);
        assert_eq!(cfg.global_host_tags["env"], "prod");
        assert_eq!(cfg.global_host_tags["team"], "obs");
        assert_eq!(cfg.global_host_tags["host"], "$datakit_hostname");
    }

    #[test]
    fn bad_flags_are_refused_with_the_reason() {
        let mut cfg = MainConfig::default();
        let token_only = InstallOptions {
            token: Some("tkn_abc".into()),
            ..Default::default()
        };
        let err = apply_flags(&mut cfg, &token_only).unwrap_err().to_string();
        assert!(err.contains("--dataway"), "{err}");
        let unknown = InstallOptions {
            enable_inputs: Some(vec!["dkk".into()]),
            ..Default::default()
        };
        let err = apply_flags(&mut cfg, &unknown).unwrap_err().to_string();
        assert!(err.contains("did you mean `dk`"), "{err}");
        let bad_url = InstallOptions {
            dataway: vec!["openway.guance.com".into()],
            ..Default::default()
        };
        assert!(apply_flags(&mut cfg, &bad_url).is_err());
        for bad in ["novalue", "=v", "k=", "k=a,k=b", "k=a\\", "k=a\nb"] {
            assert!(parse_tags(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_tags("a=1, b = x=y").unwrap(),
            vec![("a".into(), "1".into()), ("b".into(), "x=y".into())]
        );
    }

    #[test]
    fn the_installed_config_parses_back() {
        let mut cfg = MainConfig::default();
        cfg.dataway.urls = vec!["https://dw?token=tkn_1".into()];
        let text = render_config(&cfg).unwrap();
        let back: MainConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, cfg);
        assert!(dropped_keys(&text, &cfg).is_empty());
        assert_eq!(
            dropped_keys("auto_update = true\n[dataway]\nurls = []\n", &cfg),
            vec!["auto_update"]
        );
    }
}
