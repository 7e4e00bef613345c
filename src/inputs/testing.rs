//! Inputs that exist only for the test suite (feature `test-inputs`): they exercise every kind
//! of option the config loader handles, and the supervisor and IO (crashes, blocking, durable
//! sequences). Never part of a release build.

use std::any::Any;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::{
    Collect, CollectCtx, FieldSpec, FieldType, Input, InputConfig, InputCtx, InputEntry,
    InputError, InputSpec, IntervalLimits, MeasurementSpec, TagSpec, Validation, entry,
    run_periodic,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::point::{Category, Point, Value};

config_struct! {
    "A nested options table."
    pub struct TestSub {
        "A nested number."
        pub depth: u32 = 1,
    }
}

config_struct! {
    "Test input: every option kind; emits `test` points with a sequence number."
    pub struct TestInputConfig {
        "Collection interval."
        pub interval: Dur = Dur::from_secs(10),
        "A required name (must not be empty)."
        pub name: String = String::new(),
        "A mode: `fast` or `slow`."
        pub mode: String = "fast".into(),
        "A count."
        pub count: u32 = 1,
        "Patterns."
        pub patterns: Vec<String> = Vec::new(),
        "Extra tags."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
        "A nested table."
        pub sub: TestSub = TestSub::default(),
        "Points per collection."
        pub points_per_tick: u32 = 1,
        "Panic on this collection (0: never)."
        pub panic_after: u32 = 0,
        "Return an error on this collection (0: never)."
        pub error_after: u32 = 0,
        "Block the collecting thread forever."
        pub block: bool = false,
        "Take this long over each collection."
        pub collect_delay: Dur = Dur::from_secs(0),
        "Durable sequence mode: resume from the last acknowledged number kept in this file."
        pub state_file: String = String::new(),
        "Election-aware: only the elected agent runs it."
        pub election: bool = false,
    }
}

impl InputConfig for TestInputConfig {
    fn interval(&self) -> Option<Dur> {
        Some(self.interval)
    }
    fn set_interval(&mut self, interval: Dur) {
        self.interval = interval;
    }
    fn validate(&self, v: &mut Validation) {
        if self.name.is_empty() {
            v.error("name", "is required and must not be empty");
        }
        if !matches!(self.mode.as_str(), "fast" | "slow") {
            v.error(
                "mode",
                format!("unknown mode `{}`; use `fast` or `slow`", self.mode),
            );
        }
        for (i, p) in self.patterns.iter().enumerate() {
            if p.is_empty() {
                v.warning(
                    &format!("patterns[{i}]"),
                    "empty pattern matches everything",
                );
            }
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn election_enabled(&self) -> bool {
        self.election
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        Ok(Box::new(TestInput { cfg: self.clone() }))
    }
}

struct TestInput {
    cfg: TestInputConfig,
}

struct TestCollector {
    cfg: TestInputConfig,
    ticks: u32,
    seq: i64,
}

fn point(name: &str, seq: i64, tags: &BTreeMap<String, String>) -> Point {
    let mut p = Point::new(Category::Metric, "test");
    p.set_tag("instance", name);
    for (k, v) in tags {
        p.set_tag(k.clone(), v.clone());
    }
    p.set_field("seq", Value::Int(seq));
    p
}

impl Collect for TestCollector {
    fn collect(&mut self, ctx: &CollectCtx) -> Result<Vec<Point>, String> {
        self.ticks += 1;
        if self.cfg.panic_after == self.ticks {
            panic!("test input `{}` panics as configured", self.cfg.name);
        }
        if self.cfg.error_after == self.ticks {
            return Err(format!(
                "test input `{}` fails as configured",
                self.cfg.name
            ));
        }
        if self.cfg.block {
            std::thread::sleep(Duration::from_secs(24 * 3600));
        }
        std::thread::sleep(self.cfg.collect_delay.get());
        // One nanosecond apart: points of one series with equal timestamps overwrite each other
        // in time-series stores.
        let pts = (0..self.cfg.points_per_tick)
            .map(|i| {
                self.seq += 1;
                let mut p = point(&self.cfg.name, self.seq, &self.cfg.tags);
                p.time = ctx.now_ns + i64::from(i);
                p
            })
            .collect();
        Ok(pts)
    }
}

impl Input for TestInput {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        let interval = self.cfg.interval.get();
        if self.cfg.state_file.is_empty() {
            let c = TestCollector {
                cfg: self.cfg,
                ticks: 0,
                seq: 0,
            };
            return Box::pin(run_periodic(Box::new(c), interval, ctx));
        }
        Box::pin(durable_sequence(self.cfg, ctx))
    }
}

/// Emits consecutive numbers and records, in order, the last one whose batch was acknowledged;
/// after a restart it continues from there: at-least-once, like the log tailer.
async fn durable_sequence(cfg: TestInputConfig, mut ctx: InputCtx) -> Result<(), InputError> {
    let path = ctx.workdir.join_config_path(&cfg.state_file);
    let mut next: i64 = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
        + 1;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<(crate::io::Ack, i64)>();
    // Detached: it records acknowledgements that arrive while IO shuts down, after this input
    // has returned. Whatever is not recorded is sent again after a restart (at-least-once).
    tokio::spawn(save_acked(path, rx));
    let mut tick = tokio::time::interval(cfg.interval.get());
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = ctx.shutdown.wait() => break,
        }
        let pts: Vec<Point> = (0..cfg.points_per_tick)
            .map(|i| point(&cfg.name, next + i64::from(i), &cfg.tags))
            .collect();
        let last = next + i64::from(cfg.points_per_tick) - 1;
        let ack = ctx
            .ingest
            .feed_acked(
                &ctx.origin,
                Category::Metric,
                pts,
                &crate::ingest::FeedOptions::default(),
            )
            .await?;
        let _ = tx.send((ack, last));
        next = last + 1;
    }
    Ok(())
}

async fn save_acked(
    path: PathBuf,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<(crate::io::Ack, i64)>,
) {
    while let Some((ack, last)) = rx.recv().await {
        if ack.await.is_err() {
            return; // IO stopped before the batch was durable: do not record it.
        }
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, last.to_string()).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
}

const TEST_TAGS: &[TagSpec] = &[TagSpec {
    name: "instance",
    description: "The instance's `name`.",
}];
const TEST_FIELDS: &[FieldSpec] = &[FieldSpec {
    name: "seq",
    kind: FieldType::Int,
    unit: "count",
    description: "A sequence number.",
}];

pub const TEST_INPUT: InputEntry = entry::<TestInputConfig>(InputSpec {
    name: "testinput",
    catalog: "testing",
    description: "An input for the test suite.",
    singleton: false,
    interval: Some(IntervalLimits {
        min: Duration::from_millis(50),
        max: Duration::from_secs(60),
    }),
    measurements: &[MeasurementSpec {
        name: "test",
        category: Category::Metric,
        description: "Sequence numbers.",
        tags: TEST_TAGS,
        fields: TEST_FIELDS,
    }],
});

config_struct! {
    "Singleton test input."
    pub struct TestSingletonConfig {
        "Collection interval."
        pub interval: Dur = Dur::from_secs(30),
    }
}

impl InputConfig for TestSingletonConfig {
    fn interval(&self) -> Option<Dur> {
        Some(self.interval)
    }
    fn set_interval(&mut self, interval: Dur) {
        self.interval = interval;
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        let c = TestCollector {
            cfg: TestInputConfig {
                name: "single".into(),
                ..TestInputConfig::default()
            },
            ticks: 0,
            seq: 0,
        };
        let interval = self.interval.get();
        Ok(Box::new(SingleInput { c, interval }))
    }
}

struct SingleInput {
    c: TestCollector,
    interval: Duration,
}

impl Input for SingleInput {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(run_periodic(Box::new(self.c), self.interval, ctx))
    }
}

pub const TEST_SINGLETON: InputEntry = entry::<TestSingletonConfig>(InputSpec {
    name: "testsingle",
    catalog: "testing",
    description: "A singleton input for the test suite.",
    singleton: true,
    // Not default-enabled: the generated datakit.conf must not depend on test features.
    interval: Some(IntervalLimits {
        min: Duration::from_secs(5),
        max: Duration::from_secs(300),
    }),
    measurements: &[MeasurementSpec {
        name: "test",
        category: Category::Metric,
        description: "Sequence numbers.",
        tags: TEST_TAGS,
        fields: TEST_FIELDS,
    }],
});
