//! Configuration: the main config (`conf.d/datakit.conf`), input configs under `conf.d/`,
//! environment overrides, protect mode, and diagnostics with `file:line:col`.
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
pub use load::{InputInstance, LoadOptions, Loaded, MainSource, Origin, load};
pub use main_conf::MainConfig;
