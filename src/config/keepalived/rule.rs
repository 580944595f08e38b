//! Rule lines of `virtual_rules` and `static_rules`: keepalived's `ip rule`-style words.

use crate::config::model::{Rule, family_of};
use crate::types::Family;

use super::mapping::Mapper;
use super::parser::{Arg, Node};
use super::table::R;

impl Mapper {
    /// `[from P] [to P] [table N] [priority N] [fwmark N] [iif IF] [oif IF] [no_track] [inet6]`
    pub(crate) fn rule(&mut self, line: &Node) -> R<Rule> {
        let mut words: Vec<Arg> = vec![Arg {
            text: line.keyword.clone(),
            pos: line.pos.clone(),
        }];
        words.extend(line.args.iter().cloned());
        let mut r = Rule {
            from: None,
            to: None,
            family: Family::V4,
            table: None,
            priority: None,
            fwmark: None,
            iif: None,
            oif: None,
            no_track: false,
            track_group: None,
        };
        let mut it = words.iter();
        while let Some(opt) = it.next() {
            let mut value = |m: &mut Self| -> R<&Arg> {
                it.next()
                    .ok_or_else(|| m.err(&opt.pos, format!("`{}` needs a value", opt.text)))
            };
            match opt.text.as_str() {
                "from" => {
                    let v = value(self)?;
                    let p = self.prefix(v, "from")?;
                    r.family = family_of(p.addr);
                    r.from = Some(p);
                }
                "to" => {
                    let v = value(self)?;
                    let p = self.prefix(v, "to")?;
                    r.family = family_of(p.addr);
                    r.to = Some(p);
                }
                "table" | "lookup" => {
                    let v = value(self)?;
                    r.table = Some(match v.text.as_str() {
                        "main" => 254,
                        "local" => 255,
                        "default" => 253,
                        _ => self.int_word("table", v, 0u32, u32::MAX)?,
                    });
                }
                "priority" | "preference" | "pref" => {
                    let v = value(self)?;
                    r.priority = Some(self.int_word(&opt.text, v, 0u32, u32::MAX)?);
                }
                "fwmark" => {
                    let v = value(self)?;
                    let t = v.text.trim_start_matches("0x");
                    let radix = if v.text.starts_with("0x") { 16 } else { 10 };
                    r.fwmark = Some(u32::from_str_radix(t, radix).map_err(|_| {
                        self.err(
                            &v.pos,
                            format!("`fwmark` must be a number, not `{}`", v.text),
                        )
                    })?);
                }
                "iif" => r.iif = Some(value(self)?.text.clone()),
                "oif" => r.oif = Some(value(self)?.text.clone()),
                "no_track" => r.no_track = true,
                "track_group" => {
                    let g = value(self)?.clone();
                    r.track_group = self.track_group_ref(&g);
                }
                "inet6" => r.family = Family::V6,
                "inet" => r.family = Family::V4,
                other => {
                    self.err(&opt.pos, format!("rule option `{other}` is not supported by vigil: supported are from, to, table, priority, fwmark, iif, oif, no_track, track_group, inet6"));
                    return Err(());
                }
            }
        }
        Ok(r)
    }
}
