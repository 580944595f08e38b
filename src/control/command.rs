//! Commands that change the running daemon, from the control socket to the driver's loop:
//! `drain NAME`, `drain --all`, `undrain NAME`, `undrain --all`, `reload`. One line in, a text
//! answer out; an answer that starts with `error:` means nothing was done (the CLI exits
//! non-zero on it).
//!
//! The socket task parses the line and hands a [`CommandRequest`] to the loop over a bounded
//! channel with a oneshot for the answer. The loop decides nothing either: a drain becomes a
//! `CoreInput::Drain` (recorded, replayable), a reload the same preparation as SIGHUP.

use tokio::sync::{mpsc, oneshot};

/// Commands waiting for the loop. Overflow policy: a full queue is answered at once with
/// `error: busy`, the command not queued, rather than making the client wait: commands are
/// a handful of operator actions (the socket serves at most `CONTROL_LIMITS.max_connections`
/// clients anyway), and a full queue means the loop is stuck, which waiting would hide.
pub const COMMAND_QUEUE: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Drain (`drained`) or undrain an instance or sync group by name, or all (`None`).
    Drain { name: Option<String>, drained: bool },
    /// Read the configuration again and apply it, as SIGHUP does.
    Reload,
}

impl Command {
    /// The command on `line`; `None` when the line is no command of this kind (the socket
    /// serves `status` and `metrics` itself), `Some(Err)` when it is one, malformed.
    pub fn parse(line: &str) -> Option<Result<Command, String>> {
        let mut words = line.split_whitespace();
        let verb = words.next()?;
        let drained = match verb {
            "drain" => true,
            "undrain" => false,
            "reload" => {
                return Some(match words.next() {
                    None => Ok(Command::Reload),
                    Some(extra) => Err(format!("reload takes no argument (got {extra:?})")),
                });
            }
            _ => return None,
        };
        let target = words.next();
        let name = match (target, words.next()) {
            (Some("--all"), None) => None,
            (Some(name), None) if !name.starts_with('-') => Some(name.to_owned()),
            _ => {
                return Some(Err(format!(
                    "usage: {verb} NAME | {verb} --all (an instance or sync group name)"
                )));
            }
        };
        Some(Ok(Command::Drain { name, drained }))
    }
}

/// A command and where its answer goes.
#[derive(Debug)]
pub struct CommandRequest {
    pub command: Command,
    pub reply: oneshot::Sender<String>,
}

/// The loop's end of the channel.
pub type CommandRequests = mpsc::Receiver<CommandRequest>;

/// The socket's end (cheap to clone).
#[derive(Debug, Clone)]
pub struct Commands(mpsc::Sender<CommandRequest>);

impl Commands {
    pub fn channel() -> (Commands, CommandRequests) {
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        (Commands(tx), rx)
    }

    /// Hands `command` to the loop and waits for its answer.
    pub async fn run(&self, command: Command) -> String {
        let (reply, answer) = oneshot::channel();
        match self.0.try_send(CommandRequest { command, reply }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                return format!(
                    "error: busy: {COMMAND_QUEUE} commands already wait for the daemon; nothing done\n"
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                return "error: vigil is stopping\n".into();
            }
        }
        answer
            .await
            .unwrap_or_else(|_| "error: vigil is stopping\n".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_commands_and_refuses_malformed_ones() {
        let drain = |name: Option<&str>, drained| {
            Some(Ok(Command::Drain {
                name: name.map(str::to_owned),
                drained,
            }))
        };
        assert_eq!(Command::parse("drain VI_1"), drain(Some("VI_1"), true));
        assert_eq!(Command::parse("drain --all"), drain(None, true));
        assert_eq!(Command::parse("undrain  VI_1 "), drain(Some("VI_1"), false));
        assert_eq!(Command::parse("undrain --all"), drain(None, false));
        assert_eq!(Command::parse("reload"), Some(Ok(Command::Reload)));
        assert_eq!(Command::parse("status"), None);
        assert_eq!(Command::parse(""), None);
        for bad in ["drain", "drain a b", "undrain --bogus", "reload now"] {
            assert!(matches!(Command::parse(bad), Some(Err(_))), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once() {
        let (commands, _requests) = Commands::channel();
        for _ in 0..COMMAND_QUEUE {
            let c = commands.clone();
            tokio::spawn(async move { c.run(Command::Reload).await });
        }
        tokio::task::yield_now().await;
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            commands.run(Command::Reload),
        )
        .await
        .expect("a full queue must not make the client wait");
        assert!(answer.starts_with("error: busy"), "{answer}");
    }
}
