//! What the simulator records: every input, advert and transition, formatted only on failure.

use std::fmt::Write as _;

use vigil::fsm::{AdvertRx, Input, Reason, State, Time};
use vigil::types::{Priority, Vrid};

use super::link::LinkProfile;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionRec {
    pub at: Time,
    pub router: usize,
    pub vrid: Vrid,
    pub from: State,
    pub to: State,
    pub reason: Reason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvertRec {
    pub at: Time,
    pub router: usize,
    pub vrid: Vrid,
    pub priority: Priority,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxRec {
    pub at: Time,
    pub router: usize,
    pub vrid: Vrid,
    pub advert: AdvertRx,
}

#[derive(Debug, Clone)]
pub enum TraceLine {
    Start {
        at: Time,
        router: usize,
    },
    Crash {
        at: Time,
        router: usize,
    },
    Input {
        at: Time,
        router: usize,
        vrid: Option<Vrid>,
        input: Input,
    },
    Tx {
        at: Time,
        router: usize,
        vrid: Vrid,
        priority: Priority,
    },
    Lost {
        at: Time,
        from: usize,
        to: usize,
        vrid: Vrid,
    },
    Transition(TransitionRec),
    Partition {
        at: Time,
        sides: Vec<u8>,
    },
    Link {
        at: Time,
        from: usize,
        to: usize,
        profile: LinkProfile,
    },
}

pub fn format(lines: &[TraceLine]) -> String {
    let mut s = String::new();
    for line in lines {
        let _ = match line {
            TraceLine::Start { at, router } => writeln!(s, "{at} r{router} START"),
            TraceLine::Crash { at, router } => writeln!(s, "{at} r{router} CRASH"),
            TraceLine::Input {
                at,
                router,
                vrid,
                input,
            } => match vrid {
                Some(v) => writeln!(s, "{at} r{router} vrid {v} <- {input:?}"),
                None => writeln!(s, "{at} r{router} all <- {input:?}"),
            },
            TraceLine::Tx {
                at,
                router,
                vrid,
                priority,
            } => writeln!(s, "{at} r{router} vrid {vrid} tx advert prio {priority}"),
            TraceLine::Lost { at, from, to, vrid } => {
                writeln!(s, "{at} r{from} -> r{to} vrid {vrid} lost")
            }
            TraceLine::Transition(t) => {
                writeln!(
                    s,
                    "{} r{} vrid {} {} -> {} ({})",
                    t.at, t.router, t.vrid, t.from, t.to, t.reason
                )
            }
            TraceLine::Partition { at, sides } => writeln!(s, "{at} partition {sides:?}"),
            TraceLine::Link {
                at,
                from,
                to,
                profile,
            } => writeln!(s, "{at} link r{from}->r{to} {profile:?}"),
        };
    }
    s
}
