//! `datakit monitor`: a live view of the running agent's self-metrics.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use datakit::app::config::Dur;
use datakit::app::monitor::{self, Endpoint, LocalApi, LocalApiError, View};
use datakit::app::run::ConfigFlags;

use crate::prelude::{Candidates, Globals};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Modules (-M, full or short names): basic (B), inputs (In: the inputs, then the \
producers: the write API and create_point()), io (IO), drops (D), outputs (W), http (H), \
pipeline (P), election (E), errors (Err). Default: basic, inputs, io, drops, outputs, errors; -V \
shows all. With --json, -M keeps those parts of the snapshot (the whole of it without -M) and -I \
those inputs.\n\
Tables fit the terminal without cutting words: on a narrow one (80 columns) the columns a table \
can do without are left out, and its title names them.\n\
Keys: q or Ctrl-C quits."
)]
pub struct Args {
    /// The agent's HTTP API, `host:port` or a Unix socket path [default: `[http_api] listen` of the workdir's config]
    #[arg(long, value_name = "HOST:PORT")]
    pub to: Option<String>,
    /// Refresh interval (at least 1s: a shorter one is raised, and the footer says so)
    #[arg(short = 'R', long, default_value = "5s", value_name = "DURATION")]
    pub refresh: Dur,
    /// Show only these inputs in the inputs table
    #[arg(short = 'I', long, value_delimiter = ',', value_name = "INPUT,...")]
    pub input: Vec<String>,
    /// Show only these modules
    #[arg(
        short = 'M',
        long,
        value_delimiter = ',',
        value_name = "MODULE,...",
        value_parser = module_candidates(),
        hide_possible_values = true
    )]
    pub module: Vec<String>,
    /// Show every module and more detail
    #[arg(short = 'V', long)]
    pub verbose: bool,
    /// Print one snapshot and exit (for scripts)
    #[arg(long)]
    pub once: bool,
    /// Print the snapshot as JSON and exit (only the parts of the -M modules, the -I inputs)
    #[arg(long)]
    pub json: bool,
}

/// The modules by name, for the shell completions (short names are accepted too).
fn module_candidates() -> Candidates {
    Candidates::described(
        monitor::MODULES
            .iter()
            .map(|(name, _, what)| (*name, *what)),
    )
}

/// The shortest refresh interval: a snapshot costs the agent a walk over every counter.
const MIN_REFRESH: Duration = Duration::from_secs(1);

/// `1s`, or `1s (-R 200ms raised to the minimum, 1s)`.
fn refresh_text(requested: Duration, used: Duration) -> String {
    let fmt = datakit::app::config::format_duration;
    if requested < used {
        format!(
            "{} (-R {} raised to the minimum, {})",
            fmt(used),
            fmt(requested),
            fmt(MIN_REFRESH)
        )
    } else {
        fmt(used)
    }
}

fn target(args: &Args, g: &Globals) -> Endpoint {
    if let Some(t) = &args.to {
        return Endpoint::parse(t);
    }
    let loaded = ConfigFlags::default().load(&g.workdir);
    Endpoint::from_config(&loaded.main.http_api)
}

/// The one-line answer when no agent answers.
fn not_running(t: &Endpoint, e: &LocalApiError) -> ExitCode {
    let why = match e {
        LocalApiError::Unreachable { reason, .. } => {
            reason.rsplit(": ").next().unwrap_or(reason).to_string()
        }
        other => other.to_string(),
    };
    eprintln!(
        "datakit monitor: no agent answers at {t} ({why}); start one with `datakit run`, or point --to at it"
    );
    ExitCode::FAILURE
}

/// Restores the terminal however the loop ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = crossterm::execute!(
            std::io::stdout(),
            crossterm::cursor::Show,
            crossterm::terminal::LeaveAlternateScreen
        );
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

pub fn exec(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let modules = monitor::parse_modules(&args.module).map_err(|e| anyhow::anyhow!(e))?;
    let t = target(&args, g);
    let api = LocalApi::new(t.clone(), Duration::from_secs(5));
    let requested = args.refresh.get();
    let refresh = requested.max(MIN_REFRESH);
    let first = match api.monitor() {
        Ok(s) => s,
        Err(e) => return Ok(not_running(&t, &e)),
    };
    if args.json {
        let selected = monitor::select(&first, &modules, &args.input);
        println!("{}", serde_json::to_string_pretty(&selected)?);
        return Ok(ExitCode::SUCCESS);
    }
    let tty = std::io::stdout().is_terminal();
    let view = |width: u16| View {
        modules: modules.clone(),
        inputs: args.input.clone(),
        verbose: args.verbose,
        width,
        color: g.color,
        now_ns: datakit::app::now_ns(),
    };
    if args.once || !tty {
        // For a pipe or a file, tables are not wrapped to a terminal.
        let width = if tty {
            crossterm::terminal::size().map(|(w, _)| w).unwrap_or(120)
        } else {
            250
        };
        print!("{}", monitor::render(&first, &view(width)));
        return Ok(ExitCode::SUCCESS);
    }

    crossterm::terminal::enable_raw_mode().context("cannot switch the terminal to raw mode")?;
    let _guard = TerminalGuard;
    let mut out = std::io::stdout();
    crossterm::execute!(
        out,
        crossterm::terminal::EnterAlternateScreen,
        crossterm::cursor::Hide
    )?;
    let mut snap = Ok(first);
    let started = Instant::now();
    loop {
        let (w, h) = crossterm::terminal::size().unwrap_or((120, 40));
        let body = match &snap {
            Ok(s) => monitor::render(s, &view(w)),
            Err(e) => format!("{e}\n"),
        };
        // Keep to the screen: what does not fit is cut, with a hint (scrolling would hide the top).
        let room = usize::from(h.max(3)) - 2;
        let lines: Vec<&str> = body.lines().collect();
        let body = if lines.len() > room {
            let mut b = lines[..room].join("\n");
            b.push_str(&format!(
                "\n… {} more lines: choose modules with -M, inputs with -I",
                lines.len() - room
            ));
            b + "\n"
        } else {
            body
        };
        let footer = format!(
            "Refresh: {}. {} | monitor: {} | q or Ctrl-C to quit",
            refresh_text(requested, refresh),
            t,
            monitor::dur(started.elapsed().as_secs_f64())
        );
        crossterm::queue!(
            out,
            crossterm::cursor::MoveTo(0, 0),
            crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
        )?;
        out.write_all(body.replace('\n', "\r\n").as_bytes())?;
        out.write_all(footer.as_bytes())?;
        out.flush()?;
        let until = Instant::now() + refresh;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if crossterm::event::poll(left)? {
                use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};
                match crossterm::event::read()? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => {
                        let ctrl_c = k.code == KeyCode::Char('c')
                            && k.modifiers.contains(KeyModifiers::CONTROL);
                        if ctrl_c
                            || matches!(
                                k.code,
                                KeyCode::Char('q') | KeyCode::Char('Q') | KeyCode::Esc
                            )
                        {
                            return Ok(ExitCode::SUCCESS);
                        }
                    }
                    Event::Resize(..) => break,
                    _ => {}
                }
            }
        }
        snap = api.monitor();
    }
}
