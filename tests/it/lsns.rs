//! Integration tests for lsns: namespaces of every type made with the installed unshare, held by processes,
//! fds, sockets and bind mounts; every column, option and output mode; the race under process churn; and
//! differential runs against the installed util-linux 2.38.1 lsns.
use crate::harness::*;
use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const TYPES: [&str; 8] = ["mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time"];

/// A process we started; killed (and reaped) when dropped, also when the test fails.
struct Proc(Child);

impl Proc {
    fn spawn(program: &str, args: &[&str]) -> Proc {
        let child = Command::new(program)
            .args(args)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        Proc(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // The whole group: a shell's children (`sh -c 'sleep 1; :'`) must not outlive the test.
        // SAFETY: kill has no memory-safety preconditions; the group is the one this test started.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The inode of `/proc/PID/ns/TYPE`, waiting (briefly) for a freshly started process to get there.
fn ns_ino(pid: u32, kind: &str) -> u64 {
    ns_ino_of(&format!("/proc/{pid}/ns/{kind}"))
}

fn ns_ino_of(path: &str) -> u64 {
    let link = std::fs::read_link(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let text = link.to_string_lossy().into_owned();
    text.rsplit('[')
        .next()
        .and_then(|t| t.strip_suffix(']'))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("bad ns link {text}"))
}

/// Waits until `pid` has left the namespaces of its parent (unshare has exec'd), or a timeout.
fn wait_unshared(pid: u32, kind: &str) {
    let own = ns_ino_of(&format!("/proc/self/ns/{kind}"));
    for _ in 0..200 {
        if std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).is_ok() && ns_ino(pid, kind) != own
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("process {pid} never left our {kind} namespace");
}

/// Waits until `pid` runs `program` (its argv[0]): after unshare(2) the holder may still be unshare itself.
fn wait_exec(pid: u32, program: &str) {
    let want = format!("{program}\0");
    for _ in 0..200 {
        if let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            if cmdline.starts_with(want.as_bytes()) {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("process {pid} never ran {program}");
}

/// The children of a process (first thread), to find the process `unshare --fork` started.
fn first_child(pid: u32) -> u32 {
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
            if let Some(c) = text.split_whitespace().next().and_then(|c| c.parse().ok()) {
                return c;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("process {pid} has no child");
}

/// `lsns -n -r -o LIST ARGS`: rows as cells, keyed by the first column.
fn raw_rows(list: &str, args: &[&str]) -> HashMap<String, Vec<String>> {
    let run = cmd("lsns").args(["-n", "-r", "-o", list]).args(args).run();
    run.success();
    run.stdout()
        .lines()
        .map(|l| {
            let mut cells: Vec<String> = l.split(' ').map(str::to_string).collect();
            // Tree layouts keep the glyphs, escaped (`\xe2\x94\x94\xe2\x94\x80`), in front of the NS.
            if let Some(i) = cells[0].rfind("\\x") {
                cells[0] = cells[0][i + 4..].to_string();
            }
            (cells[0].clone(), cells)
        })
        .collect()
}

/// A minimal JSON well-formedness check (objects, arrays, strings, numbers, literals).
fn json_ok(text: &str) -> bool {
    fn ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && b" \n\t\r".contains(&b[*i]) {
            *i += 1;
        }
    }
    fn value(b: &[u8], i: &mut usize) -> bool {
        ws(b, i);
        match b.get(*i) {
            Some(b'{') => {
                *i += 1;
                ws(b, i);
                if b.get(*i) == Some(&b'}') {
                    *i += 1;
                    return true;
                }
                loop {
                    ws(b, i);
                    if !string(b, i) {
                        return false;
                    }
                    ws(b, i);
                    if b.get(*i) != Some(&b':') {
                        return false;
                    }
                    *i += 1;
                    if !value(b, i) {
                        return false;
                    }
                    ws(b, i);
                    match b.get(*i) {
                        Some(b',') => *i += 1,
                        Some(b'}') => {
                            *i += 1;
                            return true;
                        }
                        _ => return false,
                    }
                }
            }
            Some(b'[') => {
                *i += 1;
                ws(b, i);
                if b.get(*i) == Some(&b']') {
                    *i += 1;
                    return true;
                }
                loop {
                    if !value(b, i) {
                        return false;
                    }
                    ws(b, i);
                    match b.get(*i) {
                        Some(b',') => *i += 1,
                        Some(b']') => {
                            *i += 1;
                            return true;
                        }
                        _ => return false,
                    }
                }
            }
            Some(b'"') => string(b, i),
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                *i += 1;
                while *i < b.len() && (b[*i].is_ascii_digit() || b".eE+-".contains(&b[*i])) {
                    *i += 1;
                }
                true
            }
            _ => {
                for lit in [&b"null"[..], b"true", b"false"] {
                    if b[*i..].starts_with(lit) {
                        *i += lit.len();
                        return true;
                    }
                }
                false
            }
        }
    }
    fn string(b: &[u8], i: &mut usize) -> bool {
        if b.get(*i) != Some(&b'"') {
            return false;
        }
        *i += 1;
        while *i < b.len() {
            match b[*i] {
                b'"' => {
                    *i += 1;
                    return true;
                }
                b'\\' => *i += 2,
                c if c < 0x20 => return false,
                _ => *i += 1,
            }
        }
        false
    }
    let b = text.as_bytes();
    let mut i = 0;
    if !value(b, &mut i) {
        return false;
    }
    ws(b, &mut i);
    i == b.len()
}

#[test]
fn help_and_version() {
    let run = cmd("lsns").arg("--help").run();
    run.success()
        .stdout_contains("\nUsage:\n lsns [options] [<namespace>]\n\nList system namespaces.\n")
        .stdout_contains(" -P, --persistent       namespaces without processes\n")
        .stdout_contains(" -Q, --filter <expr>    apply display filter\n")
        .stdout_contains("     --output-all       output all columns\n")
        .stdout_contains("\n -H, --list-columns     list the available columns\n -h, --help")
        .stdout_contains("For more details see lsns(8).\n");
    // Every option the reference has is in our help, with the same text.
    let theirs = reference("/usr/bin/lsns").arg("--help").run().stdout();
    for line in theirs
        .lines()
        .filter(|l| l.starts_with(" -") || l.starts_with("     --"))
    {
        assert!(run.stdout().contains(line), "missing help line {line:?}");
    }
    cmd("lsns")
        .arg("-V")
        .run()
        .success()
        .stdout_contains("lsns from nsbox ");
}

#[test]
fn argument_errors() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["-T", "parent"],
            "lsns: invalid namespace argument: 'parent'\n",
        ),
        (&["-Tfoo"], "lsns: unknown tree type: foo\n"),
        (&["-T==owner"], "lsns: unknown tree type: =owner\n"),
        (&["-t", "foo"], "lsns: unknown namespace type: foo\n"),
        (&["-o", "BOGUS"], "lsns: unknown column: BOGUS\n"),
        (
            &["-o", "NS,BOGUS,TYPE"],
            "lsns: unknown column: BOGUS,TYPE\n",
        ),
        (&["-p", "abc"], "lsns: invalid PID argument: 'abc'\n"),
        (
            &["-p", "99999999999"],
            "lsns: invalid PID argument: '99999999999': Numerical result out of range\n",
        ),
        (&["-o", ""], "lsns: unknown column: ''\n"),
        (
            &["-J", "-r"],
            "lsns: options --json and --raw cannot be combined\n",
        ),
        (
            &["-P", "-p", "1"],
            "lsns: options --persistent and --task cannot be combined\n",
        ),
        (
            &["-p", "1", "4026531836"],
            "lsns: --task is mutually exclusive with <namespace>\n",
        ),
        (&["abc"], "lsns: invalid namespace argument: 'abc'\n"),
        (&["12345"], "lsns: not found namespace: 12345\n"),
        (
            &["-Q", "FOO == 1"],
            "lsns: unknown column: FOO\nlsns: failed to initialize filter\n",
        ),
        (
            &["-Q", "USER == 0"],
            "lsns: failed to apply filter: Invalid argument\n",
        ),
    ];
    for (args, stderr) in cases {
        cmd("lsns").args(*args).run().code_is(1).stderr_is(stderr);
    }
    cmd("lsns")
        .args(["-Q", "NPROCS >"])
        .run()
        .code_is(1)
        .stderr_contains("lsns: failed to parse \"NPROCS >\": syntax error at byte 8:");
    cmd("lsns")
        .args(["-Q", "TYPE =~ TYPE"])
        .run()
        .code_is(1)
        .stderr_contains("expected a string literal");
    cmd("lsns")
        .args(["--bogus"])
        .run()
        .code_is(1)
        .stderr_contains("unrecognized option '--bogus'");
    // The reference agrees on the options it has (it ends some messages without a newline; for `-J -r`
    // 2.38 words it `mutually exclusive arguments: --json --raw`, checked above in 2.42's words).
    for args in [
        &["-t", "foo"][..],
        &["abc"],
        &["-o", "BOGUS"],
        &["-o", "NS,BOGUS,TYPE"],
        &["-p", "abc"],
        &["-p", "99999999999"],
        &["-T", "parent"],
    ] {
        let ours = cmd("lsns").args(args).run();
        let theirs = reference("/usr/bin/lsns").args(args).run();
        assert_eq!(ours.code(), theirs.code(), "{args:?}");
        assert_eq!(
            ours.stderr().trim_end(),
            theirs.stderr().trim_end(),
            "{args:?}"
        );
    }
}

#[test]
fn list_columns() {
    cmd("lsns")
        .arg("-H")
        .run()
        .success()
        .stdout_contains("     NS <integer> namespace identifier (inode number)\n")
        .stdout_contains("   TYPE <string>  kind of namespace\n")
        .stdout_contains("    ONS <integer> owner namespace identifier (inode number)\n");
    let raw = cmd("lsns").args(["-H", "-r"]).run();
    raw.success()
        .stdout_contains("NS <integer> namespace\\x20identifier\\x20(inode\\x20number)\n");
    let json = cmd("lsns").args(["-H", "-J"]).run();
    json.success().stdout_contains(
        "{\n   \"lsns-columns\": [\n      {\n         \"holder\": \"NS\",\n         \"type\": \"<integer>\",",
    );
    assert!(json_ok(&json.stdout()));
    assert_eq!(json.stdout().matches("\"holder\"").count(), 13);
}

/// One process in new namespaces of every type (pid and time through `--fork`).
struct AllTypes {
    unshare: Proc,
    child: u32,
}

impl AllTypes {
    fn new() -> AllTypes {
        let unshare = Proc::spawn(
            "/usr/bin/unshare",
            &[
                "--mount",
                "--uts",
                "--ipc",
                "--net",
                "--pid",
                "--user",
                "--cgroup",
                "--time",
                "--map-root-user",
                "--fork",
                "--kill-child",
                "sleep",
                "1000",
            ],
        );
        let child = first_child(unshare.pid());
        wait_unshared(child, "pid");
        wait_exec(child, "sleep");
        AllTypes { unshare, child }
    }
}

#[test]
fn every_type_and_column() {
    if skip_unless_root() {
        return;
    }
    let all = AllTypes::new();
    let parent = all.unshare.pid();
    let child = all.child;
    let rows = raw_rows(
        "NS,TYPE,PATH,NPROCS,PID,PPID,COMMAND,UID,USER,PNS,ONS",
        &["-l"],
    );
    let user_ns = ns_ino(child, "user");
    for kind in TYPES {
        let ino = ns_ino(child, kind);
        let row = rows
            .get(&ino.to_string())
            .unwrap_or_else(|| panic!("{kind} namespace {ino} not listed: {rows:?}"));
        assert_eq!(row[1], kind);
        // unshare itself moved into every new namespace but pid and time (those are for its children).
        let (nprocs, pid, ppid) = if kind == "pid" || kind == "time" {
            (1, child, parent)
        } else {
            (2, parent, std::process::id())
        };
        assert_eq!(row[2], format!("/proc/{pid}/ns/{kind}"), "{kind}");
        assert_eq!(row[3], nprocs.to_string(), "{kind}");
        assert_eq!(row[4], pid.to_string(), "{kind}");
        assert_eq!(row[5], ppid.to_string(), "{kind}");
        assert!(row[6].contains("sleep\\x201000") || row[6].contains("unshare"));
        assert_eq!(row[7], "0");
        assert_eq!(row[8], "root");
        let ons = if kind == "user" {
            ns_ino_of("/proc/self/ns/user")
        } else {
            user_ns
        };
        assert_eq!(row[10], ons.to_string(), "ONS of {kind}");
        let pns = match kind {
            "user" => ns_ino_of("/proc/self/ns/user"),
            "pid" => ns_ino_of("/proc/self/ns/pid"),
            _ => 0,
        };
        assert_eq!(row[9], pns.to_string(), "PNS of {kind}");
    }
    // -p narrows to one process's namespaces, counts stay global.
    let task = raw_rows("NS,NPROCS", &["-p", &child.to_string()]);
    assert_eq!(task.len(), 8);
    assert_eq!(task[&ns_ino(child, "uts").to_string()][1], "2");
    // -t is repeatable.
    let two = raw_rows(
        "TYPE",
        &["-t", "uts", "-t", "ipc", "-p", &child.to_string()],
    );
    let mut types: Vec<&String> = two.keys().collect();
    types.sort();
    assert_eq!(types, ["ipc", "uts"]);
}

#[test]
fn namespace_mode_lists_processes_as_a_tree() {
    if skip_unless_root() {
        return;
    }
    let unshare = Proc::spawn(
        "/usr/bin/unshare",
        &["-n", "-u", "--fork", "--kill-child", "sleep", "1001"],
    );
    let child = first_child(unshare.pid());
    wait_unshared(child, "uts");
    wait_exec(child, "sleep");
    let ino = ns_ino(child, "uts");
    let run = cmd("lsns").arg(ino.to_string()).run();
    run.success();
    let out = run.stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[1].ends_with("root /usr/bin/unshare -n -u --fork --kill-child sleep 1001"),
        "{out}"
    );
    assert!(lines[2].ends_with("root └─sleep 1001"), "{out}");
    // The same listing from the reference.
    let theirs = reference("/usr/bin/lsns").arg(ino.to_string()).run();
    same_outcome(&run, &theirs);
    cmd("lsns")
        .args(["-J", &ino.to_string()])
        .run()
        .success()
        .stdout_contains("\"namespaces\": [")
        .stdout_contains("\"children\": [");
    // The owner and parent trees put the tree on NS, which has no relations among one namespace's
    // processes: flat, with the tree column's width, as util-linux prints them.
    for args in [
        &["-T"][..],
        &["-Tparent", "-J"],
        &["-T", "-o", "NS,PID,COMMAND"],
        &["-Tprocess", "-r"],
    ] {
        let ours = cmd("lsns").args(args).arg(ino.to_string()).run();
        let theirs = reference("/usr/bin/lsns")
            .args(args)
            .arg(ino.to_string())
            .run();
        same_outcome(&ours, &theirs);
    }
    cmd("lsns")
        .args(["-T", "-n", "-o", "COMMAND", &ino.to_string()])
        .run()
        .success()
        .stdout_is("/usr/bin/unshare -n -u --fork --kill-child sleep 1001\nsleep 1001\n");
}

#[test]
fn held_by_fd_and_socket_only() {
    if skip_unless_root() {
        return;
    }
    let holder = Proc::spawn("/usr/bin/unshare", &["-u", "-n", "sleep", "1002"]);
    wait_unshared(holder.pid(), "net");
    wait_exec(holder.pid(), "sleep");
    let uts = ns_ino(holder.pid(), "uts");
    let net = ns_ino(holder.pid(), "net");
    // Keep the uts namespace by an fd of this test process, the netns by a socket made inside it.
    let low = std::fs::File::open(format!("/proc/{}/ns/uts", holder.pid())).unwrap();
    // Far above the other fds: lsns must find it in a sparse fd table too.
    let fd = {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        // SAFETY: F_DUPFD_CLOEXEC returns a new fd (or -1) that nothing else owns.
        let raw = unsafe { libc::fcntl(low.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 700) };
        assert!(raw >= 700);
        // SAFETY: `raw` is a fresh fd owned by nobody else.
        unsafe { OwnedFd::from_raw_fd(raw) }
    };
    drop(low);
    let netns = std::fs::File::open(format!("/proc/{}/ns/net", holder.pid())).unwrap();
    let sock = std::thread::scope(|s| {
        s.spawn(|| {
            use std::os::fd::AsRawFd;
            // SAFETY: setns on this thread only, with a valid fd; the thread ends right after.
            let rc = unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0);
            std::net::UdpSocket::bind("0.0.0.0:0").unwrap()
        })
        .join()
        .unwrap()
    });
    drop(netns);
    drop(holder);
    let rows = raw_rows("NS,TYPE,NPROCS,PID,USER,NSFS,COMMAND", &["-l"]);
    for ino in [uts, net] {
        let row = rows
            .get(&ino.to_string())
            .unwrap_or_else(|| panic!("{ino} not found: {rows:?}"));
        assert_eq!(&row[2..], ["0", "", "root", "", ""], "{row:?}");
    }
    let persistent = raw_rows("NS", &["-P"]);
    assert!(persistent.contains_key(&uts.to_string()));
    assert!(persistent.contains_key(&net.to_string()));
    // Process-less: positional mode prints nothing; -p does not see them.
    cmd("lsns")
        .arg(uts.to_string())
        .run()
        .success()
        .stdout_is("");
    // JSON: process-less cells are null.
    let json = cmd("lsns")
        .args(["-J", "-l", "-Q", &format!("NS == {net}")])
        .run();
    json.success().stdout_is(&format!(
        "{{\n   \"namespaces\": [\n      {{\n         \"ns\": {net},\n         \"type\": \"net\",\n         \"nprocs\": 0,\n         \"pid\": null,\n         \"user\": \"root\",\n         \"command\": null\n      }}\n   ]\n}}\n"
    ));
    // -t net shows NETNSID (a string) for the process-less netns too.
    let net_rows = raw_rows("NS,NETNSID", &["-t", "net"]);
    assert_eq!(net_rows[&net.to_string()][1], "unassigned");
    drop(sock);
    drop(fd);
    let rows = raw_rows("NS", &["-l"]);
    assert!(!rows.contains_key(&uts.to_string()));
}

#[test]
fn held_by_bind_mount_only() {
    if skip_unless_root() {
        return;
    }
    // All inside a private mount namespace on a tmpfs it made: nothing reaches the machine's mounts.
    let run = in_private_mount_ns(
        r#"
        d=$(mktemp -d)
        mount -t tmpfs tmpfs "$d"
        touch "$d/a b" "$d/c"
        unshare --uts="$d/a b" --ipc="$d/c" true
        mount --bind "$d/a b" "$d/c" 2>/dev/null || true
        ino=$(stat -L -c %i "$d/a b")
        echo "INO $ino"
        "$NSBOX_BIN/lsns" -n -r -o NS,TYPE,NPROCS,PID,NSFS -t uts
        echo JSON
        "$NSBOX_BIN/lsns" -J -l -o NS,NSFS -Q "NS == $ino"
        echo TABLE
        "$NSBOX_BIN/lsns" -l -o NS,NSFS -Q "NS == $ino"
        echo WRAP
        "$NSBOX_BIN/lsns" -l -W -o NS,NSFS,TYPE -Q "NS == $ino"
        echo PERSISTENT
        "$NSBOX_BIN/lsns" -P -n -r -o TYPE,NPROCS
        umount "$d/c" 2>/dev/null || true
        umount "$d/a b" "$d/c" 2>/dev/null || true
        umount "$d"
        rmdir "$d"
        "#,
    );
    run.success();
    let out = run.stdout();
    let ino = out
        .lines()
        .find_map(|l| l.strip_prefix("INO "))
        .expect("inode")
        .to_string();
    let row = out
        .lines()
        .find(|l| l.starts_with(&format!("{ino} ")))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.starts_with(&format!("{ino} uts 0  /tmp/")), "{row}");
    assert!(row.contains("a\\x20b"), "{row}");
    // The same uts namespace is mounted twice ("a b" and, bound over it, "c"): JSON joins them with ','.
    let json = &out[out.find("JSON\n").unwrap() + 5..out.find("TABLE\n").unwrap()];
    assert!(json_ok(json), "{json}");
    assert!(
        json.contains("/a b,/tmp/") && json.contains("/c\""),
        "{json}"
    );
    // In a table each mount point has its own line.
    let table = &out[out.find("TABLE\n").unwrap() + 6..out.find("WRAP\n").unwrap()];
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[1].starts_with(&format!("{ino} /tmp/")) && lines[1].ends_with("/a b"));
    assert!(
        lines[2].starts_with("           /tmp/") && lines[2].ends_with("/c"),
        "{table}"
    );
    let wrap = &out[out.find("WRAP\n").unwrap() + 5..out.find("PERSISTENT\n").unwrap()];
    assert_eq!(wrap.lines().count(), 2, "{wrap}");
    assert!(wrap.contains("/a b,/tmp/"), "{wrap}");
    let persistent = &out[out.find("PERSISTENT\n").unwrap() + 11..];
    assert!(
        persistent.contains("uts 0\n") && persistent.contains("ipc 0\n"),
        "{persistent}"
    );
}

#[test]
fn ip_netns_add_shows_nsfs_and_netnsid() {
    if skip_unless_root() {
        return;
    }
    let netns = TempNetns::new();
    let ino = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(netns.path()).unwrap().ino()
    };
    let run = cmd("lsns")
        .args(["-t", "net", "-Q", &format!("NS == {ino}")])
        .run();
    let header = "        NS TYPE NPROCS PID USER    NETNSID NSFS";
    let path = netns.path();
    let nsfs_w = path.len().max(4);
    run.success().stdout_is(&format!(
        "{header}{} COMMAND\n{ino} net       0     root unassigned {path:<nsfs_w$} \n",
        " ".repeat(nsfs_w - 4)
    ));
    // Filters on the net-only columns.
    cmd("lsns")
        .args([
            "-n",
            "-r",
            "-o",
            "NS",
            "--filter",
            &format!("NSFS == '{path}'"),
        ])
        .run()
        .success()
        .stdout_is(&format!("{ino}\n"));
    cmd("lsns")
        .args([
            "-n",
            "-r",
            "-o",
            "NS",
            "-t",
            "net",
            "-Q",
            "NETNSID == 'unassigned' && !PID",
        ])
        .run()
        .success()
        .stdout_contains(&format!("{ino}\n"));
    // Once the netns has an id in ours, NETNSID is that number (a string in JSON).
    reference("/usr/sbin/ip")
        .args(["netns", "set", &netns.name, "7"])
        .run()
        .success();
    cmd("lsns")
        .args(["-J", "-o", "NS,NETNSID", "-Q", &format!("NS == {ino}")])
        .run()
        .success()
        .stdout_is(&format!(
            "{{\n   \"namespaces\": [\n      {{\n         \"ns\": {ino},\n         \"netnsid\": \"7\"\n      }}\n   ]\n}}\n"
        ));
}

#[test]
fn owner_and_parent_trees() {
    if skip_unless_root() {
        return;
    }
    // user ns A (sh, exits) → user ns B (sleep): A has no process left but B reaches it through its owner.
    let marker = format!("100{}", std::process::id() % 100000);
    let started = Command::new("/usr/bin/unshare")
        .args(["-U", "-r", "sh", "-c"])
        .arg(format!("unshare -U -r sleep {marker} >/dev/null 2>&1 &"))
        .status()
        .unwrap();
    assert!(started.success());
    let mut sleeper = 0;
    for _ in 0..200 {
        sleeper = find_process(&format!("sleep\0{marker}\0"));
        if sleeper != 0 && ns_ino(sleeper, "user") != ns_ino_of("/proc/self/ns/user") {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_ne!(sleeper, 0);
    struct Kill(u32);
    impl Drop for Kill {
        fn drop(&mut self) {
            // SAFETY: kill has no memory-safety preconditions; the pid is the sleep this test started.
            unsafe { libc::kill(self.0 as i32, libc::SIGKILL) };
        }
    }
    let _guard = Kill(sleeper);
    let b = ns_ino(sleeper, "user");
    let init = ns_ino_of("/proc/self/ns/user");
    let rows = raw_rows("NS,PNS,ONS,NPROCS,UID", &["-T", "-t", "user"]);
    let a: u64 = rows[&b.to_string()][1].parse().unwrap();
    assert_ne!(a, init);
    assert_eq!(
        rows[&a.to_string()][3],
        "0",
        "the middle namespace is listed as an ancestor"
    );
    assert_eq!(
        rows[&a.to_string()][4],
        "0",
        "owner uid of the middle namespace"
    );
    // The tree: init user ns → A → B.
    let run = cmd("lsns")
        .args(["-T", "-t", "user", "-o", "NS,NPROCS"])
        .run();
    let out = run.success().stdout();
    let pos = |s: &str| {
        out.find(s)
            .unwrap_or_else(|| panic!("{s} missing in\n{out}"))
    };
    assert!(pos(&format!("\n{init} ")) < pos(&format!("─{a} ")));
    assert!(pos(&format!("─{a} ")) < pos(&format!(" └─{b} ")));
    // The default layout does not add the ancestor.
    let flat = raw_rows("NS", &["-t", "user"]);
    assert!(!flat.contains_key(&a.to_string()));
    // -T parent nests user namespaces the same way; JSON nests with "children".
    let json = cmd("lsns")
        .args(["-J", "-Tparent", "-t", "user", "-o", "NS"])
        .run();
    let text = json.success().stdout();
    assert!(json_ok(&text));
    assert!(text.contains(&format!(
        "\"ns\": {a},\n               \"children\": [\n                  {{\n                     \"ns\": {b}\n"
    )), "{text}");
    // Owner tree without user namespaces listed is flat.
    let uts = cmd("lsns").args(["-T", "-t", "uts", "-o", "NS"]).run();
    assert!(!uts.success().stdout().contains("─"));
}

/// `-T parent -p PID` nests PID's pid namespace under its parent although PID is not in the parent (as
/// util-linux 2.38 does), and the parent takes its place at the child's row, not at its own inode.
#[test]
fn parent_tree_of_a_task_completes_pid_parents() {
    if skip_unless_root() {
        return;
    }
    let holder = Proc::spawn("/usr/bin/unshare", &["-p", "-u", "--fork", "sleep", "3001"]);
    let child = first_child(holder.pid());
    wait_exec(child, "sleep");
    let pid = child.to_string();
    let init_pid = ns_ino_of("/proc/self/ns/pid");
    let own_pid = ns_ino(child, "pid");
    let args = ["-T", "parent", "-o", "NS,TYPE,PNS,PID", "-p", pid.as_str()];
    let ours = cmd("lsns").args(["-Tparent"]).args(&args[2..]).run();
    let out = ours.success().stdout();
    assert!(
        out.contains(&format!("\n{init_pid}   pid             0 ")),
        "{out}"
    );
    assert!(
        out.contains(&format!("\n└─{own_pid} pid    {init_pid} {pid:>5}\n")),
        "{out}"
    );
    let uts = ns_ino(child, "uts");
    let (at_parent, at_uts) = (
        out.find(&format!("{init_pid} ")),
        out.find(&format!("{uts} ")),
    );
    assert!(
        at_parent > at_uts,
        "the parent comes with its child:\n{out}"
    );
    let theirs = reference("/usr/bin/lsns")
        .args(["-Tparent"])
        .args(&args[2..])
        .run();
    assert_eq!(out, theirs.success().stdout());
    // Without the tree column the owner/parent layouts are flat but keep the tree's row order (the user
    // namespace first); a repeated tree column carries the glyphs in every copy.
    for list in [
        &["-T", "-o", "TYPE,PID"][..],
        &["-Tparent", "-o", "TYPE,PID", "-J"],
        &["-T", "-o", "NS,NS"],
        &["-Tparent", "-o", "NS,TYPE,NS", "-r"],
        &["-o", "COMMAND,PID,COMMAND"],
    ] {
        let ours = cmd("lsns").args(list).args(["-p", pid.as_str()]).run();
        let theirs = reference("/usr/bin/lsns")
            .args(list)
            .args(["-p", pid.as_str()])
            .run();
        same_outcome(&ours, &theirs);
    }
    let json = cmd("lsns")
        .args([
            "-J",
            "-Tparent",
            "-o",
            "NS",
            "-t",
            "pid",
            "-p",
            pid.as_str(),
        ])
        .run();
    json.success().stdout_is(&format!(
        "{{\n   \"namespaces\": [\n      {{\n         \"ns\": {init_pid},\n         \"children\": [\n            {{\n               \"ns\": {own_pid}\n            }}\n         ]\n      }}\n   ]\n}}\n"
    ));
}

/// The pid of the process whose command line is exactly `cmdline` (NUL-separated), or 0.
fn find_process(cmdline: &str) -> u32 {
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        if std::fs::read(format!("/proc/{pid}/cmdline"))
            .ok()
            .as_deref()
            == Some(cmdline.as_bytes())
        {
            return pid;
        }
    }
    0
}

#[test]
fn output_modes() {
    if skip_unless_root() {
        return;
    }
    // `; :` keeps sh from exec'ing sleep: the shell, with its odd arguments, is the namespace's process.
    let holder = Proc::spawn(
        "/usr/bin/unshare",
        &["-u", "sh", "-c", "sleep 1003; :", "a\tb\\c", "é"],
    );
    wait_unshared(holder.pid(), "uts");
    wait_exec(holder.pid(), "sh");
    let ino = ns_ino(holder.pid(), "uts");
    let q = format!("NS == {ino}");
    // Table: control characters as \xHH, backslash and UTF-8 kept; raw: every non-printable byte escaped.
    cmd("lsns")
        .args(["-n", "-o", "COMMAND", "-Q", &q])
        .run()
        .success()
        .stdout_is("sh -c sleep 1003; : a\\x09b\\c é\n");
    cmd("lsns")
        .args(["-n", "-r", "-o", "NS,COMMAND", "-Q", &q])
        .run()
        .success()
        .stdout_is(&format!(
            "{ino} sh\\x20-c\\x20sleep\\x201003;\\x20:\\x20a\\x09b\\x5cc\\x20\\xc3\\xa9\n"
        ));
    cmd("lsns")
        .args(["-J", "-o", "NS,COMMAND,NETNSID", "-Q", &q])
        .run()
        .success()
        .stdout_is(&format!(
            "{{\n   \"namespaces\": [\n      {{\n         \"ns\": {ino},\n         \"command\": \"sh -c sleep 1003; : a\\tb\\\\c é\",\n         \"netnsid\": null\n      }}\n   ]\n}}\n"
        ));
    // No rows: nothing in a table, an empty list in JSON.
    cmd("lsns")
        .args(["-Q", "NS == 1"])
        .run()
        .success()
        .stdout_is("");
    cmd("lsns")
        .args(["-J", "-Q", "NS == 1"])
        .run()
        .success()
        .stdout_is("{\n   \"namespaces\": [\n\n   ]\n}\n");
    // JSON compact and lines variants.
    let compact = cmd("lsns")
        .args(["-J", "-o", "NS,TYPE", "-Q", &q])
        .env("LIBSMARTCOLS_JSON", "compact")
        .run();
    compact.success().stdout_is(&format!(
        "{{\"namespaces\":[\n{{\"ns\":{ino},\"type\":\"uts\"}}\n]}}\n"
    ));
    cmd("lsns")
        .args(["-J", "-o", "NS,TYPE", "-Q", &q])
        .env("LIBSMARTCOLS_JSON", "lines")
        .run()
        .success()
        .stdout_is(&format!("{{\"ns\":{ino},\"type\":\"uts\"}}\n"));
    // ASCII tree glyphs outside a UTF-8 locale.
    let ascii = cmd("lsns")
        .args(["-T", "-o", "NS,TYPE"])
        .env("LC_ALL", "C")
        .run();
    assert!(ascii.success().stdout().contains("`-"));
    // -u and a pipe: never truncated.
    let wide = cmd("lsns")
        .args(["-n", "-o", "COMMAND", "-Q", &q])
        .env("COLUMNS", "10")
        .run();
    wide.success()
        .stdout_is("sh -c sleep 1003; : a\\x09b\\c é\n");
    // Broken pipe: quiet, rc 0.
    let piped = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} -J --output-all | head -c 10 >/dev/null; echo ${{PIPESTATUS:-}}",
            bin("lsns").display()
        ))
        .output()
        .unwrap();
    assert!(
        piped.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
}

#[test]
fn command_bytes_as_util_linux() {
    if skip_unless_root() {
        return;
    }
    use std::os::unix::ffi::OsStrExt;
    // Invalid UTF-8, a C0 and a C1 control, valid UTF-8: escaped per output mode exactly like 2.38.
    let holder = Command::new("/usr/bin/unshare")
        .args(["-u", "sh", "-c", "sleep 1004; :"])
        .arg(std::ffi::OsStr::from_bytes(b"\xff\xfe"))
        .args(["\u{1}", "\u{85}", "é"])
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let holder = Proc(holder);
    wait_unshared(holder.pid(), "uts");
    wait_exec(holder.pid(), "sh");
    let pid = holder.pid().to_string();
    for args in [
        &["-n", "-o", "NS,COMMAND", "-t", "uts", "-p", &pid][..],
        &["-r", "-o", "NS,COMMAND", "-t", "uts", "-p", &pid],
        &["-J", "-l", "-o", "NS,COMMAND", "-t", "uts", "-p", &pid],
    ] {
        let ours = cmd("lsns").args(args).run();
        let theirs = reference("/usr/bin/lsns").args(args).run();
        assert_eq!(ours.output.stdout, theirs.output.stdout, "{args:?}");
        assert_eq!(ours.code(), 0);
    }
    cmd("lsns")
        .args(["-n", "-o", "COMMAND", "-t", "uts", "-p", &pid])
        .env("LC_ALL", "C")
        .run()
        .success()
        .stdout_is("sh -c sleep 1004; : \\xff\\xfe \\x01 \\xc2\\x85 \\xc3\\xa9\n");
}

#[test]
fn filter_expressions() {
    let count = |expr: &str| -> usize {
        // Our own process's namespaces: a set of rows other tests running in parallel cannot change.
        let me = std::process::id().to_string();
        let run = cmd("lsns")
            .args(["-n", "-r", "-o", "NS", "-p", &me, "-Q", expr])
            .run();
        run.success();
        run.stdout().lines().count()
    };
    let all = count("true");
    assert_eq!(all, 8);
    assert_eq!(count("false"), 0);
    assert_eq!(
        count("NS > 0 and (TYPE == 'mnt' or TYPE eq \"uts\") || FALSE"),
        count("TYPE =~ '^(mnt|uts)$'")
    );
    assert_eq!(count("TYPE !~ 'mnt'") + count("TYPE =~ 'mnt'"), all);
    assert_eq!(
        count("TYPE < \"mnt\""),
        count("TYPE == 'cgroup' || TYPE == 'ipc'")
    );
    assert_eq!(count("NPROCS == \"1\""), count("NPROCS == 1"));
    assert_eq!(count("not (PID == 2)") + count("PID == 2"), all);
    assert_eq!(count("nprocs ge 1") + count("!PID"), all);
    assert_eq!(count("NS =~ \"^4026\""), all);
}

/// A regular expression whose compiled form would explode (glibc's regcomp needs 2^n memory for n stacked
/// `+`: 24 GB at 25, found by the lsns_filter fuzz target) is refused at once with a parse error.
#[test]
fn filter_regex_too_big_is_refused() {
    let pattern = format!("m{}", "+".repeat(40));
    let expr = format!("COMMAND =~ \"{pattern}\"");
    cmd("lsns")
        .args(["-n", "-Q", &expr])
        .run()
        .code_is(1)
        .stderr_is(&format!(
        "lsns: failed to parse \"{expr}\": syntax error at byte 11: invalid regular expression: \
             Regular expression too big\n"
    ));
}

/// A listing without process-less rows (2.38 does not see them): table and raw rows whose NPROCS cell
/// (field `nprocs_field`) is 0, JSON objects with `"nprocs": 0`.
fn without_processless(out: &str, nprocs_field: usize, json: bool) -> String {
    if !json {
        return out
            .lines()
            .filter(|l| l.split_whitespace().nth(nprocs_field) != Some("0"))
            .map(|l| format!("{l}\n"))
            .collect();
    }
    // Flat JSON: objects open with `      {` or `      },{` and the list closes with `      }`.
    let mut objects: Vec<Vec<&str>> = Vec::new();
    let mut head = Vec::new();
    let mut tail = Vec::new();
    for line in out.lines() {
        match line {
            "      {" | "      },{" => objects.push(Vec::new()),
            "      }" => tail.push(line),
            _ if !tail.is_empty() => tail.push(line),
            _ => match objects.last_mut() {
                Some(o) => o.push(line),
                None => head.push(line),
            },
        }
    }
    objects.retain(|o| !o.contains(&"         \"nprocs\": 0,"));
    let mut text: String = head.iter().map(|l| format!("{l}\n")).collect();
    for (k, o) in objects.iter().enumerate() {
        text.push_str(if k == 0 { "      {\n" } else { "      },{\n" });
        for l in o {
            text.push_str(l);
            text.push('\n');
        }
    }
    if objects.is_empty() {
        text.push('\n');
        tail.retain(|l| *l != "      }");
    }
    for l in tail {
        text.push_str(l);
        text.push('\n');
    }
    text
}

/// Makes two runs in separate fresh namespaces comparable: the lsns binary's own path becomes `LSNS`
/// (padded columns stay aligned as both paths are replaced by one word, so only rows are compared
/// loosely), and namespace inodes made for the run (above the boot-time ones) are numbered by rank.
fn normalize(text: &str, loose: bool) -> String {
    if !loose {
        return text.to_string();
    }
    let mut text = text.to_string();
    for path in [
        public_bin_dir().join("lsns").display().to_string(),
        "/usr/bin/lsns".into(),
    ] {
        text = text.replace(&path, "LSNS");
    }
    let is_fresh = |w: &str| w.len() == 10 && w.starts_with("40265") && w > "4026531999";
    let mut fresh: Vec<String> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| is_fresh(w))
        .map(str::to_string)
        .collect();
    fresh.sort();
    fresh.dedup();
    for (rank, ino) in fresh.iter().enumerate() {
        text = text.replace(ino.as_str(), &format!("{:0>10}", rank));
    }
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") + "\n")
        .collect()
}

/// Runs ours and 2.38 with `args` until they agree (processes come and go between the two runs: other
/// tests run in parallel), at most 50 times.
fn agree_with_2_38(
    ours: impl Fn() -> Run,
    theirs: impl Fn() -> Run,
    args: &[&str],
    nprocs_field: usize,
    loose: bool,
) {
    let json = args.contains(&"-J");
    let mut last = (String::new(), String::new());
    for _ in 0..50 {
        let a = ours();
        let b = theirs();
        a.success();
        let filtered = normalize(&without_processless(&a.stdout(), nprocs_field, json), loose);
        let reference = normalize(&b.stdout(), loose);
        if filtered == reference && b.code() == 0 {
            return;
        }
        last = (filtered, reference);
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "lsns {args:?} differs from util-linux 2.38:\nours:\n{}\ntheirs:\n{}",
        last.0, last.1
    );
}

/// (arguments, index of NPROCS among the whitespace-separated fields of a row).
const DIFFERENTIAL_CASES: &[(&[&str], usize)] = &[
    (&[], 2),
    (&["-r"], 2),
    (&["-n"], 2),
    (&["-l"], 2),
    (&["-J", "-l"], 0),
    (
        &["-l", "-o", "NS,TYPE,NPROCS,PATH,PID,PPID,UID,USER,PNS,ONS"],
        2,
    ),
    (&["-t", "uts", "-l"], 2),
    (&["-t", "user", "-t", "pid", "-r"], 2),
    (&["-u", "-W"], 2),
    (&["-n", "-l", "-o", "+PATH", "-t", "ipc"], 2),
    (&["--output", "NS,NPROCS,TYPE", "-l"], 1),
    // Width hints: PID/PPID are 5 wide once a value is as wide as the header, TYPE too.
    (&["-t", "uts", "-o", "NS,TYPE,NPROCS,PID,PPID"], 2),
    (&["-t", "user", "-o", "NS,TYPE,NPROCS,PPID,UID"], 2),
];

#[test]
fn same_as_util_linux_2_38_as_root() {
    if skip_unless_root() {
        return;
    }
    for (args, field) in DIFFERENTIAL_CASES {
        agree_with_2_38(
            || cmd("lsns").args(*args).run(),
            || reference("/usr/bin/lsns").args(*args).run(),
            args,
            *field,
            false,
        );
    }
}

/// Rootless, inside a user and pid namespace of its own with a fresh /proc: as `nobody` the only visible
/// processes would otherwise be those other tests start and stop as `nobody` at the same time.
#[test]
fn same_as_util_linux_2_38_rootless() {
    let ours = if is_root() {
        public_bin_dir().join("lsns")
    } else {
        bin("lsns")
    };
    let jail = ["-U", "-r", "-p", "-f", "-m", "--mount-proc", "--"];
    for (args, field) in DIFFERENTIAL_CASES {
        agree_with_2_38(
            || {
                reference("/usr/bin/unshare")
                    .args(jail)
                    .arg(&ours)
                    .args(*args)
                    .rootless()
                    .run()
            },
            || {
                reference("/usr/bin/unshare")
                    .args(jail)
                    .arg("/usr/bin/lsns")
                    .args(*args)
                    .rootless()
                    .run()
            },
            args,
            *field,
            true,
        );
    }
}

#[test]
fn rootless_sees_own_processes() {
    // `-p $$` after exec is lsns itself: its 8 namespaces, whatever else `nobody` runs meanwhile.
    let ours = if is_root() {
        public_bin_dir().join("lsns")
    } else {
        bin("lsns")
    };
    let script = format!("exec {} -r -n -o TYPE,NPROCS,USER -p $$", ours.display());
    let run = reference("/bin/sh").args(["-c", &script]).rootless().run();
    run.success();
    let out = run.stdout();
    assert_eq!(out.lines().count(), 8, "{out}");
    assert!(out.lines().all(|l| l.ends_with(" nobody")), "{out}");
    let json = cmd("lsns").args(["-J", "--output-all"]).rootless().run();
    assert!(json_ok(&json.success().stdout()));
}

#[test]
fn nsbox_multicall_runs_lsns() {
    cmd("lsns")
        .via_nsbox()
        .args([
            "-n",
            "-r",
            "-o",
            "TYPE",
            "-t",
            "uts",
            "-p",
            &std::process::id().to_string(),
        ])
        .run()
        .success()
        .stdout_is("uts\n");
}

/// The race util-linux loses about 1 run in 200: processes exiting mid-scan must not break a run.
#[test]
fn survives_process_churn() {
    let churn = Command::new("sh")
        .arg("-c")
        .arg(
            // About 300 short-lived processes a second (some in a namespace of their own), light enough
            // not to starve the lsns runs: each run still sees processes exit while it scans.
            "while :; do for i in 1 2 3 4 5; do sleep 0.0$i & done; \
             unshare -u sleep 0.01 2>/dev/null; wait; done",
        )
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Group(Child);
    impl Drop for Group {
        fn drop(&mut self) {
            // SAFETY: kill has no memory-safety preconditions; the group is the churn this test started.
            unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
            let _ = self.0.wait();
        }
    }
    let _churn = Group(churn);
    let modes: [&[&str]; 4] = [
        &[],
        &["-J"],
        &["-r", "--output-all"],
        &["-J", "-t", "net", "-l"],
    ];
    for i in 0..1000 {
        let args = modes[i % modes.len()];
        let run = cmd("lsns").args(args).run();
        assert_eq!(run.code(), 0, "run {i} {args:?}: {}", run.stderr());
        assert!(run.stderr().is_empty(), "run {i}: {}", run.stderr());
        let out = run.stdout();
        if args.contains(&"-J") {
            assert!(json_ok(&out), "run {i}: malformed JSON\n{out}");
        } else {
            let mut lines = out.lines();
            let header = lines.next().unwrap_or_default();
            assert!(header.trim_start().starts_with("NS "), "run {i}: {out}");
            for line in lines {
                // Every row starts with an inode and a type; raw rows have exactly one cell per column.
                let mut words = line.split_whitespace();
                let ino = words.next().and_then(|w| w.parse::<u64>().ok());
                let kind = words.next().unwrap_or_default();
                assert!(
                    ino.is_some() && TYPES.contains(&kind),
                    "run {i}: bad line {line:?}"
                );
                if args.contains(&"-r") {
                    assert_eq!(line.split(' ').count(), 13, "run {i}: bad line {line:?}");
                }
            }
        }
    }
}
