//! `vrrp_script NAME { script ... }`: a check command run periodically. keepalived refuses an
//! unknown keyword here (vigil: an error).

use crate::config::model::{RunAs, TrackScript};
use crate::types::Centis;

use super::super::mapping::Mapper;
use super::super::parser::Node;
use super::super::table::{Block, Keyword};

pub struct Ctx {
    pub script: TrackScript,
    has_script: bool,
}

type K = Keyword<Ctx>;

pub static BLOCK: Block<Ctx> = Block {
    name: "vrrp_script",
    list_name: "vrrp_script",
    keywords: KEYWORDS,
    unknown_is_error: true,
};

static KEYWORDS: &[K] = &[
    K::acted(&["script"], "script", |m, c, n| {
        let a = m.arg(n)?;
        c.has_script = true;
        c.script.script = a.text.clone();
        Ok(())
    }),
    K::acted(&["interval"], "interval", |m, c, n| {
        c.script.interval = m.secs(n, 86_400)?;
        Ok(())
    }),
    K::acted(&["timeout"], "timeout", |m, c, n| {
        c.script.timeout = Some(m.secs(n, 86_400)?);
        Ok(())
    }),
    K::acted(&["weight"], "weight", |m, c, n| {
        c.script.weight = m.int(n, -253i32, 253)?;
        c.script.reverse = n.args.get(1).is_some_and(|a| a.text == "reverse");
        Ok(())
    }),
    K::acted(&["rise"], "rise", |m, c, n| {
        c.script.rise = m.int(n, 1u32, 1_000_000)?;
        Ok(())
    }),
    K::acted(&["fall"], "fall", |m, c, n| {
        c.script.fall = m.int(n, 1u32, 1_000_000)?;
        Ok(())
    }),
    K::acted(&["user"], "user", |m, c, n| {
        let a = m.arg(n)?;
        c.script.user = Some(RunAs {
            user: a.text.clone(),
            group: n.args.get(1).map(|g| g.text.clone()),
        });
        Ok(())
    }),
    K::acted(&["init_fail"], "init_fail", |_, c, _| {
        c.script.init_fail = true;
        Ok(())
    }),
];

/// `vrrp_script NAME { ... }` at the top level.
pub fn map(m: &mut Mapper, node: &Node) {
    let idx = m.config.scripts.len();
    let base = format!("scripts.{idx}");
    m.record(base.clone(), &node.pos);
    let mut c = Ctx {
        script: TrackScript {
            name: m.name(node),
            script: String::new(),
            interval: Centis::from_secs(1),
            timeout: None,
            weight: 0,
            reverse: false,
            rise: 1,
            fall: 1,
            user: None,
            init_fail: false,
        },
        has_script: false,
    };
    m.run_children(&BLOCK, &mut c, node, &base);
    if !c.has_script {
        // keepalived drops such a script and runs ("No script set for vrrp_script X -
        // removing"); its track_script references are then ignored (see fixup.rs).
        m.warn(
            &node.pos,
            format!(
                "No script set for vrrp_script `{}` - removing (keepalived's fix-up): add `script \"/path/to/check\"`, or run with --strict to refuse",
                c.script.name
            ),
        );
        // The next vrrp_script takes this index: its lines, not these, are `scripts.{idx}`.
        m.map.remove_index("scripts", idx);
        return;
    }
    m.config.scripts.push(c.script);
}
