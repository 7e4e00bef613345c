//! Regression tests: see the module list in `mod.rs`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::{Agent, Workdir, datakit, stdout};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// An agent with the `dk` input and one test input, its HTTP API up.
fn agent() -> (Workdir, Agent) {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        "default_enabled_inputs = [\"dk\"]\n[io]\n  flush_interval = \"100ms\"\n",
    );
    w.write(
        "conf.d/t.conf",
        "[[inputs.testinput]]\n  name = \"mon\"\n  interval = \"100ms\"\n",
    );
    let a = Agent::start(&w, &[]);
    a.wait_api();
    (w, a)
}

fn monitor(a: &Agent, args: &[&str]) -> Output {
    datakit()
        .args(["--color", "never", "monitor", "--to"])
        .arg(format!("127.0.0.1:{}", a.port))
        .args(args)
        .output()
        .unwrap()
}

// ---- tmux: the live view in a real terminal ------------------------------------------------

/// A tmux server of its own, killed when dropped.
struct Tmux(String);

impl Tmux {
    /// Runs `command` in a `cols`x`rows` window.
    fn start(cols: u16, rows: u16, command: &str) -> Tmux {
        let name = format!("dkreg-{}-{}", std::process::id(), datakit::clock::now_ns());
        let t = Tmux(name);
        t.run(&[
            "new-session",
            "-d",
            "-s",
            &t.0,
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
            command,
        ]);
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.0])
            .args(args)
            .output()
            .expect("tmux (installed by tests/run)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.0])
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.0, "kill-server"])
            .output();
    }
}

/// The live monitor of `a` with `args` in a `cols`x`rows` terminal, once it has drawn.
fn live_monitor(a: &Agent, cols: u16, rows: u16, args: &str) -> (Tmux, String) {
    let bin = assert_cmd::cargo::cargo_bin("datakit");
    let t = Tmux::start(
        cols,
        rows,
        &format!(
            "NO_COLOR=1 {} monitor --to 127.0.0.1:{} {args}",
            bin.display(),
            a.port
        ),
    );
    std::thread::sleep(Duration::from_millis(1800));
    let screen = t.screen();
    (t, screen)
}

// ---- 16: pipeline test / pipeline check ----------------------------------------------------

#[test]
fn pipeline_test_help_did_not_list_the_builtin_scripts() {
    let out = datakit()
        .args(["pipeline", "test", "--help"])
        .output()
        .unwrap();
    let text = stdout(&out);
    let list = text
        .split("Built-in scripts")
        .nth(1)
        .unwrap_or_else(|| panic!("no list of the built-in scripts:\n{text}"));
    for name in ["apache", "consul", "mysql", "nginx", "tomcat"] {
        assert!(list.contains(name), "{name} not listed:\n{text}");
    }
}

#[test]
fn pipeline_test_did_not_say_where_it_looked_for_a_missing_script() {
    let w = Workdir::new();
    let out = w
        .cmd(&["pipeline", "test", "ngnix", "--txt", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let dir = w.path().join("pipeline");
    for place in [
        format!("{}/logging/", dir.display()),
        format!("{}/", dir.display()),
        "built-in scripts".to_string(),
    ] {
        assert!(text.contains(&place), "{place} not named:\n{text}");
    }
    assert!(text.contains("did you mean `nginx.p`?"), "{text}");

    // A path: the file is missing, it is not looked up by name.
    let out = w
        .cmd(&["pipeline", "test", "./conf/nope.p", "--txt", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("./conf/nope.p") && text.contains("no such file"),
        "{text}"
    );
    assert!(!text.contains("namespace"), "{text}");
}

#[test]
fn pipeline_check_printed_errors_twice_and_only_the_first() {
    let w = Workdir::new();
    w.write(
        "pipeline/bad.p",
        "add_key(a, 1)\nfoo(_)\nx = (1 + )\ndrop_key(a, b)\n",
    );
    let out = w.cmd(&["pipeline", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for msg in [
        "unsupported func: `foo`",
        "unexpected: <op:')'>",
        "func drop_key expected 1 args",
    ] {
        assert_eq!(text.matches(msg).count(), 1, "{msg}:\n{text}");
    }
    assert!(text.contains("logging/bad.p (default): 3 errors"), "{text}");
    // `pipeline test` shows every error too.
    let out = w
        .cmd(&["pipeline", "test", "bad", "--txt", "x"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(
        text.matches("func drop_key expected 1 args").count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches("unsupported func: `foo`").count(), 1, "{text}");
}

#[test]
fn pipeline_errors_suggested_no_close_function_or_pattern_name() {
    let w = Workdir::new();
    w.write(
        "pipeline/typo.p",
        "gork(_, \"%{IP:client}\")\ngrok(_, \"%{NUMBR:n}\")\n",
    );
    let out = w.cmd(&["pipeline", "check", "typo"]).output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("did you mean `grok`?"), "{text}");
    assert!(text.contains("did you mean %{NUMBER}?"), "{text}");
}

#[test]
fn pipeline_check_did_not_explain_the_default_label() {
    let w = Workdir::new();
    w.write("pipeline/mine.p", "add_key(a, 1)");
    let out = w.cmd(&["pipeline", "check"]).output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("ok     logging/mine.p (default)"), "{text}");
    let legend = format!(
        "(default): yours, under {}/",
        w.path().join("pipeline").display()
    );
    assert!(text.contains(&legend), "no legend {legend:?}:\n{text}");
    assert!(text.contains("(builtin): shipped in the binary"), "{text}");
}

// ---- 17: monitor -----------------------------------------------------------------------------

/// `datakit X | head`: stdout is a pipe nobody reads any more.
fn with_closed_stdout(mut cmd: Command) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = cmd
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn datakit");
    // The command's own handle to the pipe went to the child: only the child writes to it now.
    drop(cmd);
    child.wait_with_output().unwrap()
}

#[test]
fn monitor_json_panicked_on_a_closed_pipe() {
    let (w, mut a) = agent();
    let bin = assert_cmd::cargo::cargo_bin("datakit");
    let to = format!("127.0.0.1:{}", a.port);
    let cases: &[&[&str]] = &[
        &["monitor", "--json", "--to", &to],
        &["monitor", "--once", "--to", &to],
        &["version"],
        &["version", "--json"],
        &["completion", "bash"],
        &["check-config"],
        &["pipeline", "check"],
        &["pipeline", "test", "nginx", "--txt", "x"],
        &["doc", "cpu"],
        &["doc", "--list"],
        &["--help"],
    ];
    for args in cases {
        let mut c = Command::new(&bin);
        c.arg("--workdir").arg(w.path()).args(*args);
        let out = with_closed_stdout(c);
        let err = stderr(&out);
        assert!(
            !err.contains("panicked") && out.status.code() != Some(101),
            "datakit {args:?} | head: {:?}\n{err}",
            out.status
        );
    }
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn monitor_json_ignored_the_module_filter() {
    let (_w, mut a) = agent();
    let out = monitor(&a, &["--json", "-M", "io,W"]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["io", "outputs"], "{v}");
    let out = monitor(&a, &["--json", "-M", "In", "-I", "testinput"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let inputs: Vec<&str> = v["inputs"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(inputs, ["testinput"], "{v}");
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn monitor_showed_http_writers_as_inputs_stuck_starting() {
    let (_w, mut a) = agent();
    let (s, _) = crate::support::servers::http_post(
        &format!("http://127.0.0.1:{}/v1/write/logging?input=myapp", a.port),
        "app message=\"hi\"\n",
    )
    .unwrap();
    assert!(s < 300, "{s}");
    let text = stdout(&monitor(&a, &["--once", "-M", "In"]));
    let row = text
        .lines()
        .find(|l| l.contains("v1-write.myapp"))
        .unwrap_or_else(|| panic!("the writer is not shown:\n{text}"));
    assert!(!row.contains("starting"), "{text}");
    let producers = text
        .find("Producers")
        .unwrap_or_else(|| panic!("no Producers section:\n{text}"));
    let inputs_end = text.find("Producers").unwrap_or(0);
    assert!(
        !text[..inputs_end].contains("v1-write.myapp")
            && text[producers..].contains("v1-write.myapp"),
        "{text}"
    );
    let out = monitor(&a, &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inputs"]["v1-write.myapp"]["state"], "producer", "{v}");
    assert_eq!(v["inputs"]["testinput"]["state"], "running", "{v}");
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn monitor_table_cut_words_at_80_columns() {
    let (_w, mut a) = agent();
    std::thread::sleep(Duration::from_millis(500));
    let (_t, screen) = live_monitor(&a, 80, 24, "-M In");
    let row = screen
        .lines()
        .find(|l| l.contains("testinput"))
        .unwrap_or_else(|| panic!("`testinput` cut or missing:\n{screen}"));
    assert!(row.contains("running"), "{screen}");
    assert!(
        screen.contains("Last feed") || screen.contains("Last"),
        "{screen}"
    );
    for line in screen.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn monitor_did_not_say_the_refresh_was_raised() {
    let (_w, mut a) = agent();
    let (_t, screen) = live_monitor(&a, 120, 40, "-M B -R 200ms");
    assert!(
        screen.contains("Refresh: 1s (-R 200ms raised to the minimum, 1s)"),
        "{screen}"
    );
    assert_eq!(a.stop(), Some(0));
}

/// Serves `body` as the answer to every request, `n` times.
fn fake_agent(body: String, n: usize) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().take(n) {
            let Ok(mut s) = s else { continue };
            let mut buf = Vec::new();
            let mut b = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut b) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => buf.extend_from_slice(&b[..k]),
                }
            }
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[test]
fn monitor_used_several_number_formats() {
    // 1.2345 of something, whatever the unit, reads 1.23.
    let snap = serde_json::json!({
        "agent": {
            "version": "0.1.0", "commit": "x", "hostname": "h", "os_arch": "linux/amd64",
            "uptime_secs": 100.0, "tasks": 3,
            "process": {"cpu_percent": 1.2345, "rss_bytes": 1_294_442, "open_files": 12345, "threads": 4}
        },
        "inputs": {"app": {
            "state": "running", "category": "metric", "instances": 1, "interval_secs": 10.0,
            "feeds": 1, "points": 1_234_567, "last_feed_ns": 0, "avg_cost_secs": 1.2345,
            "errors": 0, "crashes": 0
        }},
        "io": {"metric": {
            "points_in": 12_345, "queued": 0, "points_sent": 123_456, "points_queued_on_disk": 0,
            "points_dropped": 0, "bytes_raw": 1_325_598_706_u64, "bytes_gzip": 1264
        }},
        "drops": [], "outputs": [], "http": [], "pipeline": {}, "errors": [],
        "election": null
    });
    let port = fake_agent(snap.to_string(), 1);
    let out = datakit()
        .args([
            "--color", "never", "monitor", "--once", "-M", "B,In,IO", "--to",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for want in [
        "1.23%", "1.23MiB", "12.3k", "1.23M", "1.23s", "12.3k", "123k", "1.23GiB", "1.23KiB",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
}

// ---- 18: doc ---------------------------------------------------------------------------------

#[test]
fn doc_printed_units_raw() {
    for (input, want) in [("cpu", "%"), ("cpu", "°C"), ("mem", "B"), ("net", "B/s")] {
        let text = stdout(&datakit().args(["doc", input]).output().unwrap());
        for raw in [
            "percent,percent",
            "temperature,C",
            "digital,B",
            "traffic,B/S",
        ] {
            assert!(!text.contains(raw), "{input}: {raw}:\n{text}");
        }
        assert!(
            text.lines()
                .any(|l| l.split('┆').nth(2).is_some_and(|c| c.trim() == want)),
            "{input}: no unit {want}:\n{text}"
        );
    }
    let md = stdout(
        &datakit()
            .args(["doc", "cpu", "--markdown"])
            .output()
            .unwrap(),
    );
    assert!(
        !md.contains("percent,percent") && md.contains("| % |"),
        "{md}"
    );
}

#[test]
fn doc_pipeline_index_did_not_mark_unsupported_functions() {
    let text = stdout(&datakit().args(["doc", "pipeline"]).output().unwrap());
    let index: Vec<&str> = text
        .lines()
        .take_while(|l| !l.contains("shows one"))
        .collect();
    let joined = index.join("\n");
    for f in ["http_request", "agg_create", "point_window"] {
        assert!(
            joined.contains(&format!("{f} (unsupported)")),
            "{f} not marked:\n{joined}"
        );
    }
    assert!(
        !joined.contains("grok (unsupported)"),
        "a supported function is marked:\n{joined}"
    );
    let md = std::fs::read_to_string(repo().join("docs/pipeline/misc.md")).unwrap();
    assert!(
        md.contains("## `http_request` (not supported by this build)"),
        "{md}"
    );
}

#[test]
fn doc_pipeline_suggested_no_function_name() {
    let out = datakit()
        .args(["doc", "pipeline", "gork"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("did you mean `grok`?"), "{out:?}");
}

#[test]
fn doc_tables_cut_names_mid_word() {
    let text = stdout(&datakit().args(["doc", "config"]).output().unwrap());
    for name in [
        "default_enabled_inputs",
        "ENV_DEFAULT_ENABLED_INPUTS,",
        "ENV_DISABLE_PROTECT_MODE",
        "enable_debug_fields",
    ] {
        assert!(text.contains(name), "{name} cut:\n{text}");
    }
    let text = stdout(&datakit().args(["doc", "cpu"]).output().unwrap());
    assert!(text.contains("enable_temperature"), "{text}");
}

// ---- 21: completions -------------------------------------------------------------------------

#[test]
fn completions_offered_the_hidden_generate_command() {
    for f in [
        "datakit.bash",
        "_datakit",
        "datakit.fish",
        "datakit.elv",
        "_datakit.ps1",
    ] {
        let text = std::fs::read_to_string(repo().join("completions").join(f)).unwrap();
        assert!(!text.contains("__generate"), "{f} offers __generate");
    }
    let out = datakit().args(["completion", "zsh"]).output().unwrap();
    assert!(!stdout(&out).contains("__generate"));
}

/// What the bash completion offers for the words of `line` (the last one being completed).
fn bash_complete(line: &[&str]) -> Vec<String> {
    let script = repo().join("completions/datakit.bash");
    let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
    let cword = line.len() - 1;
    let probe = format!(
        "source {}\nCOMP_WORDS=({}); COMP_CWORD={cword}\n_datakit datakit '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        words.join(" "),
        line[cword],
        line[cword - 1],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &probe])
        .output()
        .expect("bash");
    stdout(&out).lines().map(str::to_string).collect()
}

#[test]
fn completions_did_not_offer_inputs_modules_categories_or_scripts() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["datakit", "doc", ""],
            &["cpu", "mem", "pipeline", "config"],
        ),
        (
            &["datakit", "monitor", "-M", ""],
            &["inputs", "io", "errors"],
        ),
        (
            &["datakit", "pipeline", "test", "-C", ""],
            &["logging", "metric"],
        ),
        (&["datakit", "pipeline", "test", ""], &["nginx", "mysql"]),
    ];
    for (line, want) in cases {
        let got = bash_complete(line);
        for w in *want {
            assert!(
                got.iter().any(|g| g == w),
                "{line:?}: {w} not offered: {got:?}"
            );
        }
    }
    for f in ["_datakit", "datakit.fish"] {
        let text = std::fs::read_to_string(repo().join("completions").join(f)).unwrap();
        for w in ["hostobject", "nginx", "metric", "outputs"] {
            assert!(text.contains(w), "{f} lacks {w}");
        }
    }
}

// ---- 22: man pages ---------------------------------------------------------------------------

fn man_files() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(repo().join("man"))
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn man_pages_referenced_pages_that_do_not_exist() {
    let pages = man_files();
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "datakit-pipeline-test.1",
        "datakit-pipeline-check.1",
        "datakit-run.1",
    ] {
        assert!(names.contains(&want), "{want} missing: {names:?}");
    }
    for (name, text) in &pages {
        // References look like `datakit\-pipeline\-test(1)`.
        let plain = text.replace("\\-", "-");
        for (i, _) in plain.match_indices("(1)") {
            let start = plain[..i]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .map_or(0, |s| s + 1);
            let page = &plain[start..i];
            if page.starts_with("datakit") {
                assert!(
                    names.contains(&format!("{page}.1").as_str()),
                    "{name} refers to {page}(1), which does not exist"
                );
            }
        }
    }
}

#[test]
fn man_pages_lacked_environment_exit_status_files_and_examples() {
    for (name, text) in man_files() {
        for section in [".SH ENVIRONMENT", ".SH \"EXIT STATUS\"", ".SH EXAMPLES"] {
            assert!(text.contains(section), "{name} lacks {section}");
        }
    }
    let pages = man_files();
    let get = |n: &str| {
        pages
            .iter()
            .find(|(name, _)| name == n)
            .map(|(_, t)| t.replace("\\-", "-"))
            .unwrap()
    };
    let main = get("datakit.1");
    for s in [
        "DATAKIT_WORKDIR",
        "DATAKIT_LOG_LEVEL",
        "NO_COLOR",
        ".SH FILES",
        "78",
    ] {
        assert!(main.contains(s), "datakit.1 lacks {s}");
    }
    let check = get("datakit-check-config.1");
    assert!(check.contains("At least one error"), "{check}");
    let run = get("datakit-run.1");
    assert!(run.contains("78") && run.contains("WORKDIR/.pid"), "{run}");
}

// ---- 23: --help and the environment ---------------------------------------------------------

#[test]
fn subcommand_help_mixed_global_and_own_options() {
    let text = stdout(
        &datakit()
            .args(["pipeline", "test", "--help"])
            .output()
            .unwrap(),
    );
    let own = text.find("\nOptions:").unwrap_or_else(|| panic!("{text}"));
    let global = text
        .find("\nGlobal Options:")
        .unwrap_or_else(|| panic!("no Global Options heading:\n{text}"));
    assert!(own < global, "{text}");
    let own_part = &text[own..global];
    let global_part = &text[global..];
    for flag in ["--txt", "--file", "--category", "--json"] {
        assert!(
            own_part.contains(flag),
            "{flag} not among the own options:\n{text}"
        );
    }
    for flag in ["--workdir", "--log", "--log-level", "--color"] {
        assert!(
            !own_part.contains(flag) && global_part.contains(flag),
            "{flag} not under Global Options:\n{text}"
        );
    }
}

#[test]
fn invalid_log_level_env_did_not_name_the_variable() {
    let out = datakit()
        .env("DATAKIT_LOG_LEVEL", "verbose")
        .arg("version")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("DATAKIT_LOG_LEVEL") && err.contains("'verbose'"),
        "{err}"
    );
    // Given on the command line, the flag is named as before.
    let out = datakit()
        .args(["--log-level", "verbose", "version"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("--log-level") && !err.contains("DATAKIT_LOG_LEVEL"),
        "{err}"
    );
}
