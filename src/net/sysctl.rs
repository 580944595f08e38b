//! Per-interface kernel parameters under /proc/sys/net/{ipv4,ipv6}/conf/<ifname>/.
//!
//! /proc/sys/net shows the network namespace of the calling thread, so these calls act on the
//! namespace the daemon (or a lab test thread) runs in.

use std::path::PathBuf;

use super::error::NetError;
use crate::types::Family;

/// Longest interface name the kernel accepts (IFNAMSIZ - 1).
pub const IFNAME_MAX: usize = 15;

/// Checks that `name` is something the kernel could call an interface, so that it can be used
/// as a path component under /proc/sys without escaping it.
pub fn validate_ifname(name: &str) -> Result<(), NetError> {
    let reason = if name.is_empty() {
        Some("empty")
    } else if name.len() > IFNAME_MAX {
        Some("longer than 15 bytes")
    } else if name == "." || name == ".." {
        Some("reserved name")
    } else if name
        .bytes()
        .any(|b| b == b'/' || b == 0 || b.is_ascii_whitespace())
    {
        Some("contains '/', NUL or whitespace")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(NetError::InvalidName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// The path of one per-interface parameter.
pub fn conf_path(family: Family, ifname: &str, key: &str) -> Result<PathBuf, NetError> {
    validate_ifname(ifname)?;
    let proto = match family {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    };
    Ok(PathBuf::from(format!(
        "/proc/sys/net/{proto}/conf/{ifname}/{key}"
    )))
}

/// Reads an integer parameter.
pub fn read_conf(family: Family, ifname: &str, key: &str) -> Result<i64, NetError> {
    let path = conf_path(family, ifname, key)?;
    let text = std::fs::read_to_string(&path).map_err(|source| NetError::Sysctl {
        path: path.display().to_string(),
        source,
    })?;
    text.trim().parse::<i64>().map_err(|e| NetError::Sysctl {
        path: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })
}

/// Writes an integer parameter.
pub fn write_conf(family: Family, ifname: &str, key: &str, value: i64) -> Result<(), NetError> {
    let path = conf_path(family, ifname, key)?;
    std::fs::write(&path, format!("{value}\n")).map_err(|source| NetError::Sysctl {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_escape_proc_are_refused() {
        assert!(validate_ifname("eth0").is_ok());
        assert!(validate_ifname("vrrp.255").is_ok());
        for bad in ["", ".", "..", "a/b", "../../etc", "sixteen-chars-xx", "a b"] {
            assert!(validate_ifname(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn paths_are_per_family() {
        let p = conf_path(Family::V4, "eth0", "arp_ignore").unwrap();
        assert_eq!(p, PathBuf::from("/proc/sys/net/ipv4/conf/eth0/arp_ignore"));
        let p = conf_path(Family::V6, "eth0", "disable_ipv6").unwrap();
        assert_eq!(
            p,
            PathBuf::from("/proc/sys/net/ipv6/conf/eth0/disable_ipv6")
        );
    }
}
