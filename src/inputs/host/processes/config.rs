//! The options of `host_processes`, their checks, and the input they build.

use std::any::Any;
use std::collections::BTreeMap;
use std::time::Duration;

use super::super::{Roots, check_interval, check_regexes, check_tags};
use super::{Kind, ProcCollector, ProcessesInput};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::inputs::{Input, InputConfig, InputError, IntervalLimits, Validation};

/// Protect-mode range of `object_interval`.
pub const OBJECT_LIMITS: IntervalLimits = IntervalLimits {
    min: Duration::from_secs(30),
    max: Duration::from_secs(15 * 60),
};
/// Protect-mode range of `metric_interval`.
pub const METRIC_LIMITS: IntervalLimits = IntervalLimits {
    min: Duration::from_secs(10),
    max: Duration::from_secs(60),
};

config_struct! {
    "Processes as objects (and optionally metrics)."
    pub struct ProcessesConfig {
        "How often the process objects are sent."
        pub object_interval: Dur = Dur::from_secs(300),
        "How often the process metrics are sent (with `open_metric`)."
        pub metric_interval: Dur = Dur::from_secs(30),
        "Regular expressions of the process names to collect (`/proc/<pid>/status` Name); empty: all."
        pub process_name: Vec<String> = Vec::new(),
        "Skip processes that started less than this long ago."
        pub min_run_time: Dur = Dur::from_secs(600),
        "Also send one metric point per process every `metric_interval`."
        pub open_metric: bool = false,
        "Add `listen_ports` to objects: the TCP ports the process listens on."
        pub enable_listen_ports: bool = false,
        "Count each process's open files (`open_files`)."
        pub enable_open_files: bool = true,
        "Only processes that run in a container (with a container ID)."
        pub only_container_processes: bool = false,
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

impl InputConfig for ProcessesConfig {
    fn extra_intervals(&mut self) -> Vec<(&'static str, &mut Dur, IntervalLimits)> {
        vec![
            ("object_interval", &mut self.object_interval, OBJECT_LIMITS),
            ("metric_interval", &mut self.metric_interval, METRIC_LIMITS),
        ]
    }
    fn validate(&self, v: &mut Validation) {
        check_interval(v, "object_interval", self.object_interval);
        if self.open_metric {
            check_interval(v, "metric_interval", self.metric_interval);
        }
        check_tags(v, &self.tags);
        check_regexes(v, "process_name", &self.process_name);
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        let roots = Roots::from_env();
        let metric = if self.open_metric {
            Some(ProcCollector::new(self, roots.clone(), Kind::Metric)?)
        } else {
            None
        };
        Ok(Box::new(ProcessesInput {
            object: ProcCollector::new(self, roots, Kind::Object)?,
            object_interval: self.object_interval.get(),
            metric,
            metric_interval: self.metric_interval.get(),
        }))
    }
}
