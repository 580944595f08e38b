//! Reloads at scale: a SIGHUP with an unchanged file must cost the loop one comparison per
//! instance, not a rebuild (issue 13: at 10,000 instances the rebuild took ~35 ms on the loop).

use std::sync::Arc;

use super::core_tests::{
    assert_vi_1_advertises_by, instance, master_and_backup, prepared, secs, state,
};
use super::input::CoreInput;
use super::record::Effect;
use crate::fsm::State;

fn plan_of(
    core: &super::core::Core<super::record::RecordingEffects>,
    name: &str,
) -> Arc<super::plan::InstancePlan> {
    core.instance(name).expect("instance").1.plan.clone()
}

type Plans = (
    Arc<super::plan::InstancePlan>,
    Arc<super::plan::InstancePlan>,
    u64,
);

/// `master_and_backup` with its two plans and receive-table generation, nothing discarded yet.
fn started_with_plans() -> (
    super::core::Core<super::record::RecordingEffects>,
    String,
    Plans,
) {
    let (mut core, conf) = master_and_backup();
    let plans = (
        plan_of(&core, "VI_1"),
        plan_of(&core, "VI_2"),
        core.generation,
    );
    core.take_discarded();
    (core, conf, plans)
}

#[test]
fn an_unchanged_reload_keeps_every_plan_and_the_receive_table() {
    let (mut core, conf, (p1, p2, generation)) = started_with_plans();
    core.handle(secs(4.1), CoreInput::Reload(Box::new(prepared(&conf, &[]))));
    assert!(
        Arc::ptr_eq(&p1, &plan_of(&core, "VI_1")),
        "VI_1 runs on its old plan"
    );
    assert!(
        Arc::ptr_eq(&p2, &plan_of(&core, "VI_2")),
        "VI_2 runs on its old plan"
    );
    assert_eq!(core.generation, generation, "receive routes stay valid");
    let effects = core.effects_mut().take();
    assert!(
        effects.is_empty(),
        "nothing to do, not even a rebind: {effects:?}"
    );
    // The prepared plans go back to the driver, to be freed off the loop.
    assert_eq!(core.take_discarded().len(), 2);
    assert_eq!(state(&core, "VI_1"), State::Master);
    assert_vi_1_advertises_by(&mut core, secs(5.1));
}

#[test]
fn a_reload_that_changes_one_instance_copies_only_that_one() {
    let (mut core, conf, (p1, p2, generation)) = started_with_plans();
    // VI_2 gets another priority (still below VI_1's peer): its plan changes, VI_1's does not.
    let changed = conf.replace(&instance("VI_2", 2, 100, ""), &instance("VI_2", 2, 90, ""));
    assert_ne!(changed, conf, "the test must change VI_2");
    core.handle(
        secs(4.1),
        CoreInput::Reload(Box::new(prepared(&changed, &[]))),
    );
    assert!(
        Arc::ptr_eq(&p1, &plan_of(&core, "VI_1")),
        "unchanged VI_1 keeps its plan"
    );
    assert!(
        !Arc::ptr_eq(&p2, &plan_of(&core, "VI_2")),
        "VI_2 runs on its new plan"
    );
    assert_eq!(plan_of(&core, "VI_2").fsm.priority.get(), 90);
    assert_eq!(
        core.generation,
        generation + 1,
        "a new receive table is published"
    );
    assert!(
        core.effects_mut()
            .take()
            .iter()
            .any(|e| matches!(e, Effect::Bind { .. }))
    );
    assert_eq!(core.take_discarded().len(), 2);
}
