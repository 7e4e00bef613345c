//! Integration tests: one binary, one module per command, so the suite is linked once instead
//! of once per file (which keeps a build on two cores short). They run the real `datakit` binary
//! in temporary workdirs.

mod support;

mod abuse;
mod architecture;
mod check_config;
mod cli;
mod clients;
mod container;
mod doc;
mod election;
mod faults;
mod filters;
mod generated;
mod host_inputs;
mod httpapi;
mod line_protocol;
mod logging;
mod memcached;
mod monitor;
mod mysql;
mod nginx;
mod opentelemetry;
mod pipeline;
mod postgresql;
mod prom;
mod redis;
mod refer_table;
mod regression;
mod remote_pipelines;
mod run;
mod self_contained;
mod service;
mod sinks;
mod socket;
mod statsd;
mod tracing;
