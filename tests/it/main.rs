//! Integration tests: one binary, one module per command (see DESIGN.md "Tests as one
//! integration binary"). They run the real `datakit` binary in temporary workdirs.

mod support;

mod check_config;
mod cli;
mod clients;
mod doc;
mod election;
mod generated;
mod host_inputs;
mod httpapi;
mod line_protocol;
mod logging;
mod monitor;
mod pipeline;
mod prom;
mod run;
mod service;
mod sinks;
