//! vigil's command line: argument parsing and error reporting only; everything else is in the
//! library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use vigil::logging::{Facts, LogFormat};

#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    about = "VRRP high-availability daemon, a drop-in for keepalived's VRRP side"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log level: error, warn, info, debug or trace, or directives as `VIGIL_LOG` takes them
    /// (`info,vigil::daemon=debug`). Wins over `VIGIL_LOG`; default info (docs/logging.md).
    #[arg(long, global = true, value_name = "LEVEL", value_parser = log_level)]
    log_level: Option<String>,
    /// Log line format. Under systemd, lines carry syslog priority prefixes for the journal.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormatArg,
}

/// `--log-format`.
#[derive(Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

/// `--log-level`: refused at parse time if unreadable, unlike `VIGIL_LOG`, which is warned
/// about (an environment variable may be set for every program, a flag is for this one).
fn log_level(value: &str) -> Result<String, String> {
    vigil::logging::parse_level(value).map(|_| value.to_owned())
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon in the foreground (systemd Type=notify).
    Run {
        #[command(flatten)]
        source: ConfigSource,
        /// Pid file, locked while the daemon runs: a second daemon on the same file refuses
        /// to start. Default: the control socket's path with the extension .pid
        /// (/run/vigil/vigil.pid).
        #[arg(long)]
        pid_file: Option<PathBuf>,
        /// Unix socket for `vigil status` (mode 0600; start-up is refused while another
        /// daemon answers on it). Default: /run/vigil/vigil.sock, or with `net_namespace NAME`
        /// /run/vigil/NAME/vigil.sock.
        #[arg(long)]
        control_socket: Option<PathBuf>,
        /// Let this group use the control socket (mode 0660 with this group instead of 0600).
        #[arg(long, value_name = "GROUP")]
        control_group: Option<String>,
        /// Refuse to start if the configuration has warnings (keepalived's fix-ups included).
        #[arg(long)]
        strict: bool,
        /// Serve Prometheus metrics over HTTP on this address (e.g. 127.0.0.1:9650).
        #[arg(long)]
        metrics_listen: Option<std::net::SocketAddr>,
        /// Write every input of the core (packets, timers, links, checkers, reloads) to this
        /// file, one JSON line each, for `vigil replay`. It holds authentication keys: mode 0600.
        #[arg(long)]
        record_events: Option<PathBuf>,
        /// Keep every capability after start-up. By default the daemon keeps only
        /// CAP_NET_ADMIN, CAP_NET_RAW, CAP_SETUID, CAP_SETGID and CAP_KILL, and scripts run as
        /// root get only those; use this when such scripts need more (as under keepalived).
        #[arg(long)]
        keep_capabilities: bool,
    },
    /// Replay a `--record-events` file through a fresh core and print what it decides.
    Replay {
        /// The recording.
        path: PathBuf,
        /// Print state transitions only.
        #[arg(long)]
        transitions: bool,
    },
    /// Validate a configuration: every problem as `file:line:col: error: ...`; exit 0 if valid.
    Check {
        #[command(flatten)]
        source: ConfigSource,
        /// Treat warnings (keywords vigil does not implement yet, keepalived's fix-ups) as
        /// errors.
        #[arg(long)]
        strict: bool,
        /// Do not look up the interfaces the configuration names (by default a missing one
        /// is an error, as for keepalived -t): for linting a configuration on another machine.
        #[arg(long)]
        offline: bool,
    },
    /// Print the YAML equivalent of a configuration (e.g. an existing keepalived.conf).
    Convert {
        /// The file to convert (default: as for `run --config`).
        path: Option<PathBuf>,
        /// The file's format (default: YAML for *.yaml / *.yml, keepalived.conf otherwise).
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// keepalived's config id for `@ID` conditional lines (keepalived's `-i`; default:
        /// the host name up to its first dot).
        #[arg(long, value_name = "ID")]
        config_id: Option<String>,
    },
    /// Show every instance's state, from a running daemon; with NAME, one instance (or
    /// every member of a sync group) in detail.
    Status {
        /// An instance or sync group to show in detail.
        #[arg(conflicts_with = "metrics")]
        name: Option<String>,
        /// Machine-readable output (docs/status-schema.md); with NAME, the instance's
        /// objects only, as a JSON array.
        #[arg(long, conflicts_with = "metrics")]
        json: bool,
        /// Prometheus metrics text.
        #[arg(long)]
        metrics: bool,
        #[arg(long, default_value = vigil::control::DEFAULT_SOCKET)]
        control_socket: PathBuf,
    },
    /// Drain an instance (and its sync group), a sync group, or every instance: a master
    /// hands over at once (priority-0 advert) and each stays BACKUP until `vigil undrain`.
    /// Exit 0 when done, 1 when refused (unknown name: nothing changed), 2 when the daemon
    /// cannot be reached.
    Drain {
        #[command(flatten)]
        target: DrainTarget,
        #[arg(long, default_value = vigil::control::DEFAULT_SOCKET)]
        control_socket: PathBuf,
    },
    /// Undrain what `vigil drain` drained: the instances behave normally again (with preempt
    /// and a higher priority, they take mastership back). Exit codes as for drain.
    Undrain {
        #[command(flatten)]
        target: DrainTarget,
        #[arg(long, default_value = vigil::control::DEFAULT_SOCKET)]
        control_socket: PathBuf,
    },
    /// Reload the running daemon's configuration (as SIGHUP) and print the outcome, or the
    /// errors as `vigil check` prints them. Exit 0 when applied, 1 when the configuration was
    /// rejected (the daemon runs on with the previous one), 2 when the daemon cannot be
    /// reached.
    Reload {
        #[arg(long, default_value = vigil::control::DEFAULT_SOCKET)]
        control_socket: PathBuf,
    },
}

/// What `vigil drain` / `vigil undrain` act on.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct DrainTarget {
    /// An instance (its whole sync group with it) or a sync group.
    name: Option<String>,
    /// Every instance.
    #[arg(long)]
    all: bool,
}

impl DrainTarget {
    fn word(&self) -> &str {
        match &self.name {
            Some(name) if !self.all => name,
            _ => "--all",
        }
    }
}

/// Which configuration to read, and how: shared by run and check.
#[derive(Args)]
struct ConfigSource {
    /// Configuration file: *.yaml / *.yml is vigil's YAML, any other name keepalived.conf.
    /// Default: /etc/vigil/vigil.yaml if it exists, else /etc/keepalived/keepalived.conf.
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// The file's format, whatever its name.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// keepalived's config id for `@ID` conditional lines (keepalived's `-i`; default: the
    /// host name up to its first dot).
    #[arg(long, value_name = "ID")]
    config_id: Option<String>,
}

impl ConfigSource {
    fn path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(vigil::config::default_path)
    }

    fn options(&self, strict: bool) -> vigil::config::LoadOptions {
        vigil::config::LoadOptions {
            strict,
            config_id: self.config_id.clone(),
            format: self.format.map(FormatArg::into),
        }
    }
}

/// `--format`.
#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Keepalived,
    Yaml,
}

impl From<FormatArg> for vigil::config::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Keepalived => vigil::config::Format::Keepalived,
            FormatArg::Yaml => vigil::config::Format::Yaml,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Filtering uses `filter::Targets`, which takes EnvFilter's directive syntax except span
    // and field filters, and leaves out its regex engine: about 0.3 MiB less code, which is
    // resident in every daemon (docs/performance.md, "Memory").
    vigil::logging::init(&Facts::gather(
        cli.log_level.clone(),
        match cli.log_format {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        },
    ));
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            vigil::logging::stderr_line(
                tracing::Level::ERROR,
                &format!("vigil: {}", report(e.as_ref())),
            );
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, each said once. Most library errors already end
/// their message with their source's (`"...: {source}"`, so that a log line is complete on its
/// own), and anyhow's `{:#}` would then print the same text once per layer: a cause whose text
/// the line already holds is left out.
fn report(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = c.source();
    }
    line
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check {
            source,
            strict,
            offline,
        } => {
            let check = if offline {
                vigil::config::cli::check_offline
            } else {
                vigil::config::cli::check
            };
            let code = check(
                &source.path(),
                &source.options(strict),
                &mut std::io::stdout(),
            );
            Ok(if code == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(code.clamp(1, 255) as u8)
            })
        }
        Command::Convert {
            path,
            format,
            config_id,
        } => {
            let source = ConfigSource {
                config: path,
                format,
                config_id,
            };
            let path = source.path();
            vigil::config::cli::convert(&path, &source.options(false), &mut std::io::stdout())
                .with_context(|| format!("cannot convert {}", path.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            source,
            pid_file,
            control_socket,
            control_group,
            strict,
            metrics_listen,
            record_events,
            keep_capabilities,
        } => {
            // Two malloc arenas, set before the first thread (net/heap.rs).
            if !vigil::net::heap::limit_arenas() {
                tracing::warn!("cannot limit malloc's arenas: memory may grow with reloads");
            }
            // Parsed on a thread of its own: its many short-lived blocks go to the arena the
            // other threads share, not the loop's main heap.
            let config = source.path();
            // keepalived says "Starting Keepalived v2.2.7 ..." first: which binary, which file.
            tracing::info!(
                config = %config.display(),
                "vigil {} starting",
                env!("CARGO_PKG_VERSION")
            );
            let load_options = source.options(strict);
            let model = std::thread::scope(|s| s.spawn(|| load(&config, &load_options)).join())
                .map_err(|_| anyhow::anyhow!("the configuration parser panicked"))??;
            // Before anything is opened: one line naming what is missing, not "Operation not
            // permitted" from the first socket.
            vigil::daemon::privilege::require_run_privilege()?;
            // keepalived's `net_namespace`: entered now, while this is the only thread, so
            // the runtime's threads and every socket belong to it (net/netns.rs).
            let namespace = model.global.net_namespace.clone();
            if let Some(name) = &namespace {
                vigil::net::netns::enter_process_netns(name)?;
                tracing::info!(net_namespace = %name, "running in network namespace");
            }
            let control_socket = control_socket
                .unwrap_or_else(|| vigil::control::default_socket(namespace.as_deref()));
            let options = vigil::daemon::RunOptions {
                config_path: config,
                // Always a pid file: one daemon per configuration (daemon/pidfile.rs).
                pid_file: Some(pid_file.unwrap_or_else(|| {
                    vigil::daemon::pidfile::default_for_socket(&control_socket)
                })),
                control_socket: Some(control_socket),
                control_group,
                load: load_options,
                metrics_listen,
                record_events,
                keep_capabilities,
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            rt.block_on(async move { vigil::daemon::run(model, options, stop_signal()).await })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay { path, transitions } => {
            vigil::daemon::record::replay(&path, transitions, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status {
            name,
            json,
            metrics,
            control_socket,
        } => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let command = if metrics { "metrics" } else { "status" };
            let text = rt
                .block_on(vigil::control::query(&control_socket, command))
                .context("is vigil running?")?;
            if metrics || (json && name.is_none()) {
                print!("{text}");
                return Ok(ExitCode::SUCCESS);
            }
            let status: vigil::control::Status =
                serde_json::from_str(&text).context("daemon sent an unreadable status")?;
            let Some(name) = name else {
                print!("{}", vigil::control::render_human(&status));
                return Ok(ExitCode::SUCCESS);
            };
            if json {
                let chosen = vigil::control::select(&status, &name);
                if chosen.is_empty() {
                    anyhow::bail!("no instance or sync group named {name:?}");
                }
                println!("{}", serde_json::to_string(&chosen)?);
                return Ok(ExitCode::SUCCESS);
            }
            match vigil::control::render_detail(&status, &name) {
                Some(text) => print!("{text}"),
                None => anyhow::bail!("no instance or sync group named {name:?}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Drain {
            target,
            control_socket,
        } => control_command(&control_socket, &format!("drain {}", target.word())),
        Command::Undrain {
            target,
            control_socket,
        } => control_command(&control_socket, &format!("undrain {}", target.word())),
        Command::Reload { control_socket } => control_command(&control_socket, "reload"),
    }
}

/// Sends a command that changes the daemon and reports its answer: exit 0 when done, 1 when
/// the daemon refused it (an `error:` answer: its first line on stderr, the diagnostics that
/// follow on stdout as `vigil check` prints them), 2 when the daemon could not be reached.
fn control_command(socket: &Path, line: &str) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let answer = match rt.block_on(vigil::control::query(socket, line)) {
        Ok(answer) => answer,
        Err(e @ vigil::control::ControlError::Unknown { .. }) => {
            eprintln!("vigil: {e} (a daemon older than this command?)");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => {
            eprintln!("vigil: {}; is vigil running?", report(&e));
            return Ok(ExitCode::from(UNREACHABLE));
        }
    };
    let (first, rest) = answer.split_once('\n').unwrap_or((answer.as_str(), ""));
    if first.is_empty() {
        eprintln!(
            "vigil: {}: the daemon closed the connection without an answer",
            socket.display()
        );
        return Ok(ExitCode::from(UNREACHABLE));
    }
    if first.starts_with("error:") {
        eprintln!("vigil: {first}");
        print!("{rest}");
        return Ok(ExitCode::FAILURE);
    }
    print!("{answer}");
    Ok(ExitCode::SUCCESS)
}

/// `vigil drain`, `undrain` and `reload` exit with this when no daemon answered.
const UNREACHABLE: u8 = 2;

/// Loads a configuration (format by name unless `--format`), printing every problem as
/// `file:line:col: error: ...`; nothing starts unless the whole file is valid.
fn load(path: &Path, options: &vigil::config::LoadOptions) -> Result<vigil::config::model::Config> {
    match vigil::config::load_for_run(path, options) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                vigil::logging::stderr_line(tracing::Level::WARN, &w.to_string());
            }
            Ok(loaded.model)
        }
        Err(diagnostics) => {
            for d in &diagnostics.0 {
                let level = match d.severity {
                    vigil::config::Severity::Error => tracing::Level::ERROR,
                    vigil::config::Severity::Warning => tracing::Level::WARN,
                };
                vigil::logging::stderr_line(level, &d.to_string());
            }
            bail!(
                "{}: invalid configuration; nothing was started",
                path.display()
            )
        }
    }
}

/// Completes on SIGTERM or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: handing over mastership and stopping"),
        _ = int.recv() => tracing::info!("SIGINT: handing over mastership and stopping"),
    }
}

#[cfg(test)]
mod tests {
    use super::report;

    #[derive(Debug, thiserror::Error)]
    enum Inner {
        #[error("binding the source address on interface eth0: {0}")]
        Bind(#[source] std::io::Error),
    }

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("cannot start: {0}")]
        Start(#[from] Inner),
    }

    #[test]
    fn an_error_chain_is_said_once() {
        let io = std::io::Error::from_raw_os_error(libc::EADDRNOTAVAIL);
        let io_text = io.to_string();
        let e = anyhow::Error::from(Outer::Start(Inner::Bind(io)));
        let line = report(e.as_ref());
        assert_eq!(line.matches(&io_text).count(), 1, "{line}");
        assert_eq!(
            line,
            format!("cannot start: binding the source address on interface eth0: {io_text}")
        );
        // Context that does not repeat its cause keeps it.
        let e = anyhow::Error::from(std::io::Error::other("no such file")).context("cannot read x");
        assert_eq!(report(e.as_ref()), "cannot read x: no such file");
    }
}
