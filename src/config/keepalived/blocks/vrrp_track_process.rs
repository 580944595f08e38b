//! `vrrp_track_process NAME { process ... }`: a process whose presence is tracked. keepalived
//! refuses an unknown keyword here (vigil: an error).

use crate::config::model::{ParamMatch, TrackProcess};
use crate::types::Centis;

use super::super::mapping::Mapper;
use super::super::parser::Node;
use super::super::table::{Block, Keyword};

type K = Keyword<TrackProcess>;

pub static BLOCK: Block<TrackProcess> = Block {
    name: "vrrp_track_process",
    list_name: "vrrp_track_process",
    keywords: KEYWORDS,
    unknown_is_error: true,
};

static KEYWORDS: &[K] = &[
    K::acted(&["process"], "process", |m, p, n| {
        m.arg(n)?;
        p.process = n.args.iter().map(|a| a.text.clone()).collect();
        Ok(())
    }),
    K::acted(&["param_match"], "param_match", |m, p, n| {
        let a = m.arg(n)?;
        p.param_match = Some(match a.text.as_str() {
            "initial" => ParamMatch::Initial,
            "partial" => ParamMatch::Partial,
            "exact" => ParamMatch::Exact,
            _ => {
                m.err(
                    &a.pos,
                    format!("`param_match` is initial or partial, not `{}`", a.text),
                );
                return Err(());
            }
        });
        Ok(())
    }),
    K::acted(&["weight"], "weight", |m, p, n| {
        p.weight = m.int(n, -254i32, 254)?;
        p.reverse = n.args.get(1).is_some_and(|a| a.text == "reverse");
        Ok(())
    }),
    K::acted(&["quorum"], "quorum", |m, p, n| {
        p.quorum = m.int(n, 0u32, 65_535)?;
        Ok(())
    }),
    K::acted(&["quorum_max"], "quorum_max", |m, p, n| {
        p.quorum_max = Some(m.int(n, 0u32, 65_535)?);
        Ok(())
    }),
    K::acted(&["fork_delay"], "fork_delay", |m, p, n| {
        p.fork_delay = m.secs(n, 3600)?;
        Ok(())
    }),
    K::acted(&["terminate_delay"], "terminate_delay", |m, p, n| {
        p.terminate_delay = m.secs(n, 3600)?;
        Ok(())
    }),
    K::acted(&["delay"], "delay", |m, p, n| {
        let v = m.secs(n, 3600)?;
        p.fork_delay = v;
        p.terminate_delay = v;
        Ok(())
    }),
    K::acted(&["full_command"], "full_command", |_, p, _| {
        p.full_command = true;
        Ok(())
    }),
];

/// `vrrp_track_process NAME { ... }` at the top level.
pub fn map(m: &mut Mapper, node: &Node) {
    let idx = m.config.track_processes.len();
    let base = format!("track_processes.{idx}");
    m.record(base.clone(), &node.pos);
    let mut p = TrackProcess {
        name: m.name(node),
        process: Vec::new(),
        param_match: None,
        // keepalived's default (alloc_vrrp_process): weight 0, so losing the process is
        // FAULT.
        weight: 0,
        reverse: false,
        quorum: 1,
        quorum_max: None,
        fork_delay: Centis::ZERO,
        terminate_delay: Centis::ZERO,
        full_command: false,
    };
    m.run_children(&BLOCK, &mut p, node, &base);
    if p.process.is_empty() {
        m.err(
            &node.pos,
            format!(
                "vrrp_track_process `{}` has no `process`: add `process NAME`",
                p.name
            ),
        );
    }
    m.config.track_processes.push(p);
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_track_process_without_weight_faults_as_in_keepalived() {
        // keepalived's alloc_vrrp_process leaves the weight 0: losing the process is FAULT.
        let conf = "vrrp_track_process P {\n process nginx\n}\n\
                    vrrp_track_process Q {\n process sshd\n weight -20 reverse\n}\n";
        let loaded = crate::config::load_keepalived_str(
            conf,
            std::path::Path::new("t.conf"),
            &crate::config::LoadOptions::default(),
        )
        .expect("loads");
        let p = &loaded.model.track_processes;
        assert_eq!((p[0].weight, p[0].reverse), (0, false));
        assert_eq!((p[1].weight, p[1].reverse), (-20, true));
    }
}
