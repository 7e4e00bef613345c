//! The library as the commands see it: one short path for each thing a command in `commands/`
//! calls, grouped by command. Commands use this module and nothing deeper, so the library can
//! move its insides without touching them.

pub use crate::build_info;
pub use crate::clock::now_ns;
pub use crate::idle;
pub use crate::workdir::{ROOT_WORKDIR, Workdir};

/// Loading and checking the configuration (`check-config`, `run`, `monitor`, `upgrade`).
pub mod config {
    pub use crate::config::decode::suggest;
    pub use crate::config::duration::format_duration;
    pub use crate::config::load::{FileReport, LoadOptions, MainSource, load_main, process_env};
    pub use crate::config::sample::main_conf_sample;
    pub use crate::config::{Diagnostic, Dur, Severity};
    pub use crate::inputs::confd::{Loaded, Origin as InstanceOrigin};

    /// The main config and every input config of `workdir`, with every finding.
    pub fn load(workdir: &crate::workdir::Workdir, opts: &LoadOptions<'_>) -> Loaded {
        crate::inputs::confd::load(workdir, opts, crate::inputs::registry())
    }
}

/// The inputs this build has.
pub mod inputs {
    pub use crate::inputs::{InputEntry, registry, sample};
}

/// The daemon (`run`).
pub mod run {
    pub use crate::agent::{ConfigFlags, PidFile, RunEvent, create_dirs, install_panic_hook, run};
    pub use crate::logging::{LogTarget, init as init_logging};
}

/// `pipeline test` and `pipeline check`.
pub mod pipeline {
    pub use crate::ingest::scripts::{Choice, ChosenScript, Rule, ScriptSet};
    pub use crate::pipeline::store::{
        Origin, ScriptStore, builtin_names, script_name, search_places,
    };
    pub use crate::pipeline::{CompileError, Program, RunOptions, debug};
    pub use crate::point::Category;
}

/// `doc`.
pub mod doc {
    pub use crate::doc::{
        DocError, config_markdown, export, function_markdown, input_markdown, pipeline_markdown,
        term,
    };

    /// The Pipeline functions' names.
    pub fn function_names() -> impl Iterator<Item = &'static str> {
        crate::pipeline::docs::FUNCTIONS.iter().map(|f| f.name)
    }
}

/// `install`, `service` and `upgrade`.
pub mod service {
    pub use crate::service::{Layout, Manager, ServiceError, Systemctl, install, upgrade};
}

/// `monitor`.
pub mod monitor {
    pub use crate::monitor::{MODULES, View, bytes, dur, parse_modules, render, select};
    pub use crate::net::local_api::{Endpoint, LocalApi, LocalApiError};
}
