//! DataKit: the host observability agent.
//!
//! The library behind the `datakit` binary. Every command in `commands/` is a thin layer over
//! these modules; see `DESIGN.md` in the shared folder for the data flow.

pub mod agent;
pub mod build_info;
pub mod clock;
pub mod config;
pub mod doc;
pub mod election;
pub mod host;
pub mod httpapi;
pub mod idle;
pub mod inputs;
pub mod io;
pub mod logging;
pub mod monitor;
pub mod pipeline;
pub mod point;
pub mod service;
pub mod stats;
pub mod workdir;
