use super::dataway::parse_answer;
use super::*;

const LEASE: Duration = Duration::from_secs(3);

fn won(leader: &str) -> Round {
    Round {
        elected: true,
        leader: leader.into(),
        interval: None,
        ttl: None,
    }
}

fn lost(leader: &str) -> Round {
    Round {
        elected: false,
        leader: leader.into(),
        interval: None,
        ttl: None,
    }
}

fn err() -> ElectionError {
    ElectionError::Transport {
        what: "test",
        message: "connection refused".into(),
    }
}

#[test]
fn dataway_success_defeat_and_errors() {
    let r = parse_answer(
        "t",
        r#"{"content":{"status":"success","namespace":"ns","id":"a","incumbency_id":"a","error_msg":"","interval":7}}"#,
        "a",
    )
    .unwrap();
    assert_eq!(
        r,
        Round {
            elected: true,
            leader: "a".into(),
            interval: Some(Duration::from_secs(7)),
            ttl: None
        }
    );
    let r = parse_answer(
        "t",
        r#"{"content":{"status":"defeat","incumbency_id":"b","interval":3}}"#,
        "a",
    )
    .unwrap();
    assert!(!r.elected);
    assert_eq!(r.leader, "b");
    // Success without an incumbent: this agent.
    let r = parse_answer("t", r#"{"content":{"status":"success"}}"#, "me").unwrap();
    assert_eq!((r.leader.as_str(), r.interval), ("me", None));
    // Unknown status, with DataWay's message.
    let e = parse_answer(
        "t",
        r#"{"content":{"status":"fail","error_msg":"namespace missing"}}"#,
        "a",
    )
    .unwrap_err();
    assert!(e.to_string().contains("namespace missing"), "{e}");
    for bad in [
        "",
        "not json",
        "{}",
        r#"{"content":null}"#,
        r#"{"content":{"interval":"x"}}"#,
        "[1,2]",
    ] {
        assert!(
            parse_answer("t", bad, "a").is_err(),
            "{bad:?} must be an error"
        );
    }
}

#[test]
fn dataway_interval_guard() {
    for (body, want) in [
        (r#"{"content":{"status":"defeat","interval":0}}"#, None),
        (r#"{"content":{"status":"defeat","interval":-5}}"#, None),
        (r#"{"content":{"status":"defeat","interval":"10"}}"#, None),
        (
            r#"{"content":{"status":"defeat","interval":1e300}}"#,
            Some(Duration::from_secs(3600)),
        ),
        (
            r#"{"content":{"status":"defeat","interval":0.5}}"#,
            Some(Duration::from_millis(500)),
        ),
        (r#"{"content":{"status":"defeat"}}"#, None),
    ] {
        assert_eq!(
            parse_answer("t", body, "a").unwrap().interval,
            want,
            "{body}"
        );
    }
}

#[test]
fn candidate_wins_then_loses_on_defeat() {
    let mut m = Machine::new(DEFAULT_INTERVAL, LEASE);
    assert!(!m.is_leader());
    assert_eq!(m.next_wait(), DEFAULT_INTERVAL);
    let t = Instant::now();
    assert_eq!(m.on_round(false, Ok(&lost("b")), t), Action::None);
    assert_eq!(m.leader_id, "b");
    assert_eq!(m.on_round(false, Ok(&won("a")), t), Action::Resume);
    assert!(m.is_leader());
    // The leader renews every third of the lease at most, and trusts the lease minus the margin.
    assert_eq!(m.next_wait(), LEASE / 3);
    assert_eq!(m.deadline(), Some(t + LEASE - Machine::margin(LEASE)));
    assert_eq!(m.on_round(true, Ok(&won("a")), t), Action::None);
    assert_eq!(m.on_round(true, Ok(&lost("b")), t), Action::Pause);
    assert!(!m.is_leader());
    assert_eq!(m.deadline(), None);
    assert_eq!(m.leader_id, "b");
}

#[test]
fn errors_depose_a_leader_and_keep_the_interval() {
    let mut m = Machine::new(DEFAULT_INTERVAL, LEASE);
    let t = Instant::now();
    let mut r = won("a");
    r.interval = Some(Duration::from_secs(2));
    assert_eq!(m.on_round(false, Ok(&r), t), Action::Resume);
    assert_eq!(m.interval(), Duration::from_secs(2));
    // An error keeps the interval, and steps down (the original would stay leader).
    assert_eq!(m.on_round(true, Err(&err()), t), Action::Pause);
    assert_eq!(m.interval(), Duration::from_secs(2));
    // A candidate's error changes nothing.
    assert_eq!(m.on_round(false, Err(&err()), t), Action::None);
    // A zero interval is ignored.
    let mut r = lost("b");
    r.interval = Some(Duration::ZERO);
    m.on_round(false, Ok(&r), t);
    assert_eq!(m.interval(), Duration::from_secs(2));
}

#[test]
fn the_local_deadline_deposes_without_an_answer() {
    let mut m = Machine::new(Duration::from_secs(1), LEASE);
    let t = Instant::now();
    m.on_round(false, Ok(&won("a")), t);
    let d = m.deadline().unwrap();
    assert_eq!(m.on_deadline(d - Duration::from_millis(1)), Action::None);
    assert_eq!(m.on_deadline(d), Action::Pause);
    assert!(!m.is_leader());
    // A renewal that answers after the deadline does not make it leader again...
    assert_eq!(m.on_round(true, Ok(&won("a")), t), Action::None);
    assert!(!m.is_leader());
    // ...a campaign does.
    assert_eq!(
        m.on_round(false, Ok(&won("a")), Instant::now()),
        Action::Resume
    );
}

#[test]
fn a_late_answer_is_useless_and_a_short_ttl_wins() {
    let mut m = Machine::new(Duration::from_secs(1), LEASE);
    let t = Instant::now().checked_sub(LEASE).unwrap();
    // Sent a lease ago: already expired on arrival.
    assert_eq!(m.on_round(false, Ok(&won("a")), t), Action::None);
    assert!(!m.is_leader());
    // The backend granted less than asked: the shorter lease counts.
    let now = Instant::now();
    let mut r = won("a");
    r.ttl = Some(Duration::from_secs(2));
    assert_eq!(m.on_round(false, Ok(&r), now), Action::Resume);
    let two = Duration::from_secs(2);
    assert_eq!(m.deadline(), Some(now + two - Machine::margin(two)));
}

#[test]
fn margins() {
    assert_eq!(
        Machine::margin(Duration::from_secs(15)),
        Duration::from_secs(3)
    );
    assert_eq!(
        Machine::margin(Duration::from_secs(1)),
        Duration::from_millis(300)
    );
    assert_eq!(
        Machine::margin(Duration::from_millis(400)),
        Duration::from_millis(200)
    );
}

#[test]
fn gate_follows_the_lease() {
    let g = Gate::new(true, vec![]);
    let mut rx = g.subscribe();
    assert!(!g.open());
    g.set(Some(Instant::now() + Duration::from_millis(50)));
    assert!(g.open());
    assert!(*rx.borrow_and_update());
    std::thread::sleep(Duration::from_millis(60));
    // Past the deadline the gate is shut even before the election task notices.
    assert!(!g.open());
    g.set(None);
    assert!(!*rx.borrow_and_update());
    assert!(Gate::open_always(vec![]).open());
}

#[test]
fn settings_and_tags() {
    let mut c = MainConfig::default();
    let host = vec![("host".to_string(), "h1".to_string())];
    assert_eq!(Settings::from_config(&c, "h1").status, Status::Disabled);
    assert_eq!(
        election_tags(&c, &host),
        host,
        "disabled: election tags are the host tags"
    );
    c.election.enable = true;
    c.election.enable_namespace_tag = true;
    c.election.namespace = "ns1".into();
    c.election.tags.insert("cluster".into(), "c1".into());
    let s = Settings::from_config(&c, "h1");
    assert_eq!((s.status, s.id.as_str()), (Status::Defeat, "h1"));
    assert_eq!(
        election_tags(&c, &host),
        vec![
            ("cluster".to_string(), "c1".to_string()),
            ("election_namespace".to_string(), "ns1".to_string())
        ]
    );
    c.election.node_whitelist = vec!["h2".into()];
    assert_eq!(Settings::from_config(&c, "h1").status, Status::Banned);
    c.election.node_whitelist.push("h1".into());
    c.election.id = "agent-1".into();
    let s = Settings::from_config(&c, "h1");
    assert_eq!((s.status, s.id.as_str()), (Status::Defeat, "agent-1"));
}

/// A scripted backend: answers in order, then errors.
struct Script {
    answers: std::collections::VecDeque<Result<Round, ElectionError>>,
    resigned: Arc<std::sync::atomic::AtomicBool>,
}

impl Backend for Script {
    fn name(&self) -> &'static str {
        "script"
    }
    fn campaign(&mut self) -> Result<Round, ElectionError> {
        self.answers.pop_front().unwrap_or_else(|| Err(err()))
    }
    fn heartbeat(&mut self) -> Result<Round, ElectionError> {
        self.campaign()
    }
    fn resign(&mut self) -> Result<(), ElectionError> {
        self.resigned.store(true, Relaxed);
        Ok(())
    }
}

#[tokio::test]
async fn runner_publishes_state_and_resigns() {
    let resigned = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut won_fast = won("a");
    won_fast.interval = Some(Duration::from_millis(20));
    let b = Script {
        answers: [
            Ok(lost("b")),
            Ok(won_fast.clone()),
            Ok(won_fast),
            Ok(lost("b")),
        ]
        .into(),
        resigned: resigned.clone(),
    };
    let stats = Arc::new(Stats::new());
    let gate = Arc::new(Gate::new(true, vec![]));
    let (stop_tx, stop) = Shutdown::new();
    let m = Machine::new(Duration::from_millis(20), Duration::from_secs(3));
    let task = tokio::spawn(run(Box::new(b), m, gate.clone(), stats.clone(), stop));
    let mut rx = gate.subscribe();
    tokio::time::timeout(Duration::from_secs(5), rx.wait_for(|l| *l))
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), rx.wait_for(|l| !*l))
        .await
        .unwrap()
        .unwrap();
    let e = stats.snapshot().election;
    assert_eq!((e.resume_total, e.pause_total), (1, 1));
    assert_eq!((e.state, e.leader.as_str()), ("follower", "b"));
    let _ = stop_tx.send(true);
    task.await.unwrap();
    assert!(resigned.load(Relaxed));
    let text = stats.snapshot().to_prometheus();
    assert!(
        text.contains("datakit_election_pause_total{id=\"\",namespace=\"\"} 1\n"),
        "{text}"
    );
}
