# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_datakit_global_optspecs
    string join \n workdir= log= log-level= color= h/help V/version
end

function __fish_datakit_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_datakit_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_datakit_using_subcommand
    set -l cmd (__fish_datakit_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c datakit -n "__fish_datakit_needs_command" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_needs_command" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_needs_command" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_needs_command" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c datakit -n "__fish_datakit_needs_command" -s V -l version -d 'Print version'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "run" -d 'Run the agent in the foreground: collect, process and send data until stopped'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "monitor" -d 'Show the running agent\'s state live: inputs, IO, outputs, HTTP API, errors'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "version" -d 'Show version, commit, build date and compiler'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "check-config" -d 'Check datakit.conf and every input config, with file:line:col for each problem'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "doc" -d 'Documentation generated from the code: inputs, Pipeline functions, the main config'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "pipeline" -d 'Run Pipeline scripts on sample text, or check that scripts compile'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "install" -d 'Install DataKit: workdir, configs, the binary, and the systemd service'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "service" -d 'Control the systemd service: start, stop, restart, status, install, uninstall, reinstall'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "upgrade" -d 'Upgrade to a newer release: download, verify, swap, restart, roll back on failure'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c datakit -n "__fish_datakit_using_subcommand run" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand run" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand run" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand run" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand run" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -l to -d 'The agent\'s HTTP API, `host:port` or a Unix socket path [default: `[http_api] listen` of the workdir\'s config]' -r
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -s R -l refresh -d 'Refresh interval (at least 1s: a shorter one is raised, and the footer says so)' -r
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -s I -l input -d 'Show only these inputs in the inputs table' -r
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -s M -l module -d 'Show only these modules' -r -f -a "basic\t'agent: version, uptime, host, CPU, memory, open files, tasks'
inputs\t'inputs: instances, interval, points, last feed, cost, errors, crashes'
io\t'IO per category: queued, sent, on disk, dropped, bytes'
drops\t'dropped points by category, reason and origin (shown when there are any)'
outputs\t'outputs: status, latency, requests, disk queue'
http\t'HTTP API: requests by route and status, latency'
pipeline\t'Pipeline scripts: points, dropped, errors, cost; reference tables (when configured)'
filters\t'filters: where the rules came from, each rule and the points it dropped (shown when there are rules)'
election\t'election: state, leader, namespace'
errors\t'the latest errors'"
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -s V -l verbose -d 'Show every module and more detail'
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -l once -d 'Print one snapshot and exit (for scripts)'
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -l json -d 'Print the snapshot as JSON and exit (only the parts of the -M modules, the -I inputs)'
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand version" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand version" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand version" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand version" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand version" -l json -d 'Print as JSON'
complete -c datakit -n "__fish_datakit_using_subcommand version" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand check-config" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand check-config" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand check-config" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand check-config" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand check-config" -l json -d 'Print the result as JSON (for scripts)'
complete -c datakit -n "__fish_datakit_using_subcommand check-config" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand doc" -l export -d 'Write every page as Markdown under DIR (index.md, config.md, inputs/, pipeline/)' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand doc" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand doc" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand doc" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand doc" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand doc" -l list -d 'List the inputs, grouped by catalog'
complete -c datakit -n "__fish_datakit_using_subcommand doc" -l markdown -d 'Print the Markdown source instead of the terminal view'
complete -c datakit -n "__fish_datakit_using_subcommand doc" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand completion" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand completion" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand completion" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand completion" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand completion" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and not __fish_seen_subcommand_from test check which help" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and not __fish_seen_subcommand_from test check which help" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and not __fish_seen_subcommand_from test check which help" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and not __fish_seen_subcommand_from test check which help" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and not __fish_seen_subcommand_from test check which help" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and not __fish_seen_subcommand_from test check which help" -f -a "test" -d 'Run a script on sample text and print the resulting point'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and not __fish_seen_subcommand_from test check which help" -f -a "check" -d 'Compile scripts and report errors (every script of every category when none is named)'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and not __fish_seen_subcommand_from test check which help" -f -a "which" -d 'Say which script points of a source go through, and where it comes from'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and not __fish_seen_subcommand_from test check which help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -s T -l txt -d 'Sample text (logging: the `message`; other categories: line protocol)' -r
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -s F -l file -d 'Read the sample text from a file' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -s C -l category -d 'Category of the input point: logging, metric, object, ... (or an alias such as M)' -r -f -a "metric\t''
network\t''
keyevent\t''
object\t''
custom_object\t''
logging\t''
tracing\t''
rum\t''
security\t''
profiling\t''
dialtesting\t''
object_change\t''
dynamic_dw\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -l whole -d 'Treat the whole input as one record (one trailing newline removed)'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -l tab -d 'Print each result as aligned `key: value` lines'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -l date -d 'Print the point time as a date in the local zone instead of nanoseconds'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -l json -d 'Print one JSON object per record (measurement, tags, fields, time, dropped, cost)'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from check" -s C -l category -d 'Category of the named scripts' -r -f -a "metric\t''
network\t''
keyevent\t''
object\t''
custom_object\t''
logging\t''
tracing\t''
rum\t''
security\t''
profiling\t''
dialtesting\t''
object_change\t''
dynamic_dw\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from check" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from check" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from check" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from check" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from which" -s C -l category -d 'Category of the points' -r -f -a "metric\t''
network\t''
keyevent\t''
object\t''
custom_object\t''
logging\t''
tracing\t''
rum\t''
security\t''
profiling\t''
dialtesting\t''
object_change\t''
dynamic_dw\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from which" -l input-script -d 'The script the input names for the source (its `pipeline` option; `-` for none)' -r
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from which" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from which" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from which" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from which" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from which" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from help" -f -a "test" -d 'Run a script on sample text and print the resulting point'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from help" -f -a "check" -d 'Compile scripts and report errors (every script of every category when none is named)'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from help" -f -a "which" -d 'Say which script points of a source go through, and where it comes from'
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c datakit -n "__fish_datakit_using_subcommand install" -l dataway -d 'DataWay URL(s), comma-separated, e.g. `https://openway.guance.com?token=tkn_...`' -r
complete -c datakit -n "__fish_datakit_using_subcommand install" -l token -d 'Workspace token, added to the DataWay URLs that have none' -r
complete -c datakit -n "__fish_datakit_using_subcommand install" -l enable-inputs -d 'Inputs to run with their defaults (replaces `default_enabled_inputs`; `-name` disables one)' -r
complete -c datakit -n "__fish_datakit_using_subcommand install" -l global-tags -d 'Tags added to every point (`[global_host_tags]`); each needs a value' -r
complete -c datakit -n "__fish_datakit_using_subcommand install" -l root -d 'Act on a staging tree as if DIR were `/` (packaging, tests): files go under DIR and systemd is only told through `systemctl --root=DIR`' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand install" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand install" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand install" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand install" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand install" -l merge-defaults -d 'Rewrite an existing datakit.conf with every key this version knows (values are kept; the old file is saved as datakit.conf.old.<time>)'
complete -c datakit -n "__fish_datakit_using_subcommand install" -l no-service -d 'Install the files only: no systemd unit, nothing started'
complete -c datakit -n "__fish_datakit_using_subcommand install" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand service" -l root -d 'Act on a staging tree as if DIR were `/` (packaging, tests): files go under DIR and systemd is only told through `systemctl --root=DIR`' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand service" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand service" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand service" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand service" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand service" -s S -l start -d 'Start the service (same as `start`)'
complete -c datakit -n "__fish_datakit_using_subcommand service" -s T -l stop -d 'Stop the service (same as `stop`)'
complete -c datakit -n "__fish_datakit_using_subcommand service" -s R -l restart -d 'Restart the service (same as `restart`)'
complete -c datakit -n "__fish_datakit_using_subcommand service" -s U -l uninstall -d 'Stop the service and remove its unit; the workdir is kept (same as `uninstall`)'
complete -c datakit -n "__fish_datakit_using_subcommand service" -s I -l reinstall -d 'Re-create the unit from datakit.conf and restart (same as `reinstall`)'
complete -c datakit -n "__fish_datakit_using_subcommand service" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand upgrade" -l version -d 'Install this version (also to reinstall the running one, or to go back to an older one)' -r
complete -c datakit -n "__fish_datakit_using_subcommand upgrade" -l url -d 'Install the release tarball at this URL (http://, https:// or file://) instead of asking the release index' -r
complete -c datakit -n "__fish_datakit_using_subcommand upgrade" -l file -d 'Install the release tarball at this path on this host (an upgrade without network)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand upgrade" -l sha256 -d 'SHA-256 of the --url or --file tarball [default: read from SHA256SUMS beside it]' -r
complete -c datakit -n "__fish_datakit_using_subcommand upgrade" -l health-timeout -d 'How long the restarted agent has to answer /v1/ping before the previous binary is put back' -r
complete -c datakit -n "__fish_datakit_using_subcommand upgrade" -l root -d 'Act on a staging tree as if DIR were `/` (packaging, tests): files go under DIR and systemd is only told through `systemctl --root=DIR`' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand upgrade" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -f -a "(__fish_complete_directories)"
complete -c datakit -n "__fish_datakit_using_subcommand upgrade" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand upgrade" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand upgrade" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand upgrade" -l check -d 'Only say whether a newer release exists'
complete -c datakit -n "__fish_datakit_using_subcommand upgrade" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config doc completion pipeline install service upgrade help" -f -a "run" -d 'Run the agent in the foreground: collect, process and send data until stopped'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config doc completion pipeline install service upgrade help" -f -a "monitor" -d 'Show the running agent\'s state live: inputs, IO, outputs, HTTP API, errors'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config doc completion pipeline install service upgrade help" -f -a "version" -d 'Show version, commit, build date and compiler'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config doc completion pipeline install service upgrade help" -f -a "check-config" -d 'Check datakit.conf and every input config, with file:line:col for each problem'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config doc completion pipeline install service upgrade help" -f -a "doc" -d 'Documentation generated from the code: inputs, Pipeline functions, the main config'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config doc completion pipeline install service upgrade help" -f -a "completion" -d 'Print a shell completion script'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config doc completion pipeline install service upgrade help" -f -a "pipeline" -d 'Run Pipeline scripts on sample text, or check that scripts compile'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config doc completion pipeline install service upgrade help" -f -a "install" -d 'Install DataKit: workdir, configs, the binary, and the systemd service'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config doc completion pipeline install service upgrade help" -f -a "service" -d 'Control the systemd service: start, stop, restart, status, install, uninstall, reinstall'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config doc completion pipeline install service upgrade help" -f -a "upgrade" -d 'Upgrade to a newer release: download, verify, swap, restart, roll back on failure'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config doc completion pipeline install service upgrade help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c datakit -n "__fish_datakit_using_subcommand help; and __fish_seen_subcommand_from pipeline" -f -a "test" -d 'Run a script on sample text and print the resulting point'
complete -c datakit -n "__fish_datakit_using_subcommand help; and __fish_seen_subcommand_from pipeline" -f -a "check" -d 'Compile scripts and report errors (every script of every category when none is named)'
complete -c datakit -n "__fish_datakit_using_subcommand help; and __fish_seen_subcommand_from pipeline" -f -a "which" -d 'Say which script points of a source go through, and where it comes from'
complete -c datakit -n "__fish_datakit_using_subcommand doc" -a "dk\t'input (host)'
cpu\t'input (host)'
mem\t'input (host)'
swap\t'input (host)'
disk\t'input (host)'
diskio\t'input (host)'
net\t'input (host)'
system\t'input (host)'
host_processes\t'input (host)'
hostobject\t'input (host)'
prom\t'input (prom)'
postgresql\t'input (db)'
redis\t'input (db)'
memcached\t'input (db)'
mysql\t'input (db)'
nginx\t'input (nginx)'
logging\t'input (log)'
statsd\t'input (statsd)'
container\t'input (container)'
socket\t'input (socket)'
ddtrace\t'input (tracing)'
zipkin\t'input (tracing)'
opentelemetry\t'input (tracing)'
pipeline\t'Pipeline functions'
config\t'datakit.conf keys'"
complete -c datakit -n "__fish_datakit_using_subcommand completion" -a "bash\t''
elvish\t''
fish\t''
powershell\t''
zsh\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from test" -a "apache\t''
consul\t''
elasticsearch\t''
jenkins\t''
kafka\t''
mongodb\t''
mysql\t''
nginx\t''
postgresql\t''
rabbitmq\t''
redis\t''
solr\t''
tomcat\t''"
complete -c datakit -n "__fish_datakit_using_subcommand pipeline; and __fish_seen_subcommand_from check" -a "apache\t''
consul\t''
elasticsearch\t''
jenkins\t''
kafka\t''
mongodb\t''
mysql\t''
nginx\t''
postgresql\t''
rabbitmq\t''
redis\t''
solr\t''
tomcat\t''"
complete -c datakit -n "__fish_datakit_using_subcommand service" -a "start\t''
stop\t''
restart\t''
status\t''
install\t''
uninstall\t''
reinstall\t''"
