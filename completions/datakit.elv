
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
            cand completion 'Print a shell completion script'
            cand __generate 'Write the generated files (completions, man pages, sample configs) into a directory'
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
            cand -R 'Refresh interval (at least 1s)'
            cand --refresh 'Refresh interval (at least 1s)'
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
            cand --json 'Print the raw snapshot as JSON and exit'
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
        &'datakit;completion'= {
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;__generate'= {
            cand --workdir 'Working directory holding conf.d/, pipeline/, data/, cache/ and the log [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]'
            cand --log 'Log to this file, or `stdout` (commands other than `run` log nothing by default)'
            cand --log-level 'Log level'
            cand --color 'When to use colours (NO_COLOR is respected with `auto`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'datakit;help'= {
            cand run 'Run the agent in the foreground: collect, process and send data until stopped'
            cand monitor 'Show the running agent''s state live: inputs, IO, outputs, HTTP API, errors'
            cand version 'Show version, commit, build date and compiler'
            cand check-config 'Check datakit.conf and every input config, with file:line:col for each problem'
            cand completion 'Print a shell completion script'
            cand __generate 'Write the generated files (completions, man pages, sample configs) into a directory'
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
        &'datakit;help;completion'= {
        }
        &'datakit;help;__generate'= {
        }
        &'datakit;help;help'= {
        }
    ]
    $completions[$command]
}
