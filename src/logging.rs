//! Where log lines go and how they look: level, text or JSON, colour, and the syslog
//! priority prefix that lets journald file each line under its level.
//!
//! Every decision is a pure function of what the process was given (flags, environment,
//! what stderr is), so it is tested without a terminal or a journal; [`init`] only gathers
//! those facts and installs the subscriber.
//!
//! - Level: `--log-level` wins over the `VIGIL_LOG` environment variable, which wins over the
//!   default, `info`. Both take a level or `filter::Targets` directives
//!   (`info,vigil::daemon=debug`).
//! - Colour only when stderr is a terminal, never under journald, never with `NO_COLOR`
//!   (<https://no-color.org>).
//! - journald: systemd connects stderr to the journal and says so in `JOURNAL_STREAM`
//!   (`<st_dev>:<st_ino>` of that stream, systemd.exec(5)). When stderr is that stream, each
//!   line starts with its sd-daemon(3) priority (`<3>` error, `<4>` warning, `<6>` info,
//!   `<7>` debug and trace), which journald strips and stores as PRIORITY= (so
//!   `journalctl -p err` filters), and carries no timestamp (journald stamps every line).

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// `--log-format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event: `[time] LEVEL target: message key=value...`.
    #[default]
    Text,
    /// One JSON object per line (tracing-subscriber's JSON format: timestamp, level, fields
    /// with the message, target).
    Json,
}

/// What the process was started with, as far as logging is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// `--log-level`, if given.
    pub flag: Option<String>,
    /// `VIGIL_LOG`, if set.
    pub env: Option<String>,
    pub format: LogFormat,
    /// Whether stderr is a terminal.
    pub stderr_terminal: bool,
    /// stderr's `(st_dev, st_ino)`, when fstat succeeds.
    pub stderr_id: Option<(u64, u64)>,
    /// `JOURNAL_STREAM`, if set.
    pub journal_stream: Option<String>,
    /// Whether `NO_COLOR` is set to a non-empty value.
    pub no_color: bool,
}

/// How lines are written, decided from [`Facts`].
#[derive(Debug, Clone)]
pub struct Decision {
    pub filter: Targets,
    pub format: LogFormat,
    pub ansi: bool,
    /// stderr is the journal: priority prefixes, no timestamps.
    pub journal: bool,
    /// A level setting that could not be read, said once the logger runs:
    /// `(source, value, error)`.
    pub unreadable: Option<(&'static str, String, String)>,
}

impl Facts {
    /// Reads the environment and stderr.
    pub fn gather(flag: Option<String>, format: LogFormat) -> Self {
        use std::io::IsTerminal;
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            flag,
            env: env("VIGIL_LOG"),
            format,
            stderr_terminal: std::io::stderr().is_terminal(),
            stderr_id: stderr_id(),
            journal_stream: env("JOURNAL_STREAM"),
            no_color: env("NO_COLOR").is_some(),
        }
    }

    pub fn decide(&self) -> Decision {
        let journal = match (&self.journal_stream, self.stderr_id) {
            (Some(stream), Some(id)) => parse_journal_stream(stream) == Some(id),
            _ => false,
        };
        let (filter, unreadable) = level_filter(self.flag.as_deref(), self.env.as_deref());
        Decision {
            filter,
            format: self.format,
            ansi: self.stderr_terminal && !journal && !self.no_color,
            journal,
            unreadable,
        }
    }
}

/// `JOURNAL_STREAM=<dev>:<ino>`, both decimal (systemd.exec(5)).
pub fn parse_journal_stream(value: &str) -> Option<(u64, u64)> {
    let (dev, ino) = value.trim().split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

fn stderr_id() -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::io::AsFd;
    let fd = std::io::stderr().as_fd().try_clone_to_owned().ok()?;
    let meta = std::fs::File::from(fd).metadata().ok()?;
    Some((meta.dev(), meta.ino()))
}

/// The filter: `--log-level`, else `VIGIL_LOG`, else info. An unreadable flag falls back to
/// `VIGIL_LOG` (and that to info) and is reported.
fn level_filter(
    flag: Option<&str>,
    env: Option<&str>,
) -> (Targets, Option<(&'static str, String, String)>) {
    let mut unreadable = None;
    for (source, value) in [("--log-level", flag), ("VIGIL_LOG", env)] {
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        match parse_level(value) {
            Ok(targets) => return (targets, unreadable),
            Err(e) => {
                unreadable.get_or_insert((source, value.to_owned(), e));
            }
        }
    }
    (Targets::new().with_default(Level::INFO), unreadable)
}

/// A level (`error`, `warn`, `info`, `debug`, `trace`, `off`) or comma-separated directives
/// of a default level and `target=level` pairs. Stricter than `Targets`' own parser, which
/// takes a bare word as a target to log at every level (so a misspelt level would silence
/// everything else).
pub fn parse_level(value: &str) -> Result<Targets, String> {
    let is_level = |s: &str| {
        s.trim()
            .parse::<tracing_subscriber::filter::LevelFilter>()
            .is_ok()
    };
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let ok = match part.split_once('=') {
            Some((target, level)) => !target.trim().is_empty() && is_level(level),
            None => is_level(part),
        };
        if !ok {
            return Err(format!(
                "`{part}` is neither a level (error, warn, info, debug, trace, off) nor target=level"
            ));
        }
    }
    value.parse::<Targets>().map_err(|e| e.to_string())
}

/// sd-daemon(3)'s priority prefix for a level (syslog's LOG_ERR, LOG_WARNING, LOG_INFO,
/// LOG_DEBUG; tracing has no notice, critical or alert).
pub fn priority_prefix(level: Level) -> &'static str {
    match level {
        Level::ERROR => "<3>",
        Level::WARN => "<4>",
        Level::INFO => "<6>",
        Level::DEBUG | Level::TRACE => "<7>",
    }
}

/// Writes the priority prefix, then the line as the inner format writes it.
struct Prefixed<F>(F);

impl<S, N, F> FormatEvent<S, N> for Prefixed<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writer.write_str(priority_prefix(*event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

/// The formatting layer `decision` asks for, writing to `writer`.
pub fn layer<S, W>(decision: &Decision, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let base = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(decision.ansi);
    match (decision.format, decision.journal) {
        (LogFormat::Text, false) => base.boxed(),
        (LogFormat::Text, true) => base
            .event_format(Prefixed(
                tracing_subscriber::fmt::format()
                    .without_time()
                    .with_ansi(false),
            ))
            .boxed(),
        // The priority prefix is not JSON, but journald strips it before storing the line.
        (LogFormat::Json, false) => base
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(json_format())
            .boxed(),
        (LogFormat::Json, true) => base
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(Prefixed(json_format().without_time()))
            .boxed(),
    }
    .with_filter(decision.filter.clone())
    .boxed()
}

fn json_format() -> tracing_subscriber::fmt::format::Format<tracing_subscriber::fmt::format::Json> {
    tracing_subscriber::fmt::format()
        .json()
        .with_current_span(false)
        .with_span_list(false)
}

/// Whether [`init`] found stderr to be the journal (for lines written without tracing).
static JOURNAL: AtomicBool = AtomicBool::new(false);
/// Whether [`init`] set up JSON lines: then every line goes through tracing, so that a
/// consumer parsing JSON never meets a plain one.
static JSON: AtomicBool = AtomicBool::new(false);

/// Installs the global subscriber for `facts`, and says why a level setting was ignored.
pub fn init(facts: &Facts) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let decision = facts.decide();
    JOURNAL.store(decision.journal, Ordering::Relaxed);
    JSON.store(decision.format == LogFormat::Json, Ordering::Relaxed);
    tracing_subscriber::registry()
        .with(layer(&decision, std::io::stderr))
        .init();
    if let Some((source, value, error)) = &decision.unreadable {
        tracing::warn!(
            %value,
            %error,
            "{source} not understood (a level, or level and target=level directives): using {}",
            if *source == "--log-level" && facts.env.is_some() {
                "VIGIL_LOG or info"
            } else {
                "info"
            }
        );
    }
}

/// A line written to stderr outside tracing (configuration diagnostics, the final error),
/// with its priority prefix when stderr is the journal; as a JSON event with
/// `--log-format json`.
pub fn stderr_line(level: Level, line: &str) {
    if JSON.load(Ordering::Relaxed) {
        // `tracing`'s macros take the level as a constant.
        match level {
            Level::ERROR => tracing::error!("{line}"),
            Level::WARN => tracing::warn!("{line}"),
            Level::INFO => tracing::info!("{line}"),
            Level::DEBUG => tracing::debug!("{line}"),
            Level::TRACE => tracing::trace!("{line}"),
        }
        return;
    }
    let prefix = if JOURNAL.load(Ordering::Relaxed) {
        priority_prefix(level)
    } else {
        ""
    };
    // Nothing to do if stderr is gone.
    let _ = writeln!(std::io::stderr().lock(), "{prefix}{line}");
}

/// A writer into a shared buffer, for tests that read what was logged.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl LogBuffer {
    pub(crate) fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with a subscriber that writes plain text lines (no time, no colour) to a buffer,
/// on this thread only; returns what `f` returned and the lines.
#[cfg(test)]
pub(crate) fn capture<R>(f: impl FnOnce() -> R) -> (R, String) {
    use tracing_subscriber::layer::SubscriberExt;

    let sink = LogBuffer::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .with_filter(Targets::new().with_default(Level::DEBUG)),
    );
    let out = tracing::subscriber::with_default(subscriber, f);
    (out, sink.text())
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt;

    use super::LogBuffer as Buffer;
    use super::*;

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    fn facts() -> Facts {
        Facts {
            stderr_id: Some((27, 4242)),
            ..Facts::default()
        }
    }

    /// What `facts` makes of an error, a warning, an info and a debug line.
    fn render(facts: &Facts) -> String {
        let buffer = Buffer::default();
        let subscriber =
            tracing_subscriber::registry().with(layer(&facts.decide(), buffer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(instance = "VI_1", "bad thing");
            tracing::warn!("warning");
            tracing::info!(from = "BACKUP", "transition");
            tracing::debug!("detail");
        });
        buffer.text()
    }

    #[test]
    fn the_journal_is_recognised_by_its_device_and_inode_only() {
        let mut f = facts();
        assert!(!f.decide().journal);
        f.journal_stream = Some("27:4242".into());
        assert!(f.decide().journal);
        // Another stream (stderr redirected by a child of the service): not the journal.
        f.journal_stream = Some("27:4243".into());
        assert!(!f.decide().journal);
        f.journal_stream = Some("garbage".into());
        assert!(!f.decide().journal);
        f.journal_stream = Some("27:4242".into());
        f.stderr_id = None;
        assert!(!f.decide().journal);
        assert_eq!(parse_journal_stream("8:123\n"), Some((8, 123)));
    }

    #[test]
    fn journal_lines_carry_their_priority_and_no_timestamp_or_colour() {
        let mut f = facts();
        f.journal_stream = Some("27:4242".into());
        f.stderr_terminal = true;
        let text = render(&f);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("<3>ERROR "), "{text}");
        assert!(lines[0].contains("bad thing instance=\"VI_1\""), "{text}");
        assert!(lines[1].starts_with("<4> WARN "), "{text}");
        assert!(lines[2].starts_with("<6> INFO "), "{text}");
        assert!(!text.contains('\x1b'), "{text}");
        // Debug shows when asked for, as <7>.
        f.flag = Some("debug".into());
        let text = render(&f);
        assert!(text.lines().any(|l| l.starts_with("<7>DEBUG ")), "{text}");
    }

    #[test]
    fn outside_the_journal_lines_have_a_timestamp_and_no_prefix() {
        let text = render(&facts());
        let first = text.lines().next().unwrap_or_default();
        // RFC 3339: 2026-12-01T13:59:59.000000Z
        assert!(
            first.get(4..5) == Some("-") && first.contains('T'),
            "{text}"
        );
        assert!(!text.contains("<3>") && !text.contains("<6>"), "{text}");
        assert!(!text.contains('\x1b'), "not a terminal: {text}");
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        let mut f = facts();
        f.stderr_terminal = true;
        assert!(f.decide().ansi);
        assert!(render(&f).contains('\x1b'));
        f.no_color = true;
        assert!(!f.decide().ansi);
        f.no_color = false;
        f.journal_stream = Some("27:4242".into());
        assert!(!f.decide().ansi);
    }

    #[test]
    fn json_lines_parse_and_carry_level_message_and_fields() {
        let mut f = facts();
        f.format = LogFormat::Json;
        let text = render(&f);
        let first: serde_json::Value =
            serde_json::from_str(text.lines().next().unwrap_or_default()).unwrap_or_default();
        assert_eq!(first["level"], "ERROR", "{text}");
        assert_eq!(first["fields"]["message"], "bad thing", "{text}");
        assert_eq!(first["fields"]["instance"], "VI_1", "{text}");
        assert!(first["timestamp"].is_string(), "{text}");
        // Under journald: the prefix, then JSON without a timestamp.
        f.journal_stream = Some("27:4242".into());
        let text = render(&f);
        let info = text
            .lines()
            .find_map(|l| l.strip_prefix("<6>"))
            .unwrap_or_default();
        let info: serde_json::Value = serde_json::from_str(info).unwrap_or_default();
        assert_eq!(info["fields"]["from"], "BACKUP", "{text}");
        assert!(info.get("timestamp").is_none(), "{text}");
    }

    #[test]
    fn the_flag_wins_over_vigil_log_which_wins_over_info() {
        let mut f = facts();
        assert!(!render(&f).contains("detail"));
        f.env = Some("debug".into());
        assert!(render(&f).contains("detail"));
        f.flag = Some("warn".into());
        let text = render(&f);
        assert!(
            text.contains("warning") && !text.contains("transition"),
            "{text}"
        );
        // Directives as VIGIL_LOG takes them.
        f.flag = Some("error,vigil=debug".into());
        assert!(render(&f).contains("bad thing"));
        // An unreadable flag falls back to VIGIL_LOG and is reported.
        f.flag = Some("loud".into());
        let d = f.decide();
        assert_eq!(
            d.unreadable.as_ref().map(|u| (u.0, u.1.as_str())),
            Some(("--log-level", "loud"))
        );
        assert!(render(&f).contains("detail"));
    }
}
