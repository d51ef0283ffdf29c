//! Integration tests for unshare (issue #3, spec unshare.md): options, maps, persistence, time namespaces,
//! fork/signals/exit codes, differential runs against the installed util-linux 2.38.1.

use crate::harness::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const REF: &str = "/usr/bin/unshare";

/// The unshare binary a variant runs (the world-readable copy for rootless runs), for scripts.
fn unshare_path(v: Variant) -> String {
    match v {
        Variant::Root => bin("unshare").display().to_string(),
        // Not root: we already are the unprivileged user and run the build directly.
        Variant::Rootless if !is_root() => bin("unshare").display().to_string(),
        Variant::Rootless => public_bin_dir().join("unshare").display().to_string(),
    }
}

/// PATH without root's private directories: `nobody` gets EACCES searching those, which makes execvp report
/// EACCES (126) instead of ENOENT (127), in util-linux as in nsbox.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn unshare(v: Variant) -> Cmd {
    cmd("unshare").variant(v).env("PATH", PATH)
}

/// The mount points of the test's mount namespace, without /run/netns entries: other test modules running at
/// the same time add and remove those, and nothing here persists to /run/netns.
fn mounts_here() -> Vec<String> {
    mount_points()
        .into_iter()
        .filter(|m| !m.starts_with("/run/netns/"))
        .collect()
}

/// Asserts that a run failed with exit 1 and exactly `message` on stderr, and that it left no mount behind.
fn fails_cleanly(args: &[&str], v: Variant, message: &str) {
    let before = mounts_here();
    unshare(v).args(args).run().code_is(1).stderr_is(message);
    assert_eq!(before, mounts_here(), "mounts changed: {args:?}");
}

#[test]
fn help_and_version() {
    let run = cmd("unshare").arg("--help").run();
    run.success().stderr_empty();
    let help = run.stdout();
    assert!(help.starts_with(
        "\nUsage:\n unshare [options] [<program> [<argument>...]]\n\nRun a program with some namespaces unshared from the parent.\n\nOptions:\n"
    ));
    for long in [
        "--mount[=<file>]",
        "--uts[=<file>]",
        "--ipc[=<file>]",
        "--net[=<file>]",
        "--pid[=<file>]",
        "--user[=<file>]",
        "--cgroup[=<file>]",
        "--time[=<file>]",
        "--fork",
        "--kill-child[=<signame>]",
        "--forward-signals",
        "--mount-proc[=<dir>]",
        "--mount-binfmt[=<dir>]",
        "--load-interp",
        "--propagation slave|shared|private|unchanged",
        "--root=<dir>",
        "--wd=<dir>",
        "--setuid <uid>",
        "--setgid <gid>",
        "--map-user=<uid>|<name>",
        "--map-group=<gid>|<name>",
        "--map-root-user",
        "--map-current-user",
        "--map-users=<inneruid>:<outeruid>:<count>",
        "--map-groups=<innergid>:<outergid>:<count>",
        "--map-auto",
        "--map-subids",
        "--owner=<uid>:<gid>",
        "--setgroups allow|deny",
        "--keep-caps",
        "--monotonic <offset>",
        "--boottime <offset>",
    ] {
        assert!(help.contains(long), "--help lacks {long}");
    }
    assert!(help.ends_with(
        " -h, --help                display this help\n -V, --version             display version\n\nFor more details see unshare(1).\n"
    ));
    cmd("unshare").arg("-V").run().success().stdout_is(&format!(
        "unshare from nsbox {}\n",
        env!("CARGO_PKG_VERSION")
    ));
}

/// getopt errors are prefixed with argv[0] as invoked; the multicall binary uses the applet name.
#[test]
fn getopt_errors() {
    let try_help = "Try 'unshare --help' for more information.\n";
    for (args, message) in [
        (&["--bogus"][..], "unrecognized option '--bogus'"),
        (&["-x"], "invalid option -- 'x'"),
        (&["-n/tmp/x"], "invalid option -- '/'"),
        (&["-m=/x"], "invalid option -- '='"),
        (
            &["--propagation"],
            "option '--propagation' requires an argument",
        ),
        (&["--fork=1"], "option '--fork' doesn't allow an argument"),
        (
            &["--fo"],
            "option '--fo' is ambiguous; possibilities: '--fork' '--forward-signals'",
        ),
    ] {
        for v in variants() {
            let run = unshare(v).args(args).run();
            run.code_is(1);
            let err = run.stderr();
            assert!(
                err.ends_with(&format!("unshare: {message}\n{try_help}")),
                "{args:?}: {err}"
            );
        }
        cmd("unshare")
            .via_nsbox()
            .args(args)
            .run()
            .code_is(1)
            .stderr_is(&format!("unshare: {message}\n{try_help}"));
    }
    // getopt quotes the whole word, `=value` included, when the name does not match (2.38 agrees; these
    // prefixes have the same candidates in both).
    for args in [
        &["--bogus=x"][..],
        &["--k=x"],
        &["--setg=x", "true"],
        &["--p=x"],
    ] {
        let ours = unshare(Variant::Root).args(args).run();
        let theirs = reference(REF).args(args).run();
        ours.code_is(1);
        assert_eq!(
            ours.stderr()
                .replace(&bin("unshare").display().to_string(), "unshare"),
            theirs.stderr().replace(REF, "unshare"),
            "{args:?}"
        );
    }
}

/// Optional arguments exist only as `--opt=value`: the separate word is the program.
#[test]
fn optional_arguments_are_glued_only() {
    // `--kill-child SIGTERM true` runs `SIGTERM`.
    unshare(Variant::Rootless)
        .args(["--kill-child", "SIGTERM", "true"])
        .run()
        .code_is(127)
        .stderr_is("unshare: failed to execute SIGTERM: No such file or directory\n");
    // Parsing stops at the first operand: `-l` belongs to `ls`... here to `echo`.
    unshare(Variant::Rootless)
        .args(["-r", "echo", "-n", "x"])
        .run()
        .success()
        .stdout_is("x");
    unshare(Variant::Rootless)
        .args(["-r", "--", "echo", "-r"])
        .run()
        .success()
        .stdout_is("-r\n");
    // Unique prefixes.
    unshare(Variant::Rootless)
        .args(["--map-r", "id", "-u"])
        .run()
        .success()
        .stdout_is("0\n");
}

#[test]
fn bad_values_fail_before_anything_is_created() {
    for v in variants() {
        for (args, message) in [
            (&["--map-user=nsbt-nosuch", "true"][..], "failed to parse uid 'nsbt-nosuch'"),
            (&["--map-group=nsbt-nosuch", "true"], "failed to parse gid 'nsbt-nosuch'"),
            (&["--map-user=-1", "true"], "failed to parse uid '-1'"),
            (
                &["--map-user=4294967295", "true"],
                "failed to parse uid '4294967295'",
            ),
            (&["--map-users=4294967295:0:1", "true"], "invalid mapping '4294967295:0:1'"),
            (&["-S", "abc", "true"], "failed to parse uid: 'abc'"),
            (&["-G", "abc", "true"], "failed to parse gid: 'abc'"),
            (&["--owner=1", "true"], "failed to parse owner"),
            (&["--map-users=0:1", "true"], "invalid mapping '0:1'"),
            (&["--map-users=a:b:c", "true"], "invalid mapping 'a:b:c'"),
            (&["--map-groups=0:1000:0", "true"], "invalid mapping '0:1000:0'"),
            (&["--map-users=0:4294967290:100", "true"], "invalid mapping '0:4294967290:100'"),
            (
                &["--map-users=0:100000:10", "--map-users=5:200000:10", "true"],
                "invalid mapping '0:100000:10 5:200000:10': overlapping id ranges '0 100000 10' and '5 200000 10' (inner ids overlap)",
            ),
            (&["--propagation", "bogus", "true"], "unsupported propagation mode: bogus"),
            (&["--setgroups", "maybe", "true"], "unsupported --setgroups argument 'maybe'"),
            (
                &["--setgroups=allow", "--map-group=0", "true"],
                "options --setgroups=allow and --map-group are mutually exclusive",
            ),
            (
                &["-r", "--setgroups=allow", "true"],
                "options --setgroups=allow and --map-group are mutually exclusive",
            ),
            (
                &["--monotonic", "5", "true"],
                "options --monotonic and --boottime require unsharing of a time namespace (-T)",
            ),
            (&["-T", "--monotonic", "x", "true"], "failed to parse monotonic offset: 'x'"),
            (&["-T", "--boottime", "1.5", "true"], "failed to parse boottime offset: '1.5'"),
            (&["--kill-child=NOSUCHSIG", "true"], "unknown signal: NOSUCHSIG"),
            (&["--kill-child=15", "true"], "unknown signal: 15"),
            (&["--init", "true"], "option --init requires --pid"),
        ] {
            fails_cleanly(args, v, &format!("unshare: {message}\n"));
        }
        // 341 ranges: one more line than the kernel takes; the message names the first and the last.
        let mut args: Vec<String> = (0..341u32)
            .map(|i| format!("--map-users={}:{}:10", i * 10, 100000 + i * 10))
            .collect();
        args.push("true".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails_cleanly(&args, v, "unshare: invalid mapping '0:100000:10 ... 3400:103400:10': too many id map lines (341, the kernel takes at most 340)\n");
        // Or uses a page of text in fewer lines.
        let mut args: Vec<String> = (0..200u32)
            .map(|i| {
                format!(
                    "--map-users={}:{}:1",
                    4000000000 + i * 2,
                    4000000000 + i * 2
                )
            })
            .collect();
        args.push("true".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails_cleanly(&args, v, "unshare: invalid mapping '4000000000:4000000000:1 ... 4000000398:4000000398:1': id map text too long (the kernel takes at most 4095 bytes)\n");
    }
}

/// Failures after unshare(2): one message, exit 1, nothing left mounted here.
#[test]
fn failures_after_unshare() {
    for v in variants() {
        fails_cleanly(
            &["-r", "-R", "/nonexistent", "true"],
            v,
            "unshare: cannot change root directory to '/nonexistent': No such file or directory\n",
        );
        fails_cleanly(
            &["-r", "-w", "/nonexistent", "true"],
            v,
            "unshare: cannot change directory to /nonexistent: No such file or directory\n",
        );
        fails_cleanly(
            &["-r", "--mount-proc", "true"],
            v,
            "unshare: mount /proc failed: Operation not permitted\n",
        );
        fails_cleanly(
            &["-r", "-G", "0", "true"],
            v,
            "unshare: setgroups failed: Operation not permitted\n",
        );
        fails_cleanly(
            &["-r", "-S", "5", "true"],
            v,
            "unshare: setuid() failed: Invalid argument\n",
        );
        fails_cleanly(
            &["-rT", "--monotonic", "-999999999999", "true"],
            v,
            "unshare: failed to write to /proc/self/timens_offsets: Numerical result out of range\n",
        );
        unshare(v)
            .args(["-r", "nsbt-nosuch-program"])
            .run()
            .code_is(127)
            .stderr_is(
                "unshare: failed to execute nsbt-nosuch-program: No such file or directory\n",
            );
        unshare(v)
            .args(["-r", "/etc/passwd"])
            .run()
            .code_is(126)
            .stderr_is("unshare: failed to execute /etc/passwd: Permission denied\n");
    }
    // Rootless range maps need newuidmap; without it: util-linux's exec message and code.
    Cmd::new("/bin/sh")
        .rootless()
        .arg("-c")
        .arg(format!(
            "PATH=/nonexistent exec {} --map-users=0:100000:10 /bin/true",
            unshare_path(Variant::Rootless)
        ))
        .run()
        .code_is(127)
        .stderr_is("unshare: failed to execute newuidmap: No such file or directory\n");
    // Rootless without a user namespace: the reference message plus one line naming the fix.
    unshare(Variant::Rootless)
        .args(["-n", "true"])
        .run()
        .code_is(1)
        .stderr_is("unshare: unshare failed: Operation not permitted\nunshare: creating a net namespace needs CAP_SYS_ADMIN; add -r or --user\n");
    unshare(Variant::Rootless)
        .args(["-i", "true"])
        .run()
        .code_is(1)
        .stderr_is("unshare: unshare failed: Operation not permitted\nunshare: creating an ipc namespace needs CAP_SYS_ADMIN; add -r or --user\n");
}

/// The headline use, root and rootless: the new proc shows only the new pid namespace.
#[test]
fn mount_proc_ps_sees_only_the_new_pid_namespace() {
    for v in variants() {
        let before = mounts_here();
        let run = unshare(v)
            .args([
                "-Ur",
                "--pid",
                "--fork",
                "--mount-proc",
                "ps",
                "-eo",
                "pid=,comm=",
            ])
            .run();
        run.success();
        assert_eq!(
            run.stdout().split_whitespace().collect::<Vec<_>>(),
            ["1", "ps"],
            "{v:?}"
        );
        assert_eq!(before, mounts_here());
    }
}

#[test]
fn single_maps() {
    for v in variants() {
        let (uid, gid) = match v {
            Variant::Root => ("0", "0"),
            Variant::Rootless => ("65534", "65534"),
        };
        let maps = "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u; id -g";
        let run = unshare(v).args(["-r", "sh", "-c", maps]).run();
        run.success();
        assert_eq!(
            run.stdout().split_whitespace().collect::<Vec<_>>(),
            ["0", uid, "1", "0", gid, "1", "deny", "0", "0"]
        );
        let run = unshare(v).args(["-c", "sh", "-c", maps]).run();
        run.success();
        assert_eq!(
            run.stdout().split_whitespace().collect::<Vec<_>>(),
            [uid, uid, "1", gid, gid, "1", "deny", uid, gid]
        );
        let run = unshare(v)
            .args(["--map-user=daemon", "--map-group=bin", "sh", "-c", maps])
            .run();
        run.success();
        assert_eq!(
            run.stdout().split_whitespace().collect::<Vec<_>>(),
            ["1", uid, "1", "2", gid, "1", "deny", "1", "2"]
        );
        // The last of -r/-c/--map-user wins.
        unshare(v)
            .args(["-r", "--map-user=7", "id", "-u"])
            .run()
            .success()
            .stdout_is("7\n");
        // nsbox deviation: setgroups is written before gid_map, so an explicit deny works with -r.
        unshare(v)
            .args(["-r", "--setgroups=deny", "cat", "/proc/self/setgroups"])
            .run()
            .success()
            .stdout_is("deny\n");
    }
}

/// Range maps written by root directly, with hole punching (spec §4.3).
#[test]
fn range_maps_as_root() {
    if skip_unless_root() {
        return;
    }
    let lines = |args: &[&str]| -> Vec<String> {
        let run = unshare(Variant::Root)
            .args(args)
            .args(["cat", "/proc/self/uid_map"])
            .run();
        run.success();
        run.stdout()
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };
    for (args, want) in [
        (
            &["--map-user=5", "--map-users=0:100000:10"][..],
            &["5 0 1", "0 100000 5", "6 100005 4"][..],
        ),
        (
            &["--map-user=0", "--map-users=0:100000:10"],
            &["0 0 1", "1 100000 9"],
        ),
        (
            &["--map-user=100", "--map-users=0:0:10"],
            &["100 0 1", "0 1 9"],
        ),
        (
            &["--map-user=5", "--map-users=0:0:10"],
            &["5 0 1", "0 1 5", "6 6 4"],
        ),
        (
            &["--map-user=109", "--map-users=100:200:10"],
            &["109 0 1", "100 200 9"],
        ),
        (
            &["--map-user=100", "--map-users=100:200:10"],
            &["100 0 1", "101 200 9"],
        ),
        (&["--map-user=0", "--map-users=0:0:1"], &["0 0 1"]),
        (
            &["-r", "--map-users=1:100000:65536"],
            &["0 0 1", "1 100000 65536"],
        ),
        (
            &["--map-users=all", "--map-groups=all", "-r"],
            &["0 0 1", "1 1 4294967294"],
        ),
        (
            &["--map-users=0:100000:10", "--map-users=10:200000:10"],
            &["0 100000 10", "10 200000 10"],
        ),
        (&["--map-users=100000,0,65536"], &["0 100000 65536"]),
    ] {
        assert_eq!(lines(args), want, "{args:?}");
    }
    // Which kinds get `deny` (observed 2.42, spec §4.4).
    let setgroups = |args: &[&str]| {
        let run = unshare(Variant::Root)
            .args(args)
            .args(["cat", "/proc/self/setgroups"])
            .run();
        run.success();
        run.stdout()
    };
    assert_eq!(setgroups(&["-r", "--map-users=1:100000:10"]), "deny\n");
    assert_eq!(setgroups(&["-r", "--map-groups=1:100000:10"]), "allow\n");
    assert_eq!(setgroups(&["--map-groups=0:100000:10"]), "allow\n");
    assert_eq!(
        setgroups(&["--map-groups=0:100000:10", "--setgroups=deny"]),
        "deny\n"
    );
    // --owner: the maps are written by the map process with the original ids; the program runs as the owner.
    let run = unshare(Variant::Root)
        .args(["--owner", "65534:65534", "-r", "sh", "-c"])
        .arg("cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u")
        .run();
    run.success();
    assert_eq!(
        run.stdout().split_whitespace().collect::<Vec<_>>(),
        ["0", "0", "1", "0", "0", "1", "allow", "65534"]
    );
}

/// Restores a file byte for byte (and its mode) when dropped, also on panic.
struct RestoreFile {
    path: &'static str,
    content: Vec<u8>,
}

impl RestoreFile {
    fn new(path: &'static str) -> RestoreFile {
        RestoreFile {
            path,
            content: std::fs::read(path).unwrap_or_default(),
        }
    }

    fn append(&self, line: &str) {
        let mut content = self.content.clone();
        if !content.is_empty() && !content.ends_with(b"\n") {
            content.push(b'\n');
        }
        content.extend_from_slice(line.as_bytes());
        std::fs::write(self.path, content).unwrap();
    }
}

impl Drop for RestoreFile {
    fn drop(&mut self) {
        let _ = std::fs::write(self.path, &self.content);
    }
}

/// Every test that needs /etc/subuid entries lives here, so they never race each other.
#[test]
fn subordinate_id_maps() {
    if skip_unless_root() {
        return;
    }
    let subuid = RestoreFile::new("/etc/subuid");
    let subgid = RestoreFile::new("/etc/subgid");
    // A line of another user first: nsbox matches the name (2.42 would take the first line).
    subuid.append("daemon:5000:10\nroot:100000:65536\nnobody:300000:65536\n");
    subgid.append("daemon:5000:10\nroot:100000:65536\nnobody:300000:65536\n");
    let maps = |v: Variant, args: &[&str]| -> Vec<String> {
        let run = unshare(v)
            .args(args)
            .args(["cat", "/proc/self/uid_map", "/proc/self/gid_map"])
            .run();
        run.success();
        run.stdout()
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };
    assert_eq!(
        maps(Variant::Root, &["--map-auto"]),
        ["0 100000 65536", "0 100000 65536"]
    );
    assert_eq!(
        maps(Variant::Root, &["-r", "--map-auto"]),
        ["0 0 1", "1 100000 65535", "0 0 1", "1 100000 65535"]
    );
    assert_eq!(
        maps(Variant::Root, &["--map-subids"]),
        ["100000 100000 65536", "100000 100000 65536"]
    );
    if Path::new("/usr/bin/newuidmap").exists() {
        // Rootless: newuidmap/newgidmap check /etc/subuid and write the maps.
        assert_eq!(
            maps(Variant::Rootless, &["--map-auto"]),
            ["0 300000 65536", "0 300000 65536"]
        );
        assert_eq!(
            maps(Variant::Rootless, &["-r", "--map-auto"]),
            ["0 65534 1", "1 300000 65535", "0 65534 1", "1 300000 65535"]
        );
        // Ranges the user does not own: newuidmap refuses, its status is ours.
        let run = unshare(Variant::Rootless)
            .args(["--map-users=0:100000:10", "true"])
            .run();
        run.code_is(1).stderr_contains("newuidmap");
    } else {
        eprintln!(
            "skipped rootless range maps: newuidmap is not installed (apt-get install uidmap)"
        );
    }
    // No line for the user at all.
    drop(subuid);
    drop(subgid);
    let _subuid = RestoreFile::new("/etc/subuid");
    let _subgid = RestoreFile::new("/etc/subgid");
    std::fs::write("/etc/subuid", "daemon:5000:10\n").unwrap();
    fails_cleanly(
        &["--map-auto", "true"],
        Variant::Root,
        "unshare: no line matching user \"root\" in /etc/subuid\n",
    );
    fails_cleanly(
        &["--map-users=auto", "true"],
        Variant::Rootless,
        "unshare: no line matching user \"nobody\" in /etc/subuid\n",
    );
}

#[test]
fn exit_codes_and_signals_pass_through() {
    for v in variants() {
        for fork in [true, false] {
            let f: &[&str] = if fork { &["-r", "-f"] } else { &["-r"] };
            unshare(v)
                .args(f)
                .args(["sh", "-c", "exit 3"])
                .run()
                .code_is(3);
            let run = unshare(v).args(f).args(["sh", "-c", "kill $$"]).run();
            assert_eq!(run.signal(), Some(libc::SIGTERM), "{}", run.what);
            for (sig, name) in [
                (libc::SIGHUP, "HUP"),
                (libc::SIGKILL, "KILL"),
                (libc::SIGSEGV, "SEGV"),
            ] {
                let run = unshare(v)
                    .args(f)
                    .args(["sh", "-c", &format!("kill -{name} $$")])
                    .run();
                assert_eq!(run.signal(), Some(sig), "{}", run.what);
                // unshare itself must not dump core when it re-raises the child's signal.
                assert!(
                    !run.output.status.to_string().contains("core dumped"),
                    "{}",
                    run.what
                );
            }
        }
        // No namespace option at all: unshare(0) and run the program.
        unshare(v).args(["sh", "-c", "exit 4"]).run().code_is(4);
    }
}

/// Starts `unshare ARGS`, waits for the program's first line (e.g. "ready" or its pid), returns the process and
/// that line.
fn start_ready(args: &[&str]) -> (std::process::Child, String) {
    let mut child = cmd("unshare")
        .args(args)
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(!line.is_empty(), "no ready line from {args:?}");
    (child, line.trim().to_string())
}

fn send(pid: u32, sig: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions; `pid` is a process this test started.
    unsafe { libc::kill(pid as i32, sig) };
}

fn wait_with_timeout(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("unshare did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_to_the_parent() {
    use std::os::unix::process::ExitStatusExt;
    // Default: SIGINT/SIGTERM are blocked in the parent; it waits for the child's own exit.
    let (mut child, _) = start_ready(&["-f", "sh", "-c", "echo ready; sleep 0.5; exit 7"]);
    send(child.id(), libc::SIGTERM);
    send(child.id(), libc::SIGINT);
    assert_eq!(wait_with_timeout(&mut child).code(), Some(7));

    // --forward-signals: the child gets the SIGTERM, traps it and exits 5.
    let (mut child, _) = start_ready(&[
        "--forward-signals",
        "sh",
        "-c",
        "trap 'exit 5' TERM; echo ready; sleep 5 & wait",
    ]);
    send(child.id(), libc::SIGTERM);
    assert_eq!(wait_with_timeout(&mut child).code(), Some(5));

    // Forwarded to a child without a handler: both die of SIGTERM.
    let (mut child, _) =
        start_ready(&["--forward-signals", "sh", "-c", "echo ready; exec sleep 5"]);
    send(child.id(), libc::SIGTERM);
    assert_eq!(wait_with_timeout(&mut child).signal(), Some(libc::SIGTERM));

    // Through --init: unshare forwards to PID 1, which passes it on to the program.
    let (mut child, _) = start_ready(&[
        "-r",
        "--pid",
        "--init",
        "--forward-signals",
        "sh",
        "-c",
        "trap 'exit 5' TERM; echo ready; sleep 5 & wait",
    ]);
    send(child.id(), libc::SIGTERM);
    assert_eq!(wait_with_timeout(&mut child).code(), Some(5));

    // Other signals keep their default action: SIGHUP kills the parent alone (the child is ours to end).
    let (mut child, line) = start_ready(&["-f", "sh", "-c", "echo $$; exec sleep 30"]);
    send(child.id(), libc::SIGHUP);
    assert_eq!(wait_with_timeout(&mut child).signal(), Some(libc::SIGHUP));
    let pid: i32 = line.parse().unwrap();
    send(pid as u32, libc::SIGKILL);
    assert!(process_gone(pid));
}

fn process_gone(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z') =>
            {
                return true
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    false
}

#[test]
fn kill_child_when_the_parent_is_killed() {
    for (option, survives) in [
        (None, true),
        (Some("--kill-child"), false),
        (Some("--kill-child=SIGTERM"), false),
    ] {
        let mut args = vec!["-f"];
        args.extend(option);
        args.extend(["sh", "-c", "echo $$; exec sleep 30"]);
        let (mut child, line) = start_ready(&args);
        let pid: i32 = line.parse().unwrap();
        send(child.id(), libc::SIGKILL);
        let _ = wait_with_timeout(&mut child);
        if survives {
            std::thread::sleep(Duration::from_millis(200));
            assert!(
                !process_gone_now(pid),
                "child {pid} died without --kill-child"
            );
            send(pid as u32, libc::SIGKILL);
        }
        assert!(process_gone(pid), "child {pid} survived ({option:?})");
    }
}

fn process_gone_now(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
    }
}

fn uptime() -> f64 {
    std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn time_namespace_offsets() {
    for v in variants() {
        for fork in [false, true] {
            let mut args = vec!["-r", "-T", "--monotonic", "-5", "--boottime", "100000"];
            if fork {
                args.push("--fork");
            }
            let host = uptime();
            let run = unshare(v)
                .args(&args)
                .args(["sh", "-c", "cat /proc/self/timens_offsets /proc/uptime"])
                .run();
            run.success();
            let out = run.stdout();
            let lines: Vec<Vec<&str>> = out
                .lines()
                .map(|l| l.split_whitespace().collect())
                .collect();
            assert_eq!(lines[0], ["monotonic", "-5", "0"], "{out}");
            assert_eq!(lines[1], ["boottime", "100000", "0"], "{out}");
            let inside: f64 = lines[2][0].parse().unwrap();
            assert!(
                inside >= host + 100000.0 && inside < host + 100060.0,
                "uptime inside {inside}, outside {host}"
            );
        }
    }
}

#[test]
fn differential_against_util_linux() {
    // Where 2.38.1 and 2.42 agree (spec §12): exit code and stdout must match.
    let cases: &[&[&str]] = &[
        &["-r", "id", "-u"],
        &["-c", "id", "-u"],
        &[
            "-r",
            "cat",
            "/proc/self/uid_map",
            "/proc/self/gid_map",
            "/proc/self/setgroups",
        ],
        &[
            "--map-user=daemon",
            "--map-group=daemon",
            "cat",
            "/proc/self/uid_map",
            "/proc/self/gid_map",
        ],
        &[
            "--map-user=root",
            "--map-group=root",
            "cat",
            "/proc/self/setgroups",
        ],
        &["-U", "cat", "/proc/self/uid_map"],
        &[
            "--map-user=+5",
            "--map-group=+6",
            "sh",
            "-c",
            "id -u; id -g",
        ],
        &["-rf", "sh", "-c", "exit 3"],
        &["-r", "sh", "-c", "exit 300"],
        &["-rf", "sh", "-c", "kill -HUP $$"],
        &["-rf", "sh", "-c", "kill -INT $$"],
        &["-r", "nsbt-nosuch"],
        &["-r", "/etc/passwd"],
        &["-rn", "sh", "-c", "ls /sys/class/net | wc -l"],
        &["-ru", "sh", "-c", "hostname nsbt-x && hostname"],
        &["-rfp", "sh", "-c", "echo $$"],
        &["-rpf", "--mount-proc", "ps", "-eo", "pid=,comm="],
        &[
            "-rm",
            "sh",
            "-c",
            "grep -c . /proc/self/mountinfo > /dev/null; echo ok",
        ],
        &[
            "-rT",
            "--monotonic",
            "100",
            "--boottime",
            "-5",
            "cat",
            "/proc/self/timens_offsets",
        ],
        &[
            "-rfT",
            "--boottime",
            "100",
            "cat",
            "/proc/self/timens_offsets",
        ],
        &["-r", "-R", "/", "-w", "/etc", "pwd"],
        &["-r", "-w", "/usr", "pwd"],
        &["-r", "-S", "0", "id", "-u"],
        &["-r", "--kill-child=TERM", "true"],
        &["-r", "--kill-child=RTMIN+0", "true"],
        &["-r", "--kill-child=rtmax-0", "true"],
        &["-r", "--kill-child=RTMIN", "true"],
        &["-r", "--kill-child=RTMIN+31", "true"],
        &["-Ur", "--propagation", "slave", "true"],
        &["-rmf", "--propagation", "unchanged", "true"],
        &["-rC", "cat", "/proc/self/cgroup"],
        &["-ri", "ipcs", "-q"],
    ];
    for v in variants() {
        for args in cases {
            let ours = unshare(v).args(*args).run();
            let theirs = reference(REF)
                .variant(v)
                .env("PATH", PATH)
                .args(*args)
                .run();
            same_outcome(&ours, &theirs);
        }
    }
    if is_root() {
        for args in [
            &["-S", "5", "-G", "6", "sh", "-c", "id -u; id -g; id -G"][..],
            &["-S", "+5", "-G", "+6", "sh", "-c", "id -u; id -g"],
            &["-m", "--mount-proc", "-p", "-f", "ps", "-eo", "pid="],
            &[
                "--map-user=5",
                "--keep-caps",
                "grep",
                "^CapAmb",
                "/proc/self/status",
            ],
            &["--map-user=5", "grep", "^CapEff", "/proc/self/status"],
            &["-n", "ip", "-o", "link"],
        ] {
            let ours = unshare(Variant::Root).args(args).run();
            let theirs = reference(REF).args(args).run();
            same_outcome(&ours, &theirs);
        }
    }
}

#[test]
fn keep_caps_and_credentials() {
    for v in variants() {
        let run = unshare(v)
            .args([
                "--map-user=5",
                "--keep-caps",
                "grep",
                "^CapAmb",
                "/proc/self/status",
            ])
            .run();
        run.success();
        assert!(
            !run.stdout().contains("0000000000000000"),
            "{}",
            run.stdout()
        );
        let run = unshare(v)
            .args(["--map-user=5", "grep", "^CapEff", "/proc/self/status"])
            .run();
        run.success().stdout_is("CapEff:\t0000000000000000\n");
    }
    if is_root() {
        unshare(Variant::Root)
            .args([
                "-S",
                "65534",
                "-G",
                "65534",
                "sh",
                "-c",
                "id -u; id -g; id -G",
            ])
            .run()
            .success()
            .stdout_is("65534\n65534\n65534\n");
    }
}

#[test]
fn shell_fallback() {
    for v in variants() {
        unshare(v)
            .env("SHELL", "/bin/sh")
            .stdin("echo $0\n")
            .run()
            .success()
            .stdout_is("-sh\n");
        // Empty $SHELL counts as unset: the passwd shell (root: /bin/bash; nobody: /usr/sbin/nologin).
        let run = unshare(v).env("SHELL", "").stdin("echo $0\n").run();
        match v {
            Variant::Root => {
                let shell = std::fs::read_to_string("/etc/passwd")
                    .unwrap()
                    .lines()
                    .find(|l| l.starts_with("root:"))
                    .and_then(|l| l.rsplit(':').next())
                    .unwrap()
                    .to_string();
                let base = shell.rsplit('/').next().unwrap();
                if base.ends_with("sh") {
                    run.success().stdout_is(&format!("-{base}\n"));
                }
            }
            Variant::Rootless => {
                // nologin refuses to run: it is still what got executed.
                run.failure();
            }
        }
        // The shell is run by the path given, without a PATH search (util-linux execs it with execl).
        let ours = unshare(v).env("SHELL", "sh").stdin("echo $0\n").run();
        ours.code_is(127)
            .stderr_is("unshare: failed to execute sh: No such file or directory\n");
        let theirs = reference(REF)
            .variant(v)
            .env("PATH", PATH)
            .env("SHELL", "sh")
            .stdin("echo $0\n")
            .run();
        same_outcome(&ours, &theirs);
    }
}

#[test]
fn init_reaps_orphans() {
    for v in variants() {
        // The orphaned `sleep` is reparented to PID 1; with --init nothing stays a zombie.
        let run = unshare(v)
            .args(["-r", "--pid", "--init", "--mount-proc", "sh", "-c"])
            .arg("sh -c 'sleep 0.1 &'; sleep 0.4; ps -eo stat=,comm= | grep -c '^Z' ; exit 6")
            .run();
        run.code_is(6).stdout_is("0\n");
        let run = unshare(v)
            .args(["-r", "--pid", "--init", "sh", "-c", "kill $$"])
            .run();
        assert_eq!(run.code(), 128 + libc::SIGTERM);
    }
}

/// Persistence: bind mounts of the new namespaces, made in a private mount namespace of the test so that
/// nothing can outlive it. The script prints what it saw.
fn persist_script(v: Variant, body: &str) -> Run {
    in_private_mount_ns(&persist_script_text(v, body))
}

/// [`persist_script`] for `--mount=FILE`: see [`in_private_mount_ns_on_one_cpu`] for why.
fn persist_script_on_one_cpu(v: Variant, body: &str) -> Run {
    in_private_mount_ns_on_one_cpu(&persist_script_text(v, body))
}

/// The script of [`persist_script`]: `$d` is a fresh tmpfs holding the files `a` and `b`, `$U` runs unshare.
fn persist_script_text(v: Variant, body: &str) -> String {
    let u = unshare_path(v);
    let asuser = match v {
        Variant::Root => String::new(),
        Variant::Rootless => {
            "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --".to_string()
        }
    };
    // One directory per script: scripts run at the same time, and an rmdir of the directory in one would
    // unmount the tmpfs of another (a mount point removed in another mount namespace is detached).
    let d = format!("/tmp/nsbt-persist-{}", unique_name("p"));
    format!(
        "set +e; d={d}; U=\"{asuser} {u}\"; mkdir -p $d; mount -t tmpfs nsbt $d; chmod 777 $d; \
         touch $d/a $d/b; chmod 666 $d/a $d/b; trap 'umount -l $d; rmdir $d' EXIT; {body}"
    )
}

#[test]
fn persistence() {
    if skip_unless_root() {
        return;
    }
    let before = mounts_here();
    // Types bound by the parent itself and through the bind process (-U, -m); the namespace stays usable.
    for (args, kind) in [
        ("--net=$d/a", "net"),
        ("--uts=$d/a", "uts"),
        ("--ipc=$d/a", "ipc"),
        ("--cgroup=$d/a", "cgroup"),
        ("--user=$d/a -r", "user"),
        ("-r --net=$d/a", "net"),
        ("-m --uts=$d/a", "uts"),
        ("-T --time=$d/a", "time"),
        ("--fork --pid=$d/a", "pid"),
    ] {
        let run = persist_script(
            Variant::Root,
            &format!(
                "$U {args} true; echo rc=$?; grep -c \" $d/a \" /proc/self/mountinfo; \
                 stat -f -c %T $d/a; umount $d/a"
            ),
        );
        run.success();
        assert_eq!(
            run.stdout(),
            "rc=0\n1\nnsfs\n",
            "{args} ({kind}): {}",
            run.stderr()
        );
    }
    // --mount=FILE on a private mount works, on a shared one the kernel refuses (EINVAL).
    let run = persist_script_on_one_cpu(
        Variant::Root,
        "mount --make-private $d; $U --mount=$d/a true; echo rc=$?; umount $d/a; \
         mount --make-shared $d; $U --mount=$d/b true; echo rc=$?; grep -c \" $d/b \" /proc/self/mountinfo || true",
    );
    assert_eq!(run.stdout(), "rc=0\nrc=1\n0\n", "{}", run.stderr());
    assert!(
        run.stderr().contains("/ns/mnt on /tmp/nsbt-persist-")
            && run.stderr().ends_with("/b failed: Invalid argument\n"),
        "{}",
        run.stderr()
    );
    // A missing target: one message, rc 1, nothing mounted (also not the first of two targets).
    for args in [
        "--net=$d/missing",
        "--net=$d/a --uts=$d/missing",
        "-f --net=$d/a --uts=$d/missing",
        "-m --net=$d/a --uts=$d/missing",
    ] {
        let run = persist_script(
            Variant::Root,
            &format!(
                "$U {args} echo ran; echo rc=$?; grep -c \" $d/a \" /proc/self/mountinfo || true"
            ),
        );
        assert_eq!(run.stdout(), "rc=1\n0\n", "{args}: {}", run.stderr());
        assert!(
            run.stderr().starts_with("unshare: mount /proc/")
                && run
                    .stderr()
                    .ends_with("/missing failed: No such file or directory\n"),
            "{args}: {}",
            run.stderr()
        );
    }
    // --pid=FILE needs --fork: refused before anything exists.
    let run = persist_script(Variant::Root, "$U --pid=$d/a true; echo rc=$?");
    assert_eq!(run.stdout(), "rc=1\n");
    assert!(
        run.stderr()
            .contains("/ns/pid_for_children on /tmp/nsbt-persist-")
            && run
                .stderr()
                .ends_with("/a failed: No such file or directory\n"),
        "{}",
        run.stderr()
    );
    // Rootless: the bind process has no right to mount.
    let run = persist_script(
        Variant::Rootless,
        "$U -r --net=$d/a true; echo rc=$?; grep -c \" $d/a \" /proc/self/mountinfo || true",
    );
    assert_eq!(run.stdout(), "rc=1\n0\n", "{}", run.stderr());
    assert!(
        run.stderr()
            .ends_with("/a failed: Operation not permitted\n"),
        "{}",
        run.stderr()
    );
    assert_eq!(before, mounts_here());
}

/// Runs each of `failures` (arguments that make a step after the persistence binds fail) in each of `modes`
/// with the given `prefix` (a fault injector), once without and once with `--net=$d/a --uts=$d/b`, and checks
/// that both runs end alike and that neither file stays mounted when unshare has exited.
fn persistence_undone(prefix: &str, modes: &[&str], failures: &[&str]) {
    let mut body = String::new();
    let mut cases = Vec::new();
    for mode in modes {
        for failure in failures {
            body.push_str(&format!(
                "a=$({prefix} $U {mode} {failure} 2>&1 </dev/null); ra=$?; \
                 b=$({prefix} $U {mode} --net=$d/a --uts=$d/b {failure} 2>&1 </dev/null); rb=$?; \
                 n=$(grep -c -e \" $d/a \" -e \" $d/b \" /proc/self/mountinfo); \
                 echo \"{}|$ra|$a|$rb|$b|$n\"; umount $d/a $d/b 2>/dev/null; ",
                cases.len()
            ));
            cases.push(format!("{prefix} unshare {mode} {failure}"));
        }
    }
    let run = persist_script(Variant::Root, &body);
    let stdout = run.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        cases.len(),
        "{}\n{}",
        run.stdout(),
        run.stderr()
    );
    for (line, case) in lines.iter().zip(&cases) {
        let f: Vec<&str> = line.splitn(6, '|').collect();
        let [_, plain_rc, plain, rc, message, mounted] = f[..] else {
            panic!("{case}: {line}");
        };
        assert!(
            plain_rc != "0" && plain.starts_with("unshare: "),
            "{case}: {line}"
        );
        assert_eq!((rc, message), (plain_rc, plain), "{case}: {line}");
        assert_eq!(mounted, "0", "{case}: binds left: {line}");
    }
}

/// Issue 10's "no half-done state" for persistence (a deviation: util-linux 2.38 leaves the binds): a step
/// after the binds that fails undoes them before unshare exits, in every mode (no fork, without and with the
/// bind process, as with `-m`/`-r`; `--fork`, where the parent undoes or tells the bind process; `--init`),
/// with the same exit status and message as the run without persistence. `-S` drops the privilege to unmount
/// and a relative FILE meets `--wd`: the undo does not depend on the final process. A program that ran, or a
/// child killed before the exec, keeps the binds.
#[test]
fn persistence_undone_after_a_later_failure() {
    if skip_unless_root() {
        return;
    }
    let before = mounts_here();
    let modes = ["", "-m", "-r", "-f", "-f -m", "-f -r", "-f -p --init"];
    persistence_undone(
        "",
        &modes,
        &[
            "--wd=/nonexistent true",
            "--root=/nonexistent true",
            "--mount-proc=/nonexistent true",
            "/nonexistent",
            "/etc/passwd",
            "-S 65534 -G 65534 /nonexistent",
        ],
    );
    // The exact messages and statuses, as before persistence was undone.
    let run = persist_script(
        Variant::Root,
        "$U --net=$d/a --wd=/nonexistent true; echo rc=$?; $U -m --net=$d/a /nonexistent; echo rc=$?; \
         $U -r --net=$d/a /etc/passwd; echo rc=$?; $U -f --net=$d/a --mount-proc=/nonexistent true; echo rc=$?; \
         cd $d; $U --net=a --wd=/ /nonexistent; echo rc=$?; $U -f -m --net=a --wd=/ /nonexistent; echo rc=$?; \
         grep -c \" $d/a \" /proc/self/mountinfo || true",
    );
    assert_eq!(
        (run.stdout().as_str(), run.stderr().as_str()),
        (
            "rc=1\nrc=127\nrc=126\nrc=1\nrc=127\nrc=127\n0\n",
            "unshare: cannot change directory to /nonexistent: No such file or directory\n\
             unshare: failed to execute /nonexistent: No such file or directory\n\
             unshare: failed to execute /etc/passwd: Permission denied\n\
             unshare: mount /nonexistent failed: No such file or directory\n\
             unshare: failed to execute /nonexistent: No such file or directory\n\
             unshare: failed to execute /nonexistent: No such file or directory\n"
        )
    );
    // Kept: by a program that ran (even one that then fails or is killed), and by a child killed before it.
    let run = persist_script(
        Variant::Root,
        "for m in '' -m -r -f '-f -m' '-f -p --init'; do \
           $U $m --net=$d/a sh -c 'exit 3'; echo rc=$?; grep -c \" $d/a \" /proc/self/mountinfo; umount $d/a; \
         done; \
         $U -f --net=$d/a sh -c 'kill -9 $$'; echo rc=$?; grep -c \" $d/a \" /proc/self/mountinfo; umount $d/a; \
         $U -f -m --kill-child --net=$d/a sh -c 'kill -9 $PPID; sleep 1'; grep -c \" $d/a \" /proc/self/mountinfo; umount $d/a",
    );
    assert_eq!(
        run.stdout(),
        format!("{}rc=137\n1\n1\n", "rc=3\n1\n".repeat(6)),
        "{}",
        run.stderr()
    );
    assert_eq!(before, mounts_here());
}

/// [`persistence_undone_after_a_later_failure`] with faults injected where the step would succeed: chdir,
/// exec and the proc mount each made to fail (strace `-e inject`, only on the one path).
#[test]
fn persistence_undone_after_an_injected_fault() {
    if skip_unless_root() {
        return;
    }
    let before = mounts_here();
    let modes = ["", "-m", "-r", "-f", "-f -m", "-f -r"];
    let strace = "strace -f -qq -o /dev/null";
    for (inject, failure) in [
        (
            "-P /tmp -e trace=chdir -e inject=chdir:error=EACCES",
            "--wd=/tmp true",
        ),
        (
            "-P /usr/bin/true -e trace=execve -e inject=execve:error=EACCES",
            "/usr/bin/true",
        ),
        (
            "-P /proc -e trace=mount -e inject=mount:error=EACCES",
            "-p -f --mount-proc /usr/bin/true",
        ),
    ] {
        persistence_undone(&format!("{strace} {inject}"), &modes, &[failure]);
    }
    assert_eq!(before, mounts_here());
}

#[test]
fn propagation_modes() {
    if skip_unless_root() {
        return;
    }
    // Inside a private test namespace, make a shared tmpfs; a mount made under `unchanged` leaks to it,
    // under the default (private) it does not.
    let u = unshare_path(Variant::Root);
    let d = format!("/tmp/nsbt-prop-{}", std::process::id());
    let script = format!(
        "set +e; d={d}; mkdir -p $d; mount -t tmpfs nsbt $d; mount --make-shared $d; mkdir $d/x; \
         trap 'umount -R -l $d; rmdir $d' EXIT; \
         {u} -m mount -t tmpfs inner $d/x; grep -c \" $d/x \" /proc/self/mountinfo || true; \
         {u} -m --propagation unchanged mount -t tmpfs inner $d/x; grep -c \" $d/x \" /proc/self/mountinfo; \
         umount $d/x; \
         {u} -m --propagation shared sh -c 'grep \" / \" /proc/self/mountinfo | grep -o shared: | head -1'; \
         {u} -m --propagation slave sh -c 'grep \" {d} \" /proc/self/mountinfo | grep -o master:'; \
         {u} -m sh -c 'grep \" {d} \" /proc/self/mountinfo | grep -c \"shared:\\|master:\"'"
    );
    let run = in_private_mount_ns(&script);
    assert_eq!(
        run.stdout(),
        "0\n1\nshared:\nmaster:\n0\n",
        "{}",
        run.stderr()
    );
}

#[test]
fn binfmt_misc() {
    for v in variants() {
        let run = unshare(v)
            .args([
                "-r",
                "-p",
                "--fork",
                "--mount-binfmt",
                "sh",
                "-c",
                "ls /proc/sys/fs/binfmt_misc",
            ])
            .run();
        if run.code() != 0 {
            eprintln!("skipped binfmt_misc: {}", run.stderr());
            return;
        }
        assert!(run.stdout().contains("register"), "{}", run.stdout());
        unshare(v)
            .args([
                "-r",
                "-p",
                "--fork",
                "-l",
                ":nsbt:E::nsbt::/bin/true:",
                "cat",
            ])
            .arg("/proc/sys/fs/binfmt_misc/nsbt")
            .run()
            .success()
            .stdout_contains("interpreter /bin/true");
        unshare(v)
            .args(["-r", "-p", "--fork", "-l", "bogus", "true"])
            .run()
            .code_is(1)
            .stderr_is(
                "unshare: write failed /proc/sys/fs/binfmt_misc/register: Invalid argument\n",
            );
    }
}

/// `user.max_*_namespaces` are per user namespace: set one to 0 inside `-r` and watch the hint name it.
#[test]
fn exhausted_namespace_limit_is_named() {
    for v in variants() {
        let u = unshare_path(v);
        let run = unshare(v)
            .args(["-r", "sh", "-c"])
            .arg(format!(
                "echo 0 > /proc/sys/user/max_net_namespaces && {u} -n true"
            ))
            .run();
        run.code_is(1).stderr_is(
            "unshare: unshare failed: No space left on device\n\
             unshare: user.max_net_namespaces is 0: namespaces of this type are disabled\n",
        );
    }
}

/// The program sees exactly the fds unshare inherited: helpers' pipes and the pidfd are close-on-exec.
#[test]
fn no_fd_leaks_into_the_program() {
    let list = "ls /proc/self/fd | sort -n | tr '\\n' ' '";
    let plain = unshare(Variant::Root)
        .args(["sh", "-c", list])
        .run()
        .stdout();
    for v in variants() {
        for args in [
            &["-r", "-f", "--kill-child"][..],
            &["-r", "--forward-signals", "-p", "--init"],
            &["-r", "-T", "--monotonic", "5"],
        ] {
            unshare(v)
                .args(args)
                .args(["sh", "-c", list])
                .run()
                .success()
                .stdout_is(&plain);
        }
    }
    if is_root() {
        for args in [
            &["-r", "--map-users=1:100000:10"][..],
            &["--map-groups=0:100000:10", "-f"],
        ] {
            unshare(Variant::Root)
                .args(args)
                .args(["sh", "-c", list])
                .run()
                .success()
                .stdout_is(&plain);
        }
    }
}

/// An `F` interpreter is registered before the chroot (opened from the caller's filesystem) and is visible in
/// the binfmt_misc mounted inside the new root.
#[test]
fn fix_binary_interpreter_with_root() {
    for v in variants() {
        let run = unshare(v)
            .args([
                "-r",
                "-p",
                "-f",
                "-R",
                "/",
                "-l",
                ":nsbtf:E::nsbtf::/bin/true:F",
            ])
            .args(["cat", "/proc/sys/fs/binfmt_misc/nsbtf"])
            .run();
        if run.code() != 0 && run.stderr().contains("binfmt_misc") {
            eprintln!("skipped: {}", run.stderr());
            return;
        }
        run.success()
            .stdout_contains("interpreter /bin/true")
            .stdout_contains("flags: F");
    }
}

/// `--mount-binfmt=DIR` mounts only binfmt_misc; without `=DIR` it needs (and mounts) a proc of its own.
#[test]
fn mount_binfmt_with_dir_mounts_no_proc() {
    let count = "findmnt -rn -t proc | wc -l; findmnt -rn -t binfmt_misc -o TARGET";
    let outside = std::process::Command::new("sh")
        .args(["-c", "findmnt -rn -t proc | wc -l"])
        .output()
        .unwrap();
    let procs = String::from_utf8_lossy(&outside.stdout).trim().to_string();
    for v in variants() {
        let run = unshare(v)
            .args(["-r", "--mount-binfmt=/mnt", "sh", "-c", count])
            .run();
        if run.code() != 0 {
            eprintln!("skipped binfmt_misc: {}", run.stderr());
            return;
        }
        run.stdout_is(&format!("{procs}\n/mnt\n"));
    }
    // --owner needs the privilege to give the namespace away.
    unshare(Variant::Rootless)
        .args(["--owner", "1:1", "-r", "true"])
        .run()
        .code_is(1)
        .stderr_is("unshare: setgroups failed: Operation not permitted\n");
}

/// A caller's SIG_IGN for SIGPIPE reaches the program, as with util-linux (which never touches it): with and
/// without --fork, and through the multicall (whose Rust start-up would otherwise have set it to SIG_IGN for
/// every caller, hiding the difference).
#[test]
fn program_keeps_callers_ignored_sigpipe() {
    for v in variants() {
        for flags in [&["-U"][..], &["-Ur", "--pid", "--fork"][..]] {
            let args: Vec<&str> = flags
                .iter()
                .copied()
                .chain(["grep", "^SigIgn", "/proc/self/status"])
                .collect();
            let theirs = reference(REF)
                .args(&args)
                .variant(v)
                .sigpipe_ignored()
                .run();
            theirs.success();
            assert!(sigign_has_sigpipe(&theirs.stdout()), "{}", theirs.stdout());
            for ours in [
                cmd("unshare")
                    .args(&args)
                    .variant(v)
                    .sigpipe_ignored()
                    .run(),
                cmd("unshare")
                    .args(&args)
                    .via_nsbox()
                    .variant(v)
                    .sigpipe_ignored()
                    .run(),
            ] {
                same_outcome(&ours, &theirs);
            }
            // And a caller that leaves SIGPIPE alone hands on the default.
            let theirs = reference(REF).args(&args).variant(v).run();
            theirs.success();
            let ours = cmd("unshare").args(&args).via_nsbox().variant(v).run();
            same_outcome(&ours, &theirs);
            assert!(!sigign_has_sigpipe(&ours.stdout()), "{}", ours.stdout());
        }
    }
}
