//! Packet capture in a lab host: tcpdump writing a pcap, started only once it listens.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::sys::signal::Signal;

use crate::cmd;
use crate::process::Child;
use crate::wait::wait_until;

/// How long tcpdump may take to open its socket.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// A running tcpdump (see [`crate::Host::capture`]).
pub struct Capture {
    child: Child,
    pcap: PathBuf,
}

impl Capture {
    pub(crate) fn start(child: Child, pcap: PathBuf) -> Result<Capture> {
        // tcpdump prints "listening on <if>" once its socket and filter are in place: from then
        // on no packet is missed.
        let what = format!("{} to listen", child.label());
        wait_until(LISTEN_TIMEOUT, &what, || {
            if !child.is_running() {
                return Err(anyhow::anyhow!("tcpdump exited: {}", child.stderr().trim()));
            }
            Ok(child.stderr().contains("listening on"))
        })?;
        Ok(Capture { child, pcap })
    }

    /// The pcap file (complete once [`Capture::stop`] has returned; tcpdump runs with `-U`,
    /// so it is also flushed packet by packet while running).
    pub fn path(&self) -> &Path {
        &self.pcap
    }

    /// Stops tcpdump (SIGTERM, which flushes and closes the file) and returns the pcap path.
    pub fn stop(&self) -> Result<PathBuf> {
        self.child.signal(Signal::SIGTERM)?;
        self.child.wait_timeout(LISTEN_TIMEOUT)?;
        Ok(self.pcap.clone())
    }

    /// The captured frames so far (Ethernet frames, link type EN10MB).
    pub fn frames(&self) -> Result<Vec<Vec<u8>>> {
        let data =
            std::fs::read(&self.pcap).with_context(|| format!("cannot read {:?}", self.pcap))?;
        parse_pcap(&data).with_context(|| format!("{:?}", self.pcap))
    }

    /// tcpdump's own decoding of the capture so far (`tcpdump -r <file> -n -e -vv`), one
    /// string per line. Reading a file needs no namespace.
    pub fn decode(&self) -> Result<Vec<String>> {
        let out = cmd::run(
            std::process::Command::new("tcpdump")
                .args(["-n", "-e", "-vv", "-r"])
                .arg(&self.pcap),
        )?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect())
    }
}

/// Splits a classic pcap file (either byte order, microsecond or nanosecond) into records.
pub fn parse_pcap(data: &[u8]) -> Result<Vec<Vec<u8>>> {
    Ok(parse_pcap_timed(data)?
        .into_iter()
        .map(|(_, frame)| frame)
        .collect())
}

/// Splits a classic pcap file into records with their capture time (since the epoch).
pub fn parse_pcap_timed(data: &[u8]) -> Result<Vec<(std::time::Duration, Vec<u8>)>> {
    let magic = data
        .get(..4)
        .context("pcap shorter than its magic number")?;
    let (le, nanos) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (true, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (true, true),
        [0xa1, 0xb2, 0xc3, 0xd4] => (false, false),
        [0xa1, 0xb2, 0x3c, 0x4d] => (false, true),
        _ => bail!("not a pcap file (magic {magic:02x?})"),
    };
    let u32_at = |off: usize| -> Option<u32> {
        let b: [u8; 4] = data.get(off..off + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let mut frames = Vec::new();
    let mut off = 24;
    // A file still being written may end in a partial record: stop there.
    while let (Some(sec), Some(frac), Some(incl)) = (u32_at(off), u32_at(off + 4), u32_at(off + 8))
    {
        let start = off + 16;
        let Some(frame) = usize::try_from(incl)
            .ok()
            .and_then(|len| data.get(start..start.checked_add(len)?))
        else {
            break;
        };
        let at = std::time::Duration::from_secs(u64::from(sec))
            + if nanos {
                std::time::Duration::from_nanos(u64::from(frac))
            } else {
                std::time::Duration::from_micros(u64::from(frac))
            };
        frames.push((at, frame.to_vec()));
        off = start + frame.len();
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records_and_ignores_a_partial_tail() -> Result<()> {
        let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1];
        file.extend_from_slice(&[0; 20]);
        for frame in [&[1u8, 2, 3][..], &[4, 5]] {
            file.extend_from_slice(&[0; 8]);
            let len = (frame.len() as u32).to_le_bytes();
            file.extend_from_slice(&len);
            file.extend_from_slice(&len);
            file.extend_from_slice(frame);
        }
        file.extend_from_slice(&[0; 10]);
        assert_eq!(parse_pcap(&file)?, vec![vec![1, 2, 3], vec![4, 5]]);
        Ok(())
    }

    #[test]
    fn rejects_what_is_not_a_pcap() {
        assert!(parse_pcap(b"hello world").is_err());
        assert!(parse_pcap(b"").is_err());
    }
}
