//! Route lines of `virtual_routes` and `static_routes`: keepalived's `ip route`-style words
//! (types, next hops, `or`), with its warnings for deprecated forms.

use crate::config::model::{NextHop, Route, RouteKind};

use super::mapping::Mapper;
use super::parser::{Arg, Node};
use super::table::R;

impl Mapper {
    /// `[type] [src IP] [to] PREFIX [via|gw IP] [dev IF] [scope S] [table N] [metric N] ...`
    pub(crate) fn route(&mut self, line: &Node) -> R<Route> {
        let mut words: Vec<Arg> = vec![Arg {
            text: line.keyword.clone(),
            pos: line.pos.clone(),
        }];
        words.extend(line.args.iter().cloned());
        let mut kind = RouteKind::Unicast;
        let mut src = None;
        let mut i = 0;
        loop {
            match words.get(i).map(|w| w.text.as_str()) {
                Some("blackhole") => kind = RouteKind::Blackhole,
                Some("unreachable") => kind = RouteKind::Unreachable,
                Some("prohibit") => kind = RouteKind::Prohibit,
                Some("throw") => kind = RouteKind::Throw,
                Some("unicast") => kind = RouteKind::Unicast,
                Some("to") => {}
                Some("src") => {
                    i += 1;
                    let w = words
                        .get(i)
                        .cloned()
                        .ok_or_else(|| self.err(&line.pos, "`src` needs an address"))?;
                    src = Some(self.ip(&w, "src")?);
                }
                _ => break,
            }
            i += 1;
        }
        let Some(dest) = words.get(i).cloned() else {
            self.err(&line.pos, "route needs a destination prefix");
            return Err(());
        };
        let to = self.prefix(&dest, "route destination")?;
        let mut r = Route {
            to,
            kind,
            src,
            via: None,
            dev: None,
            scope: None,
            table: None,
            vrf: None,
            metric: None,
            protocol: None,
            mtu: None,
            onlink: false,
            no_track: false,
            track_group: None,
            nexthops: Vec::new(),
        };
        let mut it = words.iter().skip(i + 1);
        while let Some(opt) = it.next() {
            if opt.text == "nexthop" {
                // keepalived: `nexthop ...` runs to the end of the line.
                let rest: Vec<&Arg> = std::iter::once(opt).chain(it).collect();
                if !r.nexthops.is_empty() {
                    self.err(&opt.pos, "a route takes either `or` or `nexthop`, not both: write every next hop as `nexthop via IP`");
                    return Err(());
                }
                r.nexthops = self.nexthops(&rest)?;
                break;
            }
            let mut value = |m: &mut Self| -> R<&Arg> {
                it.next()
                    .ok_or_else(|| m.err(&opt.pos, format!("`{}` needs a value", opt.text)))
            };
            match opt.text.as_str() {
                "via" | "gw" => {
                    let v = value(self)?;
                    r.via = Some(self.ip(v, "via")?);
                    if opt.text == "gw" {
                        // keepalived reads it as `via`, with this warning.
                        self.warn(
                            &opt.pos,
                            "\"gw\" for routes is deprecated. Please use \"via\" (read as `via`)",
                        );
                    }
                }
                "src" => {
                    let v = value(self)?;
                    r.src = Some(self.ip(v, "src")?);
                }
                "dev" | "oif" => r.dev = Some(value(self)?.text.clone()),
                "scope" => {
                    let v = value(self)?;
                    r.scope = Some(self.scope(v)?);
                }
                "table" => {
                    let v = value(self)?;
                    r.table = Some(match v.text.as_str() {
                        "main" => 254,
                        "local" => 255,
                        "default" => 253,
                        _ => self.int_word("table", v, 0u32, u32::MAX)?,
                    });
                }
                "vrf" => r.vrf = Some(value(self)?.text.clone()),
                "metric" | "priority" | "preference" => {
                    let v = value(self)?;
                    r.metric = Some(self.int_word(&opt.text, v, 0u32, u32::MAX)?);
                }
                "protocol" | "proto" => {
                    let v = value(self)?;
                    r.protocol = Some(match v.text.as_str() {
                        "redirect" => 1,
                        "kernel" => 2,
                        "boot" => 3,
                        "static" => 4,
                        _ => self.int_word("protocol", v, 0u8, 255)?,
                    });
                }
                "mtu" => {
                    let v = value(self)?;
                    r.mtu = Some(self.int_word("mtu", v, 68u32, 65_535)?);
                }
                "track_group" => {
                    let g = value(self)?.clone();
                    r.track_group = self.track_group_ref(&g);
                }
                "or" => {
                    let v = value(self)?;
                    let alternative = self.ip(v, "or")?;
                    if !r.nexthops.is_empty() {
                        self.warn(&opt.pos, "\"or\" route already specified - ignoring subsequent (keepalived's fix-up): list every next hop as `nexthop via IP`");
                        continue;
                    }
                    // keepalived: the `via` address becomes the first next hop, the `or`
                    // address the second.
                    self.warn(&opt.pos, "\"or\" for routes is deprecated. Please use \"nexthop\" (read as two next hops: `nexthop via A nexthop via B`)");
                    r.nexthops = vec![
                        NextHop {
                            via: r.via.take(),
                            dev: None,
                            weight: None,
                            onlink: false,
                        },
                        NextHop {
                            via: Some(alternative),
                            dev: None,
                            weight: None,
                            onlink: false,
                        },
                    ];
                }
                "onlink" => r.onlink = true,
                "no_track" => r.no_track = true,
                "inet" | "inet6" => {}
                other => {
                    self.err(&opt.pos, format!("route option `{other}` is not supported by vigil: supported are via/gw, src, dev, scope, table, metric, protocol, mtu, onlink, no_track, track_group"));
                    return Err(());
                }
            }
        }
        Ok(r)
    }

    /// `nexthop [via IP] [dev IF] [weight N] [onlink]`, repeated to the end of the line.
    pub(crate) fn nexthops(&mut self, words: &[&Arg]) -> R<Vec<NextHop>> {
        let mut hops = Vec::new();
        let mut it = words.iter().peekable();
        while let Some(word) = it.next() {
            if word.text != "nexthop" {
                self.err(
                    &word.pos,
                    format!(
                        "`{}` after the next hops: a next hop takes via, dev, weight and onlink",
                        word.text
                    ),
                );
                return Err(());
            }
            let mut hop = NextHop {
                via: None,
                dev: None,
                weight: None,
                onlink: false,
            };
            while let Some(opt) = it.next_if(|w| w.text != "nexthop") {
                let mut value = |m: &mut Self| -> R<&Arg> {
                    it.next().copied().ok_or_else(|| {
                        m.err(&opt.pos, format!("nexthop `{}` needs a value", opt.text))
                    })
                };
                match opt.text.as_str() {
                    "via" => {
                        let mut v = value(self)?;
                        if matches!(v.text.as_str(), "inet" | "inet6") {
                            v = value(self)?;
                        }
                        hop.via = Some(self.ip(v, "nexthop via")?);
                    }
                    "dev" => hop.dev = Some(value(self)?.text.clone()),
                    // keepalived: 1 to 256, as `ip route`.
                    "weight" => {
                        let v = value(self)?;
                        hop.weight = Some(self.int_word("weight", v, 1u16, 256)?);
                    }
                    "onlink" => hop.onlink = true,
                    other => {
                        self.err(&opt.pos, format!("nexthop option `{other}` is not supported by vigil: supported are via, dev, weight, onlink"));
                        return Err(());
                    }
                }
            }
            hops.push(hop);
        }
        Ok(hops)
    }
}
