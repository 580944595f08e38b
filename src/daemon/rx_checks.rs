//! The receive checks that need an instance's state, run by the core on an advert the receive
//! task passed: the IPsec AH anti-replay window and the advert's address list.
//!
//! Everything static (the source against `unicast_peer`, its TTL range) is checked once in
//! the receive task; what depends on the last advert accepted or sent lives here, beside the
//! [`Slot`] that holds that state.

use super::drop_log::DropDetail;
use super::drops::DropReason;
use super::input::RxAdvert;
use super::slot::Slot;
use crate::fsm::{State, Time};
use crate::types::Priority;

/// Runs the stateful checks in keepalived's order (the AH sequence number first, in
/// `vrrp_in_chk_ipsecah`, then the address list); on success the advert's sequence number
/// is the instance's. What to log, rate-limited by the core (`drop_log.rs`): the drop with
/// its values, or an advert accepted despite its address list (`Ok(Some(..))`).
pub fn check(
    slot: &mut Slot,
    state: State,
    _now: Time,
    advert: &RxAdvert,
) -> Result<Option<DropDetail>, (DropReason, Option<DropDetail>)> {
    check_hmac_replay(slot, advert).map_err(|r| (r, None))?;
    check_ah_sequence(slot, advert).map_err(|r| (r, None))?;
    check_addresses(slot, state, advert)
}

/// keepalived's `auth_hmac` anti-replay: a verified trailer's sequence must grow past the
/// last one accepted from its sender (see [`super::hmac_replay`]).
fn check_hmac_replay(slot: &mut Slot, advert: &RxAdvert) -> Result<(), DropReason> {
    let (Some(seen), Some(config)) = (advert.hmac, slot.plan.rx.auth_hmac.as_deref()) else {
        return Ok(());
    };
    let capacity = if slot.plan.tx.unicast {
        slot.plan.tx.destinations.len()
    } else {
        super::hmac_replay::MULTICAST_SENDERS
    };
    let (window, src) = (config.time_window, advert.src);
    if slot
        .tx
        .hmac_mut()
        .accept(src, seen.sequence, seen.now_secs, window, capacity)
    {
        Ok(())
    } else {
        Err(DropReason::HmacReplay)
    }
}

/// IPsec AH anti-replay (RFC 2402 §3.4.3), as keepalived does it: one sequence number per
/// instance, shared by sending and receiving. A received advert must carry a number greater
/// than the last one the instance accepted or sent, and becomes the new last. So a backup
/// that becomes master continues the virtual router's sequence where the old master left
/// it, and every other backup keeps accepting it. keepalived resets the number only when
/// its counter has run out (`cycle`, after 2^32 - 3 adverts, over 136 years at one a
/// second) on becoming master; the number also survives a reload, as here (`TxState`).
fn check_ah_sequence(slot: &mut Slot, advert: &RxAdvert) -> Result<(), DropReason> {
    let Some(sequence) = advert.ah_sequence else {
        return Ok(());
    };
    let last = slot.tx.ah_sequence;
    if sequence <= last {
        return Err(DropReason::ReplayedAh);
    }
    slot.tx.ah_sequence = sequence;
    Ok(())
}

/// RFC 3768 / RFC 5798 §7.1: "MAY verify that the IP address(es) associated with the VRID
/// are valid"; if not, "SHOULD log the event" and, unless the sender is the address owner
/// (priority 255), "MUST drop the packet".
///
/// When, as keepalived decides it (vrrp.c `vrrp_state_backup` / `vrrp_state_master_rx`): a
/// master checks every advert; a backup too, unless `skip_check_adv_addr` is set and the
/// advert comes from the master it last heard. keepalived 2.2.7 drops a mismatch even from
/// the owner and 2.3.3 stopped dropping it at all; vigil follows the RFC, with one
/// exception: a priority-0 advert (a master leaving, RFC 5798 §6.4.3) is taken whatever its
/// list. All it can do is make a backup take over after Skew_Time instead of
/// Master_Down_Interval, and a router whose addresses were just changed by a reload must
/// still be able to hand over quickly when it stops.
fn check_addresses(
    slot: &Slot,
    state: State,
    advert: &RxAdvert,
) -> Result<Option<DropDetail>, (DropReason, Option<DropDetail>)> {
    if advert.addresses_match {
        return Ok(None);
    }
    let same_master = slot.counters.last_master == Some(advert.src);
    if state != State::Master && slot.plan.rx_checks.skip_check_adv_addr && same_master {
        return Ok(None);
    }
    let accepted = advert.priority == Priority::OWNER || advert.priority == Priority::STOP;
    let detail = DropDetail::Addresses {
        priority: advert.priority,
        accepted,
    };
    if accepted {
        Ok(Some(detail))
    } else {
        Err((DropReason::AddressListMismatch, Some(detail)))
    }
}
