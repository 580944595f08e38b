//! The `track_file` runner: reads the integer in the file at start and then every poll
//! interval, and reports the value when it changes.
//!
//! keepalived watches the file's directory with inotify and reacts at once; vigil polls (by
//! default every 500 ms), which costs one small read per interval and needs no watch
//! bookkeeping for files that are replaced by rename. Values are read as keepalived reads
//! them: `strtol(buf, NULL, 0)` on the first 127 bytes, so decimal, `0x` hex and leading-`0`
//! octal are accepted, trailing text is ignored, and a missing, empty or unparsable file is
//! 0; the result is clamped to -254..=254.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use super::update::TrackerUpdate;
use crate::config::model::{InitFile, TrackFile};

/// keepalived reads at most this many bytes of a tracked file.
const READ_LIMIT: u64 = 127;
const VALUE_LIMIT: i64 = 254;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    pub name: String,
    pub path: PathBuf,
    pub init_file: Option<InitFile>,
    pub poll: Duration,
}

impl FileCheck {
    pub fn from_config(f: &TrackFile, poll: Duration) -> Self {
        Self {
            name: f.name.clone(),
            path: PathBuf::from(&f.file),
            init_file: f.init_file.clone(),
            poll,
        }
    }
}

/// Parses like C's `strtol(text, NULL, 0)`, then clamps to -254..=254.
pub fn parse_value(text: &[u8]) -> i64 {
    let mut rest = text;
    while let Some((c, tail)) = rest.split_first() {
        if c.is_ascii_whitespace() {
            rest = tail;
        } else {
            break;
        }
    }
    let negative = match rest.first() {
        Some(b'-') => {
            rest = rest.get(1..).unwrap_or_default();
            true
        }
        Some(b'+') => {
            rest = rest.get(1..).unwrap_or_default();
            false
        }
        _ => false,
    };
    let (radix, digits) = match rest {
        [b'0', b'x' | b'X', tail @ ..] if tail.first().is_some_and(u8::is_ascii_hexdigit) => {
            (16, tail)
        }
        [b'0', tail @ ..] => (8, tail),
        _ => (10, rest),
    };
    let mut magnitude: i64 = 0;
    for &c in digits {
        let Some(d) = char::from(c).to_digit(radix) else {
            break;
        };
        // Saturate: strtol returns LONG_MAX on overflow, and we clamp anyway.
        magnitude = magnitude
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
    }
    let value = if negative { -magnitude } else { magnitude };
    value.clamp(-VALUE_LIMIT, VALUE_LIMIT)
}

/// Reads the file's value; anything that prevents reading it counts as 0, as in keepalived.
pub async fn read_value(path: &Path) -> i64 {
    let Ok(file) = tokio::fs::File::open(path).await else {
        return 0;
    };
    let mut buf = Vec::with_capacity(READ_LIMIT as usize);
    match file.take(READ_LIMIT).read_to_end(&mut buf).await {
        Ok(_) => parse_value(&buf),
        Err(_) => 0,
    }
}

/// keepalived `init_file VALUE [overwrite]`: write VALUE if the file is missing, or always
/// with `overwrite`.
pub async fn initialise(path: &Path, init: &InitFile) -> std::io::Result<()> {
    let exists = tokio::fs::try_exists(path).await.unwrap_or(false);
    if exists && !init.overwrite {
        return Ok(());
    }
    tokio::fs::write(path, format!("{}\n", init.value)).await
}

/// Runs until `tx` is closed.
pub async fn run(check: FileCheck, tx: mpsc::Sender<TrackerUpdate>) {
    if let Some(init) = &check.init_file
        && let Err(e) = initialise(&check.path, init).await
    {
        tracing::warn!(file = %check.path.display(), error = %e, "cannot initialise track file");
    }
    let mut last: Option<i64> = None;
    loop {
        let value = read_value(&check.path).await;
        if last != Some(value) {
            tracing::info!(track_file = %check.name, value, "track file value");
            if tx
                .send(TrackerUpdate::file(&check.name, value))
                .await
                .is_err()
            {
                return;
            }
            last = Some(value);
        }
        tokio::select! {
            _ = tokio::time::sleep(check.poll) => {}
            _ = tx.closed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::update::TrackerState;

    #[test]
    fn values_parse_like_strtol_base_zero_and_clamp() {
        let cases: &[(&[u8], i64)] = &[
            (b"", 0),
            (b"abc", 0),
            (b"5", 5),
            (b"  12\n", 12),
            (b"-7", -7),
            (b"+3", 3),
            (b"12abc", 12),
            (b"0x10", 16),
            (b"0X1f", 31),
            (b"010", 8),
            (b"09", 0),
            (b"0x", 0),
            (b"-", 0),
            (b"1000", 254),
            (b"-1000", -254),
            (b"99999999999999999999999", 254),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_value(text),
                *want,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[tokio::test]
    async fn missing_file_reads_as_zero() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_value(&dir.path().join("absent")).await, 0);
    }

    #[tokio::test]
    async fn init_file_creates_and_overwrite_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let keep = InitFile {
            value: 4,
            overwrite: false,
        };
        initialise(&path, &keep).await.unwrap();
        assert_eq!(read_value(&path).await, 4);
        std::fs::write(&path, "9").unwrap();
        initialise(&path, &keep).await.unwrap();
        assert_eq!(read_value(&path).await, 9, "existing file kept");
        let overwrite = InitFile {
            value: -2,
            overwrite: true,
        };
        initialise(&path, &overwrite).await.unwrap();
        assert_eq!(read_value(&path).await, -2);
    }

    async fn next(rx: &mut mpsc::Receiver<TrackerUpdate>, what: &str) -> TrackerUpdate {
        let wait = Duration::from_secs(10);
        match tokio::time::timeout(wait, rx.recv()).await {
            Ok(Some(u)) => u,
            Ok(None) => panic!("file runner ended while waiting for {what}"),
            Err(_) => panic!("no update within {wait:?} while waiting for {what}"),
        }
    }

    #[tokio::test]
    async fn the_runner_reports_the_initial_value_then_each_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prio");
        let check = FileCheck {
            name: "tf".into(),
            path: path.clone(),
            init_file: Some(InitFile {
                value: 3,
                overwrite: false,
            }),
            poll: Duration::from_millis(20),
        };
        let (tx, mut rx) = mpsc::channel(8);
        let task = tokio::spawn(run(check, tx));
        assert_eq!(
            next(&mut rx, "initial value").await,
            TrackerUpdate::file("tf", 3)
        );
        let tmp = dir.path().join("prio.tmp");
        std::fs::write(&tmp, "-20\n").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        assert_eq!(
            next(&mut rx, "changed value").await.state,
            TrackerState::Value(-20)
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            next(&mut rx, "deleted file").await.state,
            TrackerState::Value(0)
        );
        task.abort();
    }
}
