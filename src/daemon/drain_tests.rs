//! Operator drain through `Core::handle` (`drain.rs`): the priority-0 hand-over, staying
//! Backup through timers and adverts, sync groups, unknown names, reloads, status, replay.

use std::time::Duration;

use super::cause::Cause;
use super::core_tests::{
    advert_from_peer, instance, master_and_backup, prepared, run_until, secs, started, state,
};
use super::drain::DrainError;
use super::input::CoreInput;
use super::record::{Effect, Recorder, replay};
use crate::fsm::{Reason, State, Time};
use crate::notify::NotifyState;

fn drain(name: Option<&str>, drained: bool) -> CoreInput {
    CoreInput::Drain {
        name: name.map(str::to_owned),
        drained,
    }
}

#[test]
fn a_drained_master_hands_over_with_priority_zero_and_runs_its_backup_script() {
    let (mut core, _) = master_and_backup();
    core.handle(secs(4.2), drain(Some("VI_1"), true));
    let effects = core.effects_mut().take();
    let vi1: Vec<&Effect> = effects
        .iter()
        .filter(|e| format!("{e:?}").contains("\"VI_1\""))
        .collect();
    assert!(
        matches!(vi1.first(), Some(Effect::Advert { priority: 0, .. })),
        "{effects:?}"
    );
    assert!(
        matches!(vi1.get(1), Some(Effect::Remove { .. })),
        "{effects:?}"
    );
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Transition {
            from: State::Master,
            to: State::Backup,
            reason: Cause {
                reason: Reason::Drained,
                ..
            },
            ..
        }
    )));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Notify {
            state: NotifyState::Backup,
            ..
        }
    )));
    // VI_2 (a backup) is untouched.
    assert_eq!(state(&core, "VI_2"), State::Backup);
    let status = core.status("t", Time::ZERO, Duration::ZERO);
    let drained: Vec<(&str, bool)> = status
        .instances
        .iter()
        .map(|i| (i.name.as_str(), i.drained))
        .collect();
    assert_eq!(drained, vec![("VI_1", true), ("VI_2", false)]);
    // Silence from everyone for many Master_Down_Intervals: it stays Backup, sends nothing.
    run_until(&mut core, secs(60.0));
    assert_eq!(state(&core, "VI_1"), State::Backup);
    let later = core.effects_mut().take();
    assert!(
        !later
            .iter()
            .any(|e| matches!(e, Effect::Advert { instance, .. } if instance == "VI_1")),
        "{later:?}"
    );
}

#[test]
fn undrain_lets_the_master_down_timer_take_mastership_back() {
    let (mut core, _) = master_and_backup();
    core.handle(secs(4.2), drain(Some("VI_1"), true));
    // The peer took over (priority 100 < our 200).
    for s in 5..=10 {
        let advert = advert_from_peer(&core, "VI_1", 100);
        core.handle(secs(f64::from(s)), advert);
        run_until(&mut core, secs(f64::from(s)));
        assert_eq!(state(&core, "VI_1"), State::Backup);
    }
    core.handle(secs(10.1), drain(Some("VI_1"), false));
    assert!(!core.status("t", Time::ZERO, Duration::ZERO).instances[0].drained);
    // Preempt (keepalived's default): the lower adverts are discarded, the timer runs out.
    for s in 11..=14 {
        let advert = advert_from_peer(&core, "VI_1", 100);
        core.handle(secs(f64::from(s)), advert);
        run_until(&mut core, secs(f64::from(s)));
    }
    assert_eq!(state(&core, "VI_1"), State::Master);
}

#[test]
fn an_unknown_name_is_refused_and_changes_nothing() {
    let (mut core, _) = master_and_backup();
    assert_eq!(
        core.drain_names(Some("nope")),
        Err(DrainError::Unknown("nope".into()))
    );
    core.handle(secs(4.2), drain(Some("nope"), true));
    assert!(core.effects_mut().take().is_empty());
    assert_eq!(state(&core, "VI_1"), State::Master);
    assert_eq!(
        core.drain_names(None),
        Ok(vec!["VI_1".to_owned(), "VI_2".to_owned()])
    );
}

const GROUPED: &str = "vrrp_sync_group G {\n group {\n  VI_1\n  VI_2\n }\n}\n";

#[test]
fn draining_a_member_drains_its_sync_group_and_the_group_name_works_too() {
    let conf = format!(
        "{GROUPED}{}{}{}",
        instance("VI_1", 1, 200, ""),
        instance("VI_2", 2, 200, ""),
        instance("VI_3", 3, 200, "")
    );
    let mut core = started(&conf);
    run_until(&mut core, secs(5.0));
    for name in ["VI_1", "VI_2", "VI_3"] {
        assert_eq!(state(&core, name), State::Master, "{name}");
    }
    assert_eq!(
        core.drain_names(Some("VI_2")),
        Ok(vec!["VI_1".to_owned(), "VI_2".to_owned()])
    );
    assert_eq!(core.drain_names(Some("G")), core.drain_names(Some("VI_1")));
    core.effects_mut().take();
    core.handle(secs(5.1), drain(Some("VI_2"), true));
    let effects = core.effects_mut().take();
    for name in ["VI_1", "VI_2"] {
        assert!(
            effects.contains(&Effect::Advert {
                instance: name.into(),
                priority: 0
            }),
            "{name} left without a priority-0 advert: {effects:?}"
        );
        assert_eq!(state(&core, name), State::Backup);
    }
    assert_eq!(state(&core, "VI_3"), State::Master);
    run_until(&mut core, secs(30.0));
    assert_eq!(state(&core, "VI_1"), State::Backup);
    assert_eq!(state(&core, "VI_2"), State::Backup);
    core.handle(secs(30.0), drain(Some("G"), false));
    run_until(&mut core, secs(40.0));
    assert_eq!(state(&core, "VI_1"), State::Master);
    assert_eq!(state(&core, "VI_2"), State::Master);
}

#[test]
fn drained_survives_a_reload_for_instances_that_remain_carried_or_restarted() {
    let (mut core, conf) = master_and_backup();
    core.handle(secs(4.2), drain(None, true));
    // VI_1 carried as is; VI_2 restarted (its VRID changed); VI_3 new.
    let next = format!(
        "{}{}{}",
        instance("VI_1", 1, 200, ""),
        instance("VI_2", 12, 100, ""),
        instance("VI_3", 3, 100, "")
    );
    assert!(conf.contains("VI_2"));
    core.handle(secs(4.3), CoreInput::Reload(Box::new(prepared(&next, &[]))));
    let drained: Vec<(String, bool)> = core
        .status("t", Time::ZERO, Duration::ZERO)
        .instances
        .into_iter()
        .map(|i| (i.name, i.drained))
        .collect();
    assert_eq!(
        drained,
        vec![
            ("VI_1".into(), true),
            ("VI_2".into(), true),
            ("VI_3".into(), false)
        ]
    );
    run_until(&mut core, secs(30.0));
    assert_eq!(state(&core, "VI_1"), State::Backup);
    assert_eq!(state(&core, "VI_2"), State::Backup);
    assert_eq!(state(&core, "VI_3"), State::Master);
}

#[test]
fn a_drain_is_recorded_and_replays_to_the_same_decisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.jsonl");
    let mut recorder = Recorder::create(&path).expect("recorder");
    let conf = instance("VI_1", 1, 200, "");
    let mut core = super::core::Core::new(super::record::RecordingEffects::default());
    let inputs = vec![
        (secs(0.0), CoreInput::Reload(Box::new(prepared(&conf, &[])))),
        (secs(4.0), CoreInput::Tick),
        (secs(5.0), drain(Some("VI_1"), true)),
    ];
    let mut live = Vec::new();
    for (at, input) in inputs {
        recorder.record(at, &input).expect("record");
        core.handle(at, input);
        run_until(&mut core, at);
        for e in core.effects_mut().take() {
            if matches!(e, Effect::Transition { .. }) {
                live.push(format!("{:.6} {e}", at.since_epoch().as_secs_f64()));
            }
        }
    }
    drop(recorder);
    assert!(live.iter().any(|l| l.contains("drained")), "{live:?}");
    let mut out = Vec::new();
    replay(&path, true, &mut out).expect("replay");
    let text = String::from_utf8(out).expect("utf-8");
    assert!(text.contains("MASTER -> BACKUP"), "{text}");
    assert!(text.contains(&Reason::Drained.to_string()), "{text}");
}
