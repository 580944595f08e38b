//! vigil: a high-availability router daemon speaking VRRP (RFC 5798 / RFC 9568 and RFC 3768).
//!
//! The crate is split per `DESIGN.md`: `wire` and `fsm` are pure (no sockets, no clock, no
//! tokio); `net`, `notify`, `track`, `daemon` and `control` carry the decisions out.

pub mod config;
pub mod control;
pub mod daemon;
pub mod exec;
pub mod fsm;
pub mod logging;
pub mod net;
pub mod notify;
pub mod script_perms;
pub mod track;
pub mod types;
pub mod wire;
