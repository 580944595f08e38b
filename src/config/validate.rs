//! Semantic checks of a model, whichever format it came from. Each problem says how to fix it
//! and points at the line that caused it.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::types::{Family, Priority, Version};

use super::diagnostic::{Diagnostic, SourceMap};
use super::model::{Config, InitialState, Instance, family_of};

/// RFC 5798 §5.2.7: Max Adver Int is a 12-bit count of centiseconds.
const MAX_V3_ADVERT_CENTIS: u32 = 4095;

pub fn validate(config: &Config, map: &SourceMap) -> Vec<Diagnostic> {
    let mut v = Validator {
        map,
        out: Vec::new(),
    };
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, inst) in config.instances.iter().enumerate() {
        if let Some(first) = names.insert(inst.name.as_str(), i) {
            v.error(
                i,
                "",
                format!(
                    "instance name `{}` is already used by instance #{}: give each vrrp_instance its own name",
                    inst.name,
                    first + 1
                ),
            );
        }
        v.instance(i, inst, config);
    }
    v.duplicate_vrids(config);
    if let Some(name) = &config.global.net_namespace
        && let Err(e) = crate::net::netns::netns_path(name)
    {
        v.out.push(Diagnostic::error(
            map.locate("global.net_namespace"),
            format!("`net_namespace`: {e}"),
        ));
    }
    v.sync_groups(config, &names);
    v.out
}

struct Validator<'a> {
    map: &'a SourceMap,
    out: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn error(&mut self, i: usize, field: &str, msg: String) {
        let path = if field.is_empty() {
            format!("instances.{i}")
        } else {
            format!("instances.{i}.{field}")
        };
        self.out
            .push(Diagnostic::error(self.map.locate(&path), msg));
    }

    fn warning(&mut self, i: usize, field: &str, msg: String) {
        let path = format!("instances.{i}.{field}");
        self.out
            .push(Diagnostic::warning(self.map.locate(&path), msg));
    }

    /// keepalived 2.4 (vrrp.c `vrrp_complete_instance`): an instance without addresses is
    /// refused under VRRPv3 or strict mode, and warned about under VRRPv2, unless it says
    /// `no_virtual_ipaddress`, which strict mode does not allow (RFC 5798 §5.2.5: an advert
    /// carries at least one address; keepalived.conf's fix-up clears it with a warning).
    fn no_virtual_ipaddress(&mut self, i: usize, inst: &Instance) {
        let name = &inst.name;
        if inst.no_virtual_ipaddress && inst.strict_mode {
            self.error(i, "no_virtual_ipaddress", format!("instance `{name}`: no_virtual_ipaddress is incompatible with strict mode (RFC 5798 §5.2.5 requires an address in every advert): remove one of them"));
            return;
        }
        if !inst.virtual_addresses.is_empty() || inst.no_virtual_ipaddress {
            return;
        }
        if inst.version == Version::V3 || inst.strict_mode {
            self.error(i, "virtual_ipaddress", format!("instance `{name}`: no virtual_ipaddress; at least one is required with VRRPv3 or strict mode (keepalived refuses it too): add one, or write `no_virtual_ipaddress` (not with strict mode) to advertise none"));
        } else {
            self.warning(i, "virtual_ipaddress", format!("instance `{name}` has no virtual_ipaddress; at least one is sensible: it will advertise an empty address list (write `no_virtual_ipaddress` if that is meant)"));
        }
    }

    fn instance(&mut self, i: usize, inst: &Instance, config: &Config) {
        let name = &inst.name;
        if inst.interface.is_empty() {
            self.error(
                i,
                "interface",
                format!("instance `{name}`: `interface` is empty: name the interface adverts use"),
            );
        }
        // RFC 5798 §5.2.4: priority 0 is only sent by a master that is stopping.
        if inst.priority == Priority::STOP {
            self.error(i, "priority", format!("instance `{name}`: priority 0 is reserved (RFC 5798 §5.2.4): use 1 to 254, or 255 for the address owner"));
        }
        if inst.version == Version::V2 && inst.family == Family::V6 {
            self.error(i, "version", format!("instance `{name}`: VRRPv2 carries only IPv4 (RFC 3768): use `version 3` for IPv6 addresses"));
        }
        let c = inst.advert_int.get();
        match inst.version {
            Version::V2 => {
                // RFC 3768 §5.3.7: Adver Int is in whole seconds, 8 bits.
                if c == 0 || c % 100 != 0 || c > 25_500 {
                    self.error(i, "advert_int", format!("instance `{name}`: advert_int {} is not a whole number of seconds from 1 to 255, as VRRPv2 requires (RFC 3768 §5.3.7): round it, or use `version 3` for sub-second adverts", inst.advert_int));
                }
            }
            Version::V3 => {
                if c == 0 || c > MAX_V3_ADVERT_CENTIS {
                    self.error(i, "advert_int", format!("instance `{name}`: advert_int {} is outside 0.01 to 40.95 seconds (RFC 5798 §5.2.7)", inst.advert_int));
                }
            }
        }
        for (k, a) in inst.virtual_addresses.iter().enumerate() {
            if a.family() != inst.family {
                let field = format!("virtual_ipaddress.{k}");
                self.error(i, &field, format!("instance `{name}`: virtual address {} is not {} like the instance: one instance carries one family (RFC 5798 §7.1); move it to virtual_ipaddress_excluded or to another instance", a.addr, family_name(inst.family)));
            }
            if !prefix_ok(a.addr, a.prefix_len) {
                self.error(
                    i,
                    &format!("virtual_ipaddress.{k}"),
                    format!(
                        "instance `{name}`: prefix length /{} is too long for {}",
                        a.prefix_len, a.addr
                    ),
                );
            }
        }
        self.no_virtual_ipaddress(i, inst);
        if inst.family == Family::V6
            && let Some(IpAddr::V6(first)) = inst.virtual_addresses.first().map(|a| a.addr)
            && !first.is_unicast_link_local()
        {
            // RFC 5798 §5.2.9: the first IPv6 address in an advert is the link-local one.
            self.warning(i, "virtual_ipaddress.0", format!("instance `{name}`: the first IPv6 virtual address {first} is not link-local (RFC 5798 §5.2.9 expects a link-local address first)"));
        }
        for (k, p) in inst.unicast_peers.iter().enumerate() {
            let peer = p.address;
            if family_of(peer) != inst.family {
                self.error(i, &format!("unicast_peer.{k}"), format!("instance `{name}`: unicast peer {peer} is not {} like the instance's addresses: list peers of the instance's family", family_name(inst.family)));
            }
            // keepalived reports this and runs: every advert from that peer is then dropped.
            let (min, max) = p.ttl_range();
            if min > max {
                self.warning(i, &format!("unicast_peer.{k}"), format!("instance `{name}`: unicast peer {peer} has min_ttl {min} > max_ttl {max}: every advert from it will be dropped"));
            }
            if inst.unicast_peers[..k].iter().any(|q| q.address == peer) {
                self.warning(i, &format!("unicast_peer.{k}"), format!("instance `{name}`: unicast peer {peer} is listed twice: the first entry's TTL range applies"));
            }
        }
        // keepalived checks the source only of unicast instances; a multicast instance's
        // adverts come from anyone on the link, whatever this says.
        if inst.check_unicast_src
            && inst.unicast_peers.is_empty()
            && !config.global.check_unicast_src
        {
            self.warning(i, "check_unicast_src", format!("instance `{name}`: check_unicast_src has no effect without unicast_peer (multicast adverts are not filtered by source)"));
        }
        for (field, addr) in [
            ("unicast_src_ip", inst.unicast_src_ip),
            ("mcast_src_ip", inst.mcast_src_ip),
            ("mcast_dst_ip", inst.mcast_dst_ip),
        ] {
            if let Some(a) = addr
                && family_of(a) != inst.family
            {
                self.error(
                    i,
                    field,
                    format!(
                        "instance `{name}`: {field} {a} is not {} like the instance's addresses",
                        family_name(inst.family)
                    ),
                );
            }
        }
        if let Some(dst) = inst.mcast_dst_ip
            && !dst.is_multicast()
        {
            self.error(
                i,
                "mcast_dst_ip",
                format!("instance `{name}`: mcast_dst_ip {dst} is not a multicast address"),
            );
        }
        if inst.auth.is_some() && inst.version == Version::V3 {
            self.error(i, "authentication", format!("instance `{name}`: VRRPv3 has no authentication (RFC 5798 §9): remove the authentication block or use `version 2`"));
        }
        if let Some(super::model::Auth::Pass(p)) = &inst.auth
            && p.len() > 8
        {
            self.warning(i, "authentication", format!("instance `{name}`: only the first 8 characters of the password are sent (RFC 2338 §5.3.6)"));
        }
        if inst.strict_mode {
            if inst.auth.is_some() {
                self.error(i, "authentication", format!("instance `{name}`: strict mode forbids authentication: remove it or turn strict mode off"));
            }
            if !inst.unicast_peers.is_empty() {
                self.error(i, "unicast_peer", format!("instance `{name}`: strict mode forbids unicast peers: remove them or turn strict mode off"));
            }
            if (inst.initial_state == InitialState::Master) != (inst.priority == Priority::OWNER) {
                self.error(i, "state", format!("instance `{name}`: strict mode allows `state MASTER` only with priority 255 and requires it then"));
            }
        }
        if inst.vmac_xmit_base && inst.use_vmac.is_none() {
            self.warning(
                i,
                "vmac_xmit_base",
                format!("instance `{name}`: vmac_xmit_base has no effect without use_vmac"),
            );
        }
        if !(1..=100).contains(&inst.down_timer_adverts) {
            self.error(
                i,
                "down_timer_adverts",
                format!("instance `{name}`: down_timer_adverts must be from 1 to 100"),
            );
        }
        let scripts: HashSet<&str> = config.scripts.iter().map(|s| s.name.as_str()).collect();
        let files: HashSet<&str> = config.track_files.iter().map(|s| s.name.as_str()).collect();
        let procs: HashSet<&str> = config
            .track_processes
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        for (k, t) in inst.track_scripts.iter().enumerate() {
            if !scripts.contains(t.name.as_str()) {
                self.error(i, &format!("track_script.{k}"), format!("instance `{name}`: track_script `{}` names no vrrp_script{}: define `vrrp_script {} {{ script ... }}`", t.name, super::diagnostic::did_you_mean(&t.name, scripts.iter().copied()), t.name));
            }
        }
        for (k, t) in inst.track_files.iter().enumerate() {
            if !files.contains(t.name.as_str()) {
                self.error(i, &format!("track_file.{k}"), format!("instance `{name}`: track_file `{}` names no track_file block{}: define `track_file {} {{ file ... }}`", t.name, super::diagnostic::did_you_mean(&t.name, files.iter().copied()), t.name));
            }
        }
        for (k, t) in inst.track_processes.iter().enumerate() {
            if !procs.contains(t.name.as_str()) {
                self.error(i, &format!("track_process.{k}"), format!("instance `{name}`: track_process `{}` names no vrrp_track_process{}: define `vrrp_track_process {} {{ process ... }}`", t.name, super::diagnostic::did_you_mean(&t.name, procs.iter().copied()), t.name));
            }
        }
        if inst.priority == Priority::OWNER
            && inst
                .track_scripts
                .iter()
                .any(|t| t.weight.unwrap_or(0) != 0)
        {
            self.warning(
                i,
                "track_script",
                format!(
                    "instance `{name}`: the address owner (priority 255) ignores tracker weights"
                ),
            );
        }
    }

    fn duplicate_vrids(&mut self, config: &Config) {
        // RFC 5798 §6.1: a VRID identifies one virtual router per LAN and family; two
        // instances may share one only on distinct groups or disjoint unicast peers.
        let mut seen: HashMap<(&str, u8, bool, Option<IpAddr>), Vec<usize>> = HashMap::new();
        for (i, inst) in config.instances.iter().enumerate() {
            let key = (
                inst.interface.as_str(),
                inst.vrid.get(),
                inst.family == Family::V6,
                inst.mcast_dst_ip,
            );
            let others = seen.entry(key).or_default();
            for &j in others.iter() {
                let other = &config.instances[j];
                let disjoint_unicast = !inst.unicast_peers.is_empty()
                    && !other.unicast_peers.is_empty()
                    && inst
                        .unicast_peers
                        .iter()
                        .all(|p| !other.unicast_peers.iter().any(|q| q.address == p.address));
                if !disjoint_unicast {
                    self.error(i, "virtual_router_id", format!(
                        "instance `{}`: virtual_router_id {} is already used on {} ({}) by instance `{}`: choose another VRID",
                        inst.name, inst.vrid, inst.interface, family_name(inst.family), other.name
                    ));
                    break;
                }
            }
            others.push(i);
        }
    }

    fn sync_groups(&mut self, config: &Config, names: &HashMap<&str, usize>) {
        let mut member_of: HashMap<&str, &str> = HashMap::new();
        for (g, group) in config.sync_groups.iter().enumerate() {
            if group.group.is_empty() {
                let pos = self.map.locate(&format!("sync_groups.{g}"));
                self.out.push(Diagnostic::error(
                    pos,
                    format!(
                        "vrrp_sync_group `{}` has no members: list instances in `group {{ ... }}`",
                        group.name
                    ),
                ));
            }
            for (k, member) in group.group.iter().enumerate() {
                let pos = self.map.locate(&format!("sync_groups.{g}.group.{k}"));
                if !names.contains_key(member.as_str()) {
                    self.out.push(Diagnostic::error(pos, format!(
                        "vrrp_sync_group `{}` names unknown instance `{member}`{}: define the vrrp_instance or remove it from the group",
                        group.name, super::diagnostic::did_you_mean(member, names.keys().copied())
                    )));
                } else if let Some(prev) = member_of.insert(member.as_str(), group.name.as_str()) {
                    self.out.push(Diagnostic::error(pos, format!(
                        "instance `{member}` is already in vrrp_sync_group `{prev}`: an instance belongs to one sync group at most"
                    )));
                }
            }
            let scripts: HashSet<&str> = config.scripts.iter().map(|s| s.name.as_str()).collect();
            for (k, t) in group.track_scripts.iter().enumerate() {
                if !scripts.contains(t.name.as_str()) {
                    let pos = self
                        .map
                        .locate(&format!("sync_groups.{g}.track_script.{k}"));
                    self.out.push(Diagnostic::error(
                        pos,
                        format!(
                            "vrrp_sync_group `{}`: track_script `{}` names no vrrp_script",
                            group.name, t.name
                        ),
                    ));
                }
            }
        }
    }
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

fn prefix_ok(addr: IpAddr, len: u8) -> bool {
    match addr {
        IpAddr::V4(_) => len <= 32,
        IpAddr::V6(_) => len <= 128,
    }
}
