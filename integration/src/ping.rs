//! Reading `ping -n -D` output: each reply's sequence number and receive time, the one parser
//! behind every outage figure the lab reports (drain, fault matrix, impairment).

/// One echo reply as `ping -D` printed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PingReply {
    pub seq: u64,
    /// Receive time, seconds since the Unix epoch (ping's `-D` timestamp).
    pub at: f64,
    /// A duplicate of a reply already counted (`DUP!`).
    pub duplicate: bool,
}

/// The replies in `stdout`, in the order printed. Lines that are not replies (the banner,
/// "Destination Host Unreachable", statistics) are skipped.
pub fn ping_replies(stdout: &str) -> Vec<PingReply> {
    stdout
        .lines()
        .filter(|l| l.contains(" bytes from "))
        .filter_map(|l| {
            let at = l.strip_prefix('[')?.split(']').next()?.parse().ok()?;
            let seq = l
                .split("icmp_seq=")
                .nth(1)?
                .split(' ')
                .next()?
                .parse()
                .ok()?;
            Some(PingReply {
                seq,
                at,
                duplicate: l.contains("(DUP!)"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read_with_sequence_time_and_duplicates() {
        let out = "PING 192.0.2.200 (192.0.2.200) 56(84) bytes of data.\n\
                   [1.500000] 64 bytes from 192.0.2.200: icmp_seq=1 ttl=64 time=0.1 ms\n\
                   [1.900000] From 192.0.2.101 icmp_seq=3 Destination Host Unreachable\n\
                   [2.000000] 64 bytes from 192.0.2.200: icmp_seq=1 ttl=64 time=0.1 ms (DUP!)\n";
        assert_eq!(
            ping_replies(out),
            vec![
                PingReply {
                    seq: 1,
                    at: 1.5,
                    duplicate: false
                },
                PingReply {
                    seq: 1,
                    at: 2.0,
                    duplicate: true
                },
            ]
        );
    }
}
