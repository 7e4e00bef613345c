//! Regression tests: see the module list in `mod.rs`.

#[allow(unused_imports)]
use crate::support::{Agent, Workdir, datakit, stdout};
