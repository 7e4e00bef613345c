//! One test per fixed bug, named after what broke (as ripgrep keeps them): each failed on the
//! code before its fix. Grouped by where the bug was seen:
//!
//! - [`data`]: wrong or lost data (timestamps, partial writes, DataWay answers, multiline);
//! - [`config`]: configuration files and `check-config`;
//! - [`agent`]: what the daemon (`run`) says: start-up errors, stopping, its log;
//! - [`cli`]: the commands' output, help, completions, man pages;
//! - [`setup`]: installing, upgrading, the test suite on a fresh machine.

mod agent;
mod cli;
mod config;
mod data;
mod setup;
