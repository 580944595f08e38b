//! `vrrp_sync_group NAME { group { ... } ... }`: instances that change state together.
//! keepalived refuses an unknown keyword here (vigil: an error).

use crate::config::model::{Notify, SyncGroup, TrackInterface, TrackRef};

use super::super::mapping::Mapper;
use super::super::parser::Node;
use super::super::table::{Block, Keyword, Why};

/// The group being built and its SourceMap base (`sync_groups.N`).
pub struct Ctx {
    pub group: SyncGroup,
    pub base: String,
}

type K = Keyword<Ctx>;

pub static BLOCK: Block<Ctx> = Block {
    name: "vrrp_sync_group",
    list_name: "vrrp_sync_group",
    keywords: KEYWORDS,
    unknown_is_error: true,
};

static KEYWORDS: &[K] = &[
    K::acted(&["group"], "group", |m, c, n| {
        for a in m.lines(n).into_iter().flatten() {
            m.record(format!("{}.group.{}", c.base, c.group.group.len()), &a.pos);
            c.group.group.push(a.text);
        }
        Ok(())
    }),
    K::acted(&["track_interface"], "track_interface", |m, c, n| {
        for line in m.lines(n) {
            if let Ok((name, weight, reverse)) = m.track_line(&line, 253) {
                c.group.track_interfaces.push(TrackInterface {
                    name,
                    weight: weight.unwrap_or(0),
                    reverse,
                });
            }
        }
        Ok(())
    }),
    K::acted(&["track_script"], "track_script", |m, c, n| {
        let refs = track_refs(m, c, n, c.group.track_scripts.len());
        c.group.track_scripts.extend(refs);
        Ok(())
    }),
    K::acted(&["track_file"], "track_file", |m, c, n| {
        let refs = track_refs(m, c, n, c.group.track_files.len());
        c.group.track_files.extend(refs);
        Ok(())
    }),
    K::acted(&["track_process"], "track_process", |m, c, n| {
        let refs = track_refs(m, c, n, c.group.track_processes.len());
        c.group.track_processes.extend(refs);
        Ok(())
    }),
    K::acted(&["notify_master"], "notify.master", |m, c, n| {
        c.group.notify.master = Some(m.script_cmd(n)?);
        Ok(())
    }),
    K::acted(&["notify_backup"], "notify.backup", |m, c, n| {
        c.group.notify.backup = Some(m.script_cmd(n)?);
        Ok(())
    }),
    K::acted(&["notify_fault"], "notify.fault", |m, c, n| {
        c.group.notify.fault = Some(m.script_cmd(n)?);
        Ok(())
    }),
    K::acted(&["notify_stop"], "notify.stop", |m, c, n| {
        c.group.notify.stop = Some(m.script_cmd(n)?);
        Ok(())
    }),
    K::acted(&["notify"], "notify.any", |m, c, n| {
        c.group.notify.any = Some(m.script_cmd(n)?);
        Ok(())
    }),
    // Instance keywords: keepalived reports them as unknown in a sync group.
    K::warned_by(
        &["notify_deleted", "notify_master_rx_lower_pri"],
        Why::InstanceOnly,
        "",
        |m, _, n| {
            m.warn(&n.pos, format!("`{}` is a vrrp_instance keyword (keepalived does not know it in a vrrp_sync_group): ignored; set it in the member instances", n.keyword));
            Err(())
        },
    )
    .vigil_only("a vrrp_instance keyword: keepalived reports it as unknown here; vigil warns"),
    K::acted(&["notify_priority_changes"], "notify_priority_changes", |m, c, n| {
        c.group.notify_priority_changes = m.flag(n).unwrap_or(true);
        Ok(())
    }),
    // Mapped; config/inert.rs warns that vigil sends no e-mail.
    K::warned_by(&["smtp_alert"], Why::Email, "smtp_alert", |m, c, n| {
        c.group.smtp_alert = m.flag(n).unwrap_or(true);
        Ok(())
    }),
    K::acted(
        &["sync_group_tracking_weight"],
        "sync_group_tracking_weight",
        |_, c, _| {
            c.group.sync_group_tracking_weight = true;
            Ok(())
        },
    ),
    K::warned(&["track_bfd"], Why::Bfd),
    K::acted(&["global_tracking"], "sync_group_tracking_weight", |m, c, n| {
        // keepalived reads it as sync_group_tracking_weight, with this message.
        m.warn(
            &n.pos,
            format!(
                "({}) global_tracking is deprecated. Use track_interface/script/file on the sync group (read as `sync_group_tracking_weight`)",
                c.group.name
            ),
        );
        c.group.sync_group_tracking_weight = true;
        Ok(())
    }),
];

/// `vrrp_sync_group NAME { ... }` at the top level.
pub fn map(m: &mut Mapper, node: &Node) {
    let idx = m.config.sync_groups.len();
    let base = format!("sync_groups.{idx}");
    m.record(base.clone(), &node.pos);
    let mut c = Ctx {
        group: SyncGroup {
            name: m.name(node),
            group: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            track_files: Vec::new(),
            track_processes: Vec::new(),
            notify: Notify::default(),
            notify_priority_changes: false,
            smtp_alert: false,
            sync_group_tracking_weight: false,
        },
        base: base.clone(),
    };
    m.run_children(&BLOCK, &mut c, node, &base);
    m.config.sync_groups.push(c.group);
}

/// The lines of a group's `track_script` / `track_file` / `track_process`, each recorded at
/// `{base}.{keyword}.{start + i}` (a line that does not parse keeps its index).
fn track_refs(m: &mut Mapper, c: &Ctx, n: &Node, start: usize) -> Vec<TrackRef> {
    let mut refs = Vec::new();
    for (i, line) in m.lines(n).into_iter().enumerate() {
        if let Some(first) = line.first() {
            m.record(
                format!("{}.{}.{}", c.base, n.keyword, start + i),
                &first.pos,
            );
        }
        if let Ok((name, weight, reverse)) = m.track_line(&line, 254) {
            refs.push(TrackRef {
                name,
                weight,
                reverse,
            });
        }
    }
    refs
}
