//! `GET /metrics` over HTTP for Prometheus (`--metrics-listen`).
//!
//! A deliberately tiny HTTP/1.0 responder rather than hyper: one fixed read-only resource, no
//! keep-alive, no request body, so the whole parser is "read the head, split the first
//! line". It is bounded like every listener ([`METRICS_LIMITS`]: connection cap, 2 s to send
//! the request head, 10 s for the exchange, accept back-off) and the head is capped at
//! [`MAX_HEAD`] bytes. hyper would bring its own header timeout but about a dozen crates and
//! their code, which is resident in every daemon (docs/performance.md, "Memory"); with
//! nothing parsed beyond the request line there is little for a hardened parser to harden.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::listen::{AcceptLoop, METRICS_LIMITS, spawn_accept_loop};
use super::snapshot::{Form, StatusSource};

/// The longest request head read (request line and headers).
const MAX_HEAD: usize = 4096;

/// Serves `GET /metrics` (and `/`) on `addr` until the returned loop is dropped.
pub async fn serve_http(
    addr: std::net::SocketAddr,
    status: StatusSource,
) -> std::io::Result<AcceptLoop> {
    let listener = TcpListener::bind(addr).await?;
    spawn_accept_loop("metrics", listener, METRICS_LIMITS, move |stream| {
        let status = status.clone();
        async move {
            let _ = answer(stream, status).await;
        }
    })
}

/// What the request head asks for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    Metrics,
    NotFound,
    BadMethod,
    Bad,
}

fn parse(head: &[u8]) -> Request {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let Ok(line) = std::str::from_utf8(line) else {
        return Request::Bad;
    };
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(path), Some(version)) if version.starts_with("HTTP/1.") => {
            let path = path.split('?').next().unwrap_or_default();
            match (method, path) {
                ("GET", "/metrics" | "/") => Request::Metrics,
                ("GET", _) => Request::NotFound,
                _ => Request::BadMethod,
            }
        }
        _ => Request::Bad,
    }
}

/// Reads until the blank line that ends the head, at most [`MAX_HEAD`] bytes; `None` if the
/// head is longer or the client closes first.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            return Ok(Some(head));
        }
        if head.len() > MAX_HEAD {
            return Ok(None);
        }
    }
}

async fn answer(mut stream: TcpStream, status: StatusSource) -> std::io::Result<()> {
    let head = tokio::time::timeout(METRICS_LIMITS.request_deadline, read_head(&mut stream))
        .await
        .map_err(|_| std::io::ErrorKind::TimedOut)??;
    let request = head.as_deref().map_or(Request::Bad, parse);
    let response = match request {
        Request::Metrics => match status.get(Form::Metrics).await {
            Some(snapshot) => {
                let body = snapshot.text();
                format!(
                    "HTTP/1.0 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            }
            None => status_only("503 Service Unavailable"),
        },
        Request::NotFound => status_only("404 Not Found"),
        Request::BadMethod => status_only("405 Method Not Allowed"),
        Request::Bad => status_only("400 Bad Request"),
    };
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

fn status_only(status: &str) -> String {
    format!("HTTP/1.0 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_request_line_only() {
        assert_eq!(
            parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Request::Metrics
        );
        assert_eq!(parse(b"GET /?x=1 HTTP/1.0\r\n\r\n"), Request::Metrics);
        assert_eq!(parse(b"GET /other HTTP/1.1\r\n\r\n"), Request::NotFound);
        assert_eq!(parse(b"POST /metrics HTTP/1.1\r\n\r\n"), Request::BadMethod);
        assert_eq!(parse(b"GET /metrics\r\n\r\n"), Request::Bad);
        assert_eq!(parse(b"\xff\xfe\r\n\r\n"), Request::Bad);
    }

    /// A client that sends half a head and stalls is cut off at the request deadline, and
    /// an oversized head is refused with 400 instead of being read on.
    #[tokio::test]
    async fn a_stalled_or_oversized_head_is_not_served() {
        let (source, mut requests) = StatusSource::channel();
        tokio::spawn(async move {
            while let Some(reply) = requests.recv().await {
                let _ = reply.send(Default::default());
            }
        });
        // serve_http's own loop, on a listener whose port the test knows.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_accept_loop("test", listener, METRICS_LIMITS, move |s| {
            let source = source.clone();
            async move {
                let _ = answer(s, source).await;
            }
        })
        .unwrap();

        let mut stalled = TcpStream::connect(addr).await.unwrap();
        stalled
            .write_all(b"GET /metrics HTTP/1.1\r\n")
            .await
            .unwrap();
        let start = tokio::time::Instant::now();
        let mut got = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stalled.read_to_end(&mut got),
        )
        .await
        .expect("a stalled client was not cut off")
        .unwrap();
        assert!(got.is_empty());
        assert!(start.elapsed() >= METRICS_LIMITS.request_deadline / 2);

        let mut big = TcpStream::connect(addr).await.unwrap();
        let mut head = b"GET /metrics HTTP/1.1\r\n".to_vec();
        head.extend(std::iter::repeat_n(b'a', MAX_HEAD + 10));
        big.write_all(&head).await.unwrap();
        let mut got = String::new();
        big.read_to_string(&mut got).await.unwrap();
        assert!(got.starts_with("HTTP/1.0 400"), "{got}");

        let mut ok = TcpStream::connect(addr).await.unwrap();
        ok.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut got = String::new();
        ok.read_to_string(&mut got).await.unwrap();
        assert!(got.starts_with("HTTP/1.0 200 OK"), "{got}");
        assert!(got.ends_with("# EOF\n"), "{got}");
        drop(server);
    }
}
