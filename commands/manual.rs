//! What the man pages say besides usage and options, per command: the variables read (other
//! than the arguments' own `env`), the exit statuses, the files, examples. `__generate` renders
//! them into `man/`; a test in `cli.rs` checks that every command has an entry and that the
//! `Exit status:` lines of `--help` agree with them.

use crate::prelude::ManPage;

const WORKDIR: &str = "The workdir: /usr/local/datakit when run as root, else $XDG_DATA_HOME/datakit \
     (~/.local/share/datakit); --workdir or DATAKIT_WORKDIR chooses another.";

const ENV_VARS: (&str, &str) = (
    "ENV_*",
    "Override keys of conf.d/datakit.conf (ENV_HTTP_LISTEN, ENV_DATAWAY, ...); \
     `datakit doc config` names the variable of every key. Precedence: command-line flag > \
     ENV_* variable > config file > default.",
);

const USAGE: (&str, &str) = (
    "2",
    "The command line is wrong: an unknown command or option, or an invalid value, also one \
     read from an environment variable (which the message names).",
);

const NO_COLOR: (&str, &str) = (
    "NO_COLOR",
    "When set and not empty, --color auto prints no colours.",
);

const SYSTEMCTL: (&str, &str) = (
    "DATAKIT_SYSTEMCTL",
    "The systemctl to run instead of the one on PATH; with it set, every action is carried \
     out, even for a --root staging tree.",
);

/// Every page, the main one first.
pub const PAGES: &[ManPage] = &[
    ManPage {
        path: &[],
        environment: &[
            NO_COLOR,
            ENV_VARS,
            (
                "HOST_PROC, HOST_SYS, HOST_ETC, HOST_VAR, HOST_RUN, HOST_DEV",
                "Where the host inputs find /proc, /sys, /etc, /var, /run and /dev: set them \
                 when the agent runs in a container with the host's directories mounted \
                 elsewhere (HOST_PROC=/rootfs/proc).",
            ),
            (
                "HOST_ROOT",
                "The host's root directory as mounted in a container (HOST_ROOT=/rootfs), for \
                 the disk input's statfs of the host's mount points.",
            ),
        ],
        exit_status: &[
            ("0", "Success."),
            (
                "1",
                "An error; the message on standard error says what and where.",
            ),
            USAGE,
            (
                "78",
                "`datakit run`: the configuration has errors (the systemd unit does not \
                 restart the agent after it).",
            ),
        ],
        files: &[
            ("/usr/local/datakit", WORKDIR),
            (
                "WORKDIR/conf.d/datakit.conf",
                "The main config; without it, the built-in defaults apply.",
            ),
            (
                "WORKDIR/conf.d/**/*.conf",
                "Input configs: [[inputs.NAME]] tables, one per input instance.",
            ),
            (
                "WORKDIR/pipeline/",
                "Pipeline scripts, by category (WORKDIR/pipeline/logging/nginx.p).",
            ),
            (
                "WORKDIR/data/, WORKDIR/cache/",
                "Data written by the file output; disk queues and log-tailing positions.",
            ),
            (
                "WORKDIR/log",
                "The agent's log (see [logging] in datakit.conf).",
            ),
        ],
        examples: &[
            (
                "datakit --workdir /tmp/datakit run",
                "Runs the agent in the foreground on a workdir of its own.",
            ),
            (
                "datakit check-config",
                "Checks every config file and reports each problem with file:line:col.",
            ),
            ("datakit monitor", "Shows the running agent's state live."),
            (
                "datakit doc cpu",
                "Shows the cpu input's options and measurements.",
            ),
        ],
    },
    ManPage {
        path: &["run"],
        environment: &[
            ENV_VARS,
            (
                "HOST_PROC, HOST_SYS, HOST_ETC, HOST_VAR, HOST_RUN, HOST_DEV, HOST_ROOT",
                "Where the host inputs find the host's /proc, /sys, ... (see datakit(1)).",
            ),
        ],
        exit_status: &[
            (
                "0",
                "Stopped cleanly on SIGINT or SIGTERM: every batch delivered or queued on disk.",
            ),
            (
                "1",
                "Another error: another agent holds the workdir's pid file, the log cannot be \
                 opened, ...",
            ),
            USAGE,
            (
                "78",
                "The configuration has errors (printed first); `datakit check-config` lists \
                 them too.",
            ),
        ],
        files: &[
            (
                "WORKDIR/conf.d/datakit.conf",
                "The main config; without it, the built-in defaults apply.",
            ),
            (
                "WORKDIR/conf.d/**/*.conf",
                "Input configs, re-read on SIGHUP.",
            ),
            ("WORKDIR/pipeline/", "Pipeline scripts, re-read on SIGHUP."),
            (
                "WORKDIR/.pid",
                "The pid file: a second agent on the same workdir is refused.",
            ),
            (
                "WORKDIR/data/out/",
                "Line-protocol files per category, when no DataWay is configured.",
            ),
            (
                "WORKDIR/cache/queue/OUTPUT/",
                "Bodies an output could not take yet, replayed in order.",
            ),
            (
                "WORKDIR/cache/logging/positions.json",
                "How far each tailed log file has been delivered.",
            ),
            (
                "WORKDIR/log",
                "The agent's log (see [logging] in datakit.conf).",
            ),
        ],
        examples: &[
            (
                "datakit --workdir /tmp/datakit run",
                "Runs on a workdir of its own (Ctrl-C stops it).",
            ),
            (
                "ENV_HTTP_LISTEN=127.0.0.1:9530 datakit run",
                "Serves the HTTP API on another port than the config says.",
            ),
            (
                "kill -HUP $(cat /usr/local/datakit/.pid)",
                "Reloads the input configs and scripts.",
            ),
        ],
    },
    ManPage {
        path: &["monitor"],
        environment: &[(
            "ENV_HTTP_LISTEN",
            "Where the agent listens, when --to is not given (as the agent reads it).",
        )],
        exit_status: &[
            ("0", "The snapshot was shown (or the live view quit)."),
            (
                "1",
                "No agent answers at the address, or its answer is not a snapshot; or an \
                 unknown module name.",
            ),
            USAGE,
        ],
        files: &[(
            "WORKDIR/conf.d/datakit.conf",
            "[http_api] listen says where the agent is, unless --to is given.",
        )],
        examples: &[
            ("datakit monitor", "The live view; q quits."),
            (
                "datakit monitor -M In,IO -R 2s",
                "Only the inputs and IO panels, every 2 seconds.",
            ),
            (
                "datakit monitor --json -M inputs",
                "The inputs part of the snapshot, as JSON.",
            ),
            (
                "datakit monitor --once --to 10.0.0.5:9529",
                "One snapshot of another agent, as text.",
            ),
        ],
    },
    ManPage {
        path: &["version"],
        environment: &[],
        exit_status: &[("0", "Always."), USAGE],
        files: &[],
        examples: &[(
            "datakit version --json",
            "Version, commit and build as JSON.",
        )],
    },
    ManPage {
        path: &["check-config"],
        environment: &[ENV_VARS],
        exit_status: &[
            ("0", "No error (warnings allowed)."),
            ("1", "At least one error."),
            USAGE,
        ],
        files: &[
            ("WORKDIR/conf.d/datakit.conf", "The main config."),
            (
                "WORKDIR/conf.d/**/*.conf",
                "Input configs (hidden files and .git skipped).",
            ),
        ],
        examples: &[
            (
                "datakit check-config",
                "A table per file, then every problem.",
            ),
            (
                "datakit --workdir /srv/dk check-config --json",
                "The same as JSON, for scripts.",
            ),
        ],
    },
    ManPage {
        path: &["doc"],
        environment: &[(
            "PAGER",
            "Pages longer than the terminal go through it (default: less -R).",
        )],
        exit_status: &[
            ("0", "The page was shown or written."),
            (
                "1",
                "No such input or Pipeline function (the message names the closest), or a file \
                 cannot be written.",
            ),
            USAGE,
        ],
        files: &[],
        examples: &[
            ("datakit doc cpu", "An input's page."),
            ("datakit doc --list", "Every input."),
            ("datakit doc pipeline grok", "One Pipeline function."),
            ("datakit doc config", "Every datakit.conf key."),
            ("datakit doc --export docs/", "All pages as Markdown files."),
        ],
    },
    ManPage {
        path: &["completion"],
        environment: &[],
        exit_status: &[("0", "The script was printed."), USAGE],
        files: &[
            (
                "/etc/bash_completion.d/datakit",
                "Where bash-completion looks for the bash script.",
            ),
            (
                "~/.config/fish/completions/datakit.fish",
                "Where fish looks for the fish script.",
            ),
        ],
        examples: &[
            (
                "datakit completion bash > /etc/bash_completion.d/datakit",
                "Installs the bash completion.",
            ),
            (
                "datakit completion zsh > \"${fpath[1]}/_datakit\"",
                "Installs the zsh completion.",
            ),
        ],
    },
    ManPage {
        path: &["pipeline"],
        environment: &[],
        exit_status: &[
            ("0", "Success."),
            (
                "1",
                "A script is missing, does not compile, or fails on a record.",
            ),
            USAGE,
        ],
        files: &[
            (
                "WORKDIR/pipeline/CATEGORY/NAME.p",
                "Your scripts (logging also WORKDIR/pipeline/NAME.p); they replace the \
                 built-in scripts of the same name.",
            ),
            (
                "WORKDIR/gitrepos/REPO/pipeline/",
                "Scripts from git repositories, laid out the same way; they win over both.",
            ),
            (
                "WORKDIR/pipeline_remote/CATEGORY/",
                "The console's scripts, pulled from DataWay; they win over all of these.",
            ),
            (
                "WORKDIR/pipeline/pattern/",
                "Grok pattern files: one NAME REGEX per line.",
            ),
        ],
        examples: &[
            (
                "datakit pipeline test nginx --txt '127.0.0.1 - - [24/Mar/2021:13:54:19 +0800] \"GET / HTTP/1.1\" 200 97 \"-\" \"curl/7.81.0\"'",
                "Runs the built-in nginx script on one line.",
            ),
            (
                "datakit pipeline check",
                "Compiles every script of every category.",
            ),
        ],
    },
    ManPage {
        path: &["pipeline", "test"],
        environment: &[(
            "TZ",
            "The zone --date prints times in, and the local zone of the time functions.",
        )],
        exit_status: &[
            ("0", "Every record ran."),
            (
                "1",
                "The script is missing (the message says where it was looked for), does not \
                 compile (every error is shown), or fails on a record.",
            ),
            USAGE,
        ],
        files: &[
            (
                "WORKDIR/pipeline/CATEGORY/NAME.p",
                "Where a script name is looked for (logging also WORKDIR/pipeline/NAME.p), \
                 before the built-in scripts.",
            ),
            ("WORKDIR/pipeline/pattern/", "Grok pattern files."),
        ],
        examples: &[
            (
                "datakit pipeline test ./my.p --file sample.log --tab",
                "One result per line of sample.log, as aligned key: value lines.",
            ),
            (
                "datakit pipeline test mysql --file slow.log --whole",
                "The whole file as one record (a multi-line slow-log entry).",
            ),
            (
                "datakit pipeline test cpu.p -C metric --txt 'cpu,host=a usage=1.5'",
                "A metric point, given as line protocol.",
            ),
        ],
    },
    ManPage {
        path: &["pipeline", "check"],
        environment: &[],
        exit_status: &[
            ("0", "Every script compiles."),
            (
                "1",
                "A script does not compile (each of its errors is shown once) or is missing.",
            ),
            USAGE,
        ],
        files: &[
            (
                "WORKDIR/pipeline/",
                "The scripts checked when none is named.",
            ),
            (
                "WORKDIR/pipeline/pattern/",
                "Grok pattern files, checked too.",
            ),
        ],
        examples: &[
            ("datakit pipeline check", "Every script of every category."),
            (
                "datakit pipeline check ./my.p -C metric",
                "One file, as a metric script.",
            ),
        ],
    },
    ManPage {
        path: &["pipeline", "which"],
        environment: &[],
        exit_status: &[
            ("0", "A script applies (and compiles)."),
            (
                "1",
                "No script applies (the places looked in are listed), the input says none, or \
                 the script does not compile.",
            ),
            USAGE,
        ],
        files: &[
            (
                "WORKDIR/pipeline_remote/CATEGORY/",
                "The console's scripts, pulled from DataWay; they win over every other place.",
            ),
            (
                "WORKDIR/pipeline_remote/remote.json",
                "The console's relation (source to script) and default scripts.",
            ),
            (
                "WORKDIR/conf.d/datakit.conf",
                "[pipeline.default_pipeline]: the category defaults.",
            ),
        ],
        examples: &[
            (
                "datakit pipeline which nginx",
                "The script nginx logs go through.",
            ),
            (
                "datakit pipeline which cpu -C metric",
                "The script cpu points go through (often the category default).",
            ),
        ],
    },
    ManPage {
        path: &["install"],
        environment: &[SYSTEMCTL],
        exit_status: &[
            ("0", "Installed (or nothing to change)."),
            ("1", "An error."),
            USAGE,
        ],
        files: &[
            (
                "/usr/local/datakit/",
                "The workdir: the binary, conf.d/ (datakit.conf mode 0600), pipeline/, data/, \
                 cache/.",
            ),
            ("/usr/local/bin/datakit", "A link to the installed binary."),
            (
                "/etc/systemd/system/datakit.service",
                "The unit, enabled and started.",
            ),
        ],
        examples: &[
            (
                "datakit install --dataway https://openway.guance.com --token tkn_... --enable-inputs dk",
                "Installs, configures and starts the service.",
            ),
            (
                "datakit install --root /tmp/stage --no-service",
                "Lays the files out in a staging tree.",
            ),
        ],
    },
    ManPage {
        path: &["service"],
        environment: &[SYSTEMCTL],
        exit_status: &[
            ("0", "Done."),
            (
                "1",
                "An error (no systemd, the unit is not installed, ...).",
            ),
            USAGE,
            (
                "3",
                "`status`: the service is not running (status exits as systemctl status does).",
            ),
        ],
        files: &[(
            "/etc/systemd/system/datakit.service",
            "The unit; local changes belong in a drop-in (systemctl edit datakit).",
        )],
        examples: &[
            ("datakit service status", "systemctl status datakit."),
            ("datakit service -R", "Restarts the service."),
        ],
    },
    ManPage {
        path: &["upgrade"],
        environment: &[
            (
                "ENV_UPGRADE_INDEX_URL",
                "The release index, instead of [upgrade] index_url.",
            ),
            (
                "HTTPS_PROXY, HTTP_PROXY",
                "The proxy for downloads when [dataway] http_proxy is not set.",
            ),
            SYSTEMCTL,
        ],
        exit_status: &[
            ("0", "Upgraded, already up to date, or (--check) answered."),
            ("1", "Refused (checksum, tarball, binary) or rolled back."),
            USAGE,
        ],
        files: &[
            (
                "WORKDIR/datakit",
                "The installed binary, replaced by a rename.",
            ),
            (
                "WORKDIR/datakit.bak",
                "The previous binary, put back when the new one does not come up.",
            ),
        ],
        examples: &[
            (
                "datakit upgrade --check",
                "Says whether a newer release exists.",
            ),
            (
                "datakit upgrade --url https://example.com/datakit-0.2.0-linux-amd64.tar.gz",
                "Installs a given tarball (checked against SHA256SUMS next to it).",
            ),
        ],
    },
];
