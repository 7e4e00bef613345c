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

complete -c datakit -n "__fish_datakit_needs_command" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -F
complete -c datakit -n "__fish_datakit_needs_command" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r
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
complete -c datakit -n "__fish_datakit_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "__generate" -d 'Write the generated files (completions, man pages, sample configs) into a directory'
complete -c datakit -n "__fish_datakit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c datakit -n "__fish_datakit_using_subcommand run" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand run" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r
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
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -s R -l refresh -d 'Refresh interval (at least 1s)' -r
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -s I -l input -d 'Show only these inputs in the inputs table' -r
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -s M -l module -d 'Show only these modules' -r
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r
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
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -l json -d 'Print the raw snapshot as JSON and exit'
complete -c datakit -n "__fish_datakit_using_subcommand monitor" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand version" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand version" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r
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
complete -c datakit -n "__fish_datakit_using_subcommand check-config" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand check-config" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r
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
complete -c datakit -n "__fish_datakit_using_subcommand completion" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand completion" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r
complete -c datakit -n "__fish_datakit_using_subcommand completion" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand completion" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand completion" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand __generate" -l workdir -d 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]' -r -F
complete -c datakit -n "__fish_datakit_using_subcommand __generate" -l log -d 'Log to this file, or `stdout` (commands other than `run` log nothing by default)' -r
complete -c datakit -n "__fish_datakit_using_subcommand __generate" -l log-level -d 'Log level' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c datakit -n "__fish_datakit_using_subcommand __generate" -l color -d 'When to use colours (NO_COLOR is respected with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c datakit -n "__fish_datakit_using_subcommand __generate" -s h -l help -d 'Print help'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config completion __generate help" -f -a "run" -d 'Run the agent in the foreground: collect, process and send data until stopped'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config completion __generate help" -f -a "monitor" -d 'Show the running agent\'s state live: inputs, IO, outputs, HTTP API, errors'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config completion __generate help" -f -a "version" -d 'Show version, commit, build date and compiler'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config completion __generate help" -f -a "check-config" -d 'Check datakit.conf and every input config, with file:line:col for each problem'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config completion __generate help" -f -a "completion" -d 'Print a shell completion script'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config completion __generate help" -f -a "__generate" -d 'Write the generated files (completions, man pages, sample configs) into a directory'
complete -c datakit -n "__fish_datakit_using_subcommand help; and not __fish_seen_subcommand_from run monitor version check-config completion __generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
