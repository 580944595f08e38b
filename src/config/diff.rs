//! Reload plan: what changed between the running configuration and the new one, per instance,
//! so that a SIGHUP touches only what it must (as rathole's typed config diff does).

use std::collections::BTreeSet;

use super::model::{Config, Instance, VirtualAddress};
use crate::types::Priority;

/// What happens to one instance on reload. Instances are matched by name.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigChange {
    /// A new instance: start it.
    Added(Box<Instance>),
    /// An instance that is gone: stop it (send priority 0 if master, remove its VIPs).
    Removed(String),
    /// An instance whose settings changed.
    Changed {
        name: String,
        what: Vec<Change>,
    },
    Unchanged(String),
}

/// One change to a running instance.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Apply in place: adverts carry the new priority from the next one.
    Priority { old: Priority, new: Priority },
    /// Apply in place: install/remove these addresses while master.
    VirtualAddresses {
        added: Vec<VirtualAddress>,
        removed: Vec<VirtualAddress>,
    },
    /// Fields that need the instance restarted (stop, then start with the new settings):
    /// interface, VRID, version, family, ... named by their YAML keys.
    NeedsRestart(Vec<&'static str>),
    /// Other fields that can be applied in place (timers, notify scripts, trackers, ...).
    Other(Vec<&'static str>),
}

/// Compare two configurations instance by instance, in the new configuration's order, then
/// the removed ones.
pub fn diff(old: &Config, new: &Config) -> Vec<ConfigChange> {
    let mut out = Vec::new();
    for n in &new.instances {
        match old.instances.iter().find(|o| o.name == n.name) {
            None => out.push(ConfigChange::Added(Box::new(n.clone()))),
            Some(o) if o == n => out.push(ConfigChange::Unchanged(n.name.clone())),
            Some(o) => out.push(ConfigChange::Changed {
                name: n.name.clone(),
                what: instance_changes(o, n),
            }),
        }
    }
    let new_names: BTreeSet<&str> = new.instances.iter().map(|i| i.name.as_str()).collect();
    for o in &old.instances {
        if !new_names.contains(o.name.as_str()) {
            out.push(ConfigChange::Removed(o.name.clone()));
        }
    }
    out
}

fn instance_changes(o: &Instance, n: &Instance) -> Vec<Change> {
    let mut what = Vec::new();
    let mut restart = Vec::new();
    let mut other = Vec::new();
    macro_rules! cmp {
        ($list:ident, $($field:ident => $key:literal),* $(,)?) => {
            $( if o.$field != n.$field { $list.push($key); } )*
        };
    }
    // Identity of the virtual router and its socket: a change is a different instance.
    cmp!(restart,
        interface => "interface", vrid => "virtual_router_id", version => "version",
        family => "family", use_vmac => "use_vmac", vmac_xmit_base => "vmac_xmit_base",
        unicast_src_ip => "unicast_src_ip", unicast_peers => "unicast_peer",
        mcast_src_ip => "mcast_src_ip", mcast_dst_ip => "mcast_dst_ip", auth => "authentication",
        unicast_ttl => "unicast_ttl",
    );
    if o.priority != n.priority {
        what.push(Change::Priority {
            old: o.priority,
            new: n.priority,
        });
    }
    let added: Vec<VirtualAddress> = n
        .virtual_addresses
        .iter()
        .filter(|a| !o.virtual_addresses.contains(a))
        .cloned()
        .collect();
    let removed: Vec<VirtualAddress> = o
        .virtual_addresses
        .iter()
        .filter(|a| !n.virtual_addresses.contains(a))
        .cloned()
        .collect();
    if !added.is_empty() || !removed.is_empty() {
        what.push(Change::VirtualAddresses { added, removed });
    } else if o.virtual_addresses != n.virtual_addresses {
        other.push("virtual_ipaddress");
    }
    cmp!(other,
        advert_int => "advert_int", initial_state => "state", preempt => "preempt",
        preempt_delay => "preempt_delay", accept => "accept",
        excluded_addresses => "virtual_ipaddress_excluded", virtual_routes => "virtual_routes",
        virtual_rules => "virtual_rules", unicast_fault_no_peer => "unicast_fault_no_peer",
        check_unicast_src => "check_unicast_src", track_src_ip => "track_src_ip",
        track_interfaces => "track_interface", track_scripts => "track_script",
        track_files => "track_file", track_processes => "track_process", garp => "garp",
        notify => "notify", notify_priority_changes => "notify_priority_changes",
        smtp_alert => "smtp_alert", dont_track_primary => "dont_track_primary",
        skip_check_adv_addr => "skip_check_adv_addr", strict_mode => "strict_mode",
        lower_prio_no_advert => "lower_prio_no_advert",
        higher_prio_send_advert => "higher_prio_send_advert",
        down_timer_adverts => "down_timer_adverts", promote_secondaries => "promote_secondaries",
    );
    if !restart.is_empty() {
        what.push(Change::NeedsRestart(restart));
    }
    if !other.is_empty() {
        what.push(Change::Other(other));
    }
    what
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::path::Path;

    use super::*;
    use crate::types::Vrid;

    fn cfg(yaml: &str) -> Config {
        super::super::yaml::parse(yaml, Path::new("t.yaml"))
            .expect("test YAML is valid")
            .0
    }

    const BASE: &str = "instances:\n  - name: a\n    interface: eth0\n    virtual_router_id: 1\n    virtual_ipaddress:\n      - {addr: 192.0.2.1, prefix_len: 24}\n  - name: b\n    interface: eth0\n    virtual_router_id: 2\n";

    #[test]
    fn identical_configs_are_unchanged() {
        let c = cfg(BASE);
        assert_eq!(
            diff(&c, &c),
            vec![
                ConfigChange::Unchanged("a".into()),
                ConfigChange::Unchanged("b".into())
            ]
        );
    }

    #[test]
    fn added_and_removed_instances() {
        let old = cfg(BASE);
        let mut new = old.clone();
        new.instances.remove(1);
        let mut c = new.instances[0].clone();
        c.name = "c".into();
        c.vrid = Vrid::new(3).expect("valid");
        new.instances.push(c.clone());
        let d = diff(&old, &new);
        assert_eq!(d[0], ConfigChange::Unchanged("a".into()));
        assert_eq!(d[1], ConfigChange::Added(Box::new(c)));
        assert_eq!(d[2], ConfigChange::Removed("b".into()));
    }

    #[test]
    fn priority_and_vip_delta_are_in_place_changes() {
        let old = cfg(BASE);
        let mut new = old.clone();
        new.instances[0].priority = Priority::new(200);
        let extra = VirtualAddress::new("192.0.2.2".parse::<IpAddr>().expect("ip"), 24);
        new.instances[0].virtual_addresses.push(extra.clone());
        let d = diff(&old, &new);
        assert_eq!(
            d[0],
            ConfigChange::Changed {
                name: "a".into(),
                what: vec![
                    Change::Priority {
                        old: Priority::new(100),
                        new: Priority::new(200)
                    },
                    Change::VirtualAddresses {
                        added: vec![extra],
                        removed: vec![]
                    },
                ],
            }
        );
    }

    #[test]
    fn interface_change_needs_restart() {
        let old = cfg(BASE);
        let mut new = old.clone();
        new.instances[1].interface = "eth1".into();
        new.instances[1].advert_int = crate::types::Centis::from_secs(2);
        let d = diff(&old, &new);
        assert_eq!(
            d[1],
            ConfigChange::Changed {
                name: "b".into(),
                what: vec![
                    Change::NeedsRestart(vec!["interface"]),
                    Change::Other(vec!["advert_int"])
                ],
            }
        );
    }
}
