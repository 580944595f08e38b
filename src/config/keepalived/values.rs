//! Shared value parsers of keepalived's keyword values: integers in a range, keepalived's
//! decimal seconds, `<BOOL>` flags, addresses and prefixes, notify commands, track lines.
//! Each reports its own error at the value's file:line:col and returns `Err(())`.

use std::net::IpAddr;
use std::str::FromStr;

use crate::config::model::{NotifyScript, Prefix, Scope};
use crate::types::Centis;

use super::mapping::Mapper;
use super::parser::{Arg, Node};
use super::table::R;

impl Mapper {
    /// The statements of a block; a keyword that needs a block but has none is an error.
    pub(crate) fn children(&mut self, node: &Node) -> Vec<Node> {
        match &node.block {
            Some(b) => b.clone(),
            None => {
                self.err(
                    &node.pos,
                    format!(
                        "`{}` needs a block: `{} {{ ... }}`",
                        node.keyword, node.keyword
                    ),
                );
                Vec::new()
            }
        }
    }

    /// The block's lines as word lists (keyword first), for list blocks.
    pub(crate) fn lines(&mut self, node: &Node) -> Vec<Vec<Arg>> {
        self.children(node)
            .into_iter()
            .map(|n| {
                let mut words = vec![Arg {
                    text: n.keyword.clone(),
                    pos: n.pos.clone(),
                }];
                words.extend(n.args);
                words
            })
            .collect()
    }

    pub(crate) fn arg<'a>(&mut self, node: &'a Node) -> R<&'a Arg> {
        match node.args.first() {
            Some(a) => Ok(a),
            None => {
                self.err(&node.pos, format!("`{}` needs a value", node.keyword));
                Err(())
            }
        }
    }

    pub(crate) fn name(&mut self, node: &Node) -> String {
        match node.args.first() {
            Some(a) => a.text.clone(),
            None => {
                self.err(
                    &node.pos,
                    format!(
                        "`{}` needs a name: `{} NAME {{ ... }}`",
                        node.keyword, node.keyword
                    ),
                );
                String::new()
            }
        }
    }

    pub(crate) fn int<T: FromStr + PartialOrd + std::fmt::Display + Copy>(
        &mut self,
        node: &Node,
        min: T,
        max: T,
    ) -> R<T> {
        let a = self.arg(node)?;
        self.int_word(&node.keyword, a, min, max)
    }

    pub(crate) fn int_word<T: FromStr + PartialOrd + std::fmt::Display + Copy>(
        &mut self,
        what: &str,
        a: &Arg,
        min: T,
        max: T,
    ) -> R<T> {
        match a.text.parse::<T>() {
            Ok(v) if v >= min && v <= max => Ok(v),
            _ => {
                self.err(
                    &a.pos,
                    format!(
                        "`{what}` must be an integer from {min} to {max}, not `{}`",
                        a.text
                    ),
                );
                Err(())
            }
        }
    }

    /// keepalived's decimal seconds (`advert_int 0.5`), exactly, in centiseconds.
    pub(crate) fn secs(&mut self, node: &Node, max_secs: u32) -> R<Centis> {
        let a = self.arg(node)?;
        match parse_centis(&a.text) {
            Some(c) if c.get() <= max_secs.saturating_mul(100) => Ok(c),
            Some(_) => {
                self.err(
                    &a.pos,
                    format!(
                        "`{}` must be at most {max_secs} seconds, not `{}`",
                        node.keyword, a.text
                    ),
                );
                Err(())
            }
            None => {
                self.err(
                    &a.pos,
                    format!(
                        "`{}` must be a number of seconds with at most 2 decimals (e.g. 1 or 0.25), not `{}`",
                        node.keyword, a.text
                    ),
                );
                Err(())
            }
        }
    }

    /// `keyword [<BOOL>]`: no value means on.
    pub(crate) fn flag(&mut self, node: &Node) -> R<bool> {
        match node.args.first() {
            None => Ok(true),
            Some(a) => match a.text.to_ascii_lowercase().as_str() {
                "on" | "true" | "yes" => Ok(true),
                "off" | "false" | "no" => Ok(false),
                _ => {
                    self.err(
                        &a.pos,
                        format!(
                            "`{}` takes on|off|true|false|yes|no, not `{}`",
                            node.keyword, a.text
                        ),
                    );
                    Err(())
                }
            },
        }
    }

    pub(crate) fn ip(&mut self, a: &Arg, what: &str) -> R<IpAddr> {
        a.text.parse().map_err(|_| {
            self.err(
                &a.pos,
                format!("`{what}` needs an IP address, not `{}`", a.text),
            );
        })
    }

    pub(crate) fn script_cmd(&mut self, node: &Node) -> R<NotifyScript> {
        let a = self.arg(node)?;
        if node.args.len() > 3 {
            self.err(
                &node.args[3].pos,
                format!(
                    "`{}` takes a command and an optional user and group: quote a command that has arguments",
                    node.keyword
                ),
            );
            return Err(());
        }
        Ok(NotifyScript {
            command: a.text.clone(),
            user: node.args.get(1).map(|a| a.text.clone()),
            group: node.args.get(2).map(|a| a.text.clone()),
        })
    }

    /// `NAME [weight N] [reverse|noreverse|no_reverse]`.
    pub(crate) fn track_line(
        &mut self,
        line: &[Arg],
        limit: i32,
    ) -> R<(String, Option<i32>, bool)> {
        let Some((name, rest)) = line.split_first() else {
            return Err(());
        };
        let (mut weight, mut reverse) = (None, false);
        let mut it = rest.iter();
        while let Some(opt) = it.next() {
            match opt.text.as_str() {
                "weight" => match it.next() {
                    Some(w) => weight = Some(self.int_word("weight", w, -limit, limit)?),
                    None => {
                        self.err(&opt.pos, "`weight` needs a value");
                        return Err(());
                    }
                },
                "reverse" => reverse = true,
                "noreverse" | "no_reverse" => reverse = false,
                other => {
                    self.err(
                        &opt.pos,
                        format!(
                            "unknown option `{other}` after `{}`: expected `weight N` or `reverse`",
                            name.text
                        ),
                    );
                    return Err(());
                }
            }
        }
        Ok((name.text.clone(), weight, reverse))
    }

    pub(crate) fn scope(&mut self, v: &Arg) -> R<Scope> {
        Ok(match v.text.as_str() {
            "global" | "0" => Scope::Global,
            "site" | "200" => Scope::Site,
            "link" | "253" => Scope::Link,
            "host" | "254" => Scope::Host,
            "nowhere" | "255" => Scope::Nowhere,
            _ => {
                self.err(
                    &v.pos,
                    format!(
                        "`scope` is global, site, link, host or nowhere, not `{}`",
                        v.text
                    ),
                );
                return Err(());
            }
        })
    }

    pub(crate) fn prefix(&mut self, a: &Arg, what: &str) -> R<Prefix> {
        let text = if a.text == "default" {
            "0.0.0.0/0"
        } else {
            a.text.as_str()
        };
        let (addr, len) = match text.split_once('/') {
            Some((ad, l)) => (ad, Some(l)),
            None => (text, None),
        };
        let Ok(addr) = addr.parse::<IpAddr>() else {
            self.err(
                &a.pos,
                format!(
                    "{what} must be an IP address with an optional /prefix length, not `{}`",
                    a.text
                ),
            );
            return Err(());
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(l) if l <= max => l,
                _ => {
                    self.err(
                        &a.pos,
                        format!("prefix length of `{}` must be from 0 to {max}", a.text),
                    );
                    return Err(());
                }
            },
        };
        Ok(Prefix { addr, len })
    }
}

pub fn looks_like_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    (parts.len() == 5 || parts.len() == 6)
        && parts
            .iter()
            .all(|p| p.len() <= 2 && !p.is_empty() && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Exact decimal seconds to centiseconds: `1`, `0.5`, `0.25`, `3.10`; more than two decimals
/// are accepted only when the extra digits are zeros.
pub fn parse_centis(s: &str) -> Option<Centis> {
    let us = parse_micros(s)?;
    if us % 10_000 != 0 {
        return None;
    }
    u32::try_from(us / 10_000).ok().map(Centis::new)
}

/// Exact decimal seconds to microseconds.
pub fn parse_micros(s: &str) -> Option<u64> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac_trimmed = frac.trim_end_matches('0');
    if frac_trimmed.len() > 6 {
        return None;
    }
    let mut micros: u64 = 0;
    for (i, c) in frac_trimmed.chars().enumerate() {
        let digit = u64::from(c.to_digit(10)?);
        micros += digit * 10u64.pow(5 - u32::try_from(i).ok()?);
    }
    whole.checked_mul(1_000_000)?.checked_add(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_seconds_are_exact() {
        assert_eq!(parse_centis("1"), Some(Centis::new(100)));
        assert_eq!(parse_centis("0.92"), Some(Centis::new(92)));
        assert_eq!(parse_centis("0.290"), Some(Centis::new(29)));
        assert_eq!(parse_centis("0.001"), None);
        assert_eq!(parse_centis("-1"), None);
        assert_eq!(parse_centis("1e3"), None);
        assert_eq!(parse_micros("0.000001"), Some(1));
    }

    #[test]
    fn mac_detection() {
        assert!(looks_like_mac("00:00:5e:00:01"));
        assert!(!looks_like_mac("vrrp.51"));
    }
}
