//! The trace options every receiver shares, with the original's meaning, and their checks.

use std::collections::BTreeMap;

use regex::Regex;

use crate::config_struct;
use crate::inputs::{InputError, Validation};

config_struct! {
    "Global sampling of whole traces by their id (the original's hash: agents with the same \
     rate keep the same traces)."
    pub struct SamplerConfig {
        "Share of traces kept, 0 to 1. Below 1 the sampler runs: a trace is kept when its id's \
         64-bit number modulo 10 000 is at most rate × 10 000; traces the tracer marked to keep \
         (`user_keep`) always are, and the kept trace's first span gets `dk_sampling_rate`."
        pub sampling_rate: f64 = 1.0,
    }
}

config_struct! {
    "A bound on the requests decoded at once, with a queue: past it the receiver answers as \
     the original does when its worker pool is full (400), and counts the refusal."
    pub struct ThreadsConfig {
        "Requests waiting for a worker; 0 with `threads` 0 turns the bound off."
        pub buffer: u64 = 0,
        "Requests decoded at once; 0 turns the bound off."
        pub threads: u64 = 0,
    }
}

/// `close_resource`: per service (`*` for any), regular expressions of resources whose
/// traces are dropped.
#[derive(Debug, Clone, Default)]
pub struct CloseResource {
    pub rules: Vec<(String, Vec<Regex>)>,
}

impl CloseResource {
    /// Compiles the option's regular expressions (checked by `validate` already).
    pub fn compile(map: &BTreeMap<String, Vec<String>>) -> Result<CloseResource, InputError> {
        let mut rules = Vec::new();
        for (service, list) in map {
            let mut res = Vec::with_capacity(list.len());
            for r in list {
                res.push(
                    Regex::new(r)
                        .map_err(|e| InputError::Setup(format!("close_resource.{service}: {e}")))?,
                );
            }
            rules.push((service.clone(), res));
        }
        Ok(CloseResource { rules })
    }

    /// Whether a span of `service` with `resource` closes its trace.
    pub fn closes(&self, service: &str, resource: &str) -> bool {
        self.rules
            .iter()
            .any(|(s, res)| (s == "*" || s == service) && res.iter().any(|r| r.is_match(resource)))
    }
}

/// The pipeline's options, compiled.
#[derive(Debug, Clone, Default)]
pub struct PipelineOptions {
    /// The measurement and `source` tag (`ddtrace`, `zipkin`, ...).
    pub source: &'static str,
    pub close_resource: CloseResource,
    pub omit_err_status: Vec<String>,
    pub keep_rare_resource: bool,
    /// The sampling rate when a sampler runs (below 1).
    pub sampling_rate: Option<f64>,
    /// `tags`: added to every span (the span's own keys win).
    pub tags: Vec<(String, String)>,
    pub del_message: bool,
    /// Tag `dk_fingerprint`: this agent's hostname.
    pub hostname: String,
}

/// Checks the shared options; `v` gets the problems, keyed as in the input's table.
pub fn validate(
    v: &mut Validation,
    close_resource: &BTreeMap<String, Vec<String>>,
    omit_err_status: &[String],
    sampler: &SamplerConfig,
) {
    for (service, list) in close_resource {
        for (i, r) in list.iter().enumerate() {
            if let Err(e) = crate::config::validate::check_regex(r) {
                v.error(
                    &format!("close_resource.{service}[{i}]"),
                    format!("invalid regular expression: {e}"),
                );
            }
        }
    }
    for (i, s) in omit_err_status.iter().enumerate() {
        if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
            v.warning(
                &format!("omit_err_status[{i}]"),
                format!(
                    "`{s}` is not an HTTP status code: no span's `http_status_code` will equal it"
                ),
            );
        }
    }
    let r = sampler.sampling_rate;
    if !(0.0..=1.0).contains(&r) {
        v.error(
            "sampler.sampling_rate",
            format!("must be between 0 and 1, found {r}"),
        );
    }
}

impl PipelineOptions {
    /// The sampler's threshold: rate × 10 000, truncated (the original's).
    pub fn sampler_threshold(&self) -> Option<u64> {
        self.sampling_rate.map(|r| (10_000.0 * r) as u64)
    }
}
