//! The schema of `tracing` points, as data (the original's `TraceMeasurement`, plus the keys
//! its receivers add): `datakit doc ddtrace` / `doc zipkin` are generated from it.

use crate::inputs::{FieldSpec, FieldType, TagSpec};

/// The tags every receiver's spans may carry, followed by `$extra` (a receiver's own).
#[macro_export]
macro_rules! tracing_tags {
    ($($extra:expr),* $(,)?) => { &[
    $crate::inputs::TagSpec { name: "host", description: "Hostname (the span's `host` attribute, else the agent's host tag)." },
    $crate::inputs::TagSpec { name: "container_host", description: "Container hostname. Optional." },
    $crate::inputs::TagSpec { name: "endpoint", description: "Endpoint info. Available in Zipkin. Optional." },
    $crate::inputs::TagSpec { name: "env", description: "Application environment info. Optional." },
    $crate::inputs::TagSpec { name: "http_status_code", description: "HTTP response code. Optional." },
    $crate::inputs::TagSpec { name: "http_status_class", description: "HTTP response code class (`2xx`, `4xx`, ...), when `http_status_code` is set." },
    $crate::inputs::TagSpec { name: "http_method", description: "HTTP request method name. Optional." },
    $crate::inputs::TagSpec { name: "http_route", description: "HTTP route. Optional." },
    $crate::inputs::TagSpec { name: "http_url", description: "HTTP URL. Optional." },
    $crate::inputs::TagSpec { name: "operation", description: "Span name." },
    $crate::inputs::TagSpec { name: "project", description: "Project name. Optional." },
    $crate::inputs::TagSpec { name: "service", description: "Service name." },
    $crate::inputs::TagSpec { name: "source", description: "The receiver (`ddtrace`, `zipkin`, ...)." },
    $crate::inputs::TagSpec { name: "source_type", description: "Tracing source type: `app`, `framework`, `cache`, `message_queue`, `custom`, `db` or `web`, from the span's type." },
    $crate::inputs::TagSpec { name: "status", description: "Span status: `ok` or `error`." },
    $crate::inputs::TagSpec { name: "span_type", description: "Where the span sits in its trace: `entry` (root, or its parent is another service's), `local` (it has children), `exit`." },
    $crate::inputs::TagSpec { name: "version", description: "Application version info. Optional." },
    $crate::inputs::TagSpec { name: "dk_fingerprint", description: "DataKit fingerprint (always DataKit's hostname)." },
    $crate::inputs::TagSpec { name: "base_service", description: "Span base service name. Optional." },
    $crate::inputs::TagSpec { name: "db_host", description: "DB host name: ip or domain name. Optional." },
    $crate::inputs::TagSpec { name: "db_system", description: "Database system name: mysql, oracle, ... Optional." },
    $crate::inputs::TagSpec { name: "db_name", description: "Database name. Optional." },
    $crate::inputs::TagSpec { name: "out_host", description: "The database host, equivalent to `db_host` (DDTrace-go only). Optional." },
    $($extra),*
    ] };
}

/// The tags every receiver's spans may carry.
pub const MEASUREMENT_TAGS: &[TagSpec] = tracing_tags!();

/// Fields of every span.
pub const MEASUREMENT_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "duration",
        kind: FieldType::Int,
        unit: "time,μs",
        description: "Duration of span.",
    },
    FieldSpec {
        name: "message",
        kind: FieldType::String,
        unit: "-",
        description: "Origin content of span, as JSON (not with `del_message`).",
    },
    FieldSpec {
        name: "parent_id",
        kind: FieldType::String,
        unit: "-",
        description: "Parent span ID of current span (`0` for a root span).",
    },
    FieldSpec {
        name: "resource",
        kind: FieldType::String,
        unit: "-",
        description: "Resource name produce current span.",
    },
    FieldSpec {
        name: "span_id",
        kind: FieldType::String,
        unit: "-",
        description: "Span id.",
    },
    FieldSpec {
        name: "start",
        kind: FieldType::Int,
        unit: "timeStamp,usec",
        description: "start time of span.",
    },
    FieldSpec {
        name: "trace_id",
        kind: FieldType::String,
        unit: "-",
        description: "Trace id.",
    },
    FieldSpec {
        name: "dk_sampling_rate",
        kind: FieldType::Float,
        unit: "-",
        description: "The `sampler.sampling_rate` that kept the trace (first span of a sampled trace only).",
    },
];
