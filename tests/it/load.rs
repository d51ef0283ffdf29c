//! Load (issue #10): many concurrent runs of the tools all succeed and leave nothing behind.
//!
//! "Concurrent" on a small machine: every process is spawned first, then all are waited for. Every spawned
//! process joins one process group led by a `sleep` this test owns, so once all are reaped the group must hold
//! only that leader: no orphan, no zombie. Afterwards no new mount of ours, no `/run/netns` entry of ours, and
//! no namespace of ours remains (a namespace outlives its processes only through a mount or an fd, and neither
//! may remain).

use crate::harness::*;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The processes in process group `pgid`, as (pid, state).
fn group_members(pgid: i32) -> Vec<(i32, char)> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if fields.get(2).and_then(|s| s.parse::<i32>().ok()) == Some(pgid) {
            let state = fields.first().and_then(|s| s.chars().next()).unwrap_or('?');
            members.push((pid, state));
        }
    }
    members
}

/// A process group for one load run: a `sleep` leads it; everything the run spawns joins it.
struct Group {
    leader: Child,
}

impl Group {
    fn new() -> Group {
        let leader = Command::new("sleep")
            .arg("600")
            .process_group(0)
            .stdin(Stdio::null())
            .spawn()
            .expect("start group leader");
        Group { leader }
    }

    fn id(&self) -> i32 {
        self.leader.id() as i32
    }

    /// Waits (a little: exiting processes take a moment to go) until only the leader and `keep` are left.
    fn assert_empty(&self, what: &str, keep: &[i32]) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let others: Vec<(i32, char)> = group_members(self.id())
                .into_iter()
                .filter(|(pid, _)| *pid != self.id() && !keep.contains(pid))
                .collect();
            if others.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                for (pid, _) in &others {
                    // SAFETY: kill has no memory-safety preconditions; the process is in our group.
                    unsafe { libc::kill(*pid, libc::SIGKILL) };
                }
                panic!("{what}: processes left behind (pid, state): {others:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: kill has no memory-safety preconditions; the group is the one we created.
        unsafe { libc::kill(-self.id(), libc::SIGKILL) };
        let _ = self.leader.wait();
    }
}

/// The path of a tool that `nobody` can execute when `rootless`, else the built one.
fn tool(name: &str, rootless: bool) -> PathBuf {
    if rootless && is_root() {
        public_bin_dir().join(name)
    } else {
        bin(name)
    }
}

/// Spawns `n` copies of `program args` in `group` (as `nobody` when `rootless` and we are root), then waits for
/// all; every one must exit 0. stderr of all goes to one file, shown on failure.
fn run_concurrently(
    group: &Group,
    n: usize,
    rootless: bool,
    program: &PathBuf,
    args: &[String],
    keep: &[i32],
) {
    let errors = TempDir::new("load-err");
    let err_path = errors.path().join("stderr");
    let err_file = std::fs::File::create(&err_path).expect("stderr file");
    let mut children = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = Command::new(program);
        c.args(args)
            .current_dir("/")
            .process_group(group.id())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err_file.try_clone().expect("dup stderr file"));
        if rootless && is_root() {
            // std drops the supplementary groups (setgroups(0)) before setuid when it changes the uid.
            c.uid(NOBODY).gid(NOBODY);
        }
        children.push(c.spawn().expect("spawn"));
    }
    let failed = children
        .into_iter()
        .map(|mut c| c.wait().expect("wait"))
        .filter(|s| !s.success())
        .count();
    let what = format!("{n} x {} {}", program.display(), args.join(" "));
    assert_eq!(
        failed,
        0,
        "{what}: {failed} failed; stderr:\n{}",
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    group.assert_empty(&what, keep);
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// nsfs mounts in this mount namespace (persisted namespaces).
fn nsfs_mounts() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(" - nsfs "))
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .collect()
}

#[test]
fn load_unshare_rootless_1000() {
    let group = Group::new();
    run_concurrently(
        &group,
        1000,
        true,
        &tool("unshare", true),
        &strings(&["-r", "true"]),
        &[],
    );
}

#[test]
fn load_unshare_all_namespaces_200() {
    let group = Group::new();
    run_concurrently(
        &group,
        200,
        !is_root(),
        &tool("unshare", !is_root()),
        &strings(&["-rnmpiuf", "true"]),
        &[],
    );
}

#[test]
fn load_nsenter_500() {
    // The target: a sleep in a network namespace of its own, made with the installed util-linux unshare.
    let rootless = !is_root();
    let mut argv = vec!["/usr/bin/unshare"];
    if rootless {
        argv.push("-r");
    }
    argv.extend(["-n", "sleep", "600"]);
    let group = Group::new();
    let target = Command::new(argv[0])
        .args(&argv[1..])
        .process_group(group.id())
        .stdin(Stdio::null())
        .spawn()
        .expect("start target");
    // unshare execs sleep in the new netns: wait for the exec, so nsenter joins the new netns.
    let pid = target.id();
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default() != "sleep\n" {
        assert!(Instant::now() < deadline, "target did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = pid.to_string();
    let mut args = strings(&["-t", &pid, "-n"]);
    if rootless {
        args.extend(strings(&["-U", "--preserve-credentials"]));
    }
    args.push("true".into());
    let mut target = target;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_concurrently(
            &group,
            500,
            rootless,
            &tool("nsenter", rootless),
            &args,
            &[target.id() as i32],
        )
    }));
    let _ = target.kill();
    let _ = target.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    group.assert_empty("nsenter target", &[]);
}

#[test]
fn load_netns_add_50() {
    if skip_unless_root() {
        return;
    }
    let names: Vec<String> = (0..50).map(|_| unique_name("nsbload")).collect();
    let _guards: Vec<NetnsGuard> = names.iter().map(|n| NetnsGuard(n.clone())).collect();
    let group = Group::new();
    let spawn_all = |verb: &str| -> Vec<Child> {
        names
            .iter()
            .map(|name| {
                Command::new(bin("netns"))
                    .args([verb, name])
                    .process_group(group.id())
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("spawn netns")
            })
            .collect()
    };
    let failed_adds = spawn_all("add")
        .into_iter()
        .map(|mut c| c.wait().expect("wait"))
        .filter(|s| !s.success())
        .count();
    assert_eq!(failed_adds, 0, "netns add failed {failed_adds} times");
    for name in &names {
        assert!(
            std::path::Path::new(&format!("/run/netns/{name}")).exists(),
            "/run/netns/{name} missing after add"
        );
    }
    let failed_deletes = spawn_all("delete")
        .into_iter()
        .map(|mut c| c.wait().expect("wait"))
        .filter(|s| !s.success())
        .count();
    assert_eq!(
        failed_deletes, 0,
        "netns delete failed {failed_deletes} times"
    );
    group.assert_empty("50 x netns add/delete", &[]);
    let left: Vec<String> = nsfs_mounts()
        .into_iter()
        .filter(|m| m.starts_with("/run/netns/nsbload"))
        .collect();
    assert!(left.is_empty(), "netns mounts left: {left:?}");
    let entries: Vec<String> = std::fs::read_dir("/run/netns")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| names.contains(n))
        .collect();
    assert!(entries.is_empty(), "/run/netns entries left: {entries:?}");
    // Exactly one /run/netns mount, however many adds raced for it (netns.md §A.4).
    let run_netns_mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.split(' ').nth(4) == Some("/run/netns"))
        .count();
    assert!(
        run_netns_mounts <= 1,
        "{run_netns_mounts} mounts on /run/netns"
    );
}
