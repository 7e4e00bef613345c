//! Inputs that exist only for the test suite (feature `test-inputs`): they exercise every kind
//! of option the config loader handles, and collect nothing.

use std::any::Any;
use std::collections::BTreeMap;
use std::time::Duration;

use super::{InputConfig, InputEntry, InputSpec, IntervalLimits, Validation, entry};
use crate::config::duration::Dur;
use crate::config_struct;

config_struct! {
    "A nested options table."
    pub struct TestSub {
        "A nested number."
        pub depth: u32 = 1,
    }
}

config_struct! {
    "Test input: every option kind, no collection."
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
}

pub const TEST_INPUT: InputEntry = entry::<TestInputConfig>(InputSpec {
    name: "testinput",
    catalog: "testing",
    description: "A config-only input for the test suite.",
    singleton: false,
    default_enabled: false,
    interval: Some(IntervalLimits {
        min: Duration::from_secs(1),
        max: Duration::from_secs(60),
    }),
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
}

pub const TEST_SINGLETON: InputEntry = entry::<TestSingletonConfig>(InputSpec {
    name: "testsingle",
    catalog: "testing",
    description: "A singleton input for the test suite.",
    singleton: true,
    // Not default-enabled: the generated datakit.conf must not depend on test features.
    default_enabled: false,
    interval: Some(IntervalLimits {
        min: Duration::from_secs(5),
        max: Duration::from_secs(300),
    }),
});
