//! keepalived's `auth_hmac` block (keepalived 2.4.1 and later; the wire format is in
//! [`crate::wire::auth_hmac`]): the model, its keepalived.conf syntax, the key values and key
//! files, and the checks.
//!
//! ```text
//! vrrp_instance VI_1 {
//!     auth_hmac {
//!         key 1 hex:00112233...           # id 1..255; 32 to 64 bytes: hex:HEX or ASCII text
//!         key 2 file:/etc/vigil/hmac.key  # the same, read from a file (mode 0600 or tighter)
//!         active_key 1                    # the key adverts are signed with
//!         time_window 10                  # seconds, 1..300 (default 3 x advert_int, 5..300)
//!         anti_replay time                # or monotonic (no clock check)
//!         mode enforce                    # or permissive, receive-only
//!     }
//! }
//! ```
//!
//! Where vigil is stricter than keepalived, and why: keepalived reports a bad key (length, a
//! duplicate id, an unreadable file) and skips it, and when `active_key` names no key it
//! disables the extension and runs unauthenticated; it reports a key file readable or
//! writable by group or others as a security error (`keepalived -t` exits with its security
//! code) and still uses the key. vigil refuses all of these: a security option parsed and not
//! enforced would be the worst bug, and an operator who wrote `auth_hmac` wants adverts
//! authenticated or the daemon stopped.

use std::fmt;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::diagnostic::{Diagnostic, Pos, SourceMap};
use super::keepalived::parser::Node;
use super::model::{Config, Instance};
use crate::wire::auth_hmac::{
    self as wire_hmac, KEY_MAX, KEY_MIN, Mode, Secret, WINDOW_MAX, WINDOW_MIN,
};

/// An instance's `auth_hmac`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthHmac {
    /// `key ID VALUE` lines: every key a received advert may be signed with.
    pub keys: Vec<HmacKeyConfig>,
    /// `active_key ID`: the key this router signs with (0 in a keepalived.conf without one,
    /// which is refused).
    pub active_key: u8,
    /// `time_window SECS` (1..=300); default 3 advertisement intervals, 5 to 300 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_window: Option<u16>,
    /// `anti_replay time|monotonic`.
    #[serde(default)]
    pub anti_replay: AntiReplay,
    /// `mode enforce|permissive|receive-only`.
    #[serde(default)]
    pub mode: Mode,
}

/// keepalived's `anti_replay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AntiReplay {
    /// Trailers must be timestamped within `time_window` of our clock, and grow per sender.
    #[default]
    Time,
    /// Trailers must only grow per sender (for routers without synchronised clocks).
    Monotonic,
}

/// One `key ID VALUE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HmacKeyConfig {
    pub id: u8,
    /// As written: `hex:HEX`, ASCII text, or `file:PATH`.
    pub key: KeyValue,
    /// The secret, once decoded (inline values at load; files by [`load_key_files`], which
    /// only `vigil run`, its reloads and `vigil check` call).
    #[serde(skip)]
    pub secret: Option<Secret>,
}

/// A key as written in the configuration. Printed, it shows a file's path but never a secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyValue(pub String);

impl KeyValue {
    /// The file the key is read from, for `file:PATH`.
    pub fn file(&self) -> Option<&str> {
        self.0.strip_prefix("file:")
    }
}

impl fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.file() {
            Some(path) => write!(f, "KeyValue(file:{path})"),
            None => f.write_str("KeyValue(..)"),
        }
    }
}

/// Decodes a key value as keepalived does: `hex:` then hex digits (spaces and tabs between
/// groups skipped, a lone digit before a space or the end being one byte), else the text's
/// own bytes. The length is checked by the caller. Errors never quote the value.
pub fn decode_key(text: &str) -> Result<Vec<u8>, String> {
    let Some(hex) = text.strip_prefix("hex:") else {
        return Ok(text.as_bytes().to_vec());
    };
    let mut out = Vec::with_capacity(hex.len() / 2);
    for group in hex.split([' ', '\t']).filter(|g| !g.is_empty()) {
        let digits: Vec<u8> = group
            .chars()
            .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
            .collect::<Option<_>>()
            .ok_or("a `hex:` key holds a character that is not a hex digit")?;
        for pair in digits.chunks(2) {
            out.push(match pair {
                [hi, lo] => hi << 4 | lo,
                [single] => *single,
                _ => 0,
            });
        }
    }
    if out.is_empty() {
        return Err("a `hex:` key holds no hex digits".into());
    }
    Ok(out)
}

/// The decoded secret, if its length is within keepalived's bounds.
fn secret_of(text: &str) -> Result<Secret, String> {
    let bytes = decode_key(text)?;
    if !(KEY_MIN..=KEY_MAX).contains(&bytes.len()) {
        return Err(format!(
            "the key is {} bytes long, keepalived's auth_hmac takes {KEY_MIN} to {KEY_MAX} (hex: two digits a byte)",
            bytes.len()
        ));
    }
    Ok(Secret::new(&bytes))
}

/// keepalived reads at most this much of a key file: `hex:`, 128 digits and some slack.
const KEY_FILE_MAX: u64 = 4 + KEY_MAX as u64 * 2 + 8;

/// Reads a key file, refusing one that group or others may read, write or execute
/// (keepalived's check is on the same bits, `S_IRWXG | S_IRWXO`) and one that is not a
/// regular file (a FIFO would hang the load). The file holds what an inline value would;
/// trailing line ends are dropped.
pub fn read_key_file(path: &Path) -> Result<Secret, String> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot open key file {}: {e}", path.display()))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot stat key file {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("key file {} is not a regular file", path.display()));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "key file {} has mode {mode:04o}: it is open to group or others (keepalived reports this as a security error); `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
    let mut text = String::new();
    (&mut file)
        .take(KEY_FILE_MAX + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read key file {}: {e}", path.display()))?;
    if text.len() as u64 > KEY_FILE_MAX {
        return Err(format!(
            "key file {} is too large: at most {KEY_FILE_MAX} bytes",
            path.display()
        ));
    }
    let text = text.trim_end_matches(['\n', '\r']);
    secret_of(text).map_err(|e| format!("key file {}: {e}", path.display()))
}

/// Maps an `auth_hmac { ... }` block of a vrrp_instance onto `into` (a second block adds to the
/// first, as keepalived's does), recording each key's line under `base` (`instances.N`).
pub fn map_keepalived(
    node: &Node,
    into: Option<AuthHmac>,
    base: &str,
    map: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> AuthHmac {
    let mut ah = into.unwrap_or(AuthHmac {
        keys: Vec::new(),
        active_key: 0,
        time_window: None,
        anti_replay: AntiReplay::Time,
        mode: Mode::Enforce,
    });
    let Some(block) = &node.block else {
        diags.push(Diagnostic::error(
            node.pos.clone(),
            "`auth_hmac` needs a block: `auth_hmac { key 1 hex:... active_key 1 }`",
        ));
        return ah;
    };
    let mut err = |pos: &Pos, msg: String| diags.push(Diagnostic::error(pos.clone(), msg));
    for line in block {
        let arg = |i: usize| line.args.get(i);
        let id_of = |what: &str, a: Option<&super::keepalived::parser::Arg>| match a {
            Some(a) => a.text.parse::<u8>().ok().filter(|id| *id >= 1).ok_or((
                a.pos.clone(),
                format!("auth_hmac {what} `{}` must be between 1 and 255", a.text),
            )),
            None => Err((
                line.pos.clone(),
                format!("auth_hmac `{}` needs a key id", line.keyword),
            )),
        };
        match line.keyword.as_str() {
            "key" => {
                let id = match id_of("key id", arg(0)) {
                    Ok(id) => id,
                    Err((pos, m)) => {
                        err(&pos, m);
                        continue;
                    }
                };
                let Some(value) = arg(1) else {
                    err(&line.pos, "auth_hmac `key` needs an id and a value: `key 1 hex:...` or `key 1 file:PATH`".into());
                    continue;
                };
                if line.args.len() > 2 {
                    // Never echo the words: they may be a secret.
                    err(&line.pos, "auth_hmac `key` takes an id and one value; quote a value that holds spaces".into());
                    continue;
                }
                let k = ah.keys.len();
                map.insert(format!("{base}.auth_hmac.keys.{k}"), line.pos.clone());
                ah.keys.push(HmacKeyConfig {
                    id,
                    key: KeyValue(value.text.clone()),
                    secret: None,
                });
            }
            "active_key" => match id_of("active_key", arg(0)) {
                Ok(id) => {
                    map.insert(format!("{base}.auth_hmac.active_key"), line.pos.clone());
                    ah.active_key = id;
                }
                Err((pos, m)) => err(&pos, m),
            },
            "time_window" => match arg(0) {
                Some(a) => match a
                    .text
                    .parse::<u16>()
                    .ok()
                    .filter(|w| (WINDOW_MIN..=WINDOW_MAX).contains(w))
                {
                    Some(w) => {
                        map.insert(format!("{base}.auth_hmac.time_window"), line.pos.clone());
                        ah.time_window = Some(w);
                    }
                    None => err(
                        &a.pos,
                        format!(
                            "auth_hmac time_window `{}` must be between {WINDOW_MIN} and {WINDOW_MAX} seconds",
                            a.text
                        ),
                    ),
                },
                None => err(
                    &line.pos,
                    "auth_hmac `time_window` needs a value in seconds".into(),
                ),
            },
            "anti_replay" => match arg(0).map(|a| (a, a.text.as_str())) {
                Some((_, "time")) => ah.anti_replay = AntiReplay::Time,
                Some((_, "monotonic")) => ah.anti_replay = AntiReplay::Monotonic,
                Some((a, other)) => err(
                    &a.pos,
                    format!("auth_hmac anti_replay `{other}` must be time or monotonic"),
                ),
                None => err(
                    &line.pos,
                    "auth_hmac `anti_replay` needs `time` or `monotonic`".into(),
                ),
            },
            "mode" => match arg(0).map(|a| (a, a.text.as_str())) {
                Some((_, "enforce")) => ah.mode = Mode::Enforce,
                Some((_, "permissive")) => ah.mode = Mode::Permissive,
                Some((_, "receive-only")) => ah.mode = Mode::ReceiveOnly,
                Some((a, other)) => err(
                    &a.pos,
                    format!("auth_hmac mode `{other}` must be enforce, permissive or receive-only"),
                ),
                None => err(
                    &line.pos,
                    "auth_hmac `mode` needs enforce, permissive or receive-only".into(),
                ),
            },
            other => err(
                &line.pos,
                format!(
                    "unknown keyword `{other}` in auth_hmac (keepalived's are key, active_key, time_window, anti_replay, mode)"
                ),
            ),
        }
    }
    ah
}

/// keepalived's fix-ups (`vrrp_complete_instance`), on a keepalived.conf: `auth_hmac` with an
/// `authentication` block drops the legacy authentication; strict mode forces `mode enforce`.
pub fn fix_up(inst: &mut Instance, warn: &mut dyn FnMut(&str, String)) {
    let name = inst.name.clone();
    let Some(ah) = &mut inst.auth_hmac else {
        return;
    };
    if inst.auth.is_some() {
        inst.auth = None;
        warn(
            "authentication",
            format!(
                "instance `{name}`: auth_hmac cannot be combined with authentication, dropping legacy auth (keepalived's fix-up): adverts are authenticated by auth_hmac only; remove the authentication block, or run with --strict to refuse"
            ),
        );
    }
    if inst.strict_mode && ah.mode != Mode::Enforce {
        ah.mode = Mode::Enforce;
        warn(
            "auth_hmac",
            format!(
                "instance `{name}`: strict mode requires auth_hmac mode enforce (keepalived's fix-up): adverts without a valid trailer are dropped; set `mode enforce`, or run with --strict to refuse"
            ),
        );
    }
}

/// The checks both formats meet. Inline keys are decoded here (so a bad one is reported by
/// `vigil convert` and `vigil check` alike); key files are read by [`load_key_files`].
pub fn validate(config: &mut Config, map: &SourceMap) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, inst) in config.instances.iter_mut().enumerate() {
        let name = inst.name.clone();
        let legacy = inst.auth.is_some();
        let Some(ah) = &mut inst.auth_hmac else {
            continue;
        };
        let at = |field: &str| map.locate(&format!("instances.{i}.auth_hmac{field}"));
        if legacy {
            out.push(Diagnostic::error(at(""), format!("instance `{name}`: auth_hmac replaces `authentication`: remove the authentication block")));
        }
        if ah.keys.is_empty() {
            out.push(Diagnostic::error(
                at(""),
                format!(
                    "instance `{name}`: auth_hmac has no key: add `key 1 hex:...` (32 to 64 bytes)"
                ),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (k, key) in ah.keys.iter_mut().enumerate() {
            let here = at(&format!(".keys.{k}"));
            if key.id == 0 {
                out.push(Diagnostic::error(
                    here.clone(),
                    format!("instance `{name}`: auth_hmac key id 0: ids are 1 to 255"),
                ));
            }
            if !seen.insert(key.id) {
                out.push(Diagnostic::error(
                    here.clone(),
                    format!("instance `{name}`: duplicate auth_hmac key id {}", key.id),
                ));
            }
            if key.key.file().is_none() {
                match secret_of(&key.key.0) {
                    Ok(s) => key.secret = Some(s),
                    Err(e) => out.push(Diagnostic::error(
                        here,
                        format!("instance `{name}`: auth_hmac key {}: {e}", key.id),
                    )),
                }
            }
        }
        if !ah.keys.is_empty() && !ah.keys.iter().any(|k| k.id == ah.active_key) {
            // keepalived disables auth_hmac here and runs unauthenticated; vigil refuses.
            out.push(Diagnostic::error(
                at(".active_key"),
                format!(
                    "instance `{name}`: auth_hmac active_key {} is not defined (keepalived would disable authentication): set `active_key` to one of the key ids",
                    ah.active_key
                ),
            ));
        }
        if let Some(w) = ah.time_window
            && !(WINDOW_MIN..=WINDOW_MAX).contains(&w)
        {
            out.push(Diagnostic::error(at(".time_window"), format!("instance `{name}`: auth_hmac time_window {w} must be between {WINDOW_MIN} and {WINDOW_MAX} seconds")));
        }
        if ah.anti_replay == AntiReplay::Monotonic && ah.time_window.is_some() {
            out.push(Diagnostic::warning(at(".time_window"), format!("instance `{name}`: auth_hmac time_window has no effect with `anti_replay monotonic` (no clock check)")));
        }
    }
    out
}

/// Reads every `file:PATH` key, refusing a file open to group or others. Run at start, at
/// every reload and by `vigil check`; messages name the file, never its content.
pub fn load_key_files(config: &mut Config, map: &SourceMap) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, inst) in config.instances.iter_mut().enumerate() {
        let name = inst.name.clone();
        let Some(ah) = &mut inst.auth_hmac else {
            continue;
        };
        for (k, key) in ah.keys.iter_mut().enumerate() {
            let Some(path) = key.key.file() else {
                continue;
            };
            match read_key_file(Path::new(path)) {
                Ok(s) => key.secret = Some(s),
                Err(e) => out.push(Diagnostic::error(
                    map.locate(&format!("instances.{i}.auth_hmac.keys.{k}")),
                    format!("instance `{name}`: auth_hmac key {}: {e}", key.id),
                )),
            }
        }
    }
    out
}

/// The run-time form, once every key is decoded: `None` if a key is still unread (a model
/// loaded without [`load_key_files`]), which planning refuses. `advert_secs` derives the
/// default window as keepalived does: 3 intervals in whole seconds, 5 to 300.
pub fn runtime(ah: &AuthHmac, advert_secs: u32) -> Result<wire_hmac::AuthHmac, String> {
    let AuthHmac {
        keys,
        active_key,
        time_window,
        anti_replay,
        mode,
    } = ah;
    let keys = keys
        .iter()
        .map(|k| {
            k.secret
                .clone()
                .map(|secret| wire_hmac::HmacKey { id: k.id, secret })
                .ok_or_else(|| format!("auth_hmac key {} was not loaded", k.id))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let window = match anti_replay {
        AntiReplay::Monotonic => None,
        AntiReplay::Time => Some(time_window.unwrap_or_else(|| {
            u16::try_from(advert_secs.saturating_mul(3))
                .unwrap_or(WINDOW_MAX)
                .clamp(wire_hmac::WINDOW_FLOOR, WINDOW_MAX)
        })),
    };
    let rt = wire_hmac::AuthHmac {
        keys,
        active_key: *active_key,
        mode: *mode,
        time_window: window,
    };
    if rt.active().is_none() {
        return Err(format!("auth_hmac active_key {active_key} is not defined"));
    }
    Ok(rt)
}

#[cfg(test)]
mod tests;
