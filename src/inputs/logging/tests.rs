//! Tests of the logging input's options and point building.

use super::*;
use crate::inputs::Severity;
use crate::stats::DropReason;

fn cfg(toml_text: &str) -> LoggingConfig {
    toml::from_str(toml_text).expect("valid config")
}

fn issues(c: &LoggingConfig) -> Vec<(Severity, String, String)> {
    let mut v = Validation::default();
    c.validate(&mut v);
    v.issues
        .into_iter()
        .map(|i| (i.severity, i.key, i.message))
        .collect()
}

#[test]
fn bad_options_are_precise_errors() {
    let c = cfg(r#"
logfiles = ["/var/log/[x.log", "rel/*.log"]
ignore = ["{a"]
sockets = ["http://x:1", "tcp://h"]
character_encoding = "latin1"
multiline_match = "^(unclosed"
auto_multiline_extra_patterns = ["ok", "[z-a]"]
max_open_files = 0
source = ""
"#);
    let got = issues(&c);
    let errors: Vec<&str> = got
        .iter()
        .filter(|i| i.0 == Severity::Error)
        .map(|i| i.1.as_str())
        .collect();
    assert_eq!(
        errors,
        vec![
            "logfiles[0]",
            "ignore[0]",
            "sockets[0]",
            "sockets[1]",
            "source",
            "character_encoding",
            "multiline_match",
            "auto_multiline_extra_patterns[1]",
            "max_open_files"
        ],
        "{got:#?}"
    );
    assert!(
        got.iter()
            .any(|i| i.0 == Severity::Warning && i.1 == "logfiles[1]")
    );
    let enc = got.iter().find(|i| i.1 == "character_encoding").unwrap();
    assert!(
        enc.2.contains("latin1") && enc.2.contains("gb18030"),
        "{}",
        enc.2
    );
}

#[test]
fn a_good_config_has_no_issues_and_builds() {
    let c = cfg(r#"
logfiles = ["/var/log/nginx/*.log", "/srv/**/app.log"]
ignore = ["*.gz"]
source = "nginx"
character_encoding = "gbk"
multiline_match = '^\d{4}-'
"#);
    assert!(issues(&c).is_empty(), "{:?}", issues(&c));
    assert!(c.build().is_ok());
    assert_eq!(c.service(), "nginx");
    // The deprecated names are accepted.
    let c = cfg("logfiles = [\"/x\"]\nmatch = \"^S\"\npipeline_path = \"/a/b/n.p\"\n");
    assert_eq!(c.multiline_match, "^S");
    assert_eq!(c.pipeline, "/a/b/n.p");
}

fn shared(ignore_status: &[&str], white: &[&str]) -> Shared {
    Shared {
        source: "app".into(),
        service: "svc".into(),
        pipeline: String::new(),
        tags: vec![("env".into(), "prod".into())],
        run_opts: RunOptions {
            ignore_status: ignore_status.iter().map(|s| s.to_string()).collect(),
            ..RunOptions::default()
        },
        white_list: white.iter().map(|s| s.to_string()).collect(),
        charset: Charset::Utf8,
        remove_ansi: true,
    }
}

#[test]
fn a_record_becomes_a_logging_point() {
    let s = shared(&[], &[]);
    let p = s.point("hello".into(), Some("/var/log/a.log"), 3, 42);
    assert_eq!(p.category, Category::Logging);
    assert_eq!(p.name, "app");
    assert_eq!(p.get_tag("service"), Some("svc"));
    assert_eq!(p.get_tag("status"), Some("info"));
    assert_eq!(p.get_tag("env"), Some("prod"));
    assert_eq!(p.get_field("message"), Some(&Value::Str("hello".into())));
    assert_eq!(
        p.get_field("filepath"),
        Some(&Value::Str("/var/log/a.log".into()))
    );
    assert_eq!(p.get_field("log_read_lines"), Some(&Value::Int(3)));
    assert_eq!(p.time, 42);
    // Socket lines: ANSI codes removed, trailing space trimmed.
    assert_eq!(s.text(b"\x1b[31mred\x1b[0m  \r"), "red");
}

fn stage_with_script(
    dir: &std::path::Path,
    script: Option<&str>,
) -> (crate::ingest::testing::Stage, crate::ingest::Origin) {
    let w = crate::workdir::Workdir::new(dir);
    if let Some(text) = script {
        std::fs::create_dir_all(w.pipeline().join("logging")).unwrap();
        std::fs::write(w.pipeline().join("logging/app.p"), text).unwrap();
    }
    let st = crate::ingest::testing::stage(&w, &[]);
    let origin = st.ingest.origin("logging");
    (st, origin)
}

/// Feeds `points` through the stage with the input's options; the points delivered.
async fn through_stage(
    st: crate::ingest::testing::Stage,
    origin: &crate::ingest::Origin,
    s: &Shared,
    points: Vec<Point>,
) -> (Vec<Point>, Arc<crate::stats::Stats>) {
    st.ingest
        .feed_acked(origin, Category::Logging, points, &s.feed_options())
        .await
        .unwrap()
        .await
        .unwrap();
    st.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_script_runs_statuses_are_normalised_and_ignored_ones_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (st, origin) = stage_with_script(
        dir.path(),
        Some("grok(_, \"%{WORD:level} %{GREEDYDATA:msg}\")\nadd_key(status, level)\n"),
    );
    let s = shared(&["debug"], &[]);
    let pts = [
        "W careful",
        "E broken",
        "trace noisy",
        "FATAL end",
        "OK fine",
    ]
    .iter()
    .map(|m| s.point(m.to_string(), Some("/f"), 1, 1))
    .collect();
    let (out, stats) = through_stage(st, &origin, &s, pts).await;
    let statuses: Vec<&str> = out.iter().map(|p| p.get_tag("status").unwrap()).collect();
    assert_eq!(statuses, vec!["warning", "error", "fatal", "OK"]);
    assert_eq!(
        stats
            .input("logging")
            .drops
            .get(Category::Logging, DropReason::StatusIgnored),
        1,
        "the debug point is counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_script_ignoring_info_drops_everything_and_white_lists_apply() {
    let dir = tempfile::tempdir().unwrap();
    let (st, origin) = stage_with_script(dir.path(), None);
    let s = shared(&["info"], &[]);
    let (out, stats) = through_stage(st, &origin, &s, vec![s.point("x".into(), None, 0, 1)]).await;
    assert!(out.is_empty());
    assert_eq!(
        stats
            .input("logging")
            .drops
            .get(Category::Logging, DropReason::StatusIgnored),
        1
    );
    let (st, origin) = stage_with_script(dir.path(), None);
    let s = shared(&[], &["env"]);
    let now = crate::clock::now_ns();
    let (out, _) = through_stage(
        st,
        &origin,
        &s,
        vec![s.point("x".into(), Some("/f"), 1, now)],
    )
    .await;
    let keys: Vec<&str> = out[0]
        .tags
        .iter()
        .map(|(k, _)| k.as_str())
        .chain(out[0].fields.iter().map(|(k, _)| k.as_str()))
        .collect();
    // The white list keeps `env` and `message` of the input's keys; then the stage adds the
    // global `host` tag and the `status` every logging point must have.
    assert_eq!(keys, vec!["env", "host", "message", "status"]);
}
