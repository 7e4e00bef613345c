//! Leader election end to end: three agents with the same configuration run one
//! election-aware input, through a real etcd and through the fake DataWay's election endpoints.
//!
//! Who wrote what is read from the fake DataWay's record: the election-aware instance
//! (`instance=elected`) carries the election tag `agent=<hostname>` of the agent that ran it.
//!
//! The no-two-writers rule checked: take, per agent, the collection timestamps of its `elected`
//! points and cut them into runs wherever two consecutive points are more than 3 collection
//! intervals apart; no run of one agent may overlap a run of another by more than one collection
//! interval. (Collection time, not arrival: a batch collected before a SIGSTOP may arrive after
//! it, which is late delivery, not a second writer.)

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rustix::process::Signal;
use serde_json::Value;

use datakit::config::{Dur, MainConfig};
use datakit::election::{
    Backend, Settings, Status, dataway::DatawayElection, etcd::Etcd as EtcdBackend,
};

use crate::support::dataway::FakeDataway;
use crate::support::etcd::Etcd;
use crate::support::servers::http_get;
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_election0123456789abcdef012345";
/// The test input's collection interval.
const INTERVAL: Duration = Duration::from_millis(200);
/// The lease (etcd TTL; with DataWay, the agents' trust in a heartbeat and the fake's timeout).
const LEASE: Duration = Duration::from_secs(3);

fn main_conf(dw: &FakeDataway, election: &str) -> String {
    format!(
        "default_enabled_inputs = []\n\
         [dataway]\n  urls = [\"{}\"]\n  retry_delay = \"100ms\"\n\
         [io]\n  flush_interval = \"100ms\"\n\
         [election]\n  enable = true\n  namespace = \"it\"\n  enable_namespace_tag = true\n  lease_ttl = \"{}s\"\n\
         {election}\n",
        dw.url(),
        LEASE.as_secs()
    )
}

const INPUTS: &str = "[[inputs.testinput]]\n  name = \"elected\"\n  interval = \"200ms\"\n  election = true\n\
                      [[inputs.testinput]]\n  name = \"everywhere\"\n  interval = \"1s\"\n";

struct Cluster {
    workdirs: Vec<Workdir>,
    agents: Vec<Option<Agent>>,
}

impl Cluster {
    fn start(conf: &str, n: usize) -> Cluster {
        let mut c = Cluster {
            workdirs: Vec::new(),
            agents: Vec::new(),
        };
        for _ in 0..n {
            let w = Workdir::new();
            w.write("conf.d/datakit.conf", conf);
            w.write("conf.d/test.conf", INPUTS);
            c.workdirs.push(w);
            c.agents.push(None);
        }
        for i in 0..n {
            c.spawn(i);
        }
        c
    }

    fn spawn(&mut self, i: usize) {
        let name = format!("agent-{i}");
        let tags = format!("agent={name}");
        let a = Agent::start(
            &self.workdirs[i],
            &[("ENV_HOSTNAME", &name), ("ENV_GLOBAL_ELECTION_TAGS", &tags)],
        );
        a.wait_api();
        self.agents[i] = Some(a);
    }

    fn agent(&self, i: usize) -> &Agent {
        self.agents[i].as_ref().expect("agent running")
    }

    fn monitor(&self, i: usize) -> Value {
        self.try_monitor(i).expect("monitor answers")
    }

    /// `/v1/monitor` of agent `i`, `None` when it does not answer (stopped).
    fn try_monitor(&self, i: usize) -> Option<Value> {
        let a = self.agents[i].as_ref()?;
        let (s, body) = http_get(&format!("{}/v1/monitor", a.api()))?;
        assert_eq!(s, 200);
        serde_json::from_str(&body).ok()
    }

    /// Index of the agent whose monitor says `leader`, waiting up to `timeout`.
    fn leader(&self, timeout: Duration) -> usize {
        let t0 = Instant::now();
        loop {
            let leaders: Vec<usize> = (0..self.agents.len())
                .filter(|i| {
                    self.try_monitor(*i)
                        .is_some_and(|m| m["election"]["state"] == "leader")
                })
                .collect();
            if leaders.len() == 1 {
                return leaders[0];
            }
            assert!(
                t0.elapsed() < timeout,
                "no single leader after {timeout:?}: {leaders:?}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn logs(&self) -> String {
        self.agents
            .iter()
            .flatten()
            .map(|a| format!("--- {}\n{}", a.root.display(), a.log()))
            .collect()
    }
}

/// (agent, collection time ns, arrival) of every `elected` point.
fn elected(dw: &FakeDataway) -> Vec<(String, i64, Instant)> {
    dw.points_named("test")
        .into_iter()
        .filter(|p| p.tags.get("instance").map(String::as_str) == Some("elected"))
        .map(|p| {
            (
                p.tags.get("agent").cloned().unwrap_or_default(),
                p.time,
                p.at,
            )
        })
        .collect()
}

/// Writers of `elected` points that arrived after `since`.
fn writers_since(dw: &FakeDataway, since: Instant) -> Vec<String> {
    let mut w: Vec<String> = elected(dw)
        .into_iter()
        .filter(|(_, _, at)| *at > since)
        .map(|(a, _, _)| a)
        .collect();
    w.sort();
    w.dedup();
    w
}

/// Waits for the first `elected` point from an agent other than `old` arriving after `since`;
/// the time from `since` to its arrival.
fn handover(dw: &FakeDataway, old: &str, since: Instant, timeout: Duration) -> (String, Duration) {
    let t0 = Instant::now();
    loop {
        if let Some((a, _, at)) = elected(dw)
            .into_iter()
            .filter(|(a, _, at)| *at > since && a != old)
            .min_by_key(|(_, _, at)| *at)
        {
            return (a, at - since);
        }
        assert!(t0.elapsed() < timeout, "no new writer within {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The largest overlap (ms; negative: a gap) between writing runs of different agents, by
/// collection time, as the module comment defines it.
fn max_overlap_ms(dw: &FakeDataway) -> (i64, usize) {
    let mut per: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (a, t, _) in elected(dw) {
        per.entry(a).or_default().push(t);
    }
    let gap = 3 * INTERVAL.as_nanos() as i64;
    let mut runs: Vec<(String, i64, i64)> = Vec::new();
    for (a, mut ts) in per {
        ts.sort_unstable();
        let mut start = ts[0];
        let mut last = ts[0];
        for &t in &ts[1..] {
            if t - last > gap {
                runs.push((a.clone(), start, last));
                start = t;
            }
            last = t;
        }
        runs.push((a, start, last));
    }
    let mut worst = i64::MIN;
    for (i, (a, s1, e1)) in runs.iter().enumerate() {
        for (b, s2, e2) in &runs[i + 1..] {
            if a != b {
                worst = worst.max(e1.min(e2) - s1.max(s2));
            }
        }
    }
    (worst / 1_000_000, runs.len())
}

fn assert_no_two_writers(dw: &FakeDataway, what: &str) -> i64 {
    let (overlap, runs) = max_overlap_ms(dw);
    eprintln!("{what}: {runs} writing runs, largest overlap between agents {overlap} ms");
    assert!(
        overlap <= INTERVAL.as_millis() as i64,
        "{what}: two agents ran the elected input at once for {overlap} ms"
    );
    overlap
}

/// Points of election-aware inputs carry the election tags, not the host tags; others the host's.
fn assert_tags(dw: &FakeDataway) {
    let pts = dw.points_named("test");
    let el = pts
        .iter()
        .find(|p| p.tags.get("instance").map(String::as_str) == Some("elected"))
        .expect("elected points");
    assert_eq!(
        el.tags.get("election_namespace").map(String::as_str),
        Some("it"),
        "{:?}",
        el.tags
    );
    assert!(
        el.tags.contains_key("agent") && !el.tags.contains_key("host"),
        "{:?}",
        el.tags
    );
    let ev = pts
        .iter()
        .find(|p| p.tags.get("instance").map(String::as_str) == Some("everywhere"))
        .expect("ordinary points");
    assert!(
        ev.tags.contains_key("host") && !ev.tags.contains_key("agent"),
        "{:?}",
        ev.tags
    );
}

/// The whole scenario on a cluster of three; `backend_restart` restarts the backend (etcd).
fn three_agents(
    label: &str,
    dw: &FakeDataway,
    conf: &str,
    poll: Duration,
    mut backend_restart: Option<&mut dyn FnMut()>,
) {
    let mut c = Cluster::start(conf, 3);
    // Exactly one writes.
    let first = c.leader(Duration::from_secs(20));
    let name = |i: usize| format!("agent-{i}");
    dw.wait_for(Duration::from_secs(10), "elected points", |p| {
        p.iter()
            .any(|p| p.tags.get("instance").map(String::as_str) == Some("elected"))
    });
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        writers_since(dw, t),
        vec![name(first)],
        "exactly the leader writes"
    );
    // Every agent runs the ordinary instance.
    let mut everywhere: Vec<String> = dw
        .points_named("test")
        .iter()
        .filter(|p| p.tags.get("instance").map(String::as_str) == Some("everywhere"))
        .filter_map(|p| p.tags.get("host").cloned())
        .collect();
    everywhere.sort();
    everywhere.dedup();
    assert_eq!(everywhere.len(), 3, "{everywhere:?}");
    assert_tags(dw);
    let m = c.monitor(first);
    assert_eq!(m["election"]["leader"], name(first).as_str());
    assert_eq!(m["election"]["namespace"], "it");
    assert!(m["election"]["since_ns"].as_i64().unwrap_or(0) > 0);
    let follower = (first + 1) % 3;
    assert_eq!(c.monitor(follower)["election"]["state"], "follower");
    assert_eq!(c.monitor(follower)["inputs"]["testinput"]["instances"], 2);
    let (_, metrics) = http_get(&format!("{}/metrics", c.agent(first).api())).unwrap();
    let want = format!(
        "datakit_election_status{{elected_id=\"{0}\",id=\"{0}\",namespace=\"it\",status=\"success\"}}",
        name(first)
    );
    assert!(metrics.contains(&want), "{metrics}");
    assert!(
        metrics.contains("datakit_election_inputs{namespace=\"it\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "datakit_election_resume_total{{id=\"{}\",namespace=\"it\"}} 1\n",
            name(first)
        )),
        "{metrics}"
    );

    // `datakit monitor` shows the election panel.
    let out = crate::support::datakit()
        .args(["--color", "never", "monitor", "--once", "-M", "E", "--to"])
        .arg(format!("127.0.0.1:{}", c.agent(first).port))
        .output()
        .unwrap();
    let text = crate::support::stdout(&out);
    for part in ["Election", "leader", name(first).as_str(), "it"] {
        assert!(text.contains(part), "{part} missing:\n{text}");
    }

    // SIGKILL the leader: another agent takes over within the lease plus one follower poll,
    // one collection interval, and 1.5 s for the etcd/DataWay expiry granularity, the flush and
    // a loaded machine.
    let killed = Instant::now();
    c.agents[first].take().expect("leader").kill9();
    let (second_name, took) = handover(dw, &name(first), killed, Duration::from_secs(20));
    eprintln!("{label}: handover after SIGKILL: {took:?} to {second_name}");
    let bound = LEASE + poll + INTERVAL + Duration::from_millis(1500);
    assert!(took <= bound, "handover took {took:?}, more than {bound:?}");
    let second = c.leader(Duration::from_secs(10));
    assert_eq!(name(second), second_name);
    // The killed agent comes back as a follower.
    c.spawn(first);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(c.monitor(first)["election"]["state"], "follower");

    if let Some(restart) = backend_restart.as_mut() {
        restart();
        std::thread::sleep(Duration::from_secs(1));
        c.leader(Duration::from_secs(20));
        let t = Instant::now();
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(
            writers_since(dw, t).len(),
            1,
            "one writer after the backend restart"
        );
    }

    // SIGSTOP the leader for longer than the lease, then SIGCONT.
    let paused = c.leader(Duration::from_secs(10));
    c.agent(paused).signal(Signal::STOP);
    let stopped = Instant::now();
    let (third_name, took) = handover(dw, &name(paused), stopped, Duration::from_secs(20));
    eprintln!("{label}: handover after SIGSTOP: {took:?} to {third_name}");
    std::thread::sleep(Duration::from_secs(1));
    c.agent(paused).signal(Signal::CONT);
    std::thread::sleep(Duration::from_secs(3));
    let now_leader = c.leader(Duration::from_secs(10));
    assert_eq!(
        name(now_leader),
        third_name,
        "the resumed agent must not take over"
    );
    assert_eq!(c.monitor(paused)["election"]["state"], "follower");
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(writers_since(dw, t), vec![third_name.clone()]);

    // A clean stop resigns.
    let stopping = Instant::now();
    assert_eq!(c.agents[now_leader].take().expect("leader").stop(), Some(0));
    let (_, took) = handover(dw, &third_name, stopping, Duration::from_secs(20));
    eprintln!("{label}: handover after SIGTERM: {took:?}");

    assert_no_two_writers(dw, label);
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    for a in c.agents.iter_mut().flatten() {
        a.stop();
    }
}

#[test]
fn etcd_three_agents_one_writer_handover_and_no_two_writers() {
    let mut etcd = Etcd::start();
    let dw = FakeDataway::start(TOKEN);
    let conf = main_conf(
        &dw,
        &format!(
            "  backend = \"etcd\"\n[election.etcd]\n  endpoints = [\"{}\"]\n",
            etcd.url()
        ),
    );
    let mut restart = || {
        etcd.stop();
        std::thread::sleep(Duration::from_secs(2));
        etcd.restart();
    };
    three_agents("etcd", &dw, &conf, LEASE / 4, Some(&mut restart));
}

#[test]
fn dataway_three_agents_one_writer_handover_and_no_two_writers() {
    let dw = FakeDataway::start(TOKEN);
    dw.set_election(LEASE, 0.5);
    let conf = main_conf(&dw, "  backend = \"dataway\"\n");
    three_agents("dataway", &dw, &conf, Duration::from_millis(500), None);
    // Every agent took part, with the workspace token.
    let events = dw.election_events();
    let mut ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids, vec!["agent-0", "agent-1", "agent-2"]);
    assert!(
        events
            .iter()
            .all(|e| e.namespace == "it" && e.status != "401")
    );
}

#[test]
fn banned_and_disabled_agents_run_election_inputs_as_ordinary_ones() {
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &main_conf(
            &dw,
            "  node_whitelist = [\"somebody-else\"]\n  [election.tags]\n    zone = \"z1\"\n",
        ),
    );
    w.write("conf.d/test.conf", INPUTS);
    let mut a = Agent::start(&w, &[("ENV_HOSTNAME", "banned-host")]);
    a.wait_api();
    dw.wait_for(Duration::from_secs(10), "elected points", |p| {
        p.iter()
            .any(|p| p.tags.get("instance").map(String::as_str) == Some("elected"))
    });
    let m: Value =
        serde_json::from_str(&http_get(&format!("{}/v1/monitor", a.api())).unwrap().1).unwrap();
    assert_eq!(m["election"]["state"], "banned");
    let p = dw
        .points_named("test")
        .into_iter()
        .find(|p| p.tags.get("instance").map(String::as_str) == Some("elected"))
        .unwrap();
    assert_eq!(
        p.tags.get("zone").map(String::as_str),
        Some("z1"),
        "election tags: {:?}",
        p.tags
    );
    assert!(!p.tags.contains_key("host"));
    assert!(
        dw.election_events().is_empty(),
        "a banned agent does not campaign"
    );
    a.stop();

    // Disabled: election tags are the host tags.
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &main_conf(&dw, "").replace("enable = true", "enable = false"),
    );
    w.write("conf.d/test.conf", INPUTS);
    let mut a = Agent::start(&w, &[("ENV_HOSTNAME", "plain-host")]);
    a.wait_api();
    dw.wait_for(Duration::from_secs(10), "elected points", |p| {
        p.iter().any(|p| {
            p.tags.get("instance").map(String::as_str) == Some("elected")
                && p.tags.get("host").map(String::as_str) == Some("plain-host")
        })
    });
    let (_, metrics) = http_get(&format!("{}/metrics", a.api())).unwrap();
    assert!(metrics.contains("status=\"disabled\"} 0\n"), "{metrics}");
    a.stop();
}

fn settings(id: &str) -> Settings {
    Settings {
        status: Status::Defeat,
        id: id.into(),
        namespace: "unit".into(),
        lease: LEASE,
    }
}

#[test]
fn etcd_backend_campaign_heartbeat_resign_and_expiry() {
    let etcd = Etcd::start();
    let mut c = MainConfig::default();
    c.election.etcd.endpoints = vec!["http://127.0.0.1:1".into(), etcd.url()];
    c.election.lease_ttl = Dur::from_secs(LEASE.as_secs());
    let mut a = EtcdBackend::from_config(&c, &settings("a")).unwrap();
    let mut b = EtcdBackend::from_config(&c, &settings("b")).unwrap();
    assert_eq!(a.key(), "/datakit/election/unit");

    let r = a.campaign().unwrap();
    assert!(r.elected && r.leader == "a", "{r:?}");
    assert!(
        r.ttl
            .is_some_and(|t| t <= LEASE && t >= LEASE - Duration::from_secs(1)),
        "{r:?}"
    );
    let r = b.campaign().unwrap();
    assert!(!r.elected && r.leader == "a", "{r:?}");
    // Campaigning again while leader keeps the leadership.
    assert!(a.campaign().unwrap().elected);
    assert!(a.heartbeat().unwrap().elected);
    assert!(!b.heartbeat().unwrap().elected);
    assert_eq!(b.holder().unwrap().map(|h| h.0), Some("a".into()));

    // Resign: the key goes with the lease; b wins at once.
    a.resign().unwrap();
    assert_eq!(a.lease(), None);
    assert!(b.holder().unwrap().is_none());
    assert!(b.campaign().unwrap().elected);

    // b stops renewing: once its lease expires, a wins and b's heartbeat says deposed.
    std::thread::sleep(LEASE + Duration::from_millis(1500));
    let r = a.campaign().unwrap();
    assert!(r.elected, "{r:?}");
    let r = b.heartbeat().unwrap();
    assert!(!r.elected && b.lease().is_none(), "{r:?}");
    assert_eq!(b.campaign().unwrap().leader, "a");

    // etcd down: an error, not a panic or a false success.
    drop(etcd);
    assert!(a.heartbeat().is_err());
}

#[test]
fn dataway_backend_against_the_fake() {
    let dw = FakeDataway::start(TOKEN);
    dw.set_election(Duration::from_millis(600), 0.25);
    let mut c = MainConfig::default();
    c.dataway.urls = vec![dw.url()];
    let mut a = DatawayElection::from_config(&c, &settings("a"), "host-a").unwrap();
    let mut b = DatawayElection::from_config(&c, &settings("b b"), "host-b").unwrap();
    assert!(
        a.url("/v1/election")
            .ends_with("/v1/election?token=tkn_election0123456789abcdef012345&namespace=unit&id=a")
    );

    let r = a.campaign().unwrap();
    assert!(
        r.elected && r.interval == Some(Duration::from_millis(250)),
        "{r:?}"
    );
    let r = b.campaign().unwrap();
    assert!(!r.elected && r.leader == "a", "{r:?}");
    assert!(a.heartbeat().unwrap().elected);
    assert!(!b.heartbeat().unwrap().elected);
    // a goes quiet: the leadership expires.
    std::thread::sleep(Duration::from_millis(700));
    let r = b.campaign().unwrap();
    assert!(r.elected && r.leader == "b b", "{r:?}");
    assert!(!a.heartbeat().unwrap().elected);

    // A wrong token is refused: an error that names the status.
    c.dataway.urls = vec![format!("http://{}?token=tkn_wrong", dw.addr)];
    let mut x = DatawayElection::from_config(&c, &settings("x"), "host-x").unwrap();
    let e = x.campaign().unwrap_err().to_string();
    assert!(e.contains("401"), "{e}");
    // No token at all: refused locally, as the original does.
    c.dataway.urls = vec![format!("http://{}", dw.addr)];
    assert!(DatawayElection::from_config(&c, &settings("x"), "host-x").is_err());
    let ev = dw.election_events();
    assert_eq!(ev.iter().filter(|e| e.status == "401").count(), 1);
    assert!(
        ev.iter()
            .any(|e| e.id == "b b" && e.kind == "campaign" && e.status == "success")
    );
}
