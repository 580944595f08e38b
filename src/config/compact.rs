//! Handing back the slack of a loaded model's vectors.
//!
//! The daemon keeps the running model (an interface that comes back is planned against it
//! again, `daemon::resync`), so what the parser over-allocated stays for the daemon's life.
//! A deserializer grows each vector by doubling: 10,000 instances sit in room for 16,384
//! (976 bytes each: 6 MiB unused), and each instance's one virtual address in room for four
//! (384 bytes unused). About 1 KiB per instance, returned here once per load.

use super::model::{Config, Instance};

/// Shrinks every vector of the model that grows with the number of instances.
pub fn shrink(config: &mut Config) {
    config.instances.shrink_to_fit();
    config.instances.iter_mut().for_each(shrink_instance);
    config.sync_groups.shrink_to_fit();
}

fn shrink_instance(i: &mut Instance) {
    i.name.shrink_to_fit();
    i.interface.shrink_to_fit();
    i.virtual_addresses.shrink_to_fit();
    i.excluded_addresses.shrink_to_fit();
    i.virtual_routes.shrink_to_fit();
    i.virtual_rules.shrink_to_fit();
    i.unicast_peers.shrink_to_fit();
    i.track_interfaces.shrink_to_fit();
    i.track_scripts.shrink_to_fit();
    i.track_files.shrink_to_fit();
    i.track_processes.shrink_to_fit();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinking_keeps_the_model_and_drops_the_slack() {
        let text = "instances:\n  - name: vi_1\n    interface: eth0\n    virtual_router_id: 1\n    priority: 100\n    virtual_ipaddress:\n      - {addr: 192.0.2.1, prefix_len: 32, dev: eth0}\n";
        let (mut config, _) =
            crate::config::yaml::parse(text, std::path::Path::new("t.yaml")).expect("parses");
        config.instances.reserve(100);
        config.instances[0].virtual_addresses.reserve(8);
        let before = config.clone();
        shrink(&mut config);
        assert_eq!(config, before);
        assert_eq!(config.instances.capacity(), 1);
        assert_eq!(config.instances[0].virtual_addresses.capacity(), 1);
    }
}
