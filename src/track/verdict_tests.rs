//! One test per keepalived weight rule, then the resolution of weights from a configuration.

use super::update::{TrackerId, TrackerKind, TrackerState, TrackerUpdate};
use super::verdict::{InstanceTrackers, Tracked, TrackerStates, Verdict, verdict};
use crate::config::Config;

fn one(kind: TrackerKind, weight: i32, reverse: bool) -> InstanceTrackers {
    InstanceTrackers {
        tracked: vec![Tracked {
            id: TrackerId::new(kind, "t"),
            weight,
            reverse,
        }],
    }
}

fn with(kind: TrackerKind, state: Option<TrackerState>) -> TrackerStates {
    let mut s = TrackerStates::new();
    if let Some(state) = state {
        s.set(TrackerId::new(kind, "t"), state);
    }
    s
}

fn v(weight_sum: i32, faulted: bool) -> Verdict {
    Verdict {
        weight_sum,
        faulted,
        pending: false,
    }
}

const UP: Option<TrackerState> = Some(TrackerState::Up);
const DOWN: Option<TrackerState> = Some(TrackerState::Down);

/// (weight, reverse, state) -> expected verdict, for each up/down kind alike.
#[test]
fn up_down_trackers_follow_keepalived_weight_rules() {
    let cases = [
        // Positive weight: added while up, nothing while down.
        (10, false, UP, v(10, false)),
        (10, false, DOWN, v(0, false)),
        // Negative weight: added while down, nothing while up.
        (-10, false, UP, v(0, false)),
        (-10, false, DOWN, v(-10, false)),
        // reverse negates what is added.
        (10, true, UP, v(-10, false)),
        (10, true, DOWN, v(0, false)),
        (-10, true, UP, v(0, false)),
        (-10, true, DOWN, v(10, false)),
        // Weight 0: down is FAULT; with reverse, up is FAULT.
        (0, false, UP, v(0, false)),
        (0, false, DOWN, v(0, true)),
        (0, true, UP, v(0, true)),
        (0, true, DOWN, v(0, false)),
    ];
    for kind in [
        TrackerKind::Script,
        TrackerKind::Process,
        TrackerKind::Interface,
    ] {
        for (weight, reverse, state, expected) in cases {
            let got = verdict(&one(kind, weight, reverse), &with(kind, state));
            assert_eq!(
                got, expected,
                "{kind:?} weight {weight} reverse {reverse} state {state:?}"
            );
        }
    }
}

#[test]
fn no_result_yet_adds_nothing_and_holds_weight_zero_instances_down() {
    for kind in [
        TrackerKind::Script,
        TrackerKind::Process,
        TrackerKind::Interface,
        TrackerKind::File,
    ] {
        for weight in [10, -10] {
            assert_eq!(
                verdict(&one(kind, weight, false), &with(kind, None)),
                v(0, false),
                "{kind:?} weight {weight}"
            );
        }
        assert_eq!(
            verdict(&one(kind, 0, false), &with(kind, None)),
            Verdict {
                weight_sum: 0,
                faulted: true,
                pending: true
            },
            "{kind:?} weight 0"
        );
    }
}

#[test]
fn file_value_times_weight_is_added_capped_and_faults_at_minus_254() {
    let file = |weight, reverse, value| {
        verdict(
            &one(TrackerKind::File, weight, reverse),
            &with(TrackerKind::File, Some(TrackerState::Value(value))),
        )
    };
    assert_eq!(file(1, false, 0), v(0, false));
    assert_eq!(file(1, false, 30), v(30, false));
    assert_eq!(file(2, false, -30), v(-60, false));
    assert_eq!(file(-5, false, 4), v(-20, false));
    // reverse negates the product.
    assert_eq!(file(2, true, 30), v(-60, false));
    // keepalived caps what one file adds at 253 ...
    assert_eq!(file(10, false, 100), v(253, false));
    // ... and a product of -254 or less is FAULT.
    assert_eq!(file(1, false, -253), v(-253, false));
    assert_eq!(file(1, false, -254), v(0, true));
    assert_eq!(file(2, false, -200), v(0, true));
    assert_eq!(file(-1, false, 254), v(0, true));
}

#[test]
fn file_with_weight_zero_faults_on_a_non_zero_value_or_with_reverse_on_zero() {
    let file = |reverse, value| {
        verdict(
            &one(TrackerKind::File, 0, reverse),
            &with(TrackerKind::File, Some(TrackerState::Value(value))),
        )
    };
    assert_eq!(file(false, 0), v(0, false));
    assert_eq!(file(false, 1), v(0, true));
    assert_eq!(file(false, -7), v(0, true));
    assert_eq!(file(true, 0), v(0, true));
    assert_eq!(file(true, 3), v(0, false));
}

#[test]
fn a_state_of_the_wrong_shape_counts_as_no_result() {
    let s = verdict(
        &one(TrackerKind::Script, 0, false),
        &with(TrackerKind::Script, Some(TrackerState::Value(0))),
    );
    assert!(s.pending && s.faulted);
    let f = verdict(
        &one(TrackerKind::File, 5, false),
        &with(TrackerKind::File, UP),
    );
    assert_eq!(f, v(0, false));
}

#[test]
fn weights_of_several_trackers_add_up_and_any_fault_wins() {
    let refs = InstanceTrackers {
        tracked: vec![
            Tracked {
                id: TrackerId::new(TrackerKind::Script, "a"),
                weight: 20,
                reverse: false,
            },
            Tracked {
                id: TrackerId::new(TrackerKind::Interface, "eth1"),
                weight: -30,
                reverse: false,
            },
            Tracked {
                id: TrackerId::new(TrackerKind::File, "f"),
                weight: 1,
                reverse: false,
            },
            Tracked {
                id: TrackerId::new(TrackerKind::Process, "p"),
                weight: 0,
                reverse: false,
            },
        ],
    };
    let mut s = TrackerStates::new();
    for u in [
        TrackerUpdate::script("a", true),
        TrackerUpdate::interface("eth1", false),
        TrackerUpdate::file("f", 5),
        TrackerUpdate::process("p", true),
    ] {
        assert!(s.apply(&u));
    }
    assert_eq!(verdict(&refs, &s), v(20 - 30 + 5, false));
    assert!(!s.apply(&TrackerUpdate::process("p", true)), "same state");
    assert!(s.apply(&TrackerUpdate::process("p", false)));
    assert_eq!(verdict(&refs, &s), v(-5, true));
}

#[test]
fn names_are_per_kind() {
    let refs = one(TrackerKind::Script, 0, false);
    let mut s = TrackerStates::new();
    s.apply(&TrackerUpdate::file("t", 0));
    s.apply(&TrackerUpdate::process("t", true));
    assert!(verdict(&refs, &s).pending, "only a script named t counts");
}

pub(super) fn parse(text: &str) -> Config {
    let (config, _map, diags) = crate::config::keepalived::load_text(
        text,
        std::path::Path::new("/test/keepalived.conf"),
        "test",
    );
    assert!(
        !diags
            .iter()
            .any(|d| d.severity == crate::config::Severity::Error),
        "{diags:?}"
    );
    config
}

pub(super) const CONFIG: &str = r#"
vrrp_script chk_a {
    script "/bin/true"
    weight 20
}
vrrp_script chk_b {
    script "/bin/true"
    weight -15 reverse
}
vrrp_track_file tf {
    file "/tmp/vigil-track-test-file"
    weight 3
}
vrrp_track_process haproxy {
    process haproxy
    weight 0
}
vrrp_sync_group G {
    group {
        VI_G1
        VI_G2
    }
    track_script {
        chk_a weight 7
    }
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    priority 100
    virtual_ipaddress {
        192.0.2.1/24
    }
    track_interface {
        eth1
        eth2 weight -10
    }
    track_script {
        chk_a
        chk_b weight 5
    }
    track_file {
        tf weight -2 reverse
    }
    track_process {
        haproxy
    }
}
vrrp_instance VI_G1 {
    interface eth0
    virtual_router_id 2
    priority 100
    virtual_ipaddress {
        192.0.2.2/24
    }
    track_script {
        chk_b
    }
}
vrrp_instance VI_G2 {
    interface eth0
    virtual_router_id 3
    priority 100
    virtual_ipaddress {
        192.0.2.3/24
    }
}
"#;

fn tracked(kind: TrackerKind, name: &str, weight: i32, reverse: bool) -> Tracked {
    Tracked {
        id: TrackerId::new(kind, name),
        weight,
        reverse,
    }
}

#[test]
fn weights_resolve_from_ref_override_else_checker() {
    let config = parse(CONFIG);
    let t = InstanceTrackers::for_instance(&config, "VI_1");
    assert_eq!(
        t.tracked,
        vec![
            tracked(TrackerKind::Interface, "eth1", 0, false),
            tracked(TrackerKind::Interface, "eth2", -10, false),
            // No override: the script's own weight.
            tracked(TrackerKind::Script, "chk_a", 20, false),
            // An override brings its own reverse (none here), replacing the script's.
            tracked(TrackerKind::Script, "chk_b", 5, false),
            tracked(TrackerKind::File, "tf", -2, true),
            tracked(TrackerKind::Process, "haproxy", 0, false),
        ]
    );
}

#[test]
fn sync_group_members_get_weight_zero_own_trackers_plus_the_group_trackers() {
    let config = parse(CONFIG);
    let g1 = InstanceTrackers::for_instance(&config, "VI_G1");
    assert_eq!(
        g1.tracked,
        vec![
            // keepalived zeroes a member's own weights: chk_b's failure is a FAULT.
            tracked(TrackerKind::Script, "chk_b", 0, true),
            tracked(TrackerKind::Script, "chk_a", 7, false),
        ]
    );
    let g2 = InstanceTrackers::for_instance(&config, "VI_G2");
    assert_eq!(
        g2.tracked,
        vec![tracked(TrackerKind::Script, "chk_a", 7, false)]
    );
}

#[test]
fn sync_group_tracking_weight_keeps_member_weights() {
    let text = CONFIG.replace(
        "vrrp_sync_group G {",
        "vrrp_sync_group G {\n    sync_group_tracking_weight",
    );
    let config = parse(&text);
    let g1 = InstanceTrackers::for_instance(&config, "VI_G1");
    assert_eq!(
        g1.tracked.first(),
        Some(&tracked(TrackerKind::Script, "chk_b", -15, true))
    );
}

#[test]
fn unknown_instance_and_unknown_checker_are_skipped() {
    let config = parse(CONFIG);
    assert!(InstanceTrackers::for_instance(&config, "nope").is_empty());
    let mut config = config;
    if let Some(i) = config.instances.first_mut() {
        i.track_scripts.push(crate::config::model::TrackRef {
            name: "missing".into(),
            weight: None,
            reverse: false,
        });
    }
    let t = InstanceTrackers::for_instance(&config, "VI_1");
    assert!(!t.watches(&TrackerId::new(TrackerKind::Script, "missing")));
}
