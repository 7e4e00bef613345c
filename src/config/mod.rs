//! Configuration: the main config (`conf.d/datakit.conf`), environment overrides, protect
//! mode, the decoding machinery input configs use too, and diagnostics with `file:line:col`.
//! Input configs under `conf.d/` are decoded by the inputs layer (`inputs::confd`).
//!
//! Precedence, highest first: command-line flag > `ENV_*` variable > config file > default.

pub mod decode;

pub mod duration;
pub mod load;
pub mod main_conf;
pub mod sample;
pub mod schema;
pub mod validate;

pub use crate::diag::{Diagnostic, Location, Severity};
pub use duration::Dur;
pub use load::{FileReport, LoadOptions, MainSource};
pub use main_conf::MainConfig;
