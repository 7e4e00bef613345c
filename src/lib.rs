//! DataKit: the host observability agent.
//!
//! The library behind the `datakit` binary. Every command in `commands/` is a thin layer over
//! these modules. `ARCHITECTURE.md` at the repository root draws the layers, the data path and
//! where to add an input, a receiver, an output or a Pipeline function; a test holds the
//! module graph to the layers it lists.

pub mod agent;
pub mod app;
pub mod build_info;
pub mod clock;
pub mod config;
pub mod diag;
pub mod doc;
pub mod election;
pub mod filter;
pub mod host;
pub mod httpapi;
pub mod idle;
pub mod ingest;
pub mod inputs;
pub mod io;
pub mod logging;
pub mod monitor;
pub mod net;
pub mod pipeline;
pub mod point;
pub mod refertable;
pub mod service;
pub mod shutdown;
pub mod stats;
pub mod table;
pub mod workdir;
