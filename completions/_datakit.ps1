
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'datakit' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'datakit'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'datakit' {
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the agent in the foreground: collect, process and send data until stopped')
            [CompletionResult]::new('monitor', 'monitor', [CompletionResultType]::ParameterValue, 'Show the running agent''s state live: inputs, IO, outputs, HTTP API, errors')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Show version, commit, build date and compiler')
            [CompletionResult]::new('check-config', 'check-config', [CompletionResultType]::ParameterValue, 'Check datakit.conf and every input config, with file:line:col for each problem')
            [CompletionResult]::new('doc', 'doc', [CompletionResultType]::ParameterValue, 'Documentation generated from the code: inputs, Pipeline functions, the main config')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('pipeline', 'pipeline', [CompletionResultType]::ParameterValue, 'Run Pipeline scripts on sample text, or check that scripts compile')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install DataKit: workdir, configs, the binary, and the systemd service')
            [CompletionResult]::new('service', 'service', [CompletionResultType]::ParameterValue, 'Control the systemd service: start, stop, restart, status, install, uninstall, reinstall')
            [CompletionResult]::new('upgrade', 'upgrade', [CompletionResultType]::ParameterValue, 'Upgrade to a newer release: download, verify, swap, restart, roll back on failure')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'datakit;run' {
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'datakit;monitor' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The agent''s HTTP API, `host:port` or a Unix socket path [default: `[http_api] listen` of the workdir''s config]')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Refresh interval (at least 1s: a shorter one is raised, and the footer says so)')
            [CompletionResult]::new('--refresh', '--refresh', [CompletionResultType]::ParameterName, 'Refresh interval (at least 1s: a shorter one is raised, and the footer says so)')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Show only these inputs in the inputs table')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'Show only these inputs in the inputs table')
            [CompletionResult]::new('-M', '-M ', [CompletionResultType]::ParameterName, 'Show only these modules')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Show only these modules')
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Show every module and more detail')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show every module and more detail')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Print one snapshot and exit (for scripts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the snapshot as JSON and exit (only the parts of the -M modules, the -I inputs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'datakit;version' {
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print as JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'datakit;check-config' {
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON (for scripts)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'datakit;doc' {
            [CompletionResult]::new('--export', '--export', [CompletionResultType]::ParameterName, 'Write every page as Markdown under DIR (index.md, config.md, inputs/, pipeline/)')
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'List the inputs, grouped by catalog')
            [CompletionResult]::new('--markdown', '--markdown', [CompletionResultType]::ParameterName, 'Print the Markdown source instead of the terminal view')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'datakit;completion' {
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'datakit;pipeline' {
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run a script on sample text and print the resulting point')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Compile scripts and report errors (every script of every category when none is named)')
            [CompletionResult]::new('which', 'which', [CompletionResultType]::ParameterValue, 'Say which script points of a source go through, and where it comes from')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'datakit;pipeline;test' {
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'Sample text (logging: the `message`; other categories: line protocol)')
            [CompletionResult]::new('--txt', '--txt', [CompletionResultType]::ParameterName, 'Sample text (logging: the `message`; other categories: line protocol)')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Read the sample text from a file')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read the sample text from a file')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Category of the input point: logging, metric, object, ... (or an alias such as M)')
            [CompletionResult]::new('--category', '--category', [CompletionResultType]::ParameterName, 'Category of the input point: logging, metric, object, ... (or an alias such as M)')
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('--whole', '--whole', [CompletionResultType]::ParameterName, 'Treat the whole input as one record (one trailing newline removed)')
            [CompletionResult]::new('--tab', '--tab', [CompletionResultType]::ParameterName, 'Print each result as aligned `key: value` lines')
            [CompletionResult]::new('--date', '--date', [CompletionResultType]::ParameterName, 'Print the point time as a date in the local zone instead of nanoseconds')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object per record (measurement, tags, fields, time, dropped, cost)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'datakit;pipeline;check' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Category of the named scripts')
            [CompletionResult]::new('--category', '--category', [CompletionResultType]::ParameterName, 'Category of the named scripts')
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'datakit;pipeline;which' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Category of the points')
            [CompletionResult]::new('--category', '--category', [CompletionResultType]::ParameterName, 'Category of the points')
            [CompletionResult]::new('--input-script', '--input-script', [CompletionResultType]::ParameterName, 'The script the input names for the source (its `pipeline` option; `-` for none)')
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'datakit;pipeline;help' {
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run a script on sample text and print the resulting point')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Compile scripts and report errors (every script of every category when none is named)')
            [CompletionResult]::new('which', 'which', [CompletionResultType]::ParameterValue, 'Say which script points of a source go through, and where it comes from')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'datakit;pipeline;help;test' {
            break
        }
        'datakit;pipeline;help;check' {
            break
        }
        'datakit;pipeline;help;which' {
            break
        }
        'datakit;pipeline;help;help' {
            break
        }
        'datakit;install' {
            [CompletionResult]::new('--dataway', '--dataway', [CompletionResultType]::ParameterName, 'DataWay URL(s), comma-separated, e.g. `https://openway.guance.com?token=tkn_...`')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Workspace token, added to the DataWay URLs that have none')
            [CompletionResult]::new('--enable-inputs', '--enable-inputs', [CompletionResultType]::ParameterName, 'Inputs to run with their defaults (replaces `default_enabled_inputs`; `-name` disables one)')
            [CompletionResult]::new('--global-tags', '--global-tags', [CompletionResultType]::ParameterName, 'Tags added to every point (`[global_host_tags]`); each needs a value')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Act on a staging tree as if DIR were `/` (packaging, tests): files go under DIR and systemd is only told through `systemctl --root=DIR`')
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('--merge-defaults', '--merge-defaults', [CompletionResultType]::ParameterName, 'Rewrite an existing datakit.conf with every key this version knows (values are kept; the old file is saved as datakit.conf.old.<time>)')
            [CompletionResult]::new('--no-service', '--no-service', [CompletionResultType]::ParameterName, 'Install the files only: no systemd unit, nothing started')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'datakit;service' {
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Act on a staging tree as if DIR were `/` (packaging, tests): files go under DIR and systemd is only told through `systemctl --root=DIR`')
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Start the service (same as `start`)')
            [CompletionResult]::new('--start', '--start', [CompletionResultType]::ParameterName, 'Start the service (same as `start`)')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'Stop the service (same as `stop`)')
            [CompletionResult]::new('--stop', '--stop', [CompletionResultType]::ParameterName, 'Stop the service (same as `stop`)')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Restart the service (same as `restart`)')
            [CompletionResult]::new('--restart', '--restart', [CompletionResultType]::ParameterName, 'Restart the service (same as `restart`)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Stop the service and remove its unit; the workdir is kept (same as `uninstall`)')
            [CompletionResult]::new('--uninstall', '--uninstall', [CompletionResultType]::ParameterName, 'Stop the service and remove its unit; the workdir is kept (same as `uninstall`)')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Re-create the unit from datakit.conf and restart (same as `reinstall`)')
            [CompletionResult]::new('--reinstall', '--reinstall', [CompletionResultType]::ParameterName, 'Re-create the unit from datakit.conf and restart (same as `reinstall`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'datakit;upgrade' {
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Install this version (also to reinstall the running one, or to go back to an older one)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Install the release tarball at this URL (http://, https:// or file://) instead of asking the release index')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Install the release tarball at this path on this host (an upgrade without network)')
            [CompletionResult]::new('--sha256', '--sha256', [CompletionResultType]::ParameterName, 'SHA-256 of the --url or --file tarball [default: read from SHA256SUMS beside it]')
            [CompletionResult]::new('--health-timeout', '--health-timeout', [CompletionResultType]::ParameterName, 'How long the restarted agent has to answer /v1/ping before the previous binary is put back')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Act on a staging tree as if DIR were `/` (packaging, tests): files go under DIR and systemd is only told through `systemctl --root=DIR`')
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Log to this file, or `stdout` (commands other than `run` log nothing by default)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is respected with `auto`)')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Only say whether a newer release exists')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'datakit;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the agent in the foreground: collect, process and send data until stopped')
            [CompletionResult]::new('monitor', 'monitor', [CompletionResultType]::ParameterValue, 'Show the running agent''s state live: inputs, IO, outputs, HTTP API, errors')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Show version, commit, build date and compiler')
            [CompletionResult]::new('check-config', 'check-config', [CompletionResultType]::ParameterValue, 'Check datakit.conf and every input config, with file:line:col for each problem')
            [CompletionResult]::new('doc', 'doc', [CompletionResultType]::ParameterValue, 'Documentation generated from the code: inputs, Pipeline functions, the main config')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('pipeline', 'pipeline', [CompletionResultType]::ParameterValue, 'Run Pipeline scripts on sample text, or check that scripts compile')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install DataKit: workdir, configs, the binary, and the systemd service')
            [CompletionResult]::new('service', 'service', [CompletionResultType]::ParameterValue, 'Control the systemd service: start, stop, restart, status, install, uninstall, reinstall')
            [CompletionResult]::new('upgrade', 'upgrade', [CompletionResultType]::ParameterValue, 'Upgrade to a newer release: download, verify, swap, restart, roll back on failure')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'datakit;help;run' {
            break
        }
        'datakit;help;monitor' {
            break
        }
        'datakit;help;version' {
            break
        }
        'datakit;help;check-config' {
            break
        }
        'datakit;help;doc' {
            break
        }
        'datakit;help;completion' {
            break
        }
        'datakit;help;pipeline' {
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run a script on sample text and print the resulting point')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Compile scripts and report errors (every script of every category when none is named)')
            [CompletionResult]::new('which', 'which', [CompletionResultType]::ParameterValue, 'Say which script points of a source go through, and where it comes from')
            break
        }
        'datakit;help;pipeline;test' {
            break
        }
        'datakit;help;pipeline;check' {
            break
        }
        'datakit;help;pipeline;which' {
            break
        }
        'datakit;help;install' {
            break
        }
        'datakit;help;service' {
            break
        }
        'datakit;help;upgrade' {
            break
        }
        'datakit;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
