//! keepalived.conf lexing: files and includes, line continuation, comments, `@id`
//! conditional lines, `$VAR=value` definitions and `$VAR` / `${VAR}` substitution, quoted
//! strings, and the `{` `}` block delimiters, into one token stream where every token knows
//! its `file:line:col`.
//!
//! The order of operations follows keepalived's reader (see "conditional configuration" and
//! "parameter substitution" in keepalived.conf(5)): a physical line is joined with its
//! continuations, stripped of comments, tested against the config id, checked for a
//! definition, substituted, and only then split into words.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::diagnostic::{Diagnostic, Pos};

/// A lexical token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokKind {
    Word(String),
    Open,
    Close,
    /// End of a logical line: keepalived's grammar is line-oriented.
    Eol,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tok {
    pub kind: TokKind,
    pub pos: Pos,
}

/// Includes nest at most this deep. keepalived has no limit and no cycle check (a file that
/// includes itself is read until memory or file descriptors run out); vigil refuses cycles
/// outright (the include stack below) and bounds depth, file count and bytes besides, so a
/// hostile or mistaken config costs bounded time and memory to reject.
const MAX_INCLUDE_DEPTH: usize = 16;
/// At most this many files are read for one configuration (the main file and every include,
/// counting a file included twice twice). Real configs have tens; a diamond of includes
/// nested 16 deep would otherwise read 2^16 files.
pub const MAX_FILES: usize = 1_000;
/// At most this many bytes are read for one configuration, all files together: large
/// generated configs are a few MiB.
pub const MAX_TOTAL_BYTES: u64 = 64 << 20;
/// The lexer keeps at most this many diagnostics, then counts the rest, so that a broken
/// config cannot turn into an unbounded list of errors.
pub const MAX_DIAGNOSTICS: usize = 100;
/// Substitutions of one line stop after this many rounds (a self-referencing variable).
const MAX_SUBSTITUTIONS: usize = 64;
/// A substituted line longer than this is an error rather than an out-of-memory.
const MAX_LINE_LEN: usize = 1 << 20;

/// How the lexer reads a file: at most `limit` bytes, else an error.
type FileReader = dyn Fn(&Path, u64) -> std::io::Result<String>;

/// Reads files into tokens, collecting every problem instead of stopping at the first.
pub struct Lexer {
    config_id: String,
    vars: HashMap<String, String>,
    pub tokens: Vec<Tok>,
    pub diagnostics: Vec<Diagnostic>,
    /// Diagnostics found after `MAX_DIAGNOSTICS` were kept: only counted.
    pub diagnostics_dropped: usize,
    /// A reader for files, so that the fuzzer and tests can lex from memory.
    read: Box<FileReader>,
    /// The files being read, outermost first, as canonical paths: an include that names one
    /// of them again is a cycle.
    stack: Vec<PathBuf>,
    files_read: usize,
    bytes_read: u64,
    /// Set when a budget ran out (reported once); no further file is read.
    exhausted: bool,
}

impl Lexer {
    pub fn new(config_id: String) -> Self {
        Self {
            config_id,
            vars: HashMap::new(),
            tokens: Vec::new(),
            diagnostics: Vec::new(),
            diagnostics_dropped: 0,
            read: Box::new(read_regular_file),
            stack: Vec::new(),
            files_read: 0,
            bytes_read: 0,
            exhausted: false,
        }
    }

    /// Records a problem, keeping at most `MAX_DIAGNOSTICS`.
    fn report(&mut self, d: Diagnostic) {
        if self.diagnostics.len() < MAX_DIAGNOSTICS {
            self.diagnostics.push(d);
        } else {
            self.diagnostics_dropped += 1;
        }
    }

    /// The diagnostics, with one more saying how many were left out.
    pub fn take_diagnostics(&mut self) -> Vec<Diagnostic> {
        let mut out = std::mem::take(&mut self.diagnostics);
        if self.diagnostics_dropped > 0
            && let Some(last) = out.last()
        {
            let pos = last.pos.clone();
            out.push(Diagnostic::error(
                pos,
                format!(
                    "and {} more problems while reading the files (only the first {MAX_DIAGNOSTICS} are shown)",
                    self.diagnostics_dropped
                ),
            ));
            self.diagnostics_dropped = 0;
        }
        out
    }

    /// A lexer that cannot open files (for in-memory input): includes are errors.
    pub fn without_files(config_id: String) -> Self {
        let mut l = Self::new(config_id);
        l.read = Box::new(|p, _| {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} (includes are not read here)", p.display()),
            ))
        });
        l
    }

    /// Lex a file from disk; a problem reading it is reported at `included_from`, else at
    /// the start of the file.
    pub fn lex_file(&mut self, path: &Path, included_from: Option<&Pos>) {
        let at = included_from
            .cloned()
            .unwrap_or_else(|| Pos::start_of(path));
        self.read_and_lex(path, &at, 0);
    }

    /// Reads `path` within the budgets and lexes it at include depth `depth`; problems are
    /// reported at `at` (the include's pattern, or the start of the main file).
    fn read_and_lex(&mut self, path: &Path, at: &Pos, depth: usize) {
        if self.exhausted {
            return;
        }
        // A cycle is re-entering a file still being read. The same file included twice
        // side by side (a diamond) is not a cycle: keepalived reads it twice, and so do we.
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(k) = self.stack.iter().position(|f| *f == canonical) {
            let cycle: Vec<String> = self.stack[k..]
                .iter()
                .chain(std::iter::once(&canonical))
                .map(|f| f.display().to_string())
                .collect();
            self.report(Diagnostic::error(
                at.clone(),
                format!(
                    "include cycle: {} (a file cannot include itself, directly or through others)",
                    cycle.join(" -> ")
                ),
            ));
            return;
        }
        if self.files_read >= MAX_FILES {
            self.exhausted = true;
            self.report(Diagnostic::error(
                at.clone(),
                format!(
                    "more than {MAX_FILES} files to read: not reading {} or any further include",
                    path.display()
                ),
            ));
            return;
        }
        let budget = MAX_TOTAL_BYTES.saturating_sub(self.bytes_read);
        let text = match (self.read)(path, budget) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
                self.exhausted = true;
                self.report(Diagnostic::error(
                    at.clone(),
                    format!(
                        "the configuration is larger than {} MiB in all its files: not reading {} or any further include",
                        MAX_TOTAL_BYTES >> 20,
                        path.display()
                    ),
                ));
                return;
            }
            Err(e) => {
                self.report(Diagnostic::error(
                    at.clone(),
                    format!("cannot read {}: {e}", path.display()),
                ));
                return;
            }
        };
        self.files_read += 1;
        self.bytes_read += text.len() as u64;
        self.stack.push(canonical);
        self.lex_text(&text, path, depth);
        self.stack.pop();
    }

    /// Lex `text` as the content of `path`.
    pub fn lex_text(&mut self, text: &str, path: &Path, depth: usize) {
        let file = Arc::new(path.to_path_buf());
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while let Some(first) = lines.get(i) {
            let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
            // Line continuation: a `\` at the end of a line joins the next one. A multi-line
            // `$VAR=` definition keeps its line breaks, so that its expansion is several lines.
            let mut logical = strip_comment(first).to_string();
            let is_definition = logical.trim_start().starts_with('$') && logical.contains('=');
            while logical.trim_end().ends_with('\\') {
                let trimmed = logical.trim_end();
                logical.truncate(trimmed.len() - 1);
                i += 1;
                match lines.get(i) {
                    Some(next) => {
                        logical.push(if is_definition { '\n' } else { ' ' });
                        logical.push_str(strip_comment(next));
                    }
                    None => break,
                }
            }
            i += 1;
            let pos = Pos::new(&file, line_no, 1);
            self.logical_line(&logical, &pos, path, depth, 0);
        }
    }

    fn logical_line(&mut self, raw: &str, pos: &Pos, path: &Path, depth: usize, nesting: usize) {
        let indent = raw.len() - raw.trim_start().len();
        let mut line = raw.trim();
        let mut pos = Pos::new(&pos.file, pos.line, pos.col + indent as u32);
        if line.is_empty() {
            return;
        }
        // Conditional configuration: `@id rest` keeps the line only on config id `id`,
        // `@^id rest` only on any other id.
        if let Some(cond) = line.strip_prefix('@') {
            let (negate, cond) = match cond.strip_prefix('^') {
                Some(c) => (true, c),
                None => (false, cond),
            };
            let end = cond.find(char::is_whitespace).unwrap_or(cond.len());
            let (id, rest) = cond.split_at(end);
            if (id == self.config_id) == negate {
                return;
            }
            let skipped = line.len() - rest.trim_start().len();
            pos.col += skipped as u32;
            line = rest.trim_start();
            if line.is_empty() {
                return;
            }
        }
        // `$NAME=value` defines a parameter (no space before `=`).
        if let Some(def) = line.strip_prefix('$')
            && let Some(eq) = def.find('=')
            && is_var_name(&def[..eq])
        {
            let value = def[eq + 1..].trim_start_matches([' ', '\t']).to_string();
            self.vars.insert(def[..eq].to_string(), value);
            return;
        }
        if line.starts_with("~SEQ") || line.starts_with("~LST") {
            self.report(Diagnostic::error(
                pos,
                "~SEQ and ~LST blocks are not supported by vigil; write the lines out".to_string(),
            ));
            return;
        }
        let substituted = match self.substitute(line, path) {
            Ok(s) => s,
            Err(msg) => {
                self.report(Diagnostic::error(pos, msg));
                return;
            }
        };
        if substituted != line {
            // The value may hold line breaks (multi-line definitions), conditionals or
            // further definitions: run each resulting line through the whole process again.
            if nesting > MAX_SUBSTITUTIONS {
                self.report(Diagnostic::error(
                    pos,
                    "parameter expansion nests too deeply".to_string(),
                ));
                return;
            }
            for part in substituted.split('\n') {
                self.logical_line(part, &pos, path, depth, nesting + 1);
            }
            return;
        }
        let words = match split_words(line, &pos) {
            Ok(w) => w,
            Err(d) => {
                self.report(d);
                return;
            }
        };
        if let Some(Tok {
            kind: TokKind::Word(first),
            pos: kw_pos,
        }) = words.first()
            && is_include(first)
        {
            let kw_pos = kw_pos.clone();
            self.include(&words, &kw_pos, path, depth);
            return;
        }
        self.tokens.extend(words);
        self.tokens.push(Tok {
            kind: TokKind::Eol,
            pos,
        });
    }

    fn include(&mut self, words: &[Tok], kw_pos: &Pos, path: &Path, depth: usize) {
        let Some(Tok {
            kind: TokKind::Word(pattern),
            pos: pat_pos,
        }) = words.get(1)
        else {
            self.report(Diagnostic::error(
                kw_pos.clone(),
                "include needs a file name or pattern".to_string(),
            ));
            return;
        };
        if depth >= MAX_INCLUDE_DEPTH {
            self.report(Diagnostic::error(
                pat_pos.clone(),
                format!("includes nest deeper than {MAX_INCLUDE_DEPTH} files"),
            ));
            return;
        }
        // keepalived: a relative include is relative to the directory of the including file.
        let base = path.parent().unwrap_or(Path::new("."));
        let full: PathBuf = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            base.join(pattern)
        };
        let full_str = full.to_string_lossy().to_string();
        let mut matched: Vec<PathBuf> = match glob::glob(&full_str) {
            Ok(paths) => paths.filter_map(Result::ok).collect(),
            Err(e) => {
                self.report(Diagnostic::error(
                    pat_pos.clone(),
                    format!("bad include pattern `{pattern}`: {e}"),
                ));
                return;
            }
        };
        matched.sort();
        if matched.is_empty() {
            if !has_glob_chars(pattern) {
                // A plain file name that does not exist is a mistake; a pattern that matches
                // nothing is how optional conf.d directories work.
                self.report(Diagnostic::error(
                    pat_pos.clone(),
                    format!("include: {} does not exist", full.display()),
                ));
            }
            return;
        }
        let pat_pos = pat_pos.clone();
        for file in matched {
            self.read_and_lex(&file, &pat_pos, depth + 1);
        }
    }

    /// Replace `${NAME}` anywhere and `$NAME` followed by whitespace or the end of the line.
    /// Undefined parameters stay as written, as in keepalived.
    fn substitute(&self, line: &str, path: &Path) -> Result<String, String> {
        let mut out = line.to_string();
        for _ in 0..MAX_SUBSTITUTIONS {
            let next = self.substitute_once(&out, path);
            if next.len() > MAX_LINE_LEN {
                return Err("parameter expansion is too long".to_string());
            }
            if next == out {
                return Ok(out);
            }
            out = next;
        }
        Err("parameter substitution does not terminate (a parameter refers to itself?)".to_string())
    }

    fn substitute_once(&self, line: &str, path: &Path) -> String {
        let mut out = String::with_capacity(line.len());
        let mut rest = line;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
                match braced.find('}') {
                    Some(end) => (&braced[..end], end + 2),
                    None => ("", 0),
                }
            } else {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                let followed_ok = after[end..].chars().next().is_none_or(char::is_whitespace);
                if followed_ok {
                    (&after[..end], end)
                } else {
                    ("", 0)
                }
            };
            match (consumed, self.lookup(name, path)) {
                (c, Some(value)) if c > 0 => {
                    out.push_str(&value);
                    rest = &after[c..];
                }
                _ => {
                    out.push('$');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    fn lookup(&self, name: &str, path: &Path) -> Option<String> {
        match name {
            "_PWD" => Some(
                path.parent()
                    .unwrap_or(Path::new("."))
                    .to_string_lossy()
                    .to_string(),
            ),
            "_INSTANCE" => Some(self.config_id.clone()),
            "_HASH" => Some("#".to_string()),
            "_BANG" => Some("!".to_string()),
            _ if is_var_name(name) => self.vars.get(name).cloned(),
            _ => None,
        }
    }
}

/// Reads a regular file of at most `limit` bytes. Anything else is refused before it is
/// read: a FIFO or a device would block or never end (keepalived likewise skips an include
/// that is not a regular file).
fn read_regular_file(path: &Path, limit: u64) -> std::io::Result<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. It changes
    // nothing for a regular file, and anything else is refused below before any read.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    if meta.len() > limit {
        return Err(std::io::ErrorKind::FileTooLarge.into());
    }
    let mut text = String::new();
    // The size can change between the stat and the read: the read is bounded too.
    file.take(limit.saturating_add(1))
        .read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(std::io::ErrorKind::FileTooLarge.into());
    }
    Ok(text)
}

fn is_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_include(word: &str) -> bool {
    matches!(
        word,
        "include" | "includer" | "includem" | "includew" | "includeb" | "includea"
    )
}

fn has_glob_chars(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Cut a line at the first `#` or `!` outside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '#' | '!') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Split a line into words: whitespace separates, quotes group (and are removed), `{` and
/// `}` outside quotes are tokens of their own.
fn split_words(line: &str, pos: &Pos) -> Result<Vec<Tok>, Diagnostic> {
    let mut toks = Vec::new();
    let mut cur = String::new();
    let mut cur_col: Option<u32> = None;
    let mut quote: Option<(char, u32)> = None;
    let mut chars = line.char_indices().peekable();
    let col_of = |i: usize| pos.col + u32::try_from(line[..i].chars().count()).unwrap_or(0);
    let flush = |cur: &mut String, cur_col: &mut Option<u32>, toks: &mut Vec<Tok>| {
        if let Some(col) = cur_col.take() {
            toks.push(Tok {
                kind: TokKind::Word(std::mem::take(cur)),
                pos: Pos::new(&pos.file, pos.line, col),
            });
        }
    };
    while let Some((i, c)) = chars.next() {
        if let Some((q, _)) = quote {
            if c == q {
                quote = None;
            } else if c == '\\' {
                if let Some((_, e)) = chars.next() {
                    cur.push(unescape(e));
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            '"' | '\'' => {
                cur_col.get_or_insert(col_of(i));
                quote = Some((c, col_of(i)));
            }
            '{' | '}' => {
                flush(&mut cur, &mut cur_col, &mut toks);
                toks.push(Tok {
                    kind: if c == '{' {
                        TokKind::Open
                    } else {
                        TokKind::Close
                    },
                    pos: Pos::new(&pos.file, pos.line, col_of(i)),
                });
            }
            c if c.is_whitespace() => flush(&mut cur, &mut cur_col, &mut toks),
            c => {
                cur_col.get_or_insert(col_of(i));
                cur.push(c);
            }
        }
    }
    if let Some((q, col)) = quote {
        return Err(Diagnostic::error(
            Pos::new(&pos.file, pos.line, col),
            format!("unterminated quoted string: add the closing {q}"),
        ));
    }
    flush(&mut cur, &mut cur_col, &mut toks);
    Ok(toks)
}

fn unescape(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, id: &str) -> Vec<String> {
        let mut l = Lexer::without_files(id.to_string());
        l.lex_text(text, Path::new("/t/k.conf"), 0);
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        l.tokens
            .iter()
            .map(|t| match &t.kind {
                TokKind::Word(w) => w.clone(),
                TokKind::Open => "{".into(),
                TokKind::Close => "}".into(),
                TokKind::Eol => ";".into(),
            })
            .collect()
    }

    #[test]
    fn comments_quotes_and_braces() {
        assert_eq!(
            words("a \"b c\" {d} # x\n! y\ne 'f#g'", "x"),
            ["a", "b c", "{", "d", "}", ";", "e", "f#g", ";"]
        );
    }

    #[test]
    fn continuation_joins_lines() {
        assert_eq!(words("a b \\\n  c\nd", "x"), ["a", "b", "c", ";", "d", ";"]);
    }

    #[test]
    fn conditionals_follow_the_config_id() {
        let text = "@main p 1\n@backup p 2\n@^main q 3\n";
        assert_eq!(words(text, "main"), ["p", "1", ";"]);
        assert_eq!(words(text, "backup"), ["p", "2", ";", "q", "3", ";"]);
    }

    #[test]
    fn substitution_is_recursive_and_late() {
        let text = "$BASE=10.2.${SUB}\n$SUB=0\n${BASE}.100/32\n$SUB=10\n${BASE}.100/32\n$UNDEF\n";
        assert_eq!(
            words(text, "x"),
            ["10.2.0.100/32", ";", "10.2.10.100/32", ";", "$UNDEF", ";"]
        );
    }

    #[test]
    fn plain_var_needs_trailing_whitespace() {
        assert_eq!(
            words("$P=7\npriority $P\nx $Py\n", "x"),
            ["priority", "7", ";", "x", "$Py", ";"]
        );
    }

    #[test]
    fn multiline_definition_expands_to_lines() {
        let text = "$BLOCK= \\\nvrrp_instance V${N} { \\\n @hi priority 9 \\\n}\n$N=1\n$BLOCK\n";
        assert_eq!(
            words(text, "hi"),
            [
                "vrrp_instance",
                "V1",
                "{",
                ";",
                "priority",
                "9",
                ";",
                "}",
                ";"
            ]
        );
    }

    #[test]
    fn conditional_from_a_parameter() {
        assert_eq!(
            words("$IF_MAIN=@main\n$IF_MAIN priority 240\n", "main"),
            ["priority", "240", ";"]
        );
        assert_eq!(
            words("$IF_MAIN=@main\n$IF_MAIN priority 240\n", "other"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn positions_are_one_based_columns() {
        let mut l = Lexer::without_files("x".into());
        l.lex_text("  key  value\n", Path::new("k.conf"), 0);
        assert_eq!((l.tokens[0].pos.line, l.tokens[0].pos.col), (1, 3));
        assert_eq!(l.tokens[1].pos.col, 8);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let mut l = Lexer::without_files("x".into());
        l.lex_text("a \"b\n", Path::new("k.conf"), 0);
        assert_eq!(
            l.diagnostics[0].to_string(),
            "k.conf:1:3: error: unterminated quoted string: add the closing \""
        );
    }
}
