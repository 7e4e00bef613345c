//! What `host_processes` declares it sends: the fields and tags of its metric and object
//! measurements (the object has every metric field plus its own).

use super::super::{HOST_TAG, field, tag};
use super::NAME;
use crate::inputs::MeasurementSpec;
use crate::point::Category;

macro_rules! common_fields {
    () => {
        [
            field!("rss", Uint, "digital,B", "Resident memory."),
            field!("vms", Uint, "digital,B", "Virtual memory."),
            field!(
                "mem_used_percent",
                Float,
                "percent,percent",
                "Resident memory in % of the host's memory."
            ),
            field!(
                "cpu_usage",
                Float,
                "percent,percent",
                "Average CPU use since the process started, in % of one core."
            ),
            field!(
                "cpu_usage_top",
                Float,
                "percent,percent",
                "CPU use since the previous collection, in % of one core (as `top` shows it)."
            ),
            field!("threads", Int, "count", "Threads."),
            field!(
                "open_files",
                Int,
                "count",
                "Open file descriptors (with `enable_open_files`)."
            ),
            field!("proc_syscr", Uint, "count", "Read system calls."),
            field!("proc_syscw", Uint, "count", "Write system calls."),
            field!(
                "proc_read_bytes",
                Uint,
                "digital,B",
                "Bytes read from storage."
            ),
            field!(
                "proc_write_bytes",
                Uint,
                "digital,B",
                "Bytes written to storage."
            ),
            field!(
                "voluntary_ctxt_switches",
                Int,
                "count",
                "Voluntary context switches."
            ),
            field!(
                "nonvoluntary_ctxt_switches",
                Int,
                "count",
                "Involuntary context switches."
            ),
            field!("page_minor_faults", Uint, "count", "Minor page faults."),
            field!("page_major_faults", Uint, "count", "Major page faults."),
            field!(
                "page_children_minor_faults",
                Uint,
                "count",
                "Minor page faults of waited-for children."
            ),
            field!(
                "page_children_major_faults",
                Uint,
                "count",
                "Major page faults of waited-for children."
            ),
        ]
    };
}

const METRIC_FIELDS: &[crate::inputs::FieldSpec] = &common_fields!();

pub(super) const OBJECT_FIELDS: &[crate::inputs::FieldSpec] = &{
    let c = common_fields!();
    let extra = [
        field!("pid", Int, "-", "Process ID."),
        field!(
            "cmdline",
            String,
            "-",
            "Command line; `(<name>)` for kernel threads."
        ),
        field!(
            "start_time",
            Int,
            "timeStamp,msec",
            "When the process started (Unix ms)."
        ),
        field!(
            "started_duration",
            Int,
            "time,s",
            "Time since the process started."
        ),
        field!(
            "state_zombie",
            Bool,
            "-",
            "Whether the process is a zombie."
        ),
        field!("work_directory", String, "-", "Working directory."),
        field!(
            "listen_ports",
            String,
            "-",
            "JSON array of the TCP ports the process listens on (with `enable_listen_ports`)."
        ),
        field!(
            "message",
            String,
            "-",
            "JSON of the whole object with `memory` and `cpu` details."
        ),
    ];
    let mut out = [c[0]; 25];
    let mut i = 0;
    while i < c.len() {
        out[i] = c[i];
        i += 1;
    }
    let mut j = 0;
    while j < extra.len() {
        out[i + j] = extra[j];
        j += 1;
    }
    out
};

const COMMON_TAGS: [crate::inputs::TagSpec; 4] = [
    HOST_TAG,
    tag!("process_name", "Process name (`/proc/<pid>/status` Name)."),
    tag!(
        "username",
        "Owner of the process (user name, else the numeric uid)."
    ),
    tag!(
        "container_id",
        "ID of the container the process runs in, when it runs in one."
    ),
];

const METRIC_TAGS: &[crate::inputs::TagSpec] = &[
    COMMON_TAGS[0],
    COMMON_TAGS[1],
    COMMON_TAGS[2],
    COMMON_TAGS[3],
    tag!("pid", "Process ID."),
    tag!("cmdline", "Command line."),
];

const OBJECT_TAGS: &[crate::inputs::TagSpec] = &[
    COMMON_TAGS[0],
    COMMON_TAGS[1],
    COMMON_TAGS[2],
    COMMON_TAGS[3],
    tag!(
        "state",
        "Process state: running, sleep, blocked, idle, stop, zombie, ..."
    ),
    tag!("name", "Object name: `<host>_<pid>`."),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[
    MeasurementSpec {
        name: NAME,
        category: Category::Metric,
        description: "Resource use of one process (with `open_metric`).",
        tags: METRIC_TAGS,
        fields: METRIC_FIELDS,
    },
    MeasurementSpec {
        name: NAME,
        category: Category::Object,
        description: "One process of the host.",
        tags: OBJECT_TAGS,
        fields: OBJECT_FIELDS,
    },
];
