//! keepalived 2.4 instance keywords on a real kernel (issue 9 item 3):
//!
//! - `notify_master_rx_lower_pri`: when a backup stops hearing the master and takes over,
//!   the rightful master hears its lower-priority adverts and runs the script with its own arguments, and the
//!   FIFO gets `MASTER_RX_LOWER_PRI`;
//! - `notify_deleted`: an instance a reload removes is announced DELETED with it (its script,
//!   then `notify`), FAULT without it, never STOP.
//!
//! Each test builds its own lab (unique names, deleted on drop and on panic). Under CI=true or
//! VIGIL_LAB=1 a lab that cannot be built fails the test.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use vigil_integration::{Lab, Reload, Vigil, scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);

fn instance(name: &str, vrid: u8, priority: u8, extra: &str) -> String {
    let vip = IpAddr::V4(Lab::vip4(vrid - 70));
    format!(
        "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n    \
         priority {priority}\n    advert_int 1\n    virtual_ipaddress {{\n        {vip}/24\n    }}\n{extra}}}\n"
    )
}

/// An executable script at `path` appending its arguments, one run a line, to `log`.
fn log_args(path: &Path, log: &Path) -> Result<()> {
    std::fs::write(
        path,
        format!("#!/bin/sh\necho \"$@\" >> {}\n", log.display()),
    )?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// r1's adverts are dropped on the way to r2, which becomes Master too: r1 (priority 200)
/// hears r2's adverts at priority 100 while Master and runs `notify_master_rx_lower_pri` with exactly
/// its configured arguments; r2 yields. A FIFO reader sees the keepalived line.
#[test]
fn master_hearing_lower_priority_runs_notify_master_rx_lower_pri() -> Result<()> {
    scenario("ikw_rx_lower_pri", |lab| {
        let (h1, h2) = (lab.host("r1")?, lab.host("r2")?);
        let dir = lab.dir().join("r1");
        std::fs::create_dir_all(&dir)?;
        let (script, log, fifo_log, reader) = (
            dir.join("lower.sh"),
            dir.join("lower.log"),
            dir.join("fifo.log"),
            dir.join("reader.sh"),
        );
        log_args(&script, &log)?;
        std::fs::write(
            &reader,
            format!(
                "#!/bin/sh\nwhile IFS= read -r line; do echo \"$line\" >> {}; done < \"$1\"\n",
                fifo_log.display()
            ),
        )?;
        std::fs::set_permissions(&reader, std::fs::Permissions::from_mode(0o755))?;
        let extra = format!(
            "    notify_master_rx_lower_pri \"{} lower 'two words'\"\n",
            script.display()
        );
        let conf1 = format!(
            "global_defs {{\n    notify_fifo {}\n    notify_fifo_script {}\n}}\n{}",
            dir.join("notify.fifo").display(),
            reader.display(),
            instance("VI_1", 71, 200, &extra)
        );
        let v1 = Vigil::start_with(&h1, "keepalived.conf", &conf1)?;
        v1.wait_state("VI_1", "MASTER", SETTLE)?;
        let v2 = Vigil::start_with(&h2, "keepalived.conf", &instance("VI_1", 71, 100, ""))?;
        v2.wait_state("VI_1", "BACKUP", SETTLE)?;
        // A Backup sends nothing: no lower-priority advert has reached r1 yet.
        ensure!(lines(&log).is_empty(), "ran early: {:?}", lines(&log));

        // r1's adverts stop reaching r2, which takes over and advertises at 100 to r1.
        lab.drop_vrrp_from(&h1, 100)?;
        v2.wait_state("VI_1", "MASTER", SETTLE)?;
        wait_until(SETTLE, "r1's notify_master_rx_lower_pri to run", || {
            !lines(&log).is_empty()
        })
        .with_context(|| v1.log())?;
        ensure!(v1.state("VI_1")?.as_deref() == Some("MASTER"));
        lab.heal()?;
        v2.wait_state("VI_1", "BACKUP", SETTLE)?;
        let runs = lines(&log);
        ensure!(
            runs.iter().all(|l| l == "lower two words"),
            "notify_master_rx_lower_pri ran with {runs:?}, want its own arguments only"
        );
        wait_until(SETTLE, "the FIFO line", || {
            lines(&fifo_log)
                .iter()
                .any(|l| l == "INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 200")
        })
        .with_context(|| format!("FIFO reader read {:?}", lines(&fifo_log)))?;
        Ok(())
    })
}

/// A reload removes VI_1 (with `notify_deleted SCRIPT`) and VI_2 (without): VI_1 runs its
/// deleted script and `notify ... DELETED`, VI_2 its fault script and `notify ... FAULT`;
/// neither runs STOP, and both hand their addresses back.
#[test]
fn reload_removing_instances_announces_deleted_or_fault() -> Result<()> {
    scenario("ikw_notify_deleted", |lab| {
        let h1 = lab.host("r1")?;
        let dir = lab.dir().join("r1");
        std::fs::create_dir_all(&dir)?;
        let (script, log) = (dir.join("log.sh"), dir.join("notify.log"));
        log_args(&script, &log)?;
        let s = script.display();
        let scripts = |name: &str| {
            format!(
                "    notify \"{s}\"\n    notify_stop \"{s} stop {name}\"\n    notify_fault \"{s} fault {name}\"\n"
            )
        };
        let vi1 = instance(
            "VI_1",
            72,
            200,
            &format!(
                "{}    notify_deleted \"{s} deleted VI_1\"\n",
                scripts("VI_1")
            ),
        );
        let vi2 = instance("VI_2", 73, 200, &scripts("VI_2"));
        let vi3 = instance("VI_3", 74, 200, "");
        let v1 = Vigil::start_with(&h1, "keepalived.conf", &format!("{vi1}{vi2}{vi3}"))?;
        for name in ["VI_1", "VI_2", "VI_3"] {
            v1.wait_state(name, "MASTER", SETTLE)?;
        }
        let before = lines(&log).len();
        v1.write_config(&vi3)?;
        ensure!(v1.reload()? == Reload::Applied, "reload rejected");
        let want = [
            "deleted VI_1",
            "INSTANCE VI_1 DELETED 200",
            "fault VI_2",
            "INSTANCE VI_2 FAULT 200",
        ];
        wait_until(SETTLE, "the removed instances' scripts", || {
            lines(&log).len() >= before + want.len()
        })
        .with_context(|| format!("{:?}", lines(&log)))?;
        let mut got: Vec<String> = lines(&log).split_off(before);
        got.sort();
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        ensure!(got == want, "scripts ran {got:?}, want {want:?}");
        let addrs = h1.run("ip", ["-4", "-o", "addr", "show", "dev", "eth0"])?;
        for vrid in [72, 73] {
            let vip = Lab::vip4(vrid - 70).to_string();
            ensure!(
                !addrs.contains(&format!(" {vip}/")),
                "{vip} still installed: {addrs}"
            );
        }
        ensure!(v1.state("VI_3")?.as_deref() == Some("MASTER"));
        Ok(())
    })
}

/// keepalived's static entries: an address without `dev` goes on `default_interface`, and is
/// put back when someone deletes it; a `track_group` puts its member instance in FAULT while that interface is down (the other
/// instance is not a member and stays Master); a reload removes the static address the new
/// configuration no longer has and adds the new one.
#[test]
fn static_track_group_default_interface_and_reload() -> Result<()> {
    scenario("ikw_static_track", |lab| {
        let h1 = lab.host("r1")?;
        // A veth pair inside r1's namespace (no dummy module on every kernel): dum0 carries
        // the static address, its peer only gives it a carrier.
        h1.run(
            "ip",
            [
                "link", "add", "dum0", "type", "veth", "peer", "name", "dum0p",
            ],
        )?;
        h1.run("ip", ["link", "set", "dum0p", "up"])?;
        h1.run("ip", ["link", "set", "dum0", "up"])?;
        let conf = |addr: &str| {
            format!(
                "global_defs {{\n    default_interface dum0\n}}\n{}{}track_group G {{\n    group {{\n        VI_1\n    }}\n}}\n\
                 static_ipaddress {{\n    {addr}/24 track_group G\n}}\n",
                instance("VI_1", 75, 200, ""),
                instance("VI_2", 76, 200, "")
            )
        };
        let on_dum0 = |addr: &str| -> Result<bool> {
            let out = h1.run("ip", ["-4", "-o", "addr", "show", "dev", "dum0"])?;
            Ok(out.contains(&format!(" {addr}/24")))
        };
        let v1 = Vigil::start_with(&h1, "keepalived.conf", &conf("10.99.0.1"))?;
        v1.wait_state("VI_1", "MASTER", SETTLE)?;
        v1.wait_state("VI_2", "MASTER", SETTLE)?;
        ensure!(
            on_dum0("10.99.0.1")?,
            "the static address without dev is not on default_interface dum0"
        );

        // Deleted by someone else: put back, as keepalived reinstates a static address.
        h1.run("ip", ["addr", "del", "10.99.0.1/24", "dev", "dum0"])?;
        wait_until(SETTLE, "the deleted static address to be put back", || {
            on_dum0("10.99.0.1").unwrap_or(false)
        })
        .with_context(|| v1.log())?;

        h1.run("ip", ["link", "set", "dum0", "down"])?;
        v1.wait_state("VI_1", "FAULT", SETTLE)?;
        ensure!(v1.state("VI_2")?.as_deref() == Some("MASTER"));
        h1.run("ip", ["link", "set", "dum0", "up"])?;
        v1.wait_state("VI_1", "MASTER", SETTLE)?;

        v1.write_config(&conf("10.99.0.2"))?;
        ensure!(v1.reload()? == Reload::Applied, "reload rejected");
        wait_until(SETTLE, "the reload's static address change", || {
            on_dum0("10.99.0.2").unwrap_or(false) && !on_dum0("10.99.0.1").unwrap_or(true)
        })
        .with_context(|| h1.run("ip", ["-4", "-o", "addr"]).unwrap_or_default())?;
        v1.stop()?;
        ensure!(!on_dum0("10.99.0.2")?, "the static address outlived vigil");
        Ok(())
    })
}

/// The scheduling policy and realtime priority of a thread (/proc/PID/stat fields 41, 40).
fn sched_of(pid: u32) -> Result<(u32, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let (_, rest) = stat.rsplit_once(')').context("unreadable stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields after the command name start at field 3; rt_priority is 40, policy 41.
    let field = |n: usize| -> Result<u32> { Ok(fields.get(n - 3).context("short stat")?.parse()?) };
    Ok((field(41)?, field(40)?))
}

/// keepalived's `max_auto_priority`: when the daemon is held back (here: SIGSTOP for longer
/// than `min_auto_priority_delay` past its next advert) its next timer is served late, and
/// it moves itself to SCHED_RR at the lowest realtime priority; it keeps running as Master.
#[test]
fn max_auto_priority_moves_a_late_daemon_to_realtime() -> Result<()> {
    scenario("ikw_auto_priority", |lab| {
        let h1 = lab.host("r1")?;
        let conf = format!(
            "global_defs {{\n    max_auto_priority 5\n    min_auto_priority_delay 200000\n}}\n{}",
            instance("VI_1", 77, 200, "")
        );
        let v1 = Vigil::start_with(&h1, "keepalived.conf", &conf)?;
        v1.wait_state("VI_1", "MASTER", SETTLE)?;
        let pid = v1.child().pid();
        const SCHED_RR: u32 = 2;
        ensure!(
            sched_of(pid)?.0 != SCHED_RR,
            "realtime before any late timer: {:?}",
            sched_of(pid)?
        );
        // Held for 2.5 advert intervals: the pending advert timer is served >1 s late.
        v1.child().signal(nix::sys::signal::Signal::SIGSTOP)?;
        std::thread::sleep(Duration::from_millis(2500));
        v1.child().signal(nix::sys::signal::Signal::SIGCONT)?;
        wait_until(SETTLE, "vigil to move to SCHED_RR", || {
            sched_of(pid).is_ok_and(|s| s == (SCHED_RR, 1))
        })
        .with_context(|| format!("{:?}\n{}", sched_of(pid), v1.log()))?;
        ensure!(v1.state("VI_1")?.as_deref() == Some("MASTER"));
        Ok(())
    })
}
