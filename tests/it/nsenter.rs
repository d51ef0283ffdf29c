//! Integration tests for nsenter (issue 4, spec nsenter.md).
//!
//! Targets are started with the installed util-linux `unshare` (so these tests do not depend on ours) and
//! killed by pid when the test ends. Where 2.38.1 and 2.42 agree (spec §12), the installed
//! `/usr/bin/nsenter` runs side by side with ours.

use crate::harness::*;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KINDS: [&str; 8] = ["mnt", "net", "uts", "ipc", "pid", "cgroup", "time", "user"];

/// A shell script printing `KIND LINK` for each namespace of the process running it.
const SHOW_NS: &str =
    "for n in mnt net uts ipc pid cgroup time user; do echo $n $(readlink /proc/self/ns/$n); done";

const NSENTER: &str = "/usr/bin/nsenter";
const UNSHARE: &str = "/usr/bin/unshare";

/// A process in namespaces of its own (`sleep` under the installed unshare), killed when dropped.
struct Target {
    child: Child,
    /// The `sleep` process itself (with `-f`, a child of unshare).
    pid: i32,
}

impl Target {
    /// Runs `argv` (which ends in `sleep N`) as `variant`'s user.
    fn start(variant: Variant, argv: &[&str]) -> Target {
        Target::start_with(variant, argv, |_| {})
    }

    fn start_with(variant: Variant, argv: &[&str], tweak: impl FnOnce(&mut Command)) -> Target {
        let mut c = if variant == Variant::Rootless && is_root() {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
                "--",
            ]);
            c.args(argv);
            c
        } else {
            let mut c = Command::new(argv[0]);
            c.args(&argv[1..]);
            c
        };
        c.current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        tweak(&mut c);
        let child = c.spawn().expect("start target");
        let top = child.id() as i32;
        let mut target = Target { child, pid: 0 };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(pid) = find_sleep(top) {
                target.pid = pid;
                return target;
            }
            if Instant::now() > deadline {
                panic!("target {argv:?} did not start");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The usual target: every namespace type but user (root), or all eight (rootless, which needs the
    /// user namespace to make the others).
    fn all_but_user(variant: Variant) -> Target {
        match variant {
            Variant::Root => Target::start(variant, &[UNSHARE, "-fmuinpCT", "sleep", "100"]),
            Variant::Rootless => Target::all_eight(variant),
        }
    }

    /// A target in all eight namespace types.
    fn all_eight(variant: Variant) -> Target {
        Target::start(variant, &[UNSHARE, "-Urfmuinp", "-CT", "sleep", "100"])
    }

    fn pid(&self) -> String {
        self.pid.to_string()
    }

    /// The target's namespace links.
    fn ns(&self) -> BTreeMap<String, String> {
        ns_links(&self.pid())
    }
}

/// Every process below `pid`, deepest first.
fn descendants(pid: i32) -> Vec<i32> {
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    let mut all = Vec::new();
    for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
        all.extend(descendants(child));
        all.push(child);
    }
    all
}

impl Drop for Target {
    fn drop(&mut self) {
        // Helpers the target started (they would outlive it as orphans), then the target.
        for pid in descendants(self.child.id() as i32) {
            kill(pid, libc::SIGKILL);
        }
        if self.pid > 0 {
            kill(self.pid, libc::SIGKILL);
        }
        kill(self.child.id() as i32, libc::SIGKILL);
        let _ = self.child.wait();
    }
}

/// A root-owned target in a user namespace mapping ids 0-999 to themselves (maps written by us: the
/// installed unshare 2.38 has no `--map-users` without newuidmap).
fn mapped_target() -> Target {
    let t = Target::start(Variant::Root, &[UNSHARE, "-U", "sleep", "100"]);
    for file in ["uid_map", "gid_map"] {
        std::fs::write(format!("/proc/{}/{file}", t.pid), "0 0 1000\n").unwrap();
    }
    t
}

fn kill(pid: i32, sig: i32) {
    // SAFETY: kill has no memory-safety preconditions; the pid is a process this test started.
    unsafe { libc::kill(pid, sig) };
}

fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The first `sleep` at or below `pid` in the process tree (sleep has exec'd: its namespaces are ready).
fn find_sleep(pid: i32) -> Option<i32> {
    if comm(pid) == "sleep" {
        return Some(pid);
    }
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children
        .split_whitespace()
        .filter_map(|c| c.parse().ok())
        .find_map(find_sleep)
}

/// `KIND → link` for `/proc/<who>/ns/*`.
fn ns_links(who: &str) -> BTreeMap<String, String> {
    KINDS
        .iter()
        .map(|k| {
            let link = std::fs::read_link(format!("/proc/{who}/ns/{k}"))
                .map(|l| l.to_string_lossy().into_owned())
                .unwrap_or_default();
            (k.to_string(), link)
        })
        .collect()
}

/// Parses [`SHOW_NS`] output.
fn shown(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What [`SHOW_NS`] must print when exactly `kinds` were entered from `target`.
fn expected(target: &BTreeMap<String, String>, kinds: &[&str]) -> BTreeMap<String, String> {
    let own = ns_links("self");
    KINDS
        .iter()
        .map(|k| {
            let from = if kinds.contains(k) { target } else { &own };
            (k.to_string(), from[*k].clone())
        })
        .collect()
}

fn nsenter(variant: Variant, args: &[&str]) -> Run {
    cmd("nsenter").args(args).variant(variant).run()
}

fn reference_nsenter(variant: Variant, args: &[&str]) -> Run {
    reference(NSENTER).args(args).variant(variant).run()
}

/// The inode of a pidfd for `pid` (pidfs), as `-t PID:INODE` takes it.
fn pidfd_inode(pid: i32) -> u64 {
    // SAFETY: pidfd_open takes two integers and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    assert!(fd >= 0, "pidfd_open({pid})");
    // SAFETY: an all-zero stat is valid; fstat writes one into it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd is ours and st a live local.
    let ret = unsafe { libc::fstat(fd, &mut st) };
    // SAFETY: fd is ours, closed once.
    unsafe { libc::close(fd) };
    assert_eq!(ret, 0);
    st.st_ino
}

/// The inode of the parent of `pid`'s user namespace (NS_GET_PARENT).
fn parent_user_ns_inode(pid: i32) -> u64 {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let own = std::fs::File::open(format!("/proc/{pid}/ns/user")).unwrap();
    // SAFETY: NS_GET_PARENT takes no argument and returns a new fd or -1.
    let fd = unsafe { libc::ioctl(own.as_raw_fd(), 0xb702) };
    assert!(fd >= 0, "NS_GET_PARENT");
    let link = std::fs::metadata(format!("/proc/self/fd/{fd}")).unwrap();
    // SAFETY: fd is ours, closed once.
    unsafe { libc::close(fd) };
    link.ino()
}

fn ns_inode(path: &str) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().ino()
}

/// A PID that no process has (a child that has been waited for).
fn dead_pid() -> i32 {
    let mut c = Command::new("true").spawn().unwrap();
    let pid = c.id() as i32;
    c.wait().unwrap();
    pid
}

fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
}

fn fs_magic(path: &str) -> Option<i64> {
    let c = std::ffi::CString::new(path).unwrap();
    // SAFETY: an all-zero statfs is valid; statfs writes one into it.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is NUL-terminated, st a live local.
    (unsafe { libc::statfs(c.as_ptr(), &mut st) } == 0).then_some(st.f_type as i64)
}

// ---- command line ----

#[test]
fn help_and_version() {
    let help = cmd("nsenter").arg("--help").run();
    help.success()
        .stdout_contains("\nUsage:\n nsenter [options] [<program> [<argument>...]]\n")
        .stdout_contains(" -S, --setuid <uid>|follow")
        .stdout_contains(" -W, --wdns[=<dir>]")
        .stdout_contains(" -N, --net-socket <fd>")
        .stdout_contains(" --user-parent")
        .stdout_contains(" --keep-caps")
        .stdout_contains("For more details see nsenter(1).\n");
    for opt in [
        "--all",
        "--target",
        "--mount",
        "--uts",
        "--ipc",
        "--net",
        "--pid",
        "--cgroup",
        "--user",
        "--time",
        "--setgid",
        "--preserve-credentials",
        "--root",
        "--wd",
        "--env",
        "--no-fork",
        "--join-cgroup",
        "--follow-context",
    ] {
        help.stdout_contains(opt);
    }
    cmd("nsenter").arg("-V").run().success().stdout_is(&format!(
        "nsenter from nsbox {}\n",
        env!("CARGO_PKG_VERSION")
    ));
    cmd("nsenter")
        .arg("--help")
        .via_nsbox()
        .run()
        .success()
        .stdout_is(&help.stdout());
}

#[test]
fn getopt_errors() {
    let bin = bin("nsenter");
    let bin = bin.display();
    let try_help = "Try 'nsenter --help' for more information.\n";
    for (args, message) in [
        (
            &["--ne"][..],
            "option '--ne' is ambiguous; possibilities: '--net' '--net-socket'".to_string(),
        ),
        (&["--bogus"], "unrecognized option '--bogus'".to_string()),
        (&["-x"], "invalid option -- 'x'".to_string()),
        (&["-t"], "option requires an argument -- 't'".to_string()),
        (
            &["--setuid"],
            "option '--setuid' requires an argument".to_string(),
        ),
        (
            &["--all=1"],
            "option '--all' doesn't allow an argument".to_string(),
        ),
    ] {
        cmd("nsenter")
            .args(args)
            .run()
            .code_is(1)
            .stdout_is("")
            .stderr_is(&format!("{bin}: {message}\n{try_help}"));
    }
}

#[test]
fn no_namespace_specified() {
    for v in variants() {
        nsenter(v, &["true"])
            .code_is(1)
            .stderr_is("nsenter: no namespace specified\n");
        let t = Target::start(v, &["sleep", "100"]);
        nsenter(v, &["-t", &t.pid(), "true"])
            .code_is(1)
            .stderr_is("nsenter: no namespace specified\n");
    }
}

/// The `-W` trap of 2.42: its argument is optional and glued only; a separate word is the program.
#[test]
fn optional_arguments_are_glued_only() {
    for v in variants() {
        let t = Target::all_but_user(v);
        let pid = t.pid();
        let user: &[&str] = match v {
            Variant::Root => &[],
            Variant::Rootless => &["-U", "--preserve-credentials"],
        };
        let mut args = vec!["-t", &pid, "-m"];
        args.extend(user);
        let with = |extra: &[&str]| {
            let mut a = args.clone();
            a.extend(extra);
            nsenter(v, &a)
        };
        with(&["-W", "/proc", "pwd"])
            .code_is(126)
            .stderr_is("nsenter: failed to execute /proc: Permission denied\n");
        with(&["-W/proc", "pwd"]).success().stdout_is("/proc\n");
        with(&["--wdns=/proc", "pwd"])
            .success()
            .stdout_is("/proc\n");
        with(&["-W", "pwd"]).success().stdout_is("/\n");
    }
    if is_root() {
        // `-n FILE` with a separate word runs FILE.
        let ns = TempNetns::new();
        let t = Target::all_but_user(Variant::Root);
        nsenter(Variant::Root, &["-t", &t.pid(), "-n", &ns.path()])
            .code_is(126)
            .stderr_is(&format!(
                "nsenter: failed to execute {}: Permission denied\n",
                ns.path()
            ));
    }
}

// ---- bad input: one clear message, exit 1, nothing run ----

#[test]
fn bad_input() {
    let marker_dir = TempDir::new("nsenter-bad");
    set_mode(marker_dir.path(), 0o777);
    let marker = marker_dir.path().join("ran");
    let marker = marker.to_str().unwrap();
    for v in variants() {
        let t = Target::all_but_user(v);
        let p = t.pid();
        let dead = dead_pid().to_string();
        // An inode of a pidfd for another live process: a recycled PID looks like this.
        let other = Target::start(v, &["sleep", "100"]);
        let wrong_inode = format!("{p}:{}", pidfd_inode(other.pid));
        let other_pid = other.pid();
        let uts_file = format!("--net=/proc/{p}/ns/uts");
        let dead_inode = format!("{dead}:1");
        let mut rows: Vec<(Vec<&str>, String)> = vec![
            (
                vec!["-t", &dead, "-n"],
                format!("cannot open /proc/{dead}/ns/net: No such file or directory"),
            ),
            (
                vec!["-t", &dead, "-a"],
                format!("stat of /proc/{dead}/ns/user failed: No such file or directory"),
            ),
            (
                vec!["-t", &wrong_inode, "-n"],
                format!("failed to obtain a valid file descriptor for PID {p}: No such process"),
            ),
            (
                vec!["-t", &dead_inode, "-n"],
                format!("failed to obtain a valid file descriptor for PID {dead}: No such process"),
            ),
            (vec!["-n"], "no target PID specified".into()),
            (vec!["-a"], "no target PID specified".into()),
            (vec!["--user-parent"], "no target PID specified".into()),
            (vec!["-N", "3"], "no target PID specified".into()),
            (
                vec!["-e", "-n/proc/self/ns/net"],
                "no target PID specified".into(),
            ),
            (
                vec!["-r", "-n/proc/self/ns/net"],
                "neither filename nor target pid supplied for root".into(),
            ),
            (
                vec!["-w", "-n/proc/self/ns/net"],
                "neither filename nor target pid supplied for cwd".into(),
            ),
            (vec!["-t", "0", "-n"], "invalid PID argument".into()),
            (vec!["-t", "-5", "-n"], "invalid PID argument".into()),
            (
                vec!["-t", "99999999999", "-n"],
                "invalid PID argument".into(),
            ),
            (vec!["-t", "12:abc", "-n"], "invalid PID argument".into()),
            (vec!["-t", "abc", "-n"], "invalid PID argument".into()),
            (
                vec!["-t", &p, "--net=/etc/passwd"],
                "reassociate to namespace 'ns/net' failed: Invalid argument".into(),
            ),
            (
                vec!["-t", &p, &uts_file],
                "reassociate to namespace 'ns/net' failed: Invalid argument".into(),
            ),
            (
                vec!["--net=/nonexist"],
                "cannot open /nonexist: No such file or directory".into(),
            ),
            (
                vec!["-t", &p, "-n", "--root=/nonexist"],
                "cannot open /nonexist: No such file or directory".into(),
            ),
            (
                vec!["-t", &p, "-n", "--wd=/etc/passwd"],
                "cannot open /etc/passwd: Not a directory".into(),
            ),
            (
                vec!["-n/proc/self/ns/net", "-W/nonexist"],
                "cannot open /nonexist: No such file or directory".into(),
            ),
            (
                vec!["-n/proc/self/ns/net", "--wdns=/etc/passwd"],
                "cannot open /etc/passwd: Not a directory".into(),
            ),
            (
                vec!["-t", &p, "-n", "-S", "abc"],
                "failed to parse uid: 'abc'".into(),
            ),
            (
                vec!["-t", &p, "-n", "-S", "-1"],
                "failed to parse uid: '-1'".into(),
            ),
            (
                vec!["-t", &p, "-n", "-S", "4294967296"],
                // util-linux's strtoXX_or_err wording for a number too large (as unshare -S says it).
                "failed to parse uid: '4294967296': Numerical result out of range".into(),
            ),
            (
                vec!["-t", &p, "-n", "-G", "root"],
                "failed to parse gid: 'root'".into(),
            ),
            (
                vec!["-t", &p, "-n", "-w", "-W/tmp"],
                "options --wd and --wdns cannot be combined".into(),
            ),
            (
                vec!["-t", &p, "-n", "-W", "-w"],
                "options --wd and --wdns cannot be combined".into(),
            ),
            (
                vec!["-t", &p, "-N", "0"],
                format!("fd 0 of process {p} is not a socket"),
            ),
            (
                vec!["-t", &p, "-N", "99"],
                format!("cannot get fd 99 of process {p}: Bad file descriptor"),
            ),
            (vec!["-t", &p, "-N", "x"], "failed to parse fd: 'x'".into()),
            (
                vec!["--net=:x"],
                "failed to parse namespace ID: ':x'".into(),
            ),
            (
                vec!["-t", &other_pid, "-U"],
                "reassociate to namespaces failed: Invalid argument".into(),
            ),
        ];
        if v == Variant::Root {
            rows.push((
                vec!["-t", &p, "--user-parent"],
                "failed to open parent namespace: Operation not permitted".into(),
            ));
        }
        if !std::path::Path::new("/sys/fs/selinux/enforce").exists() {
            rows.push((
                vec!["-t", &p, "-n", "-Z"],
                "SELinux is not enabled (--follow-context)".into(),
            ));
        }
        if fs_magic("/sys/fs/cgroup") != Some(0x6367_7270) {
            rows.push((
                vec!["-t", &p, "-n", "-c"],
                "--join-cgroup is only supported in cgroup v2".into(),
            ));
        }
        if !kernel_at_least(6, 19) {
            rows.push((
                vec!["--net=:5"],
                "opening namespaces by ID is not supported by this kernel".into(),
            ));
        }
        for (args, message) in rows {
            let mut args = args;
            args.extend(["touch", marker]);
            let run = nsenter(v, &args);
            run.code_is(1)
                .stdout_is("")
                .stderr_is(&format!("nsenter: {message}\n"));
            assert!(
                !std::path::Path::new(marker).exists(),
                "{v:?} {args:?} ran the program"
            );
        }
        // The program itself fails: 127 not found, 126 not executable.
        let user: &[&str] = match v {
            Variant::Root => &["-p"],
            Variant::Rootless => &["-U", "-p"],
        };
        for (prog, code, err) in [
            ("nsbox-no-such-program", 127, "No such file or directory"),
            ("/etc", 126, "Permission denied"),
        ] {
            let mut args = vec!["-t", &p];
            args.extend(user);
            args.push(prog);
            // A PATH the rootless user may search everywhere (EACCES on a dir would turn 127 into 126).
            cmd("nsenter")
                .args(&args)
                .env("PATH", "/usr/bin:/bin")
                .variant(v)
                .run()
                .code_is(code)
                .stderr_is(&format!("nsenter: failed to execute {prog}: {err}\n"));
        }
    }
}

/// A zombie target is refused; nothing is entered.
#[test]
fn zombie_target() {
    for v in variants() {
        let maker = Target::start(v, &["sh", "-c", "true & exec sleep 100"]);
        let deadline = Instant::now() + Duration::from_secs(5);
        let zombie = loop {
            let children =
                std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", maker.pid))
                    .unwrap_or_default();
            let z = children.split_whitespace().find_map(|c| {
                let stat = std::fs::read_to_string(format!("/proc/{c}/stat")).ok()?;
                let state = stat.rsplit_once(") ")?.1.chars().next()?;
                (state == 'Z').then(|| c.to_string())
            });
            if let Some(z) = z {
                break z;
            }
            assert!(Instant::now() < deadline, "no zombie appeared");
            std::thread::sleep(Duration::from_millis(5));
        };
        nsenter(v, &["-t", &zombie, "-n", "true"])
            .code_is(1)
            .stderr_is(&format!("nsenter: process {zombie} is a zombie\n"));
    }
}

/// Unprivileged callers cannot enter namespaces they have no rights over; the message names the step.
#[test]
fn rootless_into_root_target_is_refused() {
    if skip_unless_root() {
        return;
    }
    let t = Target::all_but_user(Variant::Root);
    nsenter(Variant::Rootless, &["-t", &t.pid(), "-n", "true"])
        .code_is(1)
        .stderr_is("nsenter: reassociate to namespaces failed: Operation not permitted\n");
    // -a first compares the target's user namespace with ours, which needs ptrace-read access.
    nsenter(Variant::Rootless, &["-t", &t.pid(), "-a", "true"])
        .code_is(1)
        .stderr_is(&format!(
            "nsenter: stat of /proc/{}/ns/user failed: Permission denied\n",
            t.pid
        ));
}

// ---- entering exactly the requested namespaces ----

#[test]
fn each_namespace_alone() {
    for v in variants() {
        let t = Target::all_eight(v);
        let target_ns = t.ns();
        let pid = t.pid();
        for (opt, kind) in [
            ("-m", "mnt"),
            ("-u", "uts"),
            ("-i", "ipc"),
            ("-n", "net"),
            ("-p", "pid"),
            ("-C", "cgroup"),
            ("-T", "time"),
        ] {
            // Rootless callers need the target's user namespace for rights over the others.
            let mut args = vec!["-t", &pid, opt];
            let mut kinds = vec![kind];
            if v == Variant::Rootless {
                args.push("-U");
                kinds.push("user");
            }
            args.extend(["sh", "-c", SHOW_NS]);
            let run = nsenter(v, &args);
            run.success();
            assert_eq!(
                shown(&run.stdout()),
                expected(&target_ns, &kinds),
                "{v:?} nsenter {args:?}"
            );
        }
        let run = nsenter(v, &["-t", &pid, "-U", "sh", "-c", SHOW_NS]);
        run.success();
        assert_eq!(shown(&run.stdout()), expected(&target_ns, &["user"]));
    }
}

#[test]
fn all_eight_namespaces() {
    for v in variants() {
        let t = Target::all_eight(v);
        let run = nsenter(v, &["-t", &t.pid(), "-a", "sh", "-c", SHOW_NS]);
        run.success();
        assert_eq!(shown(&run.stdout()), t.ns(), "{v:?}");
        assert_eq!(
            shown(&nsenter(v, &["-t", &t.pid(), "--all", "sh", "-c", SHOW_NS]).stdout()),
            t.ns()
        );
        // A target made by our own unshare.
        let ours = match v {
            Variant::Rootless if is_root() => public_bin_dir().join("unshare"),
            _ => bin("unshare"),
        };
        let ours = ours.to_str().unwrap();
        let by_us = Target::start(v, &[ours, "-Urfmuinp", "-CT", "sleep", "100"]);
        let run = nsenter(v, &["-t", &by_us.pid(), "-a", "sh", "-c", SHOW_NS]);
        run.success();
        assert_eq!(shown(&run.stdout()), by_us.ns(), "{v:?}");
        // Through the multicall binary as well.
        let run = cmd("nsenter")
            .args(["-t", &t.pid(), "-a", "sh", "-c", SHOW_NS])
            .variant(v)
            .via_nsbox()
            .run();
        run.success();
        assert_eq!(shown(&run.stdout()), t.ns());
    }
}

/// `-a` skips the caller's own user namespace, and with a rootless caller the namespaces identical to its
/// own are no-ops (nsbox deviation 1: util-linux fails with EPERM there).
#[test]
fn all_skips_own_user_namespace_and_identical_ones() {
    if is_root() {
        let t = Target::all_but_user(Variant::Root);
        let run = nsenter(Variant::Root, &["-t", &t.pid(), "-a", "sh", "-c", SHOW_NS]);
        run.success();
        let kinds: Vec<&str> = KINDS.iter().copied().filter(|k| *k != "user").collect();
        assert_eq!(shown(&run.stdout()), expected(&t.ns(), &kinds));
        same_outcome(
            &run,
            &reference_nsenter(Variant::Root, &["-t", &t.pid(), "-a", "sh", "-c", SHOW_NS]),
        );
    }
    for v in variants() {
        let t = Target::start(v, &[UNSHARE, "-Ur", "sleep", "100"]);
        let run = nsenter(v, &["-t", &t.pid(), "-a", "sh", "-c", SHOW_NS]);
        run.success();
        assert_eq!(shown(&run.stdout()), expected(&t.ns(), &["user"]));
        // An identical mount namespace the caller may not join: cwd is reset to / instead.
        nsenter(v, &["-t", &t.pid(), "-U", "-m", "pwd"])
            .success()
            .stdout_is("/\n");
    }
}

/// Namespace files: `/proc/PID/ns/*` and persistent bind mounts (`ip netns add`).
#[test]
fn namespace_files() {
    for v in variants() {
        let t = Target::all_eight(v);
        let pid = t.pid();
        let target_ns = t.ns();
        let user = format!("--user=/proc/{pid}/ns/user");
        let uts = format!("--uts=/proc/{pid}/ns/uts");
        let net = format!("-n/proc/{pid}/ns/net");
        let run = nsenter(v, &[&user, &uts, &net, "sh", "-c", SHOW_NS]);
        run.success();
        assert_eq!(
            shown(&run.stdout()),
            expected(&target_ns, &["user", "uts", "net"])
        );
        // A file overrides -a for its type.
        let own_uts = "--uts=/proc/self/ns/uts";
        let run = nsenter(v, &["-t", &pid, "-a", own_uts, "sh", "-c", SHOW_NS]);
        run.success();
        let mut want = target_ns.clone();
        want.insert("uts".into(), ns_links("self")["uts"].clone());
        assert_eq!(shown(&run.stdout()), want);
    }
    if !is_root() {
        return;
    }
    let ns = TempNetns::new();
    let want = format!("net:[{}]\n", ns_inode(&ns.path()));
    let net = format!("--net={}", ns.path());
    let glued = format!("-n{}", ns.path());
    for args in [
        [net.as_str(), "readlink", "/proc/self/ns/net"],
        [glued.as_str(), "readlink", "/proc/self/ns/net"],
    ] {
        let ours = nsenter(Variant::Root, &args);
        ours.success().stdout_is(&want);
        same_outcome(&ours, &reference_nsenter(Variant::Root, &args));
    }
    // A bare -n (the target's) beats --net=FILE whichever comes first, as in util-linux; FILE is opened all
    // the same (a missing one is an error).
    let t = Target::all_but_user(Variant::Root);
    let pid = t.pid();
    let target_net = format!("{}\n", t.ns()["net"]);
    for args in [
        ["-t", &pid, "-n", &net, "readlink", "/proc/self/ns/net"],
        ["-t", &pid, &net, "-n", "readlink", "/proc/self/ns/net"],
    ] {
        let ours = nsenter(Variant::Root, &args);
        ours.success().stdout_is(&target_net);
        same_outcome(&ours, &reference_nsenter(Variant::Root, &args));
    }
    nsenter(
        Variant::Root,
        &["-t", &pid, "-n", "--net=/nonexist", "true"],
    )
    .code_is(1)
    .stderr_is("nsenter: cannot open /nonexist: No such file or directory\n");
}

#[test]
fn differential_single_namespaces() {
    if skip_unless_root() {
        return;
    }
    let t = Target::all_but_user(Variant::Root);
    let pid = t.pid();
    // Ids with a leading `+`, as util-linux's strtoul takes them.
    let args = [
        "-t",
        &pid,
        "-u",
        "-S",
        "+5",
        "-G",
        "+6",
        "sh",
        "-c",
        "id -u; id -g",
    ];
    let ours = nsenter(Variant::Root, &args);
    ours.success().stdout_is("5\n6\n");
    same_outcome(&ours, &reference_nsenter(Variant::Root, &args));
    for opt in ["-m", "-u", "-i", "-n", "-p", "-C", "-T", "--net", "--mount"] {
        let args = ["-t", &pid, opt, "sh", "-c", SHOW_NS];
        let ours = nsenter(Variant::Root, &args);
        ours.success();
        same_outcome(&ours, &reference_nsenter(Variant::Root, &args));
    }
    let args = [
        "-t", &pid, "-m", "-u", "-i", "-n", "-p", "-C", "-T", "sh", "-c", SHOW_NS,
    ];
    let ours = nsenter(Variant::Root, &args);
    assert_eq!(
        shown(&ours.stdout()),
        expected(
            &t.ns(),
            &["mnt", "uts", "ipc", "net", "pid", "cgroup", "time"]
        )
    );
    same_outcome(&ours, &reference_nsenter(Variant::Root, &args));
}

/// The time namespace's offsets are the target's.
#[test]
fn time_namespace_offsets() {
    for v in variants() {
        let argv: &[&str] = match v {
            Variant::Root => &[UNSHARE, "-fT", "--boottime", "100000", "sleep", "100"],
            Variant::Rootless => &[UNSHARE, "-UrfT", "--boottime", "100000", "sleep", "100"],
        };
        let t = Target::start(v, argv);
        let mut args = vec!["-t".to_string(), t.pid(), "-T".into()];
        if v == Variant::Rootless {
            args.push("-U".into());
        }
        args.extend(["cat".into(), "/proc/uptime".into()]);
        let uptime = |run: &Run| -> f64 {
            run.success();
            run.stdout()
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let ours = uptime(&nsenter(
            v,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        ));
        let own: f64 = std::fs::read_to_string("/proc/uptime")
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(ours >= own + 99_000.0, "{v:?}: uptime {ours} vs own {own}");
        if v == Variant::Root {
            let theirs = uptime(&reference_nsenter(
                v,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
            ));
            assert!((theirs - ours).abs() < 100.0);
        }
    }
}

// ---- target identity ----

#[test]
fn pid_inode_form() {
    for v in variants() {
        let t = Target::all_eight(v);
        let target = format!("{}:{}", t.pid, pidfd_inode(t.pid));
        let run = nsenter(
            v,
            &["-t", &target, "-U", "-n", "readlink", "/proc/self/ns/net"],
        );
        run.success().stdout_is(&format!("{}\n", t.ns()["net"]));
    }
}

// ---- --user-parent and --net-socket ----

#[test]
fn user_parent() {
    for v in variants() {
        // Target in user namespace B, a child of A, a child of ours.
        let t = Target::start(v, &[UNSHARE, "-Ur", UNSHARE, "-Ur", "sleep", "100"]);
        let parent = format!("user:[{}]", parent_user_ns_inode(t.pid));
        assert_ne!(parent, t.ns()["user"]);
        for extra in [&[][..], &["-U"], &["-n"]] {
            let mut args = vec!["-t".to_string(), t.pid(), "--user-parent".into()];
            args.extend(extra.iter().map(|s| s.to_string()));
            args.extend([
                "sh".into(),
                "-c".into(),
                "readlink /proc/self/ns/user; id -u".into(),
            ]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            nsenter(v, &args)
                .success()
                .stdout_is(&format!("{parent}\n0\n"));
        }
        // The parent is our own user namespace: setns refuses it.
        let t = Target::start(v, &[UNSHARE, "-Ur", "sleep", "100"]);
        nsenter(v, &["-t", &t.pid(), "--user-parent", "true"])
            .code_is(1)
            .stderr_is("nsenter: reassociate to namespace 'ns/user' failed: Invalid argument\n");
    }
}

#[test]
fn net_socket() {
    // The target holds (as fd 3) a UDP socket made in one network namespace while it runs in another.
    if is_root() {
        let ns = TempNetns::new();
        reference("/usr/sbin/ip")
            .args(["-n", &ns.name, "link", "set", "lo", "up"])
            .run()
            .success();
        let script = format!("exec 3<>/dev/udp/127.0.0.1/9; exec {UNSHARE} -n sleep 100");
        let t = Target::start(
            Variant::Root,
            &["ip", "netns", "exec", &ns.name, "bash", "-c", &script],
        );
        assert_ne!(t.ns()["net"], format!("net:[{}]", ns_inode(&ns.path())));
        nsenter(
            Variant::Root,
            &["-t", &t.pid(), "-N", "3", "readlink", "/proc/self/ns/net"],
        )
        .success()
        .stdout_is(&format!("net:[{}]\n", ns_inode(&ns.path())));
        nsenter(
            Variant::Root,
            &[
                "-t",
                &t.pid(),
                "--net-socket=3",
                "-n",
                "readlink",
                "/proc/self/ns/net",
            ],
        )
        .success()
        .stdout_is(&format!("net:[{}]\n", ns_inode(&ns.path())));
    }
    // Rootless too: socket and target in two network namespaces of a user namespace the caller owns
    // (SIOCGSKNS needs CAP_NET_ADMIN over the socket's namespace). `tail` keeps the socket's namespace
    // alive under a name we can read.
    for v in variants() {
        let script = format!(
            "ip link set lo up; tail -f /dev/null & exec 3<>/dev/udp/127.0.0.1/9; exec {UNSHARE} -n sleep 100"
        );
        let t = Target::start(v, &[UNSHARE, "-Urn", "bash", "-c", &script]);
        let deadline = Instant::now() + Duration::from_secs(10);
        let holder = loop {
            let tail = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", t.pid))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|c| c.parse::<i32>().ok())
                .find(|&c| comm(c) == "tail");
            if let Some(tail) = tail {
                break tail;
            }
            assert!(
                Instant::now() < deadline,
                "no tail holding the socket's namespace"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        let _holder = KillOnDrop(holder);
        let socket_ns = ns_links(&holder.to_string())["net"].clone();
        assert_ne!(socket_ns, t.ns()["net"]);
        let run = nsenter(v, &["-t", &t.pid(), "-N", "3", "-U", "sh", "-c", SHOW_NS]);
        run.success();
        let mut want = expected(&t.ns(), &["user"]);
        want.insert("net".into(), socket_ns);
        assert_eq!(shown(&run.stdout()), want);
    }
}

/// Kills a helper process by pid when dropped.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        kill(self.0, libc::SIGKILL);
    }
}

// ---- credentials ----

fn ids(v: Variant, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["sh", "-c", "echo $(id -u) $(id -g) $(id -G)"]);
    let run = nsenter(v, &all);
    run.success();
    let ids = run.stdout().trim().to_string();
    // A test run by an ordinary user may carry supplementary groups of its own, which a user namespace
    // made by `unshare -r` cannot drop (setgroups is denied there): they show as 65534 after ours.
    if v == Variant::Rootless && !is_root() {
        let mut fields: Vec<&str> = ids.split(' ').collect();
        fields.truncate(3);
        return fields.join(" ");
    }
    ids
}

#[test]
fn credentials() {
    for v in variants() {
        let t = Target::all_eight(v);
        let p = t.pid();
        assert_eq!(ids(v, &["-t", &p, "-U"]), "0 0 0");
        // follow: the owner of /proc/PID as seen from inside the entered user namespace.
        assert_eq!(
            ids(v, &["-t", &p, "-U", "-S", "follow", "-G", "follow"]),
            "0 0 0"
        );
        // --preserve-credentials: the caller's ids, seen through the map (uid 0 ↔ the target's owner).
        assert_eq!(ids(v, &["-t", &p, "-U", "--preserve-credentials"]), "0 0 0");
        // Unmapped ids fail cleanly.
        let mut args = vec!["-t", p.as_str(), "-U", "-S", "5", "-G", "6", "true"];
        nsenter(v, &args)
            .code_is(1)
            .stderr_is("nsenter: setgid() failed: Invalid argument\n");
        args.truncate(3);
        args.extend(["-S", "5", "true"]);
        nsenter(v, &args)
            .code_is(1)
            .stderr_is("nsenter: setuid() failed: Invalid argument\n");
        // setgroups is denied in a namespace made by `unshare -r` (nsbox deviation 2: tolerated).
        let denied = Target::start(v, &[UNSHARE, "-r", "sleep", "100"]);
        assert_eq!(ids(v, &["-t", &denied.pid(), "-U"]), "0 0 0");
        if v == Variant::Rootless {
            reference_nsenter(v, &["-t", &denied.pid(), "-U", "true"])
                .code_is(1)
                .stderr_is("nsenter: setgroups failed: Operation not permitted\n");
        }
    }
    if !is_root() {
        return;
    }
    // Without a user namespace: -S/-G set the ids; -G drops supplementary groups, -S alone keeps them.
    let t = Target::all_but_user(Variant::Root);
    let p = t.pid();
    for args in [
        &["-t", &p, "-n", "-S", "5", "-G", "6"][..],
        &["-t", &p, "-n", "-S5", "-G6"],
        &["-t", &p, "-n", "-S", "5"],
        &["-t", &p, "-n", "-G", "6"],
        &["-t", &p, "-n"],
    ] {
        let mut all = vec!["setpriv", "--groups=7,8", bin("nsenter").to_str().unwrap()]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        all.extend(args.iter().map(|s| s.to_string()));
        all.extend([
            "sh".into(),
            "-c".into(),
            "echo $(id -u) $(id -g) $(id -G)".into(),
        ]);
        let ours = Cmd::new(&all[0]).args(&all[1..]).run();
        all[2] = NSENTER.into();
        let theirs = Cmd::new(&all[0]).args(&all[1..]).run();
        ours.success();
        same_outcome(&ours, &theirs);
    }
    assert_eq!(
        ids(Variant::Root, &["-t", &p, "-n", "-S", "5", "-G", "6"]),
        "5 6 6"
    );
    // follow: the owner of /proc/PID.
    let owned = Target::start(Variant::Rootless, &[UNSHARE, "-Urn", "sleep", "100"]);
    assert_eq!(
        ids(
            Variant::Root,
            &["-t", &owned.pid(), "-n", "-S", "follow", "-G", "follow"]
        ),
        "65534 65534 65534"
    );
    // A wider map: -S/-G inside the user namespace.
    let mapped = mapped_target();
    let m = mapped.pid();
    assert_eq!(
        ids(Variant::Root, &["-t", &m, "-U", "-S", "5", "-G", "6"]),
        "5 6 6"
    );
    assert_eq!(
        ids(
            Variant::Root,
            &[
                "-t",
                &m,
                "-U",
                "--preserve-credentials",
                "-S",
                "5",
                "-G",
                "6"
            ]
        ),
        "5 6 6"
    );
    same_outcome(
        &nsenter(
            Variant::Root,
            &["-t", &m, "-U", "-S", "5", "-G", "6", "id", "-u"],
        ),
        &reference_nsenter(
            Variant::Root,
            &["-t", &m, "-U", "-S", "5", "-G", "6", "id", "-u"],
        ),
    );
}

#[test]
fn keep_caps() {
    let ambient = |v: Variant, args: &[&str]| -> String {
        let mut all = args.to_vec();
        all.extend(["grep", "^CapAmb", "/proc/self/status"]);
        let run = nsenter(v, &all);
        run.success();
        run.stdout().split_whitespace().nth(1).unwrap().to_string()
    };
    for v in variants() {
        let t = Target::all_eight(v);
        let p = t.pid();
        assert_ne!(
            ambient(v, &["-t", &p, "-U", "--keep-caps"]),
            "0000000000000000"
        );
        assert_eq!(ambient(v, &["-t", &p, "-U"]), "0000000000000000");
    }
    if is_root() {
        let mapped = mapped_target();
        assert_eq!(
            ambient(
                Variant::Root,
                &["-t", &mapped.pid(), "-U", "-S", "5", "--keep-caps"]
            ),
            "0000000000000000"
        );
    }
}

// ---- root and working directory (spec §6) ----

#[test]
fn root_and_working_directory() {
    if skip_unless_root() {
        return;
    }
    let t = Target::start_with(Variant::Root, &[UNSHARE, "-mu", "sleep", "100"], |c| {
        c.current_dir("/usr/share");
    });
    let p = t.pid();
    for (opts, want) in [
        (&["-m"][..], "/"),
        (&["-u"], "/usr/lib"),
        (&["-m", "-w"], "/usr/share"),
        (&["-m", "-r"], "/"),
        (&["-m", "-r", "-w"], "/usr/share"),
        (&["-u", "-r"], "/usr/lib"),
        (&["-u", "-r/usr"], "/lib"),
        (&["-u", "-W/etc"], "/etc"),
        (&["-u", "-r/usr", "-W/lib"], "/lib"),
        (&["-u", "--wd=/etc"], "/etc"),
        (&["-u", "--root=/usr", "--wd=/usr/share"], "/share"),
        (&["-u", "-W"], "/usr/lib"),
        // A bare -r/-w (the target's) beats =DIR whichever comes first, as in util-linux.
        (&["-u", "-r", "-r/usr"], "/usr/lib"),
        (&["-u", "-r/usr", "-r"], "/usr/lib"),
        (&["-m", "-w", "--wd=/etc"], "/usr/share"),
        (&["-m", "--wd=/etc", "-w"], "/usr/share"),
        (&["-u", "--wd=/etc", "--wd=/usr"], "/usr"),
    ] {
        let mut args = vec!["-t", p.as_str()];
        args.extend(opts);
        args.push("pwd");
        let ours = cmd("nsenter").args(&args).current_dir("/usr/lib").run();
        ours.success().stdout_is(&format!("{want}\n"));
        // 2.38's -W takes a required argument: its bare -W differs (spec §12).
        if opts != ["-u", "-W"] {
            let theirs = reference(NSENTER).args(&args).current_dir("/usr/lib").run();
            same_outcome(&ours, &theirs);
        }
    }
    // The root is really changed: /usr is `/` inside.
    nsenter(
        Variant::Root,
        &[
            "-t",
            &p,
            "-u",
            "-r/usr",
            "/bin/sh",
            "-c",
            "test -d /share/doc && test ! -e /usr/share",
        ],
    )
    .success();
}

// ---- environment, cgroup ----

#[test]
fn environment_of_target() {
    for v in variants() {
        let t = Target::start_with(v, &[UNSHARE, "-Ur", "sleep", "100"], |c| {
            c.env_clear()
                .env("NSBOX_T", "a=b c")
                .env("PATH", "/usr/bin:/bin");
        });
        nsenter(v, &["-t", &t.pid(), "-U", "-e", "env"])
            .success()
            .stdout_is("NSBOX_T=a=b c\nPATH=/usr/bin:/bin\n");
    }
}

#[test]
fn join_cgroup() {
    if skip_unless_root() {
        return;
    }
    let unified = "/sys/fs/cgroup/unified";
    let v2_root = if fs_magic("/sys/fs/cgroup") == Some(0x6367_7270) {
        "/sys/fs/cgroup"
    } else if fs_magic(unified) == Some(0x6367_7270) {
        unified
    } else {
        eprintln!("skipped: no cgroup v2 hierarchy");
        return;
    };
    struct Cgroup(String);
    impl Drop for Cgroup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(&self.0);
        }
    }
    let name = unique_name("nsbcg");
    let group = Cgroup(format!("{v2_root}/{name}"));
    std::fs::create_dir(&group.0).unwrap();
    let t = Target::start(Variant::Root, &[UNSHARE, "-n", "sleep", "100"]);
    std::fs::write(format!("{}/cgroup.procs", group.0), t.pid()).unwrap();
    // Inside a private mount namespace, make /sys/fs/cgroup the v2 hierarchy when the machine is hybrid.
    let bind = if v2_root == unified {
        format!("mount --bind {unified} /sys/fs/cgroup; ")
    } else {
        String::new()
    };
    let script = format!(
        "{bind}\"$NSBOX_BIN/nsenter\" -t {} -n -c grep ^0:: /proc/self/cgroup",
        t.pid()
    );
    in_private_mount_ns(&script)
        .success()
        .stdout_is(&format!("0::/{name}\n"));
    drop(t);
    // The cgroup empties once the target and our command are gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::remove_dir(&group.0).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---- fork, exit status, signals ----

#[test]
fn fork_for_pid_namespace() {
    for v in variants() {
        let t = Target::all_eight(v);
        let p = t.pid();
        let target_pid_ns = t.ns()["pid"].clone();
        let own_pid_ns = ns_links("self")["pid"].clone();
        nsenter(v, &["-t", &p, "-U", "-p", "readlink", "/proc/self/ns/pid"])
            .success()
            .stdout_is(&format!("{target_pid_ns}\n"));
        // -F: no fork, so the program itself stays in the old pid namespace.
        nsenter(
            v,
            &["-t", &p, "-U", "-p", "-F", "readlink", "/proc/self/ns/pid"],
        )
        .success()
        .stdout_is(&format!("{own_pid_ns}\n"));
        nsenter(v, &["-t", &p, "-U", "-p", "sh", "-c", "exit 42"]).code_is(42);
        let killed = nsenter(v, &["-t", &p, "-U", "-p", "sh", "-c", "kill -KILL $$"]);
        assert_eq!(killed.signal(), Some(libc::SIGKILL), "{}", killed.stderr());
        let termed = nsenter(v, &["-t", &p, "-U", "-p", "sh", "-c", "kill -TERM $$"]);
        assert_eq!(termed.signal(), Some(libc::SIGTERM));
        nsenter(v, &["-t", &p, "-U", "-n", "sh", "-c", "exit 7"]).code_is(7);
    }
    if is_root() {
        let t = Target::all_but_user(Variant::Root);
        for script in ["exit 42", "kill -KILL $$", "kill -TERM $$", "exit 0"] {
            let args = ["-t", &t.pid(), "-p", "sh", "-c", script];
            let ours = nsenter(Variant::Root, &args);
            let theirs = reference_nsenter(Variant::Root, &args);
            assert_eq!(
                (ours.code(), ours.signal()),
                (theirs.code(), theirs.signal()),
                "{script}"
            );
        }
    }
}

/// When the child stops, nsenter stops too; continuing nsenter continues the child.
#[test]
fn stop_and_continue_pass_through() {
    for v in variants() {
        let t = Target::all_eight(v);
        let mut c = cmd("nsenter")
            .args([
                "-t",
                &t.pid(),
                "-U",
                "-p",
                "sh",
                "-c",
                "kill -STOP $$; echo resumed",
            ])
            .variant(v)
            .command();
        let child = c
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        // With setpriv in front, the nsenter process is the same pid after setpriv's exec.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if comm(pid) == "nsenter"
                && stat.rsplit_once(") ").map(|(_, s)| s.starts_with('T')) == Some(true)
            {
                break;
            }
            assert!(Instant::now() < deadline, "nsenter did not stop");
            std::thread::sleep(Duration::from_millis(10));
        }
        kill(pid, libc::SIGCONT);
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), "resumed\n");
    }
}

/// No program: the shell, as a login shell (`-sh`), from $SHELL.
#[test]
fn shell_when_no_program() {
    for v in variants() {
        let t = Target::all_eight(v);
        cmd("nsenter")
            .args(["-t", &t.pid(), "-U", "-n"])
            .env("SHELL", "/bin/sh")
            .stdin("echo $0 $(readlink /proc/self/ns/net)\n")
            .variant(v)
            .run()
            .success()
            .stdout_is(&format!("-sh {}\n", t.ns()["net"]));
        // Run by the path given, without a PATH search, as util-linux does (differential: 2.38 agrees;
        // --preserve-credentials spares 2.38 its rootless setgroups failure).
        for tool in [bin("nsenter").display().to_string(), NSENTER.to_string()] {
            Cmd::new(&tool)
                .args(["-t", &t.pid(), "-U", "-n", "--preserve-credentials"])
                .env("SHELL", "sh")
                .stdin("echo $0\n")
                .variant(v)
                .run()
                .code_is(127)
                .stderr_is("nsenter: failed to execute sh: No such file or directory\n");
        }
    }
}

/// Every fd nsenter opens is close-on-exec: the program sees exactly the fds our caller gave us.
#[test]
fn no_fd_leaks_into_the_program() {
    for v in variants() {
        let t = Target::all_eight(v);
        let list = ["sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '"];
        let baseline = Cmd::new(list[0]).args(&list[1..]).variant(v).run();
        baseline.success();
        for opts in [
            &["-a"][..],
            &["-a", "-r", "-w", "-e"],
            &["-U", "-p", "-F"],
            &["-U", "-p"],
        ] {
            let mut args = vec!["-t".to_string(), t.pid()];
            args.extend(opts.iter().map(|s| s.to_string()));
            args.extend(list.iter().map(|s| s.to_string()));
            let run = cmd("nsenter").args(&args).variant(v).run();
            run.success().stdout_is(&baseline.stdout());
        }
    }
}

/// An unprivileged caller that forgot `-U` is told so, in one extra line.
#[test]
fn hint_when_user_namespace_is_missing() {
    let t = Target::start(Variant::Rootless, &[UNSHARE, "-Urn", "sleep", "100"]);
    nsenter(Variant::Rootless, &["-t", &t.pid(), "-n", "true"])
        .code_is(1)
        .stderr_is(
            "nsenter: reassociate to namespaces failed: Operation not permitted\n\
             nsenter: the target's namespaces belong to its user namespace: add -U (--user) to enter it first\n",
        );
}

/// Installed setuid-root, nsenter refuses to run.
#[test]
fn refuses_setuid() {
    if skip_unless_root() {
        return;
    }
    let dir = TempDir::new("nsenter-suid");
    set_mode(dir.path(), 0o755);
    let copy = dir.path().join("nsenter");
    std::fs::copy(bin("nsenter"), &copy).unwrap();
    set_mode(&copy, 0o4755);
    let t = Target::start(Variant::Rootless, &[UNSHARE, "-Urn", "sleep", "100"]);
    Cmd::new(&copy)
        .args(["-t", &t.pid(), "-U", "-n", "true"])
        .rootless()
        .run()
        .code_is(1)
        .stderr_is("nsenter: refusing to run with setuid/setgid privileges\n");
}

/// The program gets the signal dispositions our caller gave us: SIGPIPE is not left ignored by Rust's runtime
/// (the multicall binary has it), and SIGCHLD handling for the fork does not leak into the program.
#[test]
fn program_sees_default_signal_dispositions() {
    for v in variants() {
        let t = Target::all_eight(v);
        let args = [
            "-t",
            &t.pid(),
            "-U",
            "-p",
            "grep",
            "^SigIgn",
            "/proc/self/status",
        ];
        let baseline = Cmd::new("grep").args(&args[5..]).variant(v).run();
        baseline.success();
        for run in [
            cmd("nsenter").args(args).variant(v).run(),
            cmd("nsenter").args(args).variant(v).via_nsbox().run(),
        ] {
            run.success().stdout_is(&baseline.stdout());
        }
    }
}

/// A caller's SIG_IGN for SIGPIPE reaches the program, as with util-linux (differential), also through the
/// multicall and with the fork a pid namespace needs.
#[test]
fn program_keeps_callers_ignored_sigpipe() {
    for v in variants() {
        let t = Target::all_eight(v);
        // --preserve-credentials: util-linux's setgroups would fail in the rootless target's user namespace.
        let args = [
            "-t",
            &t.pid(),
            "-U",
            "--preserve-credentials",
            "-p",
            "grep",
            "^SigIgn",
            "/proc/self/status",
        ];
        let theirs = reference(NSENTER)
            .args(args)
            .variant(v)
            .sigpipe_ignored()
            .run();
        theirs.success();
        assert!(sigign_has_sigpipe(&theirs.stdout()), "{}", theirs.stdout());
        for ours in [
            cmd("nsenter").args(args).variant(v).sigpipe_ignored().run(),
            cmd("nsenter")
                .args(args)
                .via_nsbox()
                .variant(v)
                .sigpipe_ignored()
                .run(),
        ] {
            same_outcome(&ours, &theirs);
        }
    }
}

/// Without a pidfd (kernels before 5.3, or pidfd_open failing) nsenter falls back to `/proc/PID/ns/*`
/// files, one setns per namespace in util-linux's order, with the same result.
#[test]
fn fallback_without_pidfd() {
    if !std::path::Path::new("/usr/bin/strace").exists() {
        eprintln!("skipped: strace is not installed");
        return;
    }
    for v in variants() {
        // The rootless user may not be able to reach the checkout: use the public copy.
        let exe = match v {
            Variant::Rootless if is_root() => public_bin_dir().join("nsenter"),
            _ => bin("nsenter"),
        };
        let t = Target::all_eight(v);
        let run = reference("/usr/bin/strace")
            .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=pidfd_open"])
            .args(["-e", "inject=pidfd_open:error=ENOSYS"])
            .arg(&exe)
            .args(["-t", &t.pid(), "-a", "sh", "-c", SHOW_NS])
            .variant(v)
            .run();
        run.success();
        assert_eq!(shown(&run.stdout()), t.ns(), "{v:?}");
        let dead = dead_pid().to_string();
        let run = reference("/usr/bin/strace")
            .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=pidfd_open"])
            .args(["-e", "inject=pidfd_open:error=ENOSYS"])
            .arg(&exe)
            .args(["-t", &dead, "-n", "true"])
            .variant(v)
            .run();
        run.code_is(1).stderr_is(&format!(
            "nsenter: cannot open /proc/{dead}/ns/net: No such file or directory\n"
        ));
    }
}

/// A kernel before 5.10 refuses `PIDFD_NONBLOCK` (EINVAL, injected here): nsenter opens the pidfd again without
/// it and asks uname whether setns takes it. On a newer kernel the flag alone answers: no uname.
#[test]
fn pidfd_without_nonblock_asks_uname() {
    if !std::path::Path::new("/usr/bin/strace").exists() {
        eprintln!("skipped: strace is not installed");
        return;
    }
    let v = variants()[0];
    let exe = match v {
        Variant::Rootless if is_root() => public_bin_dir().join("nsenter"),
        _ => bin("nsenter"),
    };
    let t = Target::all_eight(v);
    for (inject, unames) in [(true, 1), (false, 0)] {
        let mut strace = reference("/usr/bin/strace").args([
            "-f",
            "-qq",
            "-o",
            "/dev/stderr",
            "-e",
            "trace=pidfd_open,uname",
        ]);
        if inject {
            strace = strace.args(["-e", "inject=pidfd_open:error=EINVAL:when=1"]);
        }
        let run = strace
            .arg(&exe)
            .args(["-t", &t.pid(), "-a", "sh", "-c", SHOW_NS])
            .variant(v)
            .run();
        run.success();
        assert_eq!(shown(&run.stdout()), t.ns(), "inject {inject}");
        let trace = run.stderr();
        assert_eq!(trace.matches("uname(").count(), unames, "{trace}");
        assert_eq!(
            trace.matches("pidfd_open(").count(),
            1 + usize::from(inject),
            "{trace}"
        );
    }
}

/// nsenter is non-dumpable while it holds the target's fds; exec makes the program dumpable again (its /proc
/// files belong to it, not to root).
#[test]
fn program_is_dumpable_again() {
    if skip_unless_root() {
        return;
    }
    let t = Target::all_but_user(Variant::Root);
    let pid = t.pid();
    for extra in [&[][..], &["-p"]] {
        let mut args = vec!["-t", pid.as_str(), "-n", "-S", "65534", "-G", "65534"];
        args.extend(extra);
        args.extend(["stat", "-c", "%U", "/proc/self/status"]);
        nsenter(Variant::Root, &args)
            .success()
            .stdout_is("nobody\n");
    }
    // The waiting parent of a rootless `-p` stays non-dumpable: its /proc files belong to root, not to
    // the user it runs as, so nothing in the target's namespaces can ptrace it.
    use std::os::unix::fs::MetadataExt;
    let rootless = Target::all_eight(Variant::Rootless);
    let mut child = cmd("nsenter")
        .args(["-t", &rootless.pid(), "-U", "-p", "sleep", "2"])
        .rootless()
        .command()
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let deadline = Instant::now() + Duration::from_secs(10);
    while comm(pid) != "nsenter" || descendants(pid).is_empty() {
        assert!(Instant::now() < deadline, "nsenter did not fork");
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = std::fs::metadata(format!("/proc/{pid}/status")).unwrap();
    let st_uid = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_string();
    assert!(st_uid.contains("65534"), "{st_uid}");
    assert_eq!(
        status.uid(),
        0,
        "nsenter's /proc files should belong to root"
    );
    assert!(child.wait().unwrap().success());
}
