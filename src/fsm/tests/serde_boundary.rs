use super::*;

#[test]
fn boundary_types_round_trip_through_json() -> Result<(), serde_json::Error> {
    let inputs = [
        Input::Startup,
        advert(2, 100, 100),
        Input::TimerTick,
        Input::TrackerChanged {
            weight_sum: -10,
            faulted: false,
        },
        Input::LinkDown,
    ];
    for input in inputs {
        let line = serde_json::to_string(&input)?;
        assert_eq!(serde_json::from_str::<Input>(&line)?, input);
    }
    let action = Action::Transition {
        from: State::Backup,
        to: State::Master,
        reason: Reason::Preempted {
            master: addr(2),
            master_priority: Priority::new(50),
            ours: Priority::new(100),
        },
    };
    assert_eq!(
        serde_json::from_str::<Action>(&serde_json::to_string(&action)?)?,
        action
    );
    let cfg = config(Version::V2, 150, 3);
    assert_eq!(
        serde_json::from_str::<InstanceConfig>(&serde_json::to_string(&cfg)?)?,
        cfg
    );
    Ok(())
}

#[test]
fn replaying_recorded_inputs_reproduces_the_actions() -> Result<(), serde_json::Error> {
    let script = [
        (0, Input::Startup),
        (500, advert(2, 0, 100)),
        (2_000, Input::TimerTick),
        (2_100, advert(2, 200, 50)),
    ];
    let run = |inputs: &[(u64, Input)]| {
        let mut inst = Instance::new(config(Version::V3, 100, 1));
        inputs
            .iter()
            .flat_map(|(t, i)| inst.handle(ms(*t), *i))
            .collect::<Vec<_>>()
    };
    let recorded: Vec<String> = script
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<_, _>>()?;
    let replayed: Vec<(u64, Input)> = recorded
        .iter()
        .map(|l| serde_json::from_str(l))
        .collect::<Result<_, _>>()?;
    assert_eq!(run(&replayed), run(&script));
    Ok(())
}
