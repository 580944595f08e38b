//! Writes what the Debian package ships beside the binary, generated from the command-line
//! definition itself (`src/main.rs`) so that they never drift from it: a man page per
//! command (`vigil.8`, `vigil-run.8`, ...; section 8, daemons and administration tools) and
//! bash, zsh and fish completions.
//!
//!     cargo run --example assets -- OUT_DIR      (scripts/package does this before cargo deb)
//!
//! An example rather than a hidden `vigil` subcommand: clap_mangen and clap_complete are
//! dev-dependencies, so none of their code is in the daemon's binary, whose code size is its
//! resident memory (docs/performance.md, "Memory"). `src/main.rs` is compiled into this
//! program as a module, so every subcommand added there is picked up with no change here.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

// The CLI only: its `main` and error reporting are unused here.
#[allow(dead_code)]
#[path = "../src/main.rs"]
mod cli;

fn main() -> Result<()> {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .context("usage: assets OUT_DIR")?
        .into();
    let mut cmd = cli::Cli::command();
    cmd.build();

    // `vigil help CMD` is `man vigil-CMD` here: no pages for clap's help subcommand.
    let mut pages = cli::Cli::command().disable_help_subcommand(true);
    pages.build();
    let man = out.join("man");
    fs::create_dir_all(&man).with_context(|| format!("cannot create {man:?}"))?;
    write_man_pages(&pages, &man, true)?;

    let completions = out.join("completions");
    fs::create_dir_all(&completions).with_context(|| format!("cannot create {completions:?}"))?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let path = clap_complete::generate_to(shell, &mut cmd.clone(), "vigil", &completions)
            .with_context(|| format!("cannot write the {shell} completion"))?;
        println!("{}", path.display());
    }
    Ok(())
}

/// One page per command, named as man(1) looks them up (`man vigil-run`); hidden commands
/// have none, as they have no help.
fn write_man_pages(cmd: &clap::Command, dir: &Path, top: bool) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_man_pages(sub, dir, false)?;
    }
    let page = clap_mangen::Man::new(cmd.clone())
        .section("8")
        .manual("System Administration");
    let path = dir.join(page.get_filename());
    let mut text = Vec::new();
    page.render(&mut text)?;
    if top {
        text.extend_from_slice(TOP_PAGE_EXTRA.as_bytes());
    } else {
        text.extend_from_slice(b".SH \"SEE ALSO\"\n\\fBvigil\\fR(8)\n");
    }
    fs::File::create(&path)
        .and_then(|mut f| f.write_all(&text))
        .with_context(|| format!("cannot write {path:?}"))?;
    println!("{}", path.display());
    Ok(())
}

/// What the command-line definition does not say: signals, files, the systemd protocol.
const TOP_PAGE_EXTRA: &str = r#".SH SIGNALS
.TP
\fBSIGHUP\fR
Read the configuration file again and apply the difference; an instance whose configuration
did not change keeps its state and its addresses. A file with errors is rejected whole and
the daemon runs on with the previous configuration. \fBvigil reload\fR does the same over the
control socket and prints the outcome.
.TP
\fBSIGTERM\fR, \fBSIGINT\fR
Hand mastership over at once (an advertisement with priority 0), remove the virtual
addresses, and exit.
.TP
\fBSIGUSR1\fR, \fBSIGUSR2\fR, \fBSIGRTMIN+2\fR, \fBSIGRTMAX-1\fR
Write keepalived's dumps (data, statistics, JSON) as \fIvigil.data\fR, \fIvigil.stats\fR and
\fIvigil.json\fR next to the pid file, instead of dying as on a default handler.
.SH SYSTEMD
\fBvigil run\fR speaks the notify protocol (Type=notify, or Type=notify-reload with
systemd 253 and later): READY=1 once every instance runs, RELOADING=1 with MONOTONIC_USEC
for a reload, STOPPING=1 at shutdown, and WATCHDOG=1 from its main loop every half of
WatchdogSec= when the unit sets it, so a daemon whose loop stops is restarted.
.SH FILES
.TP
\fI/etc/vigil/vigil.yaml\fR
The configuration (vigil's YAML); \fI/etc/keepalived/keepalived.conf\fR is read when it does
not exist.
.TP
\fI/etc/default/vigil\fR
Extra options for the systemd unit (VIGIL_OPTS).
.TP
\fI/run/vigil/vigil.sock\fR, \fI/run/vigil/vigil.pid\fR
The control socket (\fBvigil status\fR) and the pid file.
.SH "SEE ALSO"
\fBkeepalived.conf\fR(5), \fBsystemd.service\fR(5), \fI/usr/share/doc/vigil/\fR
"#;
