//! The control socket: a client connects, writes one command line (`status` or `metrics`),
//! and reads the answer until the server closes the connection.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

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

/// Asks the core for a snapshot. The core answers between two events, so a snapshot costs
/// nothing until somebody asks (no per-packet bookkeeping for thousands of instances) and is
/// never stale; a slow client holds only its own connection.
#[derive(Debug, Clone)]
pub struct StatusSource(mpsc::Sender<oneshot::Sender<Status>>);

/// The core's end of a [`StatusSource`]: answer each request with a fresh snapshot.
pub type StatusRequests = mpsc::Receiver<oneshot::Sender<Status>>;

impl StatusSource {
    pub fn channel() -> (StatusSource, StatusRequests) {
        let (tx, rx) = mpsc::channel(64);
        (StatusSource(tx), rx)
    }

    /// A fresh snapshot, or `None` when the daemon is stopping.
    pub async fn get(&self) -> Option<Status> {
        let (tx, rx) = oneshot::channel();
        self.0.send(tx).await.ok()?;
        rx.await.ok()
    }
}

/// Binds `path` (replacing a stale socket file) and serves until the task is dropped.
pub async fn serve(
    path: &Path,
    status: StatusSource,
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
    Ok(tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let status = status.clone();
            tokio::spawn(async move {
                let _ = answer(stream, status).await;
            });
        }
    }))
}

async fn answer(stream: UnixStream, status: StatusSource) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read).take(256).read_line(&mut line).await?;
    let reply = match line.trim() {
        command @ ("status" | "metrics") => match status.get().await {
            Some(s) if command == "status" => serde_json::to_string(&s).unwrap_or_default() + "\n",
            Some(s) => super::metrics::render(&s),
            None => "error: vigil is stopping\n".to_string(),
        },
        other => format!("error: unknown command {other:?}\n"),
    };
    write.write_all(reply.as_bytes()).await?;
    write.shutdown().await
}

/// Serves `GET /metrics` on `addr` for Prometheus. A deliberately tiny HTTP/1.0 responder:
/// one fixed resource, read-only, the request bounded to 4 KiB.
pub async fn serve_http(
    addr: std::net::SocketAddr,
    status: StatusSource,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    Ok(tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let status = status.clone();
            tokio::spawn(async move {
                let _ = answer_http(stream, status).await;
            });
        }
    }))
}

async fn answer_http(stream: tokio::net::TcpStream, status: StatusSource) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read).take(4096).read_line(&mut line).await?;
    let path = line.split_whitespace().nth(1).unwrap_or("");
    let response = if line.starts_with("GET ") && (path == "/metrics" || path == "/") {
        let body = status
            .get()
            .await
            .map(|s| super::metrics::render(&s))
            .unwrap_or_default();
        format!(
            "HTTP/1.0 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    } else {
        "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string()
    };
    write.write_all(response.as_bytes()).await?;
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
        let (source, mut requests) = StatusSource::channel();
        // The core's side: answer every request with the current snapshot.
        tokio::spawn(async move {
            while let Some(reply) = requests.recv().await {
                let _ = reply.send(Status {
                    pid: 7,
                    ..Default::default()
                });
            }
        });
        let server = serve(&path, source).await.unwrap();
        let json = query(&path, "status").await.unwrap();
        let got: Status = serde_json::from_str(&json).unwrap();
        assert_eq!(got.pid, 7);
        assert!(query(&path, "metrics").await.unwrap().ends_with("# EOF\n"));
        assert!(matches!(
            query(&path, "bogus").await,
            Err(ControlError::Unknown { .. })
        ));
        server.abort();
    }
}
