//! Keyword tables, the shape keepalived's parser has (`install_keyword(name, handler)` per
//! block), typed: each entry is a keyword (with its aliases), its class (acted on, warned
//! about with the reason, or refused), the SourceMap path it records and the function that
//! parses its value into the model. One table per block, in `blocks/`; each keyword is
//! written once, and `docs/config.md`'s keyword table and the keepalived 2.4 coverage test
//! (`tests/keyword_docs.rs`) read the same entries.

use super::mapping::Mapper;
use super::parser::Node;

/// `Err(())`: the problem is already reported; the entry's path is not recorded.
pub type R<T> = Result<T, ()>;

/// Parses one statement into the block's context `C` (the model object being built).
pub type Set<C> = fn(&mut Mapper, &mut C, &Node) -> R<()>;

/// What vigil does with a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Parsed into the model and acted on.
    Acted,
    /// Accepted with a warning that says why it has no effect (`--strict`: an error).
    Warned(Why),
    /// Refused with an error saying why.
    Refused(Why),
}

impl Class {
    pub fn label(self) -> &'static str {
        match self {
            Class::Acted => "acted",
            Class::Warned(_) => "warned",
            Class::Refused(_) => "refused",
        }
    }

    pub fn why(self) -> Option<Why> {
        match self {
            Class::Acted => None,
            Class::Warned(w) | Class::Refused(w) => Some(w),
        }
    }
}

/// Why a keyword is warned about or refused: one reason per group of keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// IPVS / LVS (keepalived's checker process): vigil is the VRRP side only.
    Lvs,
    /// BFD (keepalived's bfd process): not part of vigil.
    Bfd,
    /// SNMP agent: vigil exports Prometheus metrics instead.
    Snmp,
    /// D-Bus interface: vigil has its control socket instead.
    Dbus,
    /// E-mail alerts: vigil has no SMTP client.
    Email,
    /// Tuning of keepalived's processes (names, scheduling, memory, rlimits, netlink buffers).
    ProcessTuning,
    /// keepalived's iptables/ipset firewall integration (for `no_accept` / `vrrp_strict`).
    Firewall,
    /// keepalived's nftables settings: vigil always uses nftables, in its own table.
    Nftables,
    /// keepalived's own reload, config-checking, dump and debugging machinery.
    KeepalivedRuntime,
    /// Start-up/shutdown scripts of the keepalived parent process.
    ProcessScripts,
    /// keepalived's multi-instance and namespace layout of its own process (pid files, ...).
    ProcessLayout,
    /// Interface link polling (MII/ethtool): vigil follows the kernel's netlink link events.
    LinkPolling,
    /// GARP on interfaces other than the instance's own, or grouped GARP timing.
    ExtraGarp,
    /// VMAC naming / MAC prefixes vigil does not configure.
    VmacNaming,
    /// IPVLAN interfaces: vigil creates macvlan VMACs only.
    Ipvlan,
    /// keepalived's per-instance receive buffer and debug level settings.
    InstanceTuning,
    /// The pre-RFC unicast checksum of keepalived < 1.3.
    OldChecksum,
    /// Changes the state machine in a way vigil does not implement: refused rather than run
    /// differently from keepalived.
    FsmVariant,
    /// Logging of adverts for unknown VRIDs: vigil counts them in its metrics.
    UnknownVrids,
    /// keepalived's start-up delay relative to boot time.
    BootDelay,
    /// keepalived's setting of the kernel's IGMP report sysctl.
    IgmpSysctl,
    /// keepalived's per-interface debounce of link changes.
    LinkDelays,
    /// keepalived itself ignores it in this place (its warning says why).
    KeepalivedIgnores,
    /// A per-address VMAC (`use_vmac_addr`): vigil makes one VMAC per instance.
    VmacAddr,
    /// A vrrp_instance keyword written in another block.
    InstanceOnly,
    /// A keyword vigil does not act on yet whose implementation is under way (issue 9); the
    /// coverage test allows this reason only for the keywords it names.
    Pending,
}

impl Why {
    /// The reason, as printed after "has no effect in vigil: " or "is refused: ".
    pub fn text(self) -> &'static str {
        match self {
            Why::Lvs => {
                "vigil is the VRRP side of keepalived only; LVS/IPVS virtual servers and their checkers are not part of it"
            }
            Why::Bfd => "vigil has no BFD; track interfaces, scripts, files or processes instead",
            Why::Snmp => {
                "vigil has no SNMP agent; it exports Prometheus metrics (`metrics` in YAML)"
            }
            Why::Dbus => {
                "vigil has no D-Bus interface; use its control socket (`vigil status`, `vigil reload`)"
            }
            Why::Email => {
                "vigil sends no e-mail: run a notify script that mails, or alert from the Prometheus metrics"
            }
            Why::ProcessTuning => {
                "it tunes keepalived's own processes (names, scheduling, memory locking, rlimits, netlink buffers); vigil is one process, tuned by its systemd unit"
            }
            Why::Firewall => {
                "vigil enforces `no_accept` (and `vrrp_strict`) with nftables only, in its own table `inet vigil`; it never uses iptables or ipsets"
            }
            Why::Nftables => {
                "vigil always enforces `no_accept` with nftables, in its own table `inet vigil` (input chain at keepalived's default priority -1, a counter on each drop rule, link-local VIPs matched by address); keepalived's table name, priority, counters and ifindex settings do not apply"
            }
            Why::KeepalivedRuntime => {
                "it configures keepalived's own reload, config-checking, dump or debugging machinery; vigil has `vigil check`, `vigil reload` and its own dump signals"
            }
            Why::ProcessScripts => {
                "vigil runs no start-up or shutdown scripts of its own; use ExecStartPre/ExecStopPost in its systemd unit"
            }
            Why::ProcessLayout => {
                "it sets keepalived's own process layout (instances, pid directories, namespaces of its children); vigil is one process"
            }
            Why::LinkPolling => {
                "vigil follows the kernel's netlink link events and does not poll links"
            }
            Why::ExtraGarp => {
                "vigil sends gratuitous ARP/NA only on the instance's own interface, on its own schedule"
            }
            Why::VmacNaming => {
                "vigil names VMAC interfaces vrrp.VRID (or as `use_vmac NAME` says) and uses the RFC 5798 §7.3 MAC"
            }
            Why::Ipvlan => "vigil creates macvlan VMAC interfaces only (`use_vmac`), not ipvlan",
            Why::InstanceTuning => {
                "it tunes keepalived's receive buffers or debug output; vigil sizes its shared sockets itself"
            }
            Why::OldChecksum => {
                "vigil computes the RFC checksum only (keepalived < 1.3.0's unicast checksum is for peers older than 2016)"
            }
            Why::FsmVariant => {
                "it changes the VRRP state machine in a way vigil does not implement, and running differently from keepalived would be worse than refusing"
            }
            Why::UnknownVrids => {
                "vigil counts adverts for unknown VRIDs in its metrics instead of logging them"
            }
            Why::BootDelay => {
                "vigil does not read the system's uptime; use `vrrp_startup_delay`, which applies at every start"
            }
            Why::IgmpSysctl => {
                "vigil does not change IGMP sysctls; set net.ipv4.conf.all.igmp_link_local_mcast_reports to 0 yourself if you want it"
            }
            Why::LinkDelays => {
                "vigil acts on link changes as the kernel reports them, without per-interface debounce delays"
            }
            Why::KeepalivedIgnores => {
                "keepalived itself ignores it here, and vigil ignores it the same way (the warning names keepalived's message)"
            }
            Why::VmacAddr => {
                "vigil makes one VMAC per instance (`use_vmac`); an address on another interface goes on that interface itself"
            }
            Why::InstanceOnly => {
                "it is a vrrp_instance keyword, unknown to keepalived in this block: set it in the member instances"
            }
            Why::Pending => "not acted on by vigil yet (being implemented, issue 9)",
        }
    }
}

/// Where a table name comes from, when it is not one of keepalived 2.4's own keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A keyword of keepalived 2.4.x (in `keepalived-2.4-keywords.txt`).
    Keepalived,
    /// Accepted by vigil although keepalived 2.4 does not take it in this block (why given).
    VigilOnly(&'static str),
}

/// One table entry.
pub struct Keyword<C> {
    /// The keyword, then its aliases.
    pub names: &'static [&'static str],
    pub class: Class,
    /// The SourceMap path recorded under the block's base when `set` succeeds; empty: none.
    pub path: &'static str,
    pub set: Option<Set<C>>,
    pub origin: Origin,
}

impl<C> Keyword<C> {
    /// A keyword parsed into the model by `set`, recording `path`.
    pub const fn acted(names: &'static [&'static str], path: &'static str, set: Set<C>) -> Self {
        Keyword {
            names,
            class: Class::Acted,
            path,
            set: Some(set),
            origin: Origin::Keepalived,
        }
    }

    /// Accepted with the generic warning naming `why`.
    pub const fn warned(names: &'static [&'static str], why: Why) -> Self {
        Keyword {
            names,
            class: Class::Warned(why),
            path: "",
            set: None,
            origin: Origin::Keepalived,
        }
    }

    /// Accepted, parsed by `set`, which (or `config/inert.rs`) warns with the reason.
    pub const fn warned_by(
        names: &'static [&'static str],
        why: Why,
        path: &'static str,
        set: Set<C>,
    ) -> Self {
        Keyword {
            names,
            class: Class::Warned(why),
            path,
            set: Some(set),
            origin: Origin::Keepalived,
        }
    }

    /// Refused with an error naming `why`.
    pub const fn refused(names: &'static [&'static str], why: Why) -> Self {
        Keyword {
            names,
            class: Class::Refused(why),
            path: "",
            set: None,
            origin: Origin::Keepalived,
        }
    }

    /// Marks a name keepalived 2.4 does not have in this block.
    pub const fn vigil_only(mut self, why: &'static str) -> Self {
        self.origin = Origin::VigilOnly(why);
        self
    }

    pub fn info(&self) -> Info {
        Info {
            names: self.names,
            class: self.class,
            path: self.path,
            origin: self.origin,
            parsed: self.set.is_some(),
        }
    }
}

/// An entry without its parser: what the docs and the coverage test read.
#[derive(Debug, Clone, Copy)]
pub struct Info {
    pub names: &'static [&'static str],
    pub class: Class,
    pub path: &'static str,
    pub origin: Origin,
    /// The entry has a value parser (it maps into the model, or warns its own way).
    pub parsed: bool,
}

/// A block's table, with what an unknown keyword in it is.
pub struct Block<C: 'static> {
    /// The block's name in messages ("vrrp_instance", "the top level").
    pub name: &'static str,
    /// The name in the keyword list file and the docs.
    pub list_name: &'static str,
    pub keywords: &'static [Keyword<C>],
    /// keepalived refuses an unknown keyword here (vigil: an error) or skips it (a warning).
    pub unknown_is_error: bool,
}

impl<C> Block<C> {
    pub fn find(&self, keyword: &str) -> Option<&'static Keyword<C>> {
        self.keywords.iter().find(|k| k.names.contains(&keyword))
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        self.keywords.iter().flat_map(|k| k.names.iter().copied())
    }

    pub fn infos(&self) -> Vec<Info> {
        self.keywords.iter().map(Keyword::info).collect()
    }
}
