//! Notify scripts that keepalived runs and vigil used to parse and drop (issue 9):
//!
//! - a `vrrp_sync_group`'s `notify_master` / `notify_backup` and generic `notify`
//!   (`GROUP NAME STATE 0`), run when the group as a whole changes state;
//! - `notify_fifo_script`, started as the notify FIFO's reader with the FIFO's path as its
//!   last argument, ended after the FIFO closes;
//! - the FIFO's lines, INSTANCE and GROUP, in order.
//!
//! Two vigil routers, one sync group of two instances each. r1 (priority 200) is master; it
//! is killed with SIGKILL, r2's group takes over; then r2 is stopped with SIGTERM. Each
//! router's group-script log and FIFO-reader log must show the expected sequence in order.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use vigil_integration::{Lab, Vigil, scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);

fn instance(name: &str, vrid: u8, priority: u8, vip: IpAddr) -> String {
    format!(
        "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n    \
         priority {priority}\n    advert_int 1\n    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
    )
}

/// An executable shell script at `path`.
fn script(path: &Path, body: &str) -> Result<()> {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// One router's files: its configuration, and where its scripts write.
struct Router {
    conf: String,
    /// Group scripts: one line per run, its arguments.
    group_log: PathBuf,
    /// FIFO reader: every line it read.
    fifo_log: PathBuf,
    /// FIFO reader: its arguments, then its pid.
    reader_args: PathBuf,
    fifo: PathBuf,
}

fn router(lab: &Lab, name: &str, priority: u8) -> Result<Router> {
    let dir = lab.dir().join(name);
    std::fs::create_dir_all(&dir)?;
    let (group_log, fifo_log, reader_args, fifo) = (
        dir.join("group.log"),
        dir.join("fifo.log"),
        dir.join("reader.args"),
        dir.join("notify.fifo"),
    );
    let log_args = dir.join("log_args.sh");
    script(
        &log_args,
        &format!("echo \"$@\" >> {}", group_log.display()),
    )?;
    // A plain reader, no TERM trap: it reads until EOF, as most operators' readers do.
    let reader = dir.join("reader.sh");
    script(
        &reader,
        &format!(
            "echo \"$@\" > {args}\necho $$ >> {args}\n\
             while IFS= read -r line; do echo \"$line\" >> {log}; done < \"$1\"",
            args = reader_args.display(),
            log = fifo_log.display()
        ),
    )?;
    let la = log_args.display();
    let conf = format!(
        "global_defs {{\n    notify_fifo {fifo}\n    notify_fifo_script {reader}\n}}\n\
         vrrp_sync_group G {{\n    group {{\n        VI_1\n        VI_2\n    }}\n    \
         notify_master \"{la} master\"\n    notify_backup \"{la} backup\"\n    notify {la}\n}}\n{}{}",
        instance("VI_1", 62, priority, IpAddr::V4(Lab::vip4(62))),
        instance("VI_2", 63, priority, IpAddr::V4(Lab::vip4(63))),
        fifo = fifo.display(),
        reader = reader.display(),
    );
    Ok(Router {
        conf,
        group_log,
        fifo_log,
        reader_args,
        fifo,
    })
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Waits until `path` holds at least `n` lines; returns them.
fn wait_lines(path: &Path, n: usize, what: &str) -> Result<Vec<String>> {
    wait_until(SETTLE, what, || lines(path).len() >= n)
        .with_context(|| format!("{path:?} holds {:?}", lines(path)))?;
    Ok(lines(path))
}

/// The FIFO lines one state change makes: both members (in either order), then the group.
fn phase(state: &str, priority: u8) -> [String; 3] {
    [
        format!("INSTANCE \"VI_1\" {state} {priority}"),
        format!("INSTANCE \"VI_2\" {state} {priority}"),
        format!("GROUP \"G\" {state} 0"),
    ]
}

/// Checks `got` is the phases in order, members in either order within a phase, the group
/// line last in each.
fn ensure_phases(got: &[String], phases: &[[String; 3]], who: &str) -> Result<()> {
    ensure!(
        got.len() == phases.len() * 3,
        "{who}: FIFO reader read {got:#?}, want {phases:#?}"
    );
    for (chunk, want) in got.chunks(3).zip(phases) {
        let mut members = [chunk[0].clone(), chunk[1].clone()];
        members.sort();
        ensure!(
            members[..] == want[..2] && chunk[2] == want[2],
            "{who}: FIFO reader read {got:#?}, want {phases:#?}"
        );
    }
    Ok(())
}

#[test]
fn group_scripts_and_fifo_reader_follow_failover_and_stop() -> Result<()> {
    scenario("notify_group_fifo_script", |lab| {
        let (h1, h2) = (lab.host("r1")?, lab.host("r2")?);
        let (r1, r2) = (router(lab, "r1", 200)?, router(lab, "r2", 100)?);
        let v1 = Vigil::start_with(&h1, "keepalived.conf", &r1.conf)?;
        v1.wait_state("VI_1", "MASTER", SETTLE)?;
        v1.wait_state("VI_2", "MASTER", SETTLE)?;
        let v2 = Vigil::start_with(&h2, "keepalived.conf", &r2.conf)?;
        v2.wait_state("VI_1", "BACKUP", SETTLE)?;
        v2.wait_state("VI_2", "BACKUP", SETTLE)?;

        // The reader got the FIFO's path as its (only, last) argument.
        let args = wait_lines(&r2.reader_args, 2, "r2's FIFO reader to start")?;
        ensure!(
            args[0] == r2.fifo.display().to_string(),
            "reader argv {:?}, want the FIFO path {:?}",
            args[0],
            r2.fifo
        );
        let reader_pid = args[1].clone();

        // r1 starts BACKUP and takes over as a group: its scripts ran in that order.
        let g1 = wait_lines(&r1.group_log, 4, "r1's group scripts")?;
        ensure!(
            g1 == ["backup", "GROUP G BACKUP 0", "master", "GROUP G MASTER 0"],
            "r1 group scripts ran {g1:?}"
        );
        let g2 = wait_lines(&r2.group_log, 2, "r2's group scripts at start")?;
        ensure!(
            g2 == ["backup", "GROUP G BACKUP 0"],
            "r2 group scripts ran {g2:?}"
        );

        // Failover: the master crashes; r2's group becomes master together.
        v1.kill9()?;
        v2.wait_state("VI_1", "MASTER", SETTLE)?;
        v2.wait_state("VI_2", "MASTER", SETTLE)?;
        let g2 = wait_lines(&r2.group_log, 4, "r2's group scripts after failover")?;
        ensure!(
            g2 == ["backup", "GROUP G BACKUP 0", "master", "GROUP G MASTER 0"],
            "r2 group scripts ran {g2:?}"
        );
        wait_lines(&r2.fifo_log, 6, "r2's FIFO reader to read the failover")?;

        // Stop: the members' STOP, then the group's, reach both the script and the reader.
        v2.stop()?;
        let g2 = lines(&r2.group_log);
        ensure!(
            g2.last().map(String::as_str) == Some("GROUP G STOP 0"),
            "r2 group scripts ran {g2:?}, want GROUP G STOP 0 last"
        );
        // vigil closed the FIFO and waited for its reader: every line is in, the reader gone.
        ensure_phases(
            &lines(&r2.fifo_log),
            &[
                phase("BACKUP", 100),
                phase("MASTER", 100),
                phase("STOP", 100),
            ],
            "r2",
        )?;
        ensure!(
            !Path::new(&format!("/proc/{reader_pid}")).exists(),
            "r2's FIFO reader (pid {reader_pid}) outlived vigil"
        );
        ensure!(!r2.fifo.exists(), "the FIFO vigil created was left behind");
        // r1 was killed: no STOP; its reader saw EOF when the last writer died.
        ensure_phases(
            &lines(&r1.fifo_log),
            &[phase("BACKUP", 200), phase("MASTER", 200)],
            "r1",
        )?;
        Ok(())
    })
}

/// With `script_user`, keepalived gives the FIFO it creates to that user, so the reader it
/// starts as that user can open it: vigil does the same (its FIFO is otherwise 0600 root).
#[test]
fn fifo_reader_running_as_script_user_can_read_the_fifo() -> Result<()> {
    scenario("notify_fifo_script_user", |lab| {
        let h1 = lab.host("r1")?;
        let nobody = nix::unistd::User::from_name("nobody")?.context("no user nobody")?;
        let dir = lab.dir().join("r1");
        // The reader writes here as nobody; the FIFO lives here too.
        let out = dir.join("out");
        std::fs::create_dir_all(&out)?;
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777))?;
        let (fifo, log, ids) = (
            out.join("notify.fifo"),
            out.join("fifo.log"),
            out.join("ids"),
        );
        let reader = dir.join("reader.sh");
        script(
            &reader,
            &format!(
                "id -u > {ids}\n\
                 while IFS= read -r line; do echo \"$line\" >> {log}; done < \"$1\"",
                ids = ids.display(),
                log = log.display()
            ),
        )?;
        let conf = format!(
            "global_defs {{\n    script_user nobody\n    notify_fifo {}\n    notify_fifo_script {}\n}}\n{}",
            fifo.display(),
            reader.display(),
            instance("VI_1", 64, 150, IpAddr::V4(Lab::vip4(64))),
        );
        let v = Vigil::start_with(&h1, "keepalived.conf", &conf)?;
        v.wait_state("VI_1", "MASTER", SETTLE)?;
        let meta = std::fs::symlink_metadata(&fifo).context("vigil did not create the FIFO")?;
        ensure!(
            std::os::unix::fs::MetadataExt::uid(&meta) == nobody.uid.as_raw(),
            "the FIFO belongs to uid {}, not to script_user nobody",
            std::os::unix::fs::MetadataExt::uid(&meta)
        );
        wait_lines(&log, 2, "the reader (as nobody) to read BACKUP and MASTER")?;
        ensure!(
            lines(&ids) == [nobody.uid.as_raw().to_string()],
            "the reader ran as uid {:?}, not as script_user nobody",
            lines(&ids)
        );
        v.stop()?;
        ensure!(
            lines(&log)
                == [
                    "INSTANCE \"VI_1\" BACKUP 150",
                    "INSTANCE \"VI_1\" MASTER 150",
                    "INSTANCE \"VI_1\" STOP 150"
                ],
            "the reader read {:?}",
            lines(&log)
        );
        Ok(())
    })
}
