//! vigil's command line: argument parsing and error reporting only; everything else is in the
//! library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    about = "VRRP high-availability daemon, a drop-in for keepalived's VRRP side"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon in the foreground (systemd Type=notify).
    Run {
        /// Configuration file: .yaml/.yml (native) or .conf (keepalived.conf).
        #[arg(short, long)]
        config: PathBuf,
        /// Write the daemon's pid here; refuses to start while it names a live process.
        #[arg(long)]
        pid_file: Option<PathBuf>,
        /// Unix socket for `vigil status`.
        #[arg(long, default_value = vigil::control::DEFAULT_SOCKET)]
        control_socket: PathBuf,
    },
    /// Show every instance's state, from a running daemon.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value = vigil::control::DEFAULT_SOCKET)]
        control_socket: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vigil: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run {
            config,
            pid_file,
            control_socket,
        } => {
            let model = load(&config)?;
            let options = vigil::daemon::RunOptions {
                config_path: config,
                pid_file,
                control_socket: Some(control_socket),
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            rt.block_on(async move { vigil::daemon::run(model, options, stop_signal()).await })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status {
            json,
            control_socket,
        } => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let text = rt
                .block_on(vigil::control::query(&control_socket, "status"))
                .context("is vigil running?")?;
            if json {
                print!("{text}");
            } else {
                let status: vigil::control::Status =
                    serde_json::from_str(&text).context("daemon sent an unreadable status")?;
                print!("{}", vigil::control::render_human(&status));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Loads a configuration, printing every problem as `file:line:col: error: ...`.
fn load(path: &Path) -> Result<vigil::config::model::Config> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    match vigil::config::yaml::parse(&text, path) {
        Ok((config, _)) => Ok(config),
        Err(diagnostics) => {
            for d in &diagnostics {
                eprintln!("{d}");
            }
            bail!(
                "{}: {} error(s); nothing was started",
                path.display(),
                diagnostics.len()
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
