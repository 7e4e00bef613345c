//! OTLP's messages, as prost generated them: vendored source, not written here.
//!
//! Where they came from: the files `opentelemetry.proto.*.v1.rs` that `prost-build` 0.14 and
//! `tonic-build` 0.14 generated from the OpenTelemetry protocol definitions (OTLP **v1.8.0**,
//! `opentelemetry-proto` repository), as the crate `opentelemetry-proto` 0.31.0 ships them
//! (Apache-2.0). Taken unchanged except: the `cfg_attr` lines of serde and schemars are
//! stripped (this agent writes its own OTLP/JSON mapping, `super::json`), and so are the gRPC
//! client modules and the `gen-tonic` feature gates (only the servers are used). The messages
//! need `prost`; the gRPC servers (`*_service_server`) need `tonic` and `tonic-prost`.
//!
//! To update: take the same files from a newer `opentelemetry-proto` release built against
//! the prost and tonic versions of `Cargo.lock`, strip them the same way, and say the OTLP
//! version here.

#![allow(clippy::all, clippy::pedantic, missing_docs, rustdoc::all)]

pub mod common {
    pub mod v1 {
        include!("common.rs");
    }
}
pub mod resource {
    pub mod v1 {
        include!("resource.rs");
    }
}
pub mod trace {
    pub mod v1 {
        include!("trace.rs");
    }
}
pub mod metrics {
    pub mod v1 {
        include!("metrics.rs");
    }
}
pub mod logs {
    pub mod v1 {
        include!("logs.rs");
    }
}
pub mod collector {
    pub mod trace {
        pub mod v1 {
            include!("collector_trace.rs");
        }
    }
    pub mod metrics {
        pub mod v1 {
            include!("collector_metrics.rs");
        }
    }
    pub mod logs {
        pub mod v1 {
            include!("collector_logs.rs");
        }
    }
}
