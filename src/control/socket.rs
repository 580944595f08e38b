//! The control socket: a client connects, writes one command line (`status` or `metrics`),
//! and reads the answer until the server closes the connection.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use super::status::Status;

pub const DEFAULT_SOCKET: &str = "/run/vigil/vigil.sock";

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control socket {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("control socket {path}: unknown command {command:?}")]
    Unknown { path: PathBuf, command: String },
}

/// Produces the metrics text on demand (the daemon renders its Prometheus registry).
pub type MetricsFn = Box<dyn Fn() -> String + Send + Sync>;

/// Binds `path` (replacing a stale socket file) and serves until the task is dropped.
pub async fn serve(
    path: &Path,
    status: watch::Receiver<Status>,
    metrics: MetricsFn,
) -> Result<tokio::task::JoinHandle<()>, ControlError> {
    let io = |source| ControlError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        _ => {}
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    let metrics = std::sync::Arc::new(metrics);
    Ok(tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let status = status.clone();
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let _ = answer(stream, status, metrics).await;
            });
        }
    }))
}

async fn answer(
    stream: UnixStream,
    status: watch::Receiver<Status>,
    metrics: std::sync::Arc<MetricsFn>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read).take(256).read_line(&mut line).await?;
    let reply = match line.trim() {
        "status" => serde_json::to_string(&*status.borrow()).unwrap_or_default() + "\n",
        "metrics" => metrics(),
        other => format!("error: unknown command {other:?}\n"),
    };
    write.write_all(reply.as_bytes()).await?;
    write.shutdown().await
}

/// Sends `command` to the daemon at `path` and returns its whole answer.
pub async fn query(path: &Path, command: &str) -> Result<String, ControlError> {
    let io = |source| ControlError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut stream = UnixStream::connect(path).await.map_err(io)?;
    stream
        .write_all(format!("{command}\n").as_bytes())
        .await
        .map_err(io)?;
    let mut out = String::new();
    stream.read_to_string(&mut out).await.map_err(io)?;
    if let Some(rest) = out.strip_prefix("error: unknown command") {
        return Err(ControlError::Unknown {
            path: path.to_path_buf(),
            command: rest.trim().trim_matches('"').to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_the_latest_snapshot_and_metrics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctl.sock");
        let (tx, rx) = watch::channel(Status::default());
        let server = serve(&path, rx, Box::new(|| "vigil_up 1\n".into()))
            .await
            .unwrap();
        tx.send_modify(|s| s.pid = 7);
        let json = query(&path, "status").await.unwrap();
        let got: Status = serde_json::from_str(&json).unwrap();
        assert_eq!(got.pid, 7);
        assert_eq!(query(&path, "metrics").await.unwrap(), "vigil_up 1\n");
        assert!(matches!(
            query(&path, "bogus").await,
            Err(ControlError::Unknown { .. })
        ));
        server.abort();
    }
}
