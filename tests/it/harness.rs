//! Runs the built binaries as root or as an unprivileged user and checks what they did.
//!
//! `cmd("unshare").args([...]).run()` runs `target/<profile>/unshare`; `.via_nsbox()` runs `nsbox unshare ...`;
//! `.rootless()` drops to uid/gid 65534 with setpriv first. The binaries must be built before the tests run
//! (`cargo build --workspace` — the README's test command does it).

#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The uid/gid rootless variants run as (`nobody`).
pub const NOBODY: u32 = 65534;

/// Every tool binary the workspace builds.
pub const TOOLS: &[&str] = &[
    "lsns",
    "netns",
    "nsenter",
    "pivot_root",
    "switch_root",
    "unshare",
    "veth",
];

/// `target/<profile>`, where cargo put our binaries.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/it-HASH → target/<profile>
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// The path of a built binary, checked to exist.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --workspace` before the tests",
        p.display()
    );
    p
}

/// A copy of the built binaries in a directory every user may read and execute, for rootless runs
/// (the checkout may live under a directory `nobody` cannot enter).
pub fn public_bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // One directory per checkout, reused by every run (not one per run, which would pile up in /tmp);
        // copies go through a per-process temporary name and an atomic rename, so concurrent runs agree.
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bin_dir().hash(&mut hasher);
        let dir = PathBuf::from(format!("/tmp/nsbox-test-bin-{:016x}", hasher.finish()));
        std::fs::create_dir_all(&dir).expect("create public bin dir");
        set_mode(&dir, 0o755);
        for name in TOOLS.iter().chain(["nsbox"].iter()) {
            let dst = dir.join(name);
            let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
            std::fs::copy(bin(name), &tmp).expect("copy binary");
            set_mode(&tmp, 0o755);
            std::fs::rename(&tmp, &dst).expect("rename binary");
        }
        dir
    })
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Whether this test process runs as root (the privileged tests need it).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Who runs a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Root,
    Rootless,
}

/// The variants a test should loop over: root (when we are root) and rootless (always possible as root,
/// via setpriv; when not root we are already rootless).
pub fn variants() -> Vec<Variant> {
    if is_root() {
        vec![Variant::Root, Variant::Rootless]
    } else {
        vec![Variant::Rootless]
    }
}

/// A command line to run.
#[derive(Debug, Clone)]
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    rootless: bool,
    stdin: Option<Vec<u8>>,
    env: Vec<(OsString, Option<OsString>)>,
    current_dir: Option<PathBuf>,
    timeout: Duration,
}

/// One of our tools, by name (`unshare`, ... or `nsbox`).
pub fn cmd(tool: &str) -> Cmd {
    Cmd::new(bin(tool))
}

/// The installed reference tool (util-linux/iproute2), by path.
pub fn reference(path: &str) -> Cmd {
    Cmd::new(path)
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Cmd {
        Cmd {
            program: program.as_ref().to_os_string(),
            args: Vec::new(),
            rootless: false,
            stdin: None,
            env: Vec::new(),
            current_dir: None,
            timeout: Duration::from_secs(60),
        }
    }

    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Cmd {
        self.args.push(a.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Run as `nsbox TOOL ARGS...` through the multicall binary instead.
    pub fn via_nsbox(mut self) -> Cmd {
        let tool = Path::new(&self.program)
            .file_name()
            .expect("tool name")
            .to_os_string();
        self.args.insert(0, tool);
        self.program = bin("nsbox").into_os_string();
        self
    }

    /// Run with SIGPIPE ignored by the caller (`trap '' PIPE` in sh, then exec), as a script or service
    /// manager may start it: an ignored signal stays ignored across exec.
    pub fn sigpipe_ignored(self) -> Cmd {
        let mut program = PathBuf::from(&self.program);
        if self.rootless && is_root() && program.starts_with(bin_dir()) {
            program = public_bin_dir().join(program.file_name().expect("name"));
        }
        let mut args: Vec<OsString> = ["-c", "trap '' PIPE; exec \"$@\"", "sh"]
            .iter()
            .map(OsString::from)
            .collect();
        args.push(program.into_os_string());
        args.extend(self.args);
        Cmd {
            program: OsString::from("/bin/sh"),
            args,
            ..self
        }
    }

    /// Run as uid/gid 65534 with no supplementary groups.
    pub fn rootless(mut self) -> Cmd {
        self.rootless = true;
        self
    }

    pub fn variant(self, v: Variant) -> Cmd {
        match v {
            Variant::Root => self,
            Variant::Rootless => self.rootless(),
        }
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(data.into());
        self
    }

    pub fn env(mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> Cmd {
        self.env
            .push((k.as_ref().to_os_string(), Some(v.as_ref().to_os_string())));
        self
    }

    pub fn env_remove(mut self, k: impl AsRef<OsStr>) -> Cmd {
        self.env.push((k.as_ref().to_os_string(), None));
        self
    }

    pub fn current_dir(mut self, d: impl AsRef<Path>) -> Cmd {
        self.current_dir = Some(d.as_ref().to_path_buf());
        self
    }

    pub fn timeout(mut self, t: Duration) -> Cmd {
        self.timeout = t;
        self
    }

    /// The std Command this would run (for tests that need to manage the process themselves).
    pub fn command(&self) -> Command {
        let mut program = PathBuf::from(&self.program);
        if self.rootless && is_root() {
            // Use the world-executable copy when the program is one of ours.
            if program.starts_with(bin_dir()) {
                program = public_bin_dir().join(program.file_name().expect("name"));
            }
        }
        let mut c = if self.rootless && is_root() {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
                "--",
            ]);
            c.arg(&program);
            c
        } else {
            Command::new(&program)
        };
        c.args(&self.args);
        for (k, v) in &self.env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some(d) = &self.current_dir {
            c.current_dir(d);
        } else if self.rootless {
            c.current_dir("/");
        }
        c
    }

    /// Runs to completion (killed after the timeout) and returns what happened.
    pub fn run(&self) -> Run {
        let mut c = self.command();
        c.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", self.program));
        if let Some(data) = &self.stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            let data = data.clone();
            std::thread::spawn(move || {
                let _ = pipe.write_all(&data);
            });
        }
        let pid = child.id() as i32;
        let timeout = self.timeout;
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let done2 = done.clone();
        let watchdog = std::thread::spawn(move || {
            let step = Duration::from_millis(50);
            let mut waited = Duration::ZERO;
            while waited < timeout {
                if done2.load(Ordering::SeqCst) {
                    return false;
                }
                std::thread::sleep(step);
                waited += step;
            }
            if !done2.load(Ordering::SeqCst) {
                // SAFETY: kill has no memory-safety preconditions; pid is our own child, not yet reaped.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                return true;
            }
            false
        });
        let output = child.wait_with_output().expect("wait for child");
        done.store(true, Ordering::SeqCst);
        let timed_out = watchdog.join().unwrap_or(false);
        Run {
            what: self.describe(),
            output,
            timed_out,
        }
    }

    fn describe(&self) -> String {
        let mut s = String::new();
        if self.rootless {
            s.push_str("[rootless] ");
        }
        s.push_str(&self.program.to_string_lossy());
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }
}

/// The outcome of a command, with assertion helpers that say which command failed and how.
#[derive(Debug)]
pub struct Run {
    pub what: String,
    pub output: Output,
    pub timed_out: bool,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The exit code, or 128+N for death by signal N (as a shell reports it).
    pub fn code(&self) -> i32 {
        use std::os::unix::process::ExitStatusExt;
        match self.output.status.code() {
            Some(c) => c,
            None => 128 + self.output.status.signal().unwrap_or(0),
        }
    }

    /// The signal that killed the process, if any.
    pub fn signal(&self) -> Option<i32> {
        use std::os::unix::process::ExitStatusExt;
        self.output.status.signal()
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "{what}\ncommand: {}\nexit: {:?}{}\nstdout:\n{}\nstderr:\n{}",
            self.what,
            self.output.status,
            if self.timed_out { " (timed out)" } else { "" },
            self.stdout(),
            self.stderr()
        )
    }

    pub fn success(&self) -> &Run {
        if !self.output.status.success() {
            self.fail("expected success");
        }
        self
    }

    pub fn failure(&self) -> &Run {
        if self.output.status.success() {
            self.fail("expected failure");
        }
        self
    }

    pub fn code_is(&self, code: i32) -> &Run {
        if self.code() != code {
            self.fail(&format!("expected exit code {code}, got {}", self.code()));
        }
        self
    }

    pub fn stdout_is(&self, expected: &str) -> &Run {
        if self.stdout() != expected {
            self.fail(&format!("stdout differs; expected:\n{expected}"));
        }
        self
    }

    pub fn stderr_is(&self, expected: &str) -> &Run {
        if self.stderr() != expected {
            self.fail(&format!("stderr differs; expected:\n{expected}"));
        }
        self
    }

    pub fn stdout_contains(&self, part: &str) -> &Run {
        if !self.stdout().contains(part) {
            self.fail(&format!("stdout lacks {part:?}"));
        }
        self
    }

    pub fn stderr_contains(&self, part: &str) -> &Run {
        if !self.stderr().contains(part) {
            self.fail(&format!("stderr lacks {part:?}"));
        }
        self
    }

    pub fn stderr_empty(&self) -> &Run {
        self.stderr_is("")
    }
}

/// Whether a `SigIgn:\t<hex mask>` line from /proc/PID/status has SIGPIPE (bit 13) set.
pub fn sigign_has_sigpipe(text: &str) -> bool {
    text.lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (libc::SIGPIPE - 1)) != 0)
}

/// Asserts that two runs (ours and the reference's) agree on exit code and stdout.
pub fn same_outcome(ours: &Run, theirs: &Run) {
    assert_eq!(
        (ours.code(), ours.stdout()),
        (theirs.code(), theirs.stdout()),
        "\nours:   {}\nstderr: {}\ntheirs: {}\nstderr: {}",
        ours.what,
        ours.stderr(),
        theirs.what,
        theirs.stderr()
    );
}

/// A name no other test (or test run) uses: `prefix` + pid + counter, at most 15 bytes for interfaces.
pub fn unique_name(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let name = format!("{prefix}{}x{n}", std::process::id() % 100000);
    assert!(name.len() <= 15, "name too long: {name}");
    name
}

/// Runs `script` with `sh -c` inside a fresh private mount namespace (made with the installed util-linux
/// unshare, so the harness does not depend on the code under test). Whatever it mounts disappears with it.
pub fn in_private_mount_ns(script: &str) -> Run {
    assert!(is_root(), "private mount namespace tests need root");
    reference("/usr/bin/unshare")
        .args(PRIVATE_MOUNT_NS_ARGS)
        .arg(script)
        .env("NSBOX_BIN", bin_dir())
        .run()
}

const PRIVATE_MOUNT_NS_ARGS: [&str; 6] =
    ["--mount", "--propagation", "private", "--", "sh", "-euc"];

/// As [`in_private_mount_ns`], with the test's namespaces all created on CPU 0. Binding a mount namespace file
/// needs the bound namespace to be newer than the binder's (else EINVAL), and since 6.18 the kernel hands out
/// namespace ids in per-CPU batches: a namespace made on the other CPU can look older. util-linux's unshare
/// fails the same way; one CPU makes the ids monotonic.
pub fn in_private_mount_ns_on_one_cpu(script: &str) -> Run {
    assert!(is_root(), "private mount namespace tests need root");
    reference("/usr/bin/taskset")
        .args(["-c", "0", "/usr/bin/unshare"])
        .args(PRIVATE_MOUNT_NS_ARGS)
        .arg(script)
        .env("NSBOX_BIN", bin_dir())
        .run()
}

/// A network namespace made with iproute2 for a test, removed when dropped (also on panic).
pub struct TempNetns {
    pub name: String,
}

impl TempNetns {
    pub fn new() -> TempNetns {
        let name = unique_name("nsbt");
        reference("/usr/sbin/ip")
            .args(["netns", "add", &name])
            .run()
            .success();
        TempNetns { name }
    }

    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }
}

impl Drop for TempNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

/// Removes a netns by name when dropped, for namespaces our own code under test creates.
pub struct NetnsGuard(pub String);

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        let path = format!("/run/netns/{}", self.0);
        if Path::new(&path).exists() {
            let _ = Command::new("ip")
                .args(["netns", "delete", &self.0])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Deletes a link in the machine's namespace when dropped, if a test's veth leaked there.
pub struct LinkGuard(pub String);

impl Drop for LinkGuard {
    fn drop(&mut self) {
        if Path::new(&format!("/sys/class/net/{}", self.0)).exists() {
            let _ = Command::new("ip")
                .args(["link", "delete", &self.0])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A temporary directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("nsbox-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).expect("mkdir temp");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The mount points of this process's mount namespace (to prove a test left nothing mounted).
pub fn mount_points() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .collect()
}

/// Skips (returns true and prints why) when not root; privileged tests start with `if skip_unless_root() { return; }`.
pub fn skip_unless_root() -> bool {
    if is_root() {
        return false;
    }
    eprintln!("skipped: needs root");
    true
}
