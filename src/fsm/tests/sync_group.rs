use super::*;

fn group_node(priority: u8) -> (Node, InstanceId, InstanceId) {
    let mut node = Node::new();
    let a = node.add_instance(config(Version::V3, priority, 1));
    let mut c = config(Version::V3, priority, 1);
    c.vrid = crate::types::Vrid::new(8).unwrap_or_else(|| unreachable!());
    let b = node.add_instance(c);
    assert_eq!(node.add_sync_group("g", &[a, b]), Ok(()));
    (node, a, b)
}

fn state(node: &Node, id: InstanceId) -> Option<State> {
    node.instance(id).map(Instance::state)
}

#[test]
fn sync_group_becomes_master_only_together() {
    let (mut node, a, b) = group_node(100);
    node.handle_all(ms(0), Input::Startup);
    // b keeps hearing a master; a's timer runs out.
    node.handle(ms(3_000), b, advert(9, 200, 100));
    let actions = node.tick(ms(0) + us(3_609_375));
    assert!(
        actions.is_empty(),
        "a alone must not become master: {actions:?}"
    );
    assert_eq!(state(&node, a), Some(State::Backup));
    // The master for b goes silent; b's timer runs out: both go together.
    let due = ms(3_000) + us(3_609_375);
    let actions = node.tick(due);
    let moved: Vec<InstanceId> = actions
        .iter()
        .filter(|(_, a)| {
            matches!(
                a,
                Action::Transition {
                    to: State::Master,
                    ..
                }
            )
        })
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(moved.len(), 2, "{actions:?}");
    assert_eq!(
        (state(&node, a), state(&node, b)),
        (Some(State::Master), Some(State::Master))
    );
}

#[test]
fn sync_group_master_step_down_takes_every_member_to_backup() {
    let (mut node, a, b) = group_node(100);
    node.handle_all(ms(0), Input::Startup);
    node.tick(ms(0) + us(3_609_375));
    assert_eq!(state(&node, b), Some(State::Master));
    let actions = node.handle(ms(4_000), a, advert(9, 200, 100));
    assert!(actions.contains(&(
        b,
        Action::Transition {
            from: State::Master,
            to: State::Backup,
            reason: Reason::SyncGroup { member: Some(a) }
        }
    )));
    assert_eq!(
        (state(&node, a), state(&node, b)),
        (Some(State::Backup), Some(State::Backup))
    );
}

#[test]
fn sync_group_member_fault_takes_every_member_to_fault_and_back() {
    let (mut node, a, b) = group_node(100);
    node.handle_all(ms(0), Input::Startup);
    node.tick(ms(0) + us(3_609_375));
    let actions = node.handle(ms(4_000), a, Input::LinkDown);
    assert!(actions.contains(&(
        b,
        Action::SendAdvert {
            priority: Priority::STOP
        }
    )));
    assert!(actions.contains(&(
        b,
        Action::Transition {
            from: State::Master,
            to: State::Fault,
            reason: Reason::SyncGroup { member: Some(a) }
        }
    )));
    assert_eq!(state(&node, a), Some(State::Fault));
    let actions = node.handle(ms(5_000), a, Input::LinkUp);
    assert_eq!(
        (state(&node, a), state(&node, b)),
        (Some(State::Backup), Some(State::Backup)),
        "{actions:?}"
    );
}

#[test]
fn sync_group_member_faulted_before_startup_holds_the_group_in_fault() {
    let (mut node, a, b) = group_node(100);
    node.handle(
        ms(0),
        a,
        Input::TrackerChanged {
            weight_sum: 0,
            faulted: true,
        },
    );
    node.handle_all(ms(0), Input::Startup);
    assert_eq!(
        (state(&node, a), state(&node, b)),
        (Some(State::Fault), Some(State::Fault))
    );
    assert_eq!(node.next_deadline(), None);
}

#[test]
fn sync_group_of_owners_goes_to_master_at_startup() {
    let (mut node, a, b) = group_node(255);
    node.handle_all(ms(0), Input::Startup);
    node.tick(ms(0));
    assert_eq!(
        (state(&node, a), state(&node, b)),
        (Some(State::Master), Some(State::Master))
    );
}

#[test]
fn node_rejects_an_instance_in_two_sync_groups_and_unknown_ids() {
    let (mut node, a, _) = group_node(100);
    assert!(matches!(
        node.add_sync_group("h", &[a]),
        Err(NodeError::AlreadyGrouped { .. })
    ));
    assert!(matches!(
        node.add_sync_group("h", &[InstanceId(9)]),
        Err(NodeError::UnknownInstance { .. })
    ));
    assert!(node.handle(ms(0), InstanceId(9), Input::Startup).is_empty());
}

#[test]
fn address_owner_always_preempts_even_with_preempt_off() {
    // RFC 5798 §6.1 Preempt_Mode note: the owner always preempts. An owner is only ever a
    // Backup inside a sync group, waiting for its peers.
    let mut node = Node::new();
    let mut c = config(Version::V3, 255, 1);
    c.preempt = false;
    let a = node.add_instance(c);
    let mut c = config(Version::V3, 100, 1);
    c.vrid = crate::types::Vrid::new(8).unwrap_or_else(|| unreachable!());
    let b = node.add_instance(c);
    assert_eq!(node.add_sync_group("g", &[a, b]), Ok(()));
    node.handle_all(ms(0), Input::Startup);
    node.tick(ms(0));
    assert_eq!(state(&node, a), Some(State::Backup), "waits for b");
    let before = node.instance(a).and_then(Instance::next_deadline);
    node.handle(ms(100), a, advert(9, 200, 100));
    assert_eq!(
        node.instance(a).and_then(Instance::next_deadline),
        before,
        "a lower advert is discarded"
    );
}
