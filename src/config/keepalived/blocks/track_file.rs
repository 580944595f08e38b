//! `track_file NAME { file PATH ... }` (and its older name `vrrp_track_file`): a file whose
//! number is a weight. keepalived refuses an unknown keyword here (vigil: an error).

use crate::config::model::{InitFile, TrackFile};

use super::super::mapping::Mapper;
use super::super::parser::Node;
use super::super::table::{Block, Keyword};

pub struct Ctx {
    pub file: TrackFile,
    has_file: bool,
}

type K = Keyword<Ctx>;

pub static BLOCK: Block<Ctx> = Block {
    name: "track_file",
    list_name: "track_file",
    keywords: KEYWORDS,
    unknown_is_error: true,
};

static KEYWORDS: &[K] = &[
    K::acted(&["file"], "file", |m, c, n| {
        let a = m.arg(n)?;
        c.has_file = true;
        c.file.file = a.text.clone();
        Ok(())
    }),
    K::acted(&["weight"], "weight", |m, c, n| {
        c.file.weight = m.int(n, -2_147_483_647i32, 2_147_483_647)?;
        c.file.reverse = n.args.get(1).is_some_and(|a| a.text == "reverse");
        Ok(())
    }),
    K::acted(&["init_file"], "init_file", |m, c, n| {
        let mut init = InitFile {
            value: 0,
            overwrite: false,
        };
        let mut ok = Ok(());
        for a in &n.args {
            if a.text == "overwrite" {
                init.overwrite = true;
            } else {
                match a.text.parse() {
                    Ok(v) => init.value = v,
                    Err(_) => {
                        m.err(
                            &a.pos,
                            format!("`init_file` takes [VALUE] [overwrite], not `{}`", a.text),
                        );
                        ok = Err(());
                    }
                }
            }
        }
        c.file.init_file = Some(init);
        ok
    }),
];

/// `track_file NAME { ... }` at the top level.
pub fn map(m: &mut Mapper, node: &Node) {
    let idx = m.config.track_files.len();
    let base = format!("track_files.{idx}");
    m.record(base.clone(), &node.pos);
    let mut c = Ctx {
        file: TrackFile {
            name: m.name(node),
            file: String::new(),
            weight: 1,
            reverse: false,
            init_file: None,
        },
        has_file: false,
    };
    m.run_children(&BLOCK, &mut c, node, &base);
    if !c.has_file {
        m.err(
            &node.pos,
            format!(
                "track_file `{}` has no `file`: add `file \"/path\"`",
                c.file.name
            ),
        );
    }
    m.config.track_files.push(c.file);
}
