//! Integration tests for `netns` and `veth` (issue 7, spec/netns.md).
//!
//! Every privileged test runs in a [`Sandbox`]: a private mount namespace with a fresh tmpfs on `/run`, held
//! by a sleeping process and entered with nsenter. Everything a test makes there (the `/run/netns` mount, its
//! entries, the network namespaces they hold, the veth pairs inside them) lives only as long as the holder,
//! which the sandbox kills when dropped, also when the test fails. veth ends are only ever created inside
//! network namespaces the test made; traffic only flows between them.

use crate::harness::*;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const IP: &str = "/usr/sbin/ip";

/// A private mount namespace with its own `/run` (see the module comment).
struct Sandbox {
    holder: Child,
    pid: String,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox::with_setup("")
    }

    /// A sandbox where `setup` (shell commands) runs after `/run` is mounted.
    fn with_setup(setup: &str) -> Sandbox {
        let mut holder = Command::new("/usr/bin/unshare")
            .args(["--mount", "--propagation", "private", "--", "sh", "-euc"])
            .arg(format!(
                "mount -t tmpfs nsbox-netns-test /run; {setup}\necho ready; exec sleep 3600"
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start sandbox holder");
        let mut line = String::new();
        let stdout = holder.stdout.take().expect("holder stdout");
        let _ = BufReader::new(stdout).read_line(&mut line);
        let pid = holder.id().to_string();
        // Constructed before the check, so a failed start is cleaned up by Drop too.
        let sandbox = Sandbox { holder, pid };
        assert_eq!(line, "ready\n", "sandbox holder failed to start");
        sandbox
    }

    /// `program ARGS...` inside the sandbox, as root.
    fn run(&self, program: impl AsRef<OsStr>) -> Cmd {
        reference("/usr/bin/nsenter")
            .args(["-t", &self.pid, "-m", "--"])
            .arg(program)
    }

    /// `program ARGS...` inside the sandbox, as uid/gid 65534 without capabilities.
    fn rootless(&self, program: impl AsRef<OsStr>) -> Cmd {
        reference("/usr/bin/nsenter")
            .args(["-t", &self.pid, "-m", "--"])
            .args([
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
                "--",
            ])
            .arg(program)
            .current_dir("/")
    }

    fn netns(&self) -> Cmd {
        self.run(bin("netns"))
    }

    fn veth(&self) -> Cmd {
        self.run(bin("veth"))
    }

    fn ip(&self) -> Cmd {
        self.run(IP)
    }

    /// `sh -euc SCRIPT` inside the sandbox, with `$NETNS` and `$VETH` naming our binaries.
    fn sh(&self, script: &str) -> Run {
        self.run("sh")
            .args(["-euc", script])
            .env("NETNS", bin("netns"))
            .env("VETH", bin("veth"))
            .run()
    }

    /// The names in the sandbox's `/run/netns`.
    fn entries(&self) -> Vec<String> {
        let dir = format!("/proc/{}/root/run/netns", self.pid);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The sandbox's mountinfo lines.
    fn mountinfo(&self) -> Vec<String> {
        std::fs::read_to_string(format!("/proc/{}/mountinfo", self.pid))
            .expect("sandbox mountinfo")
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Mounts on `/run/netns` itself made by the dance (on the sandbox's tmpfs, not the host's hidden one).
    fn run_netns_mounts(&self) -> usize {
        self.mountinfo()
            .iter()
            .filter(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                f.get(4) == Some(&"/run/netns") && l.contains(" - tmpfs nsbox-netns-test ")
            })
            .count()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Deleting first makes the kernel start freeing the namespaces (and their veths) right away;
        // killing the holder then drops whatever is left.
        let _ = self.netns().args(["-all", "delete"]).run();
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// A child process of the test, killed (by its pid) and reaped when dropped, also when the test fails.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `check` for up to two seconds (namespace and device teardown is asynchronous, spec A.5).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for: {what}");
}

/// iproute2's text with `ip netns` spelled as our tool: `netns`, `netns [-all] delete`.
fn as_ours(text: &str) -> String {
    text.replace("ip [-all] netns ", "netns [-all] ")
        .replace("ip netns", "netns")
}

// ---------------------------------------------------------------------------------------------------------
// netns

#[test]
fn add_list_delete_and_the_run_netns_mount() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("nsa");
    let b = unique_name("nsb");
    // No /run/netns yet: no output at all, also with -j.
    for args in [vec!["list"], vec!["-j", "list"], vec!["-j", "-p", "list"]] {
        let ours = sb.netns().args(&args).run();
        let mut theirs_args = args.clone();
        theirs_args.insert(theirs_args.len() - 1, "netns");
        same_outcome(&ours, &sb.ip().args(&theirs_args).run());
        ours.stdout_is("");
    }
    sb.netns().args(["add", &a]).run().success().stderr_empty();
    sb.netns().args(["a", &b]).run().success();
    assert_eq!(sb.run_netns_mounts(), 1);
    assert!(sb
        .mountinfo()
        .iter()
        .any(|l| l.contains(&format!(" /run/netns/{a} ")) && l.contains(" - nsfs ")));
    sb.netns()
        .args(["add", &a])
        .run()
        .code_is(1)
        .stderr_is(&format!(
            "Cannot create namespace file \"/run/netns/{a}\": File exists\n"
        ));
    // ip sees what we made, and we list what ip lists (same order, directory order).
    same_outcome(
        &sb.netns().arg("list").run(),
        &sb.ip().args(["netns", "list"]).run(),
    );
    same_outcome(&sb.netns().run(), &sb.ip().args(["netns"]).run());
    sb.netns()
        .args(["delete", &a])
        .run()
        .success()
        .stderr_empty();
    sb.netns().args(["del", &b, "extra"]).run().success();
    assert!(sb.entries().is_empty());
    assert!(!sb.mountinfo().iter().any(|l| l.contains(" /run/netns/")));
    // /run/netns stays a shared mount, as iproute2 leaves it.
    assert_eq!(sb.run_netns_mounts(), 1);
}

#[test]
fn run_netns_gets_its_own_peer_group() {
    if skip_unless_root() {
        return;
    }
    // On systemd hosts /run is shared; the self-bind must not join its peer group (iproute2 7.x),
    // or every netns mount would show up twice.
    let sb = Sandbox::with_setup("mount --make-shared /run");
    let a = unique_name("pg");
    sb.netns().args(["add", &a]).run().success();
    let info = sb.mountinfo();
    let group = |mount_point: &str| {
        info.iter()
            .find(|l| l.split(' ').nth(4) == Some(mount_point) && l.contains("nsbox-netns-test"))
            .and_then(|l| l.split(' ').find(|f| f.starts_with("shared:")))
            .map(str::to_string)
    };
    let run_group = group("/run").expect("/run is shared");
    let netns_group = group("/run/netns").expect("/run/netns is shared");
    assert_ne!(run_group, netns_group, "{info:#?}");
    let entry = format!(" /run/netns/{a} ");
    assert_eq!(
        info.iter().filter(|l| l.contains(&entry)).count(),
        1,
        "{info:#?}"
    );
}

#[test]
fn fifty_concurrent_adds_make_one_mount() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let prefix = unique_name("c");
    sb.sh(&format!(
        "for i in $(seq 50); do \"$NETNS\" add {prefix}_$i & done; wait"
    ))
    .success();
    assert_eq!(sb.run_netns_mounts(), 1, "{:#?}", sb.mountinfo());
    assert_eq!(sb.entries().len(), 50);
    let nsfs = sb
        .mountinfo()
        .iter()
        .filter(|l| l.contains(" /run/netns/") && l.contains(" - nsfs "))
        .count();
    assert_eq!(nsfs, 50);
    let listed = sb.netns().arg("list").run();
    listed.success();
    assert_eq!(listed.stdout().lines().count(), 50);
    sb.netns().args(["-all", "delete"]).run().success();
    assert!(sb.entries().is_empty());
    assert!(!sb.mountinfo().iter().any(|l| l.contains(" /run/netns/")));
}

#[test]
fn json_and_ids_match_ip() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("ja");
    let b = unique_name("jb");
    let c = unique_name("jc");
    for n in [&a, &b, &c] {
        sb.netns().args(["add", n]).run().success();
    }
    sb.netns().args(["set", &a, "5"]).run().success();
    sb.netns().args(["set", &b, "auto"]).run().success();
    for (ours, theirs) in [
        (vec!["list"], vec!["netns", "list"]),
        (vec!["-j", "list"], vec!["-j", "netns", "list"]),
        (
            vec!["-json", "-pretty", "show"],
            vec!["-j", "-p", "netns", "show"],
        ),
        (vec!["list-id"], vec!["netns", "list-id"]),
        (vec!["--json", "list-id"], vec!["-j", "netns", "list-id"]),
        (
            vec!["-j", "-p", "list-id"],
            vec!["-j", "-p", "netns", "list-id"],
        ),
        (
            vec!["list-id", "nsid", "5"],
            vec!["netns", "list-id", "nsid", "5"],
        ),
    ] {
        same_outcome(&sb.netns().args(&ours).run(), &sb.ip().args(&theirs).run());
    }
    sb.netns()
        .arg("list")
        .run()
        .stdout_contains(&format!("{a} (id: 5)\n"))
        .stdout_contains(&format!("{c}\n"));
    sb.netns()
        .args(["-j", "list"])
        .run()
        .stdout_contains(&format!("{{\"name\":\"{a}\",\"id\":5}}"))
        .stdout_contains(&format!("{{\"name\":\"{c}\"}}"));
    // Ids as seen from inside a netns (-n), and a target nsid.
    sb.netns().args(["-n", &a, "set", &c, "22"]).run().success();
    same_outcome(
        &sb.netns().args(["-n", &a, "list-id"]).run(),
        &sb.ip().args(["-n", &a, "netns", "list-id"]).run(),
    );
    sb.netns()
        .args(["-netns", &a, "list"])
        .run()
        .stdout_contains(&format!("{c} (id: 22)\n"));
    same_outcome(
        &sb.netns().args(["list-id", "target-nsid", "5"]).run(),
        &sb.ip().args(["netns", "list-id", "target-nsid", "5"]).run(),
    );
    // A target nsid the kernel does not know fails the dump: its ack text, "Dump terminated", rc 1 (and
    // with -j the empty array iproute2 opened before the dump).
    for json in [&[][..], &["-j"], &["-j", "-p"]] {
        let ours = sb
            .netns()
            .args(json)
            .args(["list-id", "target-nsid", "1999"])
            .run();
        let theirs = sb
            .ip()
            .args(json)
            .args(["netns", "list-id", "target-nsid", "1999"])
            .run();
        same_outcome(&ours, &theirs);
        ours.code_is(1)
            .stderr_is("Error: Invalid target network namespace id.\nDump terminated\n");
    }
    // An nsid cannot change once assigned: the kernel's extended ack, rc 2.
    let again = sb.netns().args(["set", &a, "7"]).run();
    let theirs = sb.ip().args(["netns", "set", &a, "7"]).run();
    again
        .code_is(2)
        .stderr_is("Error: Peer netns already has a nsid assigned.\n");
    assert_eq!(again.stderr(), theirs.stderr());
}

/// nsids are read as iproute2 reads them (strtol, base 0): hex, octal, leading blanks; the same errors.
#[test]
fn nsid_numbers_as_ip_reads_them() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("na");
    let b = unique_name("nb");
    for n in [&a, &b] {
        sb.netns().args(["add", n]).run().success();
    }
    sb.netns().args(["set", &a, "0x10"]).run().success();
    sb.netns().args(["set", &b, " 010"]).run().success();
    sb.netns()
        .arg("list")
        .run()
        .stdout_contains(&format!("{a} (id: 16)\n"))
        .stdout_contains(&format!("{b} (id: 8)\n"));
    same_outcome(
        &sb.netns().args(["list-id", "nsid", "0x10"]).run(),
        &sb.ip().args(["netns", "list-id", "nsid", "0x10"]).run(),
    );
    for bad in ["08", "0x", "5 ", "2147483648", "-0x5"] {
        let ours = sb.netns().args(["set", &a, bad]).run();
        let theirs = sb.ip().args(["netns", "set", &a, bad]).run();
        same_outcome(&ours, &theirs);
        assert_eq!(ours.stderr(), theirs.stderr(), "set {bad}");
        let ours = sb.netns().args(["list-id", "nsid", bad]).run();
        let theirs = sb.ip().args(["netns", "list-id", "nsid", bad]).run();
        same_outcome(&ours, &theirs);
    }
    // iproute2 names a negative list-id argument "(null)"; we name it.
    sb.netns()
        .args(["list-id", "target-nsid", "-5"])
        .run()
        .code_is(255)
        .stderr_is("Error: argument \"-5\" is wrong: \"target-nsid\" value should be >= 0\n");
}

#[test]
fn identify_and_pids_match_ip() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("ia");
    sb.netns().args(["add", &a]).run().success();
    // Nothing names our own netns: one empty line.
    same_outcome(
        &sb.netns().arg("identify").run(),
        &sb.ip().args(["netns", "identify"]).run(),
    );
    sb.netns().arg("identify").run().stdout_is("\n");
    sb.netns()
        .args(["exec", &a, &bin("netns").to_string_lossy(), "identify"])
        .run()
        .success()
        .stdout_is(&format!("{a}\n"));
    // A process inside: pids lists it, identify PID names the netns.
    let sleeper = KillOnDrop(
        sb.netns()
            .args(["exec", &a, "sleep", "30"])
            .command()
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn sleeper"),
    );
    let pid = sleeper.0.id().to_string();
    eventually("sleeper in the netns", || {
        sb.netns().args(["pids", &a]).run().stdout() == format!("{pid}\n")
    });
    same_outcome(
        &sb.netns().args(["pids", &a]).run(),
        &sb.ip().args(["netns", "pids", &a]).run(),
    );
    same_outcome(
        &sb.netns().args(["identify", &pid]).run(),
        &sb.ip().args(["netns", "identify", &pid]).run(),
    );
    drop(sleeper);
}

#[test]
fn identify_prints_every_name() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("na");
    let b = unique_name("nb");
    sb.netns().args(["add", &a]).run().success();
    let sleeper = KillOnDrop(
        sb.netns()
            .args(["exec", &a, "sleep", "30"])
            .command()
            .spawn()
            .expect("spawn sleeper"),
    );
    let pid = sleeper.0.id().to_string();
    eventually("sleeper in the netns", || {
        !sb.netns().args(["pids", &a]).run().stdout().is_empty()
    });
    sb.netns().args(["attach", &b, &pid]).run().success();
    let ours = sb.netns().args(["identify", &pid]).run();
    ours.success();
    let mut names: Vec<String> = ours.stdout().lines().map(str::to_string).collect();
    names.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    // nsbox deviation (spec A.2): iproute2 prints only the last match.
    assert_eq!(names, expected);
    assert_eq!(
        sb.ip()
            .args(["netns", "identify", &pid])
            .run()
            .stdout()
            .lines()
            .count(),
        1
    );
    sb.netns()
        .args(["-j", "identify", &pid])
        .run()
        .stdout_contains(&format!("{{\"name\":\"{a}\"}}"));
    drop(sleeper);
}

#[test]
fn errors_match_ip() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("ea");
    sb.netns().args(["add", &a]).run().success();
    let long = "x".repeat(256);
    let cases: Vec<Vec<&str>> = vec![
        vec!["frob"],
        vec!["help"],
        vec!["add"],
        vec!["add", "a/b"],
        vec!["add", ""],
        vec!["add", "."],
        vec!["add", ".."],
        vec!["add", &long],
        vec!["delete"],
        vec!["delete", "nosuch"],
        vec!["delete", "a/b"],
        vec!["exec"],
        vec!["exec", &a],
        vec!["exec", "nosuch", "true"],
        vec!["exec", &a, "/nonexistent/cmd"],
        vec!["pids"],
        vec!["pids", "nosuch"],
        vec!["identify", "abc"],
        vec!["identify", "-1"],
        vec!["identify", "2147483647"],
        vec!["set"],
        vec!["set", &a],
        vec!["set", &a, "abc"],
        vec!["set", &a, "-5"],
        vec!["set", &a, "2147483648"],
        vec!["set", "nosuch", "5"],
        vec!["attach"],
        vec!["attach", "q"],
        vec!["attach", "q", "abc"],
        vec!["attach", "q", "2147483647"],
        vec!["list-id", "foo"],
        vec!["list-id", "nsid"],
        vec!["list-id", "nsid", "abc"],
        vec!["list-id", "target-nsid", "abc"],
        vec!["list-id", "nsid", "999"],
    ];
    for args in cases {
        let ours = sb.netns().args(&args).run();
        let theirs = sb.ip().arg("netns").args(&args).run();
        assert_eq!(
            (ours.code(), ours.stdout(), ours.stderr()),
            (theirs.code(), theirs.stdout(), as_ours(&theirs.stderr())),
            "netns {args:?}"
        );
    }
    // Nothing was left behind by the failed attach.
    assert_eq!(sb.entries(), vec![a.clone()]);
    sb.netns()
        .arg("-x")
        .run()
        .code_is(255)
        .stderr_is("Option \"-x\" is unknown, try \"netns -help\".\n");
}

#[test]
fn exec_passes_exit_status_and_signals_through() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("xa");
    sb.netns().args(["add", &a]).run().success();
    sb.netns()
        .args(["exec", &a, "sh", "-c", "exit 42"])
        .run()
        .code_is(42);
    let killed = sb
        .netns()
        .args(["e", &a, "sh", "-c", "kill -TERM $$"])
        .run();
    assert_eq!(killed.signal(), Some(libc::SIGTERM), "{killed:?}");
    sb.netns()
        .args(["exec", &a, "/etc"])
        .run()
        .code_is(1)
        .stderr_is("exec of \"/etc\" failed: Permission denied\n");
    // -all exec: a header per netns, rc 0 even when a command fails.
    let b = unique_name("xb");
    sb.netns().args(["add", &b]).run().success();
    let all = sb
        .netns()
        .args(["-all", "exec", "sh", "-c", "exit 3"])
        .run();
    all.code_is(0);
    assert!(all.stdout().contains(&format!("\nnetns: {a}\n")));
    assert!(all.stdout().contains(&format!("\nnetns: {b}\n")));
}

#[test]
fn exec_environment() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("ee");
    sb.netns().args(["add", &a]).run().success();
    let script = "grep ' /sys ' /proc/self/mountinfo; ls /sys/class/net; \
                  grep -c ' /sys/fs/cgroup' /proc/self/mountinfo || true";
    let run = sb.netns().args(["exec", &a, "sh", "-c", script]).run();
    run.success();
    let out = run.stdout();
    let mut lines = out.lines();
    let sys = lines.next().unwrap_or_default();
    assert!(sys.contains(&format!(" - sysfs {a} ")), "{out}");
    assert_eq!(
        lines.next(),
        Some("lo"),
        "only the netns's own devices: {out}"
    );
    let host_has_cgroup = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .contains(" /sys/fs/cgroup ");
    if host_has_cgroup {
        let count: usize = lines.next().unwrap_or("0").trim().parse().unwrap_or(0);
        assert!(count >= 1, "/sys/fs/cgroup kept reachable: {out}");
    }
    // The sysfs mount and the private mount namespace do not leak into the sandbox.
    assert!(!sb
        .mountinfo()
        .iter()
        .any(|l| l.contains(&format!(" - sysfs {a} "))));
}

/// `netns exec` turns non-dumpable before it opens the netns (checked by `reliability::checks_other`); the
/// exec'd program is dumpable again, as if run directly: root without CAP_SYS_PTRACE may read its
/// `/proc/PID/cwd`. Everything runs without CAP_SYS_PTRACE (the reader must hold every capability of the
/// process it looks at, and must not hold that one). The control, a root process made non-dumpable by an euid
/// round trip (perl is in Debian's essential set), shows the probe can tell the difference.
#[test]
fn exec_program_is_dumpable_again() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("xd");
    sb.netns().args(["add", &a]).run().success();
    let script = r#"
        probe() {
            i=0
            while [ "$(cat /proc/$1/comm)" != "$2" ]; do
                i=$((i + 1)); [ $i -lt 200 ] || { echo "no $2"; return; }; sleep 0.05
            done
            sleep 0.2
            if readlink /proc/$1/cwd >/dev/null 2>&1
            then echo dumpable; else echo not-dumpable; fi
            kill $1
        }
        "$NETNS" exec "$A" sleep 30 & probe $! sleep
        perl -e '$> = 65534; $> = 0; sleep 30' & probe $! perl
    "#;
    let run = sb
        .run("setpriv")
        .args(["--bounding-set=-sys_ptrace", "--", "sh", "-uc", script])
        .env("NETNS", bin("netns"))
        .env("A", &a)
        .run();
    run.success();
    assert_eq!(run.stdout(), "dumpable\nnot-dumpable\n", "{run:?}");
}

/// Creates `/etc/netns/NAME` on the real /etc for the test and removes it (and `/etc/netns` if we made it)
/// when dropped.
struct EtcNetns {
    dir: PathBuf,
    made_parent: bool,
}

impl EtcNetns {
    fn new(name: &str) -> EtcNetns {
        let parent = Path::new("/etc/netns");
        let made_parent = !parent.exists();
        let dir = parent.join(name);
        std::fs::create_dir_all(&dir).expect("mkdir /etc/netns/NAME");
        EtcNetns { dir, made_parent }
    }
}

impl Drop for EtcNetns {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if self.made_parent {
            // Only if empty: a concurrent user may have put something there.
            let _ = std::fs::remove_dir("/etc/netns");
        }
    }
}

#[test]
fn exec_binds_etc_netns_files() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("et");
    let etc = EtcNetns::new(&a);
    std::fs::write(etc.dir.join("hosts"), "192.0.2.7 inside-the-netns\n").unwrap();
    std::fs::write(etc.dir.join("nsbox-no-such-target"), "x\n").unwrap();
    sb.netns().args(["add", &a]).run().success();
    let run = sb.netns().args(["exec", &a, "cat", "/etc/hosts"]).run();
    run.success()
        .stdout_is("192.0.2.7 inside-the-netns\n")
        .stderr_is(&format!(
            "Bind /etc/netns/{a}/nsbox-no-such-target -> /etc/nsbox-no-such-target failed: No such file or directory\n"
        ));
    // Outside exec, /etc/hosts is the host's.
    assert_ne!(
        std::fs::read_to_string("/etc/hosts").unwrap_or_default(),
        "192.0.2.7 inside-the-netns\n"
    );
}

#[test]
fn attach_set_monitor_and_unshare_agree() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("ma");
    let mut monitor = KillOnDrop(
        sb.netns()
            .arg("monitor")
            .command()
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn monitor"),
    );
    let out = BufReader::new(monitor.0.stdout.take().expect("monitor stdout"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // monitor creates /run/netns and then watches it: probe until it reports.
    let probe = format!("/proc/{}/root/run/netns/nsbox-probe", sb.pid);
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "monitor never reported"
        );
        if std::fs::write(&probe, "").is_ok()
            && rx.recv_timeout(Duration::from_millis(200)).as_deref() == Ok("add nsbox-probe")
        {
            break;
        }
        let _ = std::fs::remove_file(&probe);
    }
    std::fs::remove_file(&probe).expect("remove probe");
    sb.netns().args(["add", &a]).run().success();
    sb.netns().args(["delete", &a]).run().success();
    let lines: Vec<String> = rx
        .iter()
        .filter(|l| !l.ends_with(" nsbox-probe"))
        .take(2)
        .collect();
    drop(monitor);
    assert_eq!(lines, vec![format!("add {a}"), format!("delete {a}")]);

    // A netns made by util-linux unshare on a /run/netns file is listed and usable.
    let u = unique_name("un");
    sb.run("touch")
        .arg(format!("/run/netns/{u}"))
        .run()
        .success();
    sb.run("/usr/bin/unshare")
        .arg(format!("--net=/run/netns/{u}"))
        .arg("true")
        .run()
        .success();
    same_outcome(
        &sb.netns().arg("list").run(),
        &sb.ip().args(["netns", "list"]).run(),
    );
    sb.netns()
        .arg("list")
        .run()
        .stdout_contains(&format!("{u}\n"));
    sb.netns()
        .args(["exec", &u, "true"])
        .run()
        .success()
        .stderr_empty();
    sb.netns().args(["delete", &u]).run().success();
}

#[test]
fn stray_files_and_pid_arguments() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("sa");
    sb.netns().args(["add", &a]).run().success();
    // A plain file in /run/netns (a crash leftover) is listed without noise, is no netns to exec, and
    // delete removes it (spec A.8).
    let stray = unique_name("st");
    sb.run("touch")
        .arg(format!("/run/netns/{stray}"))
        .run()
        .success();
    sb.netns()
        .arg("list")
        .run()
        .success()
        .stderr_empty()
        .stdout_contains(&format!("{stray}\n"));
    for args in [
        vec!["exec", stray.as_str(), "true"],
        vec!["pids", stray.as_str()],
    ] {
        let ours = sb.netns().args(&args).run();
        let theirs = sb.ip().arg("netns").args(&args).run();
        assert_eq!(
            (ours.code(), ours.stdout(), ours.stderr()),
            (theirs.code(), theirs.stdout(), as_ours(&theirs.stderr())),
            "netns {args:?}"
        );
    }
    sb.netns()
        .args(["exec", &stray, "true"])
        .run()
        .code_is(255)
        .stderr_is(&format!(
            "setting the network namespace \"{stray}\" failed: Invalid argument\n"
        ));
    // -all exec goes on past a namespace it cannot enter.
    let all = sb.netns().args(["-all", "exec", "true"]).run();
    all.code_is(0);
    assert!(all.stdout().contains(&format!("\nnetns: {a}\n")));
    sb.netns().args(["delete", &stray]).run().success();
    assert_eq!(sb.entries(), vec![a.clone()]);
    // A PID names that process's netns where no entry has that name; -n runs a subcommand inside.
    let sleeper = KillOnDrop(
        sb.netns()
            .args(["exec", &a, "sleep", "30"])
            .command()
            .spawn()
            .expect("spawn sleeper"),
    );
    let pid = sleeper.0.id().to_string();
    eventually("sleeper in the netns", || {
        !sb.netns().args(["pids", &a]).run().stdout().is_empty()
    });
    sb.netns()
        .args(["exec", &pid, &bin("netns").to_string_lossy(), "identify"])
        .run()
        .success()
        .stdout_is(&format!("{a}\n"));
    sb.netns()
        .args(["-n", &a, "identify"])
        .run()
        .success()
        .stdout_is(&format!("{a}\n"));
    let (l, r) = (unique_name("pl"), unique_name("pr"));
    sb.veth()
        .args([
            "add",
            &l,
            &r,
            "--netns",
            &pid,
            "--peer-netns",
            &format!("/run/netns/{a}"),
        ])
        .run()
        .success();
    sb.ip()
        .args(["-n", &a, "-br", "link", "show", &r])
        .run()
        .success();
    sb.veth().args(["del", &l, "--netns", &a]).run().success();
    drop(sleeper);
}

#[test]
fn rootless_matches_ip() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("ra");
    sb.netns().args(["add", &a]).run().success();
    let ours = public_bin_dir().join("netns");
    for args in [
        vec!["list"],
        vec!["identify"],
        vec!["identify", "1"],
        vec!["pids", a.as_str()],
        vec!["add", "nsbox-rootless"],
        vec!["exec", a.as_str(), "true"],
        vec!["delete", a.as_str()],
        vec!["set", a.as_str(), "3"],
        vec!["attach", "nsbox-rootless", "1"],
    ] {
        let mine = sb.rootless(&ours).args(&args).run();
        let theirs = sb.rootless(IP).arg("netns").args(&args).run();
        assert_eq!(
            (mine.code(), mine.stdout(), mine.stderr()),
            (theirs.code(), theirs.stdout(), as_ours(&theirs.stderr())),
            "rootless netns {args:?}"
        );
    }
    sb.rootless(&ours)
        .args(["add", "nsbox-rootless"])
        .run()
        .code_is(1)
        .stderr_is("mount --make-shared /run/netns failed: Operation not permitted\n");
    sb.rootless(&ours)
        .args(["exec", &a, "true"])
        .run()
        .code_is(255)
        .stderr_is(&format!(
            "setting the network namespace \"{a}\" failed: Operation not permitted\n"
        ));
    assert_eq!(sb.entries(), vec![a]);
}

#[test]
fn help_version_and_multicall() {
    cmd("netns")
        .arg("--help")
        .run()
        .success()
        .stdout_contains("netns [options] add NAME")
        .stdout_contains("--netns <name>");
    cmd("netns")
        .arg("-V")
        .run()
        .success()
        .stdout_contains("netns from nsbox");
    cmd("veth")
        .arg("--help")
        .run()
        .success()
        .stdout_contains("--peer-netns <ns>");
    cmd("veth")
        .arg("add")
        .run()
        .code_is(1)
        .stderr_is("veth: 'add' needs NAME and PEER\nTry 'veth --help' for more information.\n");
    cmd("veth")
        .args(["frob"])
        .run()
        .code_is(1)
        .stderr_contains("unknown subcommand 'frob'");
    for v in variants() {
        // Listing works for everyone (the host's /run/netns may not exist: then it is empty).
        cmd("netns")
            .arg("list")
            .variant(v)
            .run()
            .success()
            .stderr_empty();
        cmd("netns")
            .arg("list")
            .via_nsbox()
            .variant(v)
            .run()
            .success();
    }
}

// ---------------------------------------------------------------------------------------------------------
// veth

/// Two fresh network namespaces in a sandbox, and veth names for a pair between them.
struct Pair {
    sb: Sandbox,
    left: String,
    right: String,
    a: String,
    b: String,
}

impl Pair {
    fn new() -> Pair {
        let sb = Sandbox::new();
        let left = unique_name("l");
        let right = unique_name("r");
        sb.netns().args(["add", &left]).run().success();
        sb.netns().args(["add", &right]).run().success();
        Pair {
            sb,
            a: unique_name("va"),
            b: unique_name("vb"),
            left,
            right,
        }
    }

    /// Whether `dev` exists in the netns `ns`.
    fn has_link(&self, ns: &str, dev: &str) -> bool {
        self.sb
            .ip()
            .args(["-n", ns, "link", "show", dev])
            .run()
            .code()
            == 0
    }

    fn links(&self, ns: &str) -> String {
        self.sb.ip().args(["-n", ns, "-br", "link"]).run().stdout()
    }
}

#[test]
fn demo_with_ping() {
    if skip_unless_root() {
        return;
    }
    let p = Pair::new();
    let (l, r) = (&p.left, &p.right);
    p.sb.veth()
        .args(["add", &p.a, &p.b, "--netns", l, "--peer-netns", r])
        .args([
            "--addr",
            "192.168.0.1/24",
            "--peer-addr",
            "192.168.0.2/24",
            "--up",
        ])
        .run()
        .success()
        .stderr_empty();
    let addr = p.sb.ip().args(["-n", l, "-br", "addr", "show", &p.a]).run();
    addr.success().stdout_contains("192.168.0.1/24");
    let peer = p.sb.ip().args(["-n", r, "-d", "link", "show", &p.b]).run();
    peer.success().stdout_contains("UP").stdout_contains("veth");
    p.sb.ip()
        .args(["-n", r, "-br", "addr", "show", &p.b])
        .run()
        .stdout_contains("192.168.0.2/24");
    // lo was raised in both fresh namespaces.
    assert!(p.links(l).contains("lo ") && p.links(l).contains("LOOPBACK,UP"));
    assert!(p.links(r).contains("LOOPBACK,UP"));
    if Path::new("/usr/bin/ping").exists() || Path::new("/bin/ping").exists() {
        p.sb.netns()
            .args(["exec", l, "ping", "-c1", "-W1", "192.168.0.2"])
            .run()
            .success()
            .stdout_contains("1 received");
    } else {
        eprintln!("ping not installed (apt-get install iputils-ping): checking with a TCP connect");
        p.sb.netns()
            .args([
                "exec",
                l,
                "bash",
                "-c",
                "exec 3<>/dev/tcp/192.168.0.2/9 || true",
            ])
            .run()
            .stderr_contains("Connection refused");
    }
    // veth list, both sides.
    let listed = p.sb.veth().args(["list", "--netns", l]).run();
    listed.success();
    let row = listed
        .stdout()
        .lines()
        .find(|line| line.starts_with(&p.a))
        .map(str::to_string)
        .unwrap_or_default();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &cells[..4],
        &[p.a.as_str(), p.b.as_str(), r.as_str(), "UP"],
        "{row}"
    );
    assert!(cells[4].starts_with("192.168.0.1/24"), "{row}");
    p.sb.veth()
        .args(["list", "--netns", r, "-J"])
        .run()
        .success()
        .stdout_contains(&format!("\"name\":\"{}\",\"ifindex\":", p.b))
        .stdout_contains(&format!("\"peer\":\"{}\"", p.a))
        .stdout_contains(&format!("\"peer_netns\":\"{l}\""))
        .stdout_contains("\"addresses\":[\"192.168.0.2/24\"");
    // Deleting the namespaces removes the pair (asynchronously).
    p.sb.netns().args(["delete", l]).run().success();
    eventually("peer gone with its pair", || !p.has_link(r, &p.b));
    p.sb.netns().args(["delete", r]).run().success();
}

#[test]
fn add_is_atomic() {
    if skip_unless_root() {
        return;
    }
    let p = Pair::new();
    let (l, r) = (&p.left, &p.right);
    // The address step fails after the pair exists: the pair is deleted before exit.
    p.sb.veth()
        .args(["add", &p.a, &p.b, "--netns", l, "--peer-netns", r])
        .args(["--addr", "10.251.0.1/24", "--addr", "10.251.0.1/24"])
        .run()
        .code_is(2)
        .stderr_is("veth: Error: ipv4: Address already assigned.\n");
    assert!(!p.has_link(l, &p.a), "{}", p.links(l));
    assert!(!p.has_link(r, &p.b), "{}", p.links(r));
    // The same on the peer's side, with --up.
    p.sb.veth()
        .args(["add", &p.a, &p.b, "--netns", l, "--peer-netns", r, "--up"])
        .args([
            "--peer-addr",
            "fd00:251::2/64",
            "--peer-addr",
            "fd00:251::2/64",
        ])
        .run()
        .code_is(2)
        .stderr_contains("veth: ");
    assert!(!p.has_link(l, &p.a) && !p.has_link(r, &p.b));
    // A bogus namespace is found before anything is created.
    p.sb.veth()
        .args([
            "add",
            &p.a,
            &p.b,
            "--netns",
            l,
            "--peer-netns",
            "nsbox-no-such-ns",
        ])
        .run()
        .code_is(1)
        .stderr_is(
            "veth: cannot open network namespace \"nsbox-no-such-ns\": No such file or directory\n",
        );
    // A file that is no netns: the kernel refuses the create itself.
    p.sb.veth()
        .args([
            "add",
            &p.a,
            &p.b,
            "--netns",
            l,
            "--peer-netns",
            "/etc/hostname",
        ])
        .run()
        .code_is(2);
    assert!(!p.has_link(l, &p.a) && !p.has_link(r, &p.b));
    assert_eq!(p.links(l).lines().count(), 1, "only lo: {}", p.links(l));
    assert_eq!(p.links(r).lines().count(), 1, "only lo: {}", p.links(r));
}

#[test]
fn add_options_del_and_errors() {
    if skip_unless_root() {
        return;
    }
    let p = Pair::new();
    let (l, r) = (&p.left, &p.right);
    p.sb.veth()
        .args([
            "add",
            &p.a,
            &p.b,
            "--netns",
            l,
            "--peer-netns",
            r,
            "--mtu",
            "9000",
        ])
        .args([
            "--addr=fd00:7::1/64",
            "--addr",
            "10.7.0.1",
            "--peer-addr",
            "fd00:7::2/64",
        ])
        .run()
        .success();
    let shown = p.sb.ip().args(["-n", l, "addr", "show", &p.a]).run();
    shown
        .success()
        .stdout_contains("mtu 9000")
        .stdout_contains("inet 10.7.0.1/32")
        .stdout_contains("inet6 fd00:7::1/64")
        .stdout_contains("state DOWN");
    p.sb.ip()
        .args(["-n", r, "link", "show", &p.b])
        .run()
        .stdout_contains("mtu 9000");
    // Same names again: the kernel's answer, rc 2.
    p.sb.veth()
        .args(["add", &p.a, &p.b, "--netns", l, "--peer-netns", r])
        .run()
        .code_is(2)
        .stderr_is("veth: RTNETLINK answers: File exists\n");
    // Equal names are fine in different namespaces, not in one.
    p.sb.veth()
        .args(["add", "nsbsame", "nsbsame", "--netns", l, "--peer-netns", r])
        .run()
        .success();
    p.sb.veth()
        .args([
            "add",
            "nsbsame2",
            "nsbsame2",
            "--netns",
            l,
            "--peer-netns",
            l,
        ])
        .run()
        .code_is(1)
        .stderr_contains("same network namespace");
    p.sb.veth()
        .args(["del", "nsbsame", "--netns", r])
        .run()
        .success();
    eventually("both ends of nsbsame gone", || !p.has_link(l, "nsbsame"));
    // del: by name, either end, checks the kind.
    p.sb.veth()
        .args(["del", "lo", "--netns", l])
        .run()
        .code_is(1)
        .stderr_is("veth: lo is not a veth device\n");
    p.sb.veth()
        .args(["del", "nsbnope", "--netns", l])
        .run()
        .code_is(1)
        .stderr_is("veth: Cannot find device \"nsbnope\"\n");
    p.sb.veth()
        .args(["del", &p.b, "--netns", r])
        .run()
        .success();
    assert!(!p.has_link(l, &p.a));
    p.sb.veth()
        .args(["list", "--netns", l])
        .run()
        .success()
        .stdout_is("NAME PEER PEER-NETNS STATE ADDRESSES\n");
    p.sb.veth()
        .args(["list", "--netns", l, "-J"])
        .run()
        .stdout_is("[]\n");
    // Client-side checks, before any request.
    for (args, message) in [
        (
            vec!["add", "a/b", "x"],
            "veth: invalid interface name 'a/b'\n",
        ),
        (
            vec!["add", "x", "a b"],
            "veth: invalid interface name 'a b'\n",
        ),
        (vec!["add", ".", "x"], "veth: invalid interface name '.'\n"),
        (
            vec!["add", "sixteen_bytes_xx", "x"],
            "veth: interface name too long (max 15 bytes): 'sixteen_bytes_xx'\n",
        ),
    ] {
        p.sb.veth()
            .args(&args)
            .args(["--netns", l, "--peer-netns", r])
            .run()
            .code_is(1)
            .stderr_is(message);
    }
    p.sb.veth()
        .args([
            "add",
            "x0",
            "x1",
            "--netns",
            l,
            "--peer-netns",
            r,
            "--addr",
            "10.0.0.1/33",
        ])
        .run()
        .code_is(1)
        .stderr_is(
            "veth: invalid address '10.0.0.1/33'\nTry 'veth --help' for more information.\n",
        );
    p.sb.veth()
        .args([
            "add",
            "x0",
            "x1",
            "--netns",
            l,
            "--peer-netns",
            r,
            "--mtu",
            "40",
        ])
        .run()
        .code_is(1)
        .stderr_contains("invalid MTU '40'");
    assert_eq!(p.links(l).lines().count(), 1, "only lo: {}", p.links(l));
}

#[test]
fn veth_rootless_is_refused() {
    if skip_unless_root() {
        return;
    }
    let p = Pair::new();
    let (l, r) = (&p.left, &p.right);
    p.sb.rootless(public_bin_dir().join("veth"))
        .args(["add", &p.a, &p.b, "--netns", l, "--peer-netns", r])
        .run()
        .code_is(2)
        .stderr_is("veth: RTNETLINK answers: Operation not permitted\n");
    assert!(!p.has_link(l, &p.a) && !p.has_link(r, &p.b));
    // Entering another netns to list it needs privileges too.
    p.sb.rootless(public_bin_dir().join("veth"))
        .args(["list", "--netns", &format!("/run/netns/{l}")])
        .run()
        .code_is(1)
        .stderr_contains("Operation not permitted");
}

#[test]
fn lsns_shows_the_names() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("ls");
    sb.netns().args(["add", &a]).run().success();
    sb.run(bin("lsns"))
        .args(["-t", "net", "-n", "-o", "NPROCS,NSFS"])
        .run()
        .success()
        .stdout_contains(&format!("0 /run/netns/{a}\n"));
}

/// `netns exec` hands the caller's SIGPIPE disposition to the command, as `ip netns exec` does: the default
/// (so `netns exec X yes | head` ends `yes`), or a caller's deliberate SIG_IGN; also through the multicall.
#[test]
fn exec_keeps_callers_sigpipe() {
    if skip_unless_root() {
        return;
    }
    let sb = Sandbox::new();
    let a = unique_name("sp");
    sb.netns().args(["add", &a]).run().success();
    let status = ["grep", "^SigIgn", "/proc/self/status"];
    for ignored in [true, false] {
        let with = |c: Cmd| if ignored { c.sigpipe_ignored() } else { c };
        let theirs = with(sb.ip().args(["netns", "exec", &a]).args(status)).run();
        theirs.success();
        assert_eq!(sigign_has_sigpipe(&theirs.stdout()), ignored);
        let ours = with(sb.netns().args(["exec", &a]).args(status)).run();
        same_outcome(&ours, &theirs);
        let multicall = with(
            sb.run(bin("nsbox"))
                .args(["netns", "exec", &a])
                .args(status),
        )
        .run();
        same_outcome(&multicall, &theirs);
    }
    sb.netns().args(["delete", &a]).run().success();
}
