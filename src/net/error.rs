//! Errors of the Linux IO adapters, each carrying the interface or address it concerns so a
//! log line is actionable on its own.

use std::io;
use std::net::IpAddr;

/// An error from a socket, netlink or sysctl operation.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A socket could not be created or configured.
    #[error("{what} on interface {ifname}: {source}")]
    Socket {
        what: &'static str,
        ifname: String,
        #[source]
        source: io::Error,
    },

    /// The netlink connection could not be opened.
    #[error("opening a netlink connection ({purpose}): {source}")]
    Connect {
        purpose: &'static str,
        #[source]
        source: io::Error,
    },

    /// A netlink request failed; `errno` is set when the kernel answered with an error code.
    #[error("netlink: {op} {target}: {source}")]
    Netlink {
        op: &'static str,
        target: String,
        errno: Option<i32>,
        #[source]
        source: rtnetlink::Error,
    },

    /// No link carries this name (or index).
    #[error("no such interface: {0}")]
    NoSuchLink(String),

    /// A route or rule that cannot be expressed as a netlink message (mixed families).
    #[error("invalid route or rule {target}: {reason}")]
    InvalidRoute { target: String, reason: String },

    /// An address or prefix length that cannot be configured as asked.
    #[error("invalid address {addr}/{prefix_len} on ifindex {ifindex}: {reason}")]
    InvalidAddress {
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
        reason: &'static str,
    },

    /// A name that the kernel would refuse (too long, or with a '/').
    #[error("invalid interface name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },

    /// Reading or writing a /proc/sys entry failed.
    #[error("sysctl {path}: {source}")]
    Sysctl {
        path: String,
        #[source]
        source: io::Error,
    },
}

impl NetError {
    pub(crate) fn netlink(
        op: &'static str,
        target: impl Into<String>,
        source: rtnetlink::Error,
    ) -> Self {
        let errno = match &source {
            rtnetlink::Error::NetlinkError(msg) => Some(msg.raw_code().abs()),
            _ => None,
        };
        NetError::Netlink {
            op,
            target: target.into(),
            errno,
            source,
        }
    }

    /// The kernel's errno for a failed netlink request, if it gave one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetError::Netlink { errno, .. } => *errno,
            NetError::Socket { source, .. } | NetError::Sysctl { source, .. } => {
                source.raw_os_error()
            }
            _ => None,
        }
    }

    /// The object already exists (adding an address that is present: reload and restart
    /// make this an ordinary case the daemon treats as success).
    pub fn is_already_exists(&self) -> bool {
        self.errno() == Some(libc::EEXIST)
    }

    /// The object was not there (deleting an address someone else removed).
    pub fn is_not_found(&self) -> bool {
        matches!(self, NetError::NoSuchLink(_))
            || matches!(
                self.errno(),
                Some(libc::EADDRNOTAVAIL | libc::ENODEV | libc::ENOENT)
            )
    }
}
