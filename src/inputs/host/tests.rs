//! Tests across the host inputs: the schema of a real collection on this machine, the specs
//! as data, and the shared helpers; also the context and schema checks each input's own
//! tests use ([`ctx`], [`schema_problems`]).

use std::sync::Arc;

use super::*;
use crate::inputs::{CollectCtx, MeasurementSpec};

/// A collection context with fresh stats.
pub fn ctx() -> CollectCtx {
    CollectCtx {
        now_ns: crate::clock::now_ns(),
        agent_stats: Arc::new(crate::stats::Stats::new()),
        hostname: "test-host".into(),
    }
}

fn measurements(name: &str) -> &'static [MeasurementSpec] {
    crate::inputs::find(name)
        .unwrap_or_else(|| panic!("{name} is registered"))
        .spec
        .measurements
}

/// Checks points against declared measurements: every point's name is a declared measurement
/// of its category, and every tag and field is declared with the right type. `extra_tags` are
/// user tags that may appear besides the declared ones.
pub fn schema_problems(
    measurements: &[MeasurementSpec],
    points: &[Point],
    extra_tags: &[&str],
) -> Vec<String> {
    let mut out = Vec::new();
    for p in points {
        let Some(m) = measurements
            .iter()
            .find(|m| m.name == p.name && m.category == p.category)
        else {
            out.push(format!(
                "undeclared measurement {} ({:?})",
                p.name, p.category
            ));
            continue;
        };
        for (k, _) in &p.tags {
            if !m.tags.iter().any(|t| t.name == k) && !extra_tags.contains(&k.as_str()) {
                out.push(format!("{}: undeclared tag `{k}`", p.name));
            }
        }
        for (k, v) in &p.fields {
            match m.fields.iter().find(|f| f.name == k) {
                None => out.push(format!("{}: undeclared field `{k}`", p.name)),
                Some(f) if !f.kind.matches(v) => out.push(format!(
                    "{}: field `{k}` is {} but declared {}",
                    p.name,
                    v.type_name(),
                    f.kind.as_str()
                )),
                Some(_) => {}
            }
        }
    }
    out
}

/// Every declared field and tag has a description, and fields a unit.
pub fn spec_problems(measurements: &[MeasurementSpec]) -> Vec<String> {
    let mut out = Vec::new();
    for m in measurements {
        if m.description.is_empty() {
            out.push(format!("{}: no description", m.name));
        }
        for t in m.tags {
            if t.description.is_empty() {
                out.push(format!("{}: tag {} has no description", m.name, t.name));
            }
        }
        for f in m.fields {
            if f.description.is_empty() || f.unit.is_empty() {
                out.push(format!(
                    "{}: field {} lacks a description or unit",
                    m.name, f.name
                ));
            }
        }
        let mut names: Vec<&str> = m
            .fields
            .iter()
            .map(|f| f.name)
            .chain(m.tags.iter().map(|t| t.name))
            .collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        if names.len() != n {
            out.push(format!("{}: a key is declared twice", m.name));
        }
    }
    out
}

#[test]
fn every_point_of_a_real_collection_matches_its_declared_schema() {
    let ctx = ctx();
    let mut collectors = default_collectors();
    // host_processes metrics too, and every optional part switched on.
    let all_on = processes::ProcessesConfig {
        min_run_time: Dur::from_secs(0),
        enable_listen_ports: true,
        ..processes::ProcessesConfig::default()
    };
    collectors.push((
        "host_processes",
        Box::new(
            processes::ProcCollector::new(&all_on, Roots::from_env(), processes::Kind::Metric)
                .unwrap(),
        ),
    ));
    collectors.push((
        "cpu",
        Box::new(cpu::CpuCollector::new(
            &cpu::CpuConfig {
                percpu: true,
                ..cpu::CpuConfig::default()
            },
            Roots::from_env(),
        )),
    ));
    let mut seen = std::collections::BTreeSet::new();
    for (name, c) in &mut collectors {
        // Twice: the first collection primes the rates. CPU counters move in clock ticks
        // (10 ms), so `cpu` is collected again until some time has been counted.
        let first = c.collect(&ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut second = c.collect(&ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
        for _ in 0..500 {
            if !second.is_empty() || *name != "cpu" {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            second = c.collect(&ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let problems = schema_problems(measurements(name), &first, &[]);
        assert!(problems.is_empty(), "{name}: {problems:?}");
        let problems = schema_problems(measurements(name), &second, &[]);
        assert!(problems.is_empty(), "{name}: {problems:?}");
        for p in &second {
            seen.insert(p.name.clone());
        }
    }
    for m in [
        "cpu",
        "mem",
        "swap",
        "disk",
        "diskio",
        "net",
        "system",
        "conntrack",
        "filefd",
        "host_processes",
        "HOST",
    ] {
        assert!(seen.contains(m), "no `{m}` point on this machine: {seen:?}");
    }
    assert_eq!(
        ctx.agent_stats.snapshot().errors.len(),
        0,
        "{:?}",
        ctx.agent_stats.snapshot().errors
    );
}

#[test]
fn every_declared_key_has_a_description_type_and_unit() {
    for name in [
        "cpu",
        "mem",
        "swap",
        "disk",
        "diskio",
        "net",
        "system",
        "host_processes",
        "hostobject",
    ] {
        let e = crate::inputs::find(name).unwrap();
        assert!(e.spec.default_enabled(), "{name}");
        assert_eq!(e.spec.catalog, "host");
        let problems = spec_problems(e.spec.measurements);
        assert!(problems.is_empty(), "{name}: {problems:?}");
        let sample = crate::inputs::sample(name).unwrap();
        assert!(sample.contains(&format!("[[inputs.{name}]]")), "{sample}");
    }
}

#[test]
fn roots_follow_the_host_variables() {
    let env = |k: &str| match k {
        "HOST_PROC" => Some("/rootfs/proc".to_string()),
        "HOST_SYS" => Some("/rootfs/sys".to_string()),
        "ENV_HOST_ROOT" => Some("/rootfs".to_string()),
        _ => None,
    };
    let r = Roots::from_lookup(&env);
    assert_eq!(r.proc("stat"), Path::new("/rootfs/proc/stat"));
    assert_eq!(r.sys("class/net"), Path::new("/rootfs/sys/class/net"));
    assert_eq!(r.etc, Path::new("/etc"));
    assert_eq!(r.mount_path("/data"), Path::new("/rootfs/data"));
    assert_eq!(Roots::default().mount_path("/data"), Path::new("/data"));
}

#[test]
fn a_missing_proc_fails_the_collection_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let roots = Roots::under(dir.path());
    let mut c = mem::MemCollector::new(&mem::MemConfig::default(), roots);
    let e = c.collect(&ctx()).unwrap_err();
    assert!(e.contains("meminfo"), "{e}");
}

#[test]
fn rates_and_percentages() {
    assert_eq!(rate(100, 300, 2.0), Some(100));
    assert_eq!(rate(300, 100, 2.0), None);
    assert_eq!(rate(1, 2, 0.0), None);
    assert_eq!(percent(1.0, 0.0), 0.0);
    let a = CpuTicks {
        user: 10,
        idle: 10,
        iowait: 0,
        ..CpuTicks::default()
    };
    let b = CpuTicks {
        user: 20,
        idle: 20,
        iowait: 10,
        ..CpuTicks::default()
    };
    // iowait counts as busy in the original's cpu_total_usage.
    assert_eq!(busy_percent(&a, &b), Some(100.0 * 20.0 / 30.0));
}
