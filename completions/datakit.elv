
use builtin;
use str;

set edit:completion:arg-completer[datakit] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'datakit'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'datakit'= {
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run the agent in the foreground: collect, process and send data until stopped'
            cand monitor 'Show the running agent''s state live: inputs, IO, outputs, HTTP API, errors'
            cand version 'Show version, commit, build date and compiler'
            cand check-config 'Check datakit.conf and every input config, with file:line:col for each problem'
            cand doc 'Documentation generated from the code: inputs, Pipeline functions, the main config'
            cand completion 'Print a shell completion script'
            cand pipeline 'Run Pipeline scripts on sample text, or check that scripts compile'
            cand install 'Install DataKit: workdir, configs, the binary, and the systemd service'
            cand service 'Control the systemd service: start, stop, restart, status, install, uninstall, reinstall'
            cand upgrade 'Upgrade to a newer release: download, verify, swap, restart, roll back on failure'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'datakit;run'= {
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;monitor'= {
            cand --to 'The agent''s HTTP API, `host:port` or a Unix socket path [default: `[http_api] listen` of the workdir''s config]'
            cand -R 'Refresh interval (at least 1s: a shorter one is raised, and the footer says so)'
            cand --refresh 'Refresh interval (at least 1s: a shorter one is raised, and the footer says so)'
            cand -I 'Show only these inputs in the inputs table'
            cand --input 'Show only these inputs in the inputs table'
            cand -M 'Show only these modules'
            cand --module 'Show only these modules'
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand -V 'Show every module and more detail'
            cand --verbose 'Show every module and more detail'
            cand --once 'Print one snapshot and exit (for scripts)'
            cand --json 'Print the snapshot as JSON and exit (only the parts of the -M modules, the -I inputs)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;version'= {
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand --json 'Print as JSON'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;check-config'= {
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand --json 'Print the result as JSON (for scripts)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;doc'= {
            cand --export 'Write every page as Markdown under DIR (index.md, config.md, inputs/, pipeline/)'
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand --list 'List the inputs, grouped by catalog'
            cand --markdown 'Print the Markdown source instead of the terminal view'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;completion'= {
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;pipeline'= {
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand test 'Run a script on sample text and print the resulting point'
            cand check 'Compile scripts and report errors (every script of every category when none is named)'
            cand which 'Say which script points of a source go through, and where it comes from'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'datakit;pipeline;test'= {
            cand -T 'Sample text (logging: the `message`; other categories: line protocol)'
            cand --txt 'Sample text (logging: the `message`; other categories: line protocol)'
            cand -F 'Read the sample text from a file'
            cand --file 'Read the sample text from a file'
            cand -C 'Category of the input point: logging, metric, object, ... (or an alias such as M)'
            cand --category 'Category of the input point: logging, metric, object, ... (or an alias such as M)'
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand --whole 'Treat the whole input as one record (one trailing newline removed)'
            cand --tab 'Print each result as aligned `key: value` lines'
            cand --date 'Print the point time as a date in the local zone instead of nanoseconds'
            cand --json 'Print one JSON object per record (measurement, tags, fields, time, dropped, cost)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;pipeline;check'= {
            cand -C 'Category of the named scripts'
            cand --category 'Category of the named scripts'
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;pipeline;which'= {
            cand -C 'Category of the points'
            cand --category 'Category of the points'
            cand --input-script 'The script the input names for the source (its `pipeline` option; `-` for none)'
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;pipeline;help'= {
            cand test 'Run a script on sample text and print the resulting point'
            cand check 'Compile scripts and report errors (every script of every category when none is named)'
            cand which 'Say which script points of a source go through, and where it comes from'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'datakit;pipeline;help;test'= {
        }
        &'datakit;pipeline;help;check'= {
        }
        &'datakit;pipeline;help;which'= {
        }
        &'datakit;pipeline;help;help'= {
        }
        &'datakit;install'= {
            cand --dataway 'DataWay URL(s), comma-separated, e.g. `https://openway.guance.com?token=tkn_...`'
            cand --token 'Workspace token, added to the DataWay URLs that have none'
            cand --enable-inputs 'Inputs to run with their defaults (replaces `default_enabled_inputs`; `-name` disables one)'
            cand --global-tags 'Tags added to every point (`[global_host_tags]`); each needs a value'
            cand --root 'Act on a staging tree as if DIR were `/` (packaging, tests): files go under DIR and systemd is only told through `systemctl --root=DIR`'
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand --merge-defaults 'Rewrite an existing datakit.conf with every key this version knows (values are kept; the old file is saved as datakit.conf.old.<time>)'
            cand --no-service 'Install the files only: no systemd unit, nothing started'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;service'= {
            cand --root 'Act on a staging tree as if DIR were `/` (packaging, tests): files go under DIR and systemd is only told through `systemctl --root=DIR`'
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand -S 'Start the service (same as `start`)'
            cand --start 'Start the service (same as `start`)'
            cand -T 'Stop the service (same as `stop`)'
            cand --stop 'Stop the service (same as `stop`)'
            cand -R 'Restart the service (same as `restart`)'
            cand --restart 'Restart the service (same as `restart`)'
            cand -U 'Stop the service and remove its unit; the workdir is kept (same as `uninstall`)'
            cand --uninstall 'Stop the service and remove its unit; the workdir is kept (same as `uninstall`)'
            cand -I 'Re-create the unit from datakit.conf and restart (same as `reinstall`)'
            cand --reinstall 'Re-create the unit from datakit.conf and restart (same as `reinstall`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;upgrade'= {
            cand --version 'Install this version (also to reinstall the running one, or to go back to an older one)'
            cand --url 'Install the release tarball at this URL (http://, https:// or file://) instead of asking the release index'
            cand --file 'Install the release tarball at this path on this host (an upgrade without network)'
            cand --sha256 'SHA-256 of the --url or --file tarball [default: read from SHA256SUMS beside it]'
            cand --health-timeout 'How long the restarted agent has to answer /v1/ping before the previous binary is put back'
            cand --root 'Act on a staging tree as if DIR were `/` (packaging, tests): files go under DIR and systemd is only told through `systemctl --root=DIR`'
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand --check 'Only say whether a newer release exists'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;help'= {
            cand run 'Run the agent in the foreground: collect, process and send data until stopped'
            cand monitor 'Show the running agent''s state live: inputs, IO, outputs, HTTP API, errors'
            cand version 'Show version, commit, build date and compiler'
            cand check-config 'Check datakit.conf and every input config, with file:line:col for each problem'
            cand doc 'Documentation generated from the code: inputs, Pipeline functions, the main config'
            cand completion 'Print a shell completion script'
            cand pipeline 'Run Pipeline scripts on sample text, or check that scripts compile'
            cand install 'Install DataKit: workdir, configs, the binary, and the systemd service'
            cand service 'Control the systemd service: start, stop, restart, status, install, uninstall, reinstall'
            cand upgrade 'Upgrade to a newer release: download, verify, swap, restart, roll back on failure'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'datakit;help;run'= {
        }
        &'datakit;help;monitor'= {
        }
        &'datakit;help;version'= {
        }
        &'datakit;help;check-config'= {
        }
        &'datakit;help;doc'= {
        }
        &'datakit;help;completion'= {
        }
        &'datakit;help;pipeline'= {
            cand test 'Run a script on sample text and print the resulting point'
            cand check 'Compile scripts and report errors (every script of every category when none is named)'
            cand which 'Say which script points of a source go through, and where it comes from'
        }
        &'datakit;help;pipeline;test'= {
        }
        &'datakit;help;pipeline;check'= {
        }
        &'datakit;help;pipeline;which'= {
        }
        &'datakit;help;install'= {
        }
        &'datakit;help;service'= {
        }
        &'datakit;help;upgrade'= {
        }
        &'datakit;help;help'= {
        }
    ]
    $completions[$command]
}
