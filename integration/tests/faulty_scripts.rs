//! Scripts on a bad day (issue 11): track scripts that hang, crash or print megabytes, and a
//! notify script that never exits. The daemon times a hanging check out, counts it (and a
//! crash) as a failure, kills its whole process group, and never piles processes up; a flood
//! of output costs it no memory (scripts' output goes to /dev/null); a notify script that
//! never exits blocks neither the daemon nor the next transition's notification beyond the
//! script timeout, and its processes stay bounded. Each test ends, once the fault clears or
//! is over, with one master for the VRID, the VIP only there, and the client reaching it.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use vigil_integration::{Host, Lab, Reload, Vigil, scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);

fn write_script(path: &Path, body: &str) -> Result<()> {
    // Written to a new file and renamed: a check may be starting it at this moment.
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, format!("#!/bin/sh\n{body}"))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn instance(vrid: u8, priority: u8, vip: IpAddr, extra: &str) -> String {
    format!(
        "vrrp_instance gw {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n    \
         priority {priority}\n    advert_int 1\n    version 3\n{extra}    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
    )
}

/// The processes in `host`'s network namespace whose name (comm) is one of `names`.
fn processes(host: &Host, names: &[&str]) -> Result<Vec<(u32, String)>> {
    // /run/netns/NAME is a bind mount of the namespace: its inode names it.
    let inode = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(format!("/run/netns/{}", host.netns()))
            .with_context(|| format!("no namespace {}", host.netns()))?
            .ino()
    };
    let want = format!("net:[{inode}]");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(net) = std::fs::read_link(format!("/proc/{pid}/ns/net")) else {
            continue;
        };
        if net.display().to_string() != want {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // comm is between the first '(' and the last ')'; zombies (Z) are being reaped.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let state = stat[close + 1..].split_whitespace().next().unwrap_or("");
        if names.contains(&comm) && state != "Z" {
            found.push((pid, comm.to_string()));
        }
    }
    Ok(found)
}

fn rss_kib(v: &Vigil) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", v.child().pid()))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .context("no VmRSS")
}

fn number(v: &Vigil, key: &str) -> Result<u64> {
    v.field("gw", key)?
        .as_u64()
        .with_context(|| format!("no {key} in gw's status"))
}

fn lines(path: &PathBuf) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// One master (`master`), the other `BACKUP`, the VIP only on the master, the client
/// reaching it.
fn settled(
    (master, vm): (&Host, &Vigil),
    (backup, vb): (&Host, &Vigil),
    client: &Host,
    vip: IpAddr,
) -> Result<()> {
    vm.wait_state("gw", "MASTER", SETTLE)?;
    vb.wait_state("gw", "BACKUP", SETTLE)?;
    wait_until(SETTLE, "the VIP only on the master", || {
        master.has_address(vip).unwrap_or(false) && !backup.has_address(vip).unwrap_or(true)
    })?;
    wait_until(SETTLE, "the client reaches the VIP", || {
        client.ping(vip).unwrap_or(false)
    })?;
    Ok(())
}

#[test]
fn hanging_crashing_and_flooding_checks_fail_cleanly_and_leave_nothing_behind() -> Result<()> {
    scenario("faulty_checks", |lab| {
        let (r1, r2, c) = (lab.host("r1")?, lab.host("r2")?, lab.client("c")?);
        let vip = IpAddr::V4(Lab::vip4(45));
        let dir = lab.dir();
        let (hang, crash, flood) = (
            dir.join("hang.sh"),
            dir.join("crash.sh"),
            dir.join("flood.sh"),
        );
        let hang_runs = dir.join("hang-runs");
        // Never exits, and leaves a child of its own behind in its group.
        write_script(
            &hang,
            &format!(
                "echo run >> {}\nsleep 1000 &\nsleep 1000\n",
                hang_runs.display()
            ),
        )?;
        write_script(&crash, "kill -SEGV $$\n")?;
        // 20 MB on stdout and 20 MB on stderr every run, then success.
        write_script(
            &flood,
            "head -c 20000000 /dev/zero\nhead -c 20000000 /dev/zero >&2\nexit 0\n",
        )?;
        let scripts = format!(
            "vrrp_script hang {{\n    script \"{}\"\n    interval 1\n    timeout 1\n    weight -60\n}}\n\
             vrrp_script crash {{\n    script \"{}\"\n    interval 1\n    weight -60\n}}\n\
             vrrp_script flood {{\n    script \"{}\"\n    interval 1\n    timeout 5\n    weight 5\n}}\n",
            hang.display(),
            crash.display(),
            flood.display()
        );
        let track = "    track_script {\n        hang\n        crash\n        flood\n    }\n";
        let v1 = Vigil::start_with(
            &r1,
            "keepalived.conf",
            &format!("{scripts}{}", instance(45, 200, vip, track)),
        )?;
        let v2 = Vigil::start_with(&r2, "keepalived.conf", &instance(45, 100, vip, ""))?;

        // A timeout and a crash are failures, a flood that exits 0 a success:
        // 200 - 60 - 60 + 5 = 85, below r2's 100.
        wait_until(SETTLE, "r1's effective priority is 85", || {
            number(&v1, "effective_priority").ok() == Some(85)
        })
        .with_context(|| v1.log())?;
        settled((&r2, &v2), (&r1, &v1), &c, vip)?;

        // Six more seconds of faults: the hanging check is killed (group and all) at every
        // timeout, so at most one run's three processes exist at any time; the daemon keeps
        // answering and adverts keep flowing; its memory does not follow the output.
        let rss_before = rss_kib(&v1)?;
        let runs_before = lines(&hang_runs).len();
        let received_before = number(&v1, "adverts_received")?;
        let mut most = Vec::new();
        let until = Instant::now() + Duration::from_secs(6);
        while Instant::now() < until {
            let now = processes(&r1, &["hang.sh", "sleep"])?;
            if now.len() > most.len() {
                most = now;
            }
            v1.status()
                .context("status stopped answering during the faults")?;
            std::thread::sleep(Duration::from_millis(100));
        }
        let runs = lines(&hang_runs).len() - runs_before;
        println!(
            "hanging check: {runs} runs in 6 s, at most {} processes at once",
            most.len()
        );
        ensure!(
            most.len() <= 3,
            "hanging checks pile up: {most:?}\n{}",
            v1.log()
        );
        ensure!(
            runs >= 2,
            "the hanging check ran {runs} times in 6 s (interval 1, timeout 1): timeouts stall it"
        );
        let received = number(&v1, "adverts_received")? - received_before;
        ensure!(
            received >= 4,
            "r1 received {received} adverts from the master in 6 s (advert_int 1)"
        );
        let rss_after = rss_kib(&v1)?;
        println!(
            "vigil RSS: {rss_before} KiB, then {rss_after} KiB after 6 s of checks writing 40 MB a run"
        );
        ensure!(
            rss_after < rss_before + 16 * 1024,
            "vigil's memory grew from {rss_before} KiB to {rss_after} KiB with its scripts' output"
        );

        // The faults clear: every check succeeds, r1 (205) takes the VIP back.
        for s in [&hang, &crash] {
            write_script(s, "exit 0\n")?;
        }
        wait_until(SETTLE, "r1's effective priority is 205", || {
            number(&v1, "effective_priority").ok() == Some(205)
        })?;
        settled((&r1, &v1), (&r2, &v2), &c, vip)?;
        wait_until(SETTLE, "no hanging check left", || {
            processes(&r1, &["hang.sh", "sleep"]).is_ok_and(|p| p.is_empty())
        })?;
        Ok(())
    })
}

#[test]
fn a_notify_script_that_never_exits_blocks_nothing_and_piles_nothing_up() -> Result<()> {
    scenario("notify_hangs", |lab| {
        let (r1, r2, c) = (lab.host("r1")?, lab.host("r2")?, lab.client("c")?);
        let vip = IpAddr::V4(Lab::vip4(46));
        let log = lab.dir().join("notify-log");
        let notify = lab.dir().join("notify-hang.sh");
        write_script(
            &notify,
            &format!("echo \"$3\" >> {}\nexec sleep 1000\n", log.display()),
        )?;
        let with_notify = |priority: u8| {
            instance(
                46,
                priority,
                vip,
                &format!("    notify \"{}\"\n", notify.display()),
            )
        };
        let v1 = Vigil::start_with(&r1, "keepalived.conf", &with_notify(200))?;
        // The first notification (INIT -> BACKUP at start) never exits.
        wait_until(SETTLE, "the BACKUP notification", || {
            lines(&log).first().map(String::as_str) == Some("BACKUP")
        })?;
        let hung = Instant::now();
        let v2 = Vigil::start_with(&r2, "keepalived.conf", &instance(46, 100, vip, ""))?;
        // Transitions do not wait for it.
        settled((&r1, &v1), (&r2, &v2), &c, vip)?;

        // r1 flaps to BACKUP and back while the script hangs: every transition happens at
        // once, and notify processes stay bounded (one running per instance, the newest
        // state waiting).
        for priority in [50, 200] {
            v1.write_config(&with_notify(priority))?;
            ensure!(v1.reload()? == Reload::Applied, "reload rejected");
            let want = if priority == 50 { "BACKUP" } else { "MASTER" };
            v1.wait_state("gw", want, SETTLE)
                .context("a hanging notify script delays transitions")?;
        }
        let sleeping = processes(&r1, &["sleep", "notify-hang.sh"])?;
        ensure!(sleeping.len() <= 1, "notify scripts pile up: {sleeping:?}");
        // The hanging script is killed at the notify timeout (30 s); then the newest state
        // (MASTER) is notified: the BACKUP and MASTER of the flap waiting behind it were
        // superseded.
        wait_until(
            Duration::from_secs(45),
            "the MASTER notification after the hanging script's timeout",
            || lines(&log).len() >= 2,
        )?;
        let waited = hung.elapsed();
        let got = lines(&log);
        println!("notifications {got:?}, the second {waited:?} after the first");
        ensure!(
            got == ["BACKUP", "MASTER"],
            "notifications {got:?}: expected the hanging BACKUP, then the newest state"
        );
        ensure!(
            waited < Duration::from_secs(40),
            "the next notification came {waited:?} after the hanging one"
        );
        ensure!(
            processes(&r1, &["sleep", "notify-hang.sh"])?.len() <= 1,
            "notify scripts pile up after the timeout"
        );
        // r1 is the only master, holds the VIP, and the client reaches it.
        settled((&r1, &v1), (&r2, &v2), &c, vip)?;
        Ok(())
    })
}
