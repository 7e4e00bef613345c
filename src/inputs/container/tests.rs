use super::docker::{Inspect, Stats, Summary};
use super::*;

fn stats(json: &str) -> Stats {
    serde_json::from_str(json).unwrap()
}

const STATS: &str = r#"{
  "cpu_stats": {"cpu_usage": {"total_usage": 3000000000}, "system_cpu_usage": 20000000000, "online_cpus": 2},
  "precpu_stats": {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0},
  "memory_stats": {"usage": 10485760, "stats": {"total_inactive_file": 1048576, "inactive_file": 5}},
  "blkio_stats": {"io_service_bytes_recursive": [
    {"major": 8, "minor": 0, "op": "Read", "value": 4096},
    {"major": 8, "minor": 0, "op": "Write", "value": 8192},
    {"major": 8, "minor": 0, "op": "Total", "value": 12288}]},
  "networks": {"eth0": {"rx_bytes": 100, "tx_bytes": 50}, "lo": {"rx_bytes": 7, "tx_bytes": 7}}
}"#;

fn inspect(json: &str) -> Inspect {
    serde_json::from_str(json).unwrap()
}

#[test]
fn figures_follow_the_originals_formulas() {
    let host = HostInfo { mem_total: 1 << 30 };
    let i = inspect(
        r#"{"HostConfig": {"Memory": 20971520, "NanoCpus": 500000000}, "State": {"Pid": 0}}"#,
    );
    // No previous reading: no CPU usage.
    let t = Top::of(&stats(STATS), &i, &host, None);
    assert_eq!(t.cpu, None);
    assert_eq!(t.cpu_reading, (3_000_000_000, 20_000_000_000));
    // The previous collection: 1 s of CPU over 10 s of system time (both CPUs): 20 %.
    let t = Top::of(
        &stats(STATS),
        &i,
        &host,
        Some((2_000_000_000, 10_000_000_000)),
    );
    let (pct, milli) = t.cpu.unwrap();
    assert!((pct - 20.0).abs() < 1e-9, "{pct}");
    assert_eq!(milli, 200);
    assert_eq!(t.cpu_limit_millicores, 500);
    assert_eq!(t.mem_usage, 10_485_760 - 1_048_576);
    assert_eq!(t.mem_limit, 20_971_520);
    assert_eq!((t.block_read, t.block_write), (4096, 8192));
    assert_eq!((t.net_rcvd, t.net_sent), (100, 50));
    let mut p = Point::new(Category::Metric, MEASUREMENT);
    t.put(&mut p);
    assert_eq!(p.get_field("cpu_usage_base100"), Some(&Value::Float(10.0)));
    assert_eq!(
        p.get_field("cpu_usage_base_limit"),
        Some(&Value::Float(40.0))
    );
    assert_eq!(p.get_field("cpu_numbers"), Some(&Value::Int(2)));
    assert_eq!(
        p.get_field("mem_used_percent_base_limit"),
        Some(&Value::Float(45.0))
    );
    assert_eq!(p.get_field("mem_capacity"), Some(&Value::Int(1 << 30)));
    // The engine's own previous reading wins over ours.
    let with_pre = STATS.replace(
        r#""precpu_stats": {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0}"#,
        r#""precpu_stats": {"cpu_usage": {"total_usage": 2500000000}, "system_cpu_usage": 15000000000}"#,
    );
    let t = Top::of(&stats(&with_pre), &i, &host, Some((0, 1)));
    assert_eq!(t.cpu.unwrap().1, 200);
}

#[test]
fn cgroup_v2_memory_and_quota_limits() {
    let s = stats(r#"{"memory_stats": {"usage": 1000, "stats": {"inactive_file": 300}}}"#);
    let i = inspect(r#"{"HostConfig": {"CpuPeriod": 100000, "CpuQuota": 150000}}"#);
    let t = Top::of(&s, &i, &HostInfo::default(), None);
    assert_eq!(t.mem_usage, 700);
    assert_eq!(t.cpu_limit_millicores, 1500);
    let mut p = Point::new(Category::Metric, MEASUREMENT);
    t.put(&mut p);
    // No host memory, no limit, no block IO: those fields are left out, as the original.
    for absent in [
        "mem_capacity",
        "mem_limit",
        "block_read_byte",
        "block_write_byte",
        "cpu_usage",
    ] {
        assert!(p.get_field(absent).is_none(), "{absent}");
    }
}

#[test]
fn net_dev_sums_all_interfaces_but_lo() {
    let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:    500      5    0    0    0     0          0         0      500       5    0    0    0     0       0          0\n  eth0:   1000     10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0\n  eth1:     10      1    0    0    0     0          0         0       20       2    0    0    0     0       0          0\n";
    assert_eq!(parse_net_dev(text), (1010, 2020));
}

fn summary(labels: &[(&str, &str)]) -> Summary {
    Summary {
        id: "abc123".into(),
        names: vec!["/web".into()],
        image: "nginx:1.21".into(),
        created: 1,
        state: "running".into(),
        status: "Up 1 minute".into(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn tags_from_kubernetes_and_ecs_labels() {
    let plain = info_tags(&summary(&[]), "20.10.24");
    let get =
        |t: &[(String, String)], k: &str| t.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
    assert_eq!(get(&plain, "container_name").as_deref(), Some("web"));
    assert_eq!(get(&plain, "container_type").as_deref(), Some("docker"));
    assert_eq!(get(&plain, "pod_name"), None);
    let k8s = info_tags(
        &summary(&[
            ("io.kubernetes.pod.uid", "u1"),
            ("io.kubernetes.pod.name", "web-0"),
            ("io.kubernetes.pod.namespace", "prod"),
            ("io.kubernetes.container.name", "nginx"),
            (
                "com.amazonaws.ecs.cluster",
                "arn:aws-cn:ecs:cn-north-1:1:cluster/dev-cluster",
            ),
        ]),
        "20.10.24",
    );
    assert_eq!(get(&k8s, "container_name").as_deref(), Some("nginx"));
    assert_eq!(get(&k8s, "container_runtime_name").as_deref(), Some("web"));
    assert_eq!(get(&k8s, "container_type").as_deref(), Some("kubernetes"));
    assert_eq!(get(&k8s, "namespace").as_deref(), Some("prod"));
    assert_eq!(
        get(&k8s, "aws_ecs_cluster_name").as_deref(),
        Some("dev-cluster")
    );
}

#[test]
fn the_object_carries_labels_age_and_a_json_message() {
    let c = summary(&[("b", "2"), ("a", "1")]);
    let p = object_point(&c, info_tags(&c, "v"), None, 61_000_000_000);
    assert_eq!(p.category, Category::Object);
    assert_eq!(p.get_tag("name"), Some("abc123"));
    assert_eq!(p.get_field("age"), Some(&Value::Int(60)));
    assert_eq!(
        p.get_field("df_label"),
        Some(&Value::Str(r#"["a:1","b:2"]"#.into()))
    );
    let Some(Value::Str(msg)) = p.get_field("message") else {
        panic!("no message")
    };
    let m: serde_json::Value = serde_json::from_str(msg).unwrap();
    assert_eq!(m["container_id"], "abc123");
    assert_eq!(m["df_label_permission"], "read_only");
    assert_eq!(m["age"], 60);
}

#[test]
fn the_originals_dead_keys_are_named() {
    for k in [
        "containerd_address",
        "enable_pod_metric",
        "logging_max_open_files",
        "exclude_pause_container",
    ] {
        assert!(compat(k).is_some(), "{k}");
    }
    for real in [
        "endpoints",
        "container_include_log",
        "logging_extra_source_map",
        "container_max_concurrent",
    ] {
        assert!(compat(real).is_none(), "{real}");
    }
}

#[test]
fn endpoints_are_checked_and_merged() {
    let cfg = ContainerConfig {
        endpoints: vec!["unix:///a.sock".into(), "unix:///a.sock".into()],
        docker_endpoint: "unix:///b.sock".into(),
        ..ContainerConfig::default()
    };
    assert_eq!(cfg.all_endpoints(), ["unix:///a.sock", "unix:///b.sock"]);
    let mut v = Validation::default();
    ContainerConfig {
        endpoints: vec![
            "tcp://1.2.3.4:2375".into(),
            "unix:///run/containerd/containerd.sock".into(),
        ],
        ..ContainerConfig::default()
    }
    .validate(&mut v);
    assert_eq!(v.issues.len(), 2, "{:?}", v.issues);
    assert_eq!(v.issues[0].key, "endpoints[0]");
    assert_eq!(v.issues[1].key, "endpoints[1]");
}

#[test]
fn a_missing_socket_is_skipped_quietly() {
    let cfg = ContainerConfig {
        endpoints: vec!["unix:///nonexistent/docker.sock".into()],
        ..ContainerConfig::default()
    };
    let mut c = ContainerCollector::new(&cfg).unwrap();
    let ctx = CollectCtx {
        now_ns: 1,
        agent_stats: std::sync::Arc::new(crate::stats::Stats::new()),
        hostname: "h".into(),
    };
    assert_eq!(c.collect(&ctx).unwrap(), Vec::new());
}

fn log_options() -> logs::LogOptions {
    ContainerConfig {
        logging_extra_source_map: [("^web.*".to_string(), "nginx".to_string())].into(),
        logging_source_multiline_map: [("java".to_string(), "^\\d{4}".to_string())].into(),
        tags: [("env".to_string(), "prod".to_string())].into(),
        ..ContainerConfig::default()
    }
    .log_options()
    .unwrap()
}

#[test]
fn a_containers_log_plan_follows_the_original() {
    let o = log_options();
    let c = summary(&[]);
    let i = inspect(r#"{"LogPath": "/var/lib/docker/containers/abc123/abc123-json.log"}"#);
    let f = logs::plan(&o, &c, &i, None).unwrap();
    // `web` → `nginx` by the extra source map; service follows the source.
    assert_eq!(f.source, "nginx");
    assert_eq!(f.service, "nginx");
    assert_eq!(
        f.log_path,
        "/var/lib/docker/containers/abc123/abc123-json.log"
    );
    let tag = |k: &str| f.tags.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    assert_eq!(tag("container_name"), Some("web"));
    assert_eq!(tag("container_id"), Some("abc123"));
    assert_eq!(tag("image"), Some("nginx:1.21"));
    assert_eq!(tag("env"), Some("prod"));
    assert_eq!(tag("pod_name"), None);
    // Detection is on by default: the built-in patterns.
    assert!(f.patterns.len() > 3);

    // DATAKIT_LOGS_CONFIG overrides source, service, pipeline, multiline and adds tags; the
    // source multiline map wins over the container's own pattern.
    let env = inspect(
        r#"{"LogPath": "/l", "Config": {"Env": ["A=1", "DATAKIT_LOGS_CONFIG=[{\"source\":\"java\",\"service\":\"svc\",\"pipeline\":\"j.p\",\"multiline_match\":\"^x\",\"tags\":{\"a.b\":\"1\"}}]"]}}"#,
    );
    let cfg = logs::env_config(&env).unwrap().unwrap();
    let f = logs::plan(&o, &c, &env, Some(&cfg)).unwrap();
    assert_eq!(
        (f.source.as_str(), f.service.as_str(), f.pipeline.as_str()),
        ("java", "svc", "j.p")
    );
    assert_eq!(f.patterns, ["^\\d{4}"]);
    assert!(f.tags.contains(&("a_b".to_string(), "1".to_string())));

    // Disabled, excluded by image, or without a log file: not read.
    let off = logs::LogConfig {
        disable: true,
        ..logs::LogConfig::default()
    };
    assert!(logs::plan(&o, &c, &i, Some(&off)).is_none());
    let dk = Summary {
        image: "pubrepo.guance.com/datakit/datakit:1.5".into(),
        ..summary(&[])
    };
    assert!(logs::plan(&o, &dk, &i, None).is_none());
    assert!(logs::plan(&o, &c, &inspect("{}"), None).is_none());
}

#[test]
fn files_inside_a_container_are_refused_by_name() {
    let env = inspect(
        r#"{"Config": {"Env": ["DATAKIT_LOGS_CONFIG=[{\"type\":\"file\",\"path\":\"/app/a.log\"}]"]}}"#,
    );
    let e = logs::env_config(&env).unwrap_err();
    assert!(e.contains("`file`") && e.contains("not supported"), "{e}");
    let bad = inspect(r#"{"Config": {"Env": ["DATAKIT_LOGS_CONFIG=[{"]}}"#);
    assert!(
        logs::env_config(&bad)
            .unwrap_err()
            .starts_with("DATAKIT_LOGS_CONFIG:")
    );
    assert_eq!(logs::env_config(&inspect("{}")).unwrap(), None);
}
