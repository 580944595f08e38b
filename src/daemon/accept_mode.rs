//! Accept_Mode off at the daemon's edges: the `net::firewall` table made at start and deleted
//! at exit. While running, the executor (`effects.rs`) adds and removes each no-accept
//! master's VIPs as the core installs and removes them.
//!
//! At start any `vigil` table is replaced (a daemon killed by `kill -9` could not delete its
//! own, and its entries would keep dropping traffic to addresses this run may accept, as
//! residual VIPs would keep answering: `residual.rs`). keepalived deletes its old table at
//! start the same way. A start whose configuration needs the table and cannot make it fails:
//! running would accept what RFC 5798 §6.4.3 forbids.

use crate::config::model::Config;
use crate::net::firewall::{self, FirewallError};

/// Whether some instance of `config` refuses traffic to its VIPs while master.
pub fn needed(config: &Config) -> bool {
    config.instances.iter().any(|i| {
        crate::fsm::refuses_vip_traffic(i.accept, i.priority) && !i.virtual_addresses.is_empty()
    })
}

/// Replaces a stale table, and makes an empty one if `needed`. Returns whether it exists.
pub async fn start(needed: bool) -> Result<bool, FirewallError> {
    if needed {
        firewall::apply(&firewall::setup_script()).await?;
        tracing::info!(
            table = firewall::TABLE,
            "accept mode off: nftables table ready (traffic to a non-owner master's virtual addresses is dropped)"
        );
        return Ok(true);
    }
    match firewall::apply(&firewall::teardown_script()).await {
        Ok(()) => {}
        // No `nft` and nothing to enforce: nothing can have been left either.
        Err(e) if e.is_missing_program() => {}
        Err(e) => {
            tracing::warn!(error = %e, table = firewall::TABLE, "cannot delete a table a previous run may have left")
        }
    }
    Ok(false)
}

/// Deletes the table at exit, after every VIP is gone (a reload may have made it).
pub async fn stop() {
    match firewall::apply(&firewall::teardown_script()).await {
        Ok(()) => tracing::debug!(table = firewall::TABLE, "nftables table deleted"),
        Err(e) if e.is_missing_program() => {}
        Err(e) => {
            tracing::warn!(error = %e, table = firewall::TABLE, "cannot delete the nftables table")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::needed;
    use crate::config::{LoadOptions, load_keepalived_str};

    fn needs(global: &str, priority: u8, extra: &str) -> bool {
        let conf = format!(
            "global_defs {{\n{global}}}\nvrrp_instance VI {{\n interface eth0\n virtual_router_id 9\n \
             priority {priority}\n advert_int 1\n{extra} virtual_ipaddress {{\n  192.0.2.9/24\n }}\n}}\n"
        );
        let loaded = load_keepalived_str(&conf, Path::new("t.conf"), &LoadOptions::default())
            .expect("loads");
        needed(&loaded.model)
    }

    #[test]
    fn the_table_is_needed_by_a_non_owner_that_does_not_accept() {
        assert!(!needs("", 100, ""), "keepalived's default is accept");
        assert!(needs("", 100, " no_accept\n"));
        assert!(
            needs(" vrrp_strict\n", 100, ""),
            "strict mode turns accept off"
        );
        assert!(
            !needs(" vrrp_strict\n", 255, ""),
            "the owner always accepts"
        );
        assert!(!needs("", 255, " no_accept\n"), "the owner always accepts");
        // VRRPv2 has no Accept Mode: keepalived's fix-up turns `accept` off below 255.
        assert!(needs(" vrrp_strict\n", 100, " accept\n"));
    }
}
