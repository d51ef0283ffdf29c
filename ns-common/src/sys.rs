//! The libc gaps: calls rustix does not wrap (or wraps only as unstable API), each small and explained.
//!
//! Deliberately not wrapped here:
//!  - `getpwnam`/`getgrnam` and friends: NSS crashes static glibc binaries; see [`crate::users`].
//!  - `setlocale`: util-linux's 35 openat at startup come from it; our messages are English only.
//!  - `clone3` with `CLONE_INTO_CGROUP`: not needed; `fork` after `unshare` keeps the order readable.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `strerror_r(errno)` — the C library's message for `errno`, as util-linux prints it.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/strerror.3.html)
pub fn strerror(errno: i32) -> String {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: `buf` is writable for its full length and strerror_r (the XSI variant the libc crate binds)
    // NUL-terminates what it writes within that length.
    let ret = unsafe { libc::strerror_r(errno, buf.as_mut_ptr(), buf.len()) };
    if ret != 0 {
        return format!("Unknown error {errno}");
    }
    // SAFETY: strerror_r succeeded, so `buf` holds a NUL-terminated string.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// `clone(SIGCHLD)` — a fork as the kernel does it; returns `None` in the child and the child's pid in the parent.
///
/// A raw `clone` rather than the C library's `fork()`: musl's `fork()` blocks and restores every signal around
/// the clone and resets the thread id in the child (7 system calls per fork, 10 % of `unshare -Ur --pid --fork
/// true`'s), bookkeeping for atfork handlers and threads that our single-threaded tools do not have.
///
/// # The rule for the child
/// The C library does not know it forked: its cached thread id in the child is still the parent's. Until it
/// execs or exits, the child must therefore not call `raise`, `abort`, `pthread_kill`, `pthread_create` or
/// anything else that uses the thread id (musl's `raise` would signal the *parent*); `pthread_sigmask` is
/// only the `rt_sigprocmask` system call and is fine. Our children set up namespaces, ids and mounts with
/// plain system calls, print an error through [`crate::error`] and leave by returning from `main`,
/// [`exit_now`] or exec; [`die_by_signal`] uses `kill(getpid())`, so it is safe on either side. A panic in the
/// child (a bug) would reach `abort`: the child installs a hook that kills the process by pid instead.
/// The same goes for any child of a child (the `--init` process forks the program).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/clone.2.html)
pub fn fork() -> io::Result<Option<libc::pid_t>> {
    // SAFETY: clone without CLONE_VM gives the child its own copy of our memory, stack included, as fork(2)
    // does (a null stack pointer means "the same address, in the copy"); no parent/child tid or TLS pointer
    // is passed (all zero, so their order, which differs between architectures, does not matter; flags come
    // first everywhere but s390). The tools are single-threaded when they fork, and the child keeps to the
    // rule above.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            libc::c_long::from(libc::SIGCHLD),
            0 as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
        )
    };
    match ret {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            abort_by_pid_on_panic();
            Ok(None)
        }
        pid => Ok(Some(pid as libc::pid_t)),
    }
}

/// In a child made by [`fork`]: a panic ends the process with SIGABRT sent by pid, after the usual message,
/// because the C library's `abort` would send it to the parent's stale thread id.
fn abort_by_pid_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        die_by_signal(libc::SIGABRT)
    }));
}

/// A program and its arguments, converted to C strings before any fork so the child need not allocate.
pub struct Command {
    program: CString,
    args: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    /// False for a login shell, which util-linux runs by the path given (`SHELL=sh` is not searched for).
    search_path: bool,
}

impl Command {
    /// Prepares `program` with `args` (argv[0] is `program` itself, as util-linux passes it).
    /// Fails when a word contains a NUL byte (impossible from a real command line).
    pub fn new(program: &OsStr, args: &[OsString]) -> io::Result<Command> {
        let c = |s: &OsStr| {
            CString::new(s.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
        };
        let program = c(program)?;
        let mut all = vec![program.clone()];
        for a in args {
            all.push(c(a)?);
        }
        let mut argv: Vec<*const libc::c_char> = all.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        Ok(Command {
            program,
            args: all,
            argv,
            search_path: true,
        })
    }

    /// Prepares `shell` as a login shell: argv[0] is `-` + its basename (`-bash`), and [`Command::exec`] runs
    /// it by the path given, without a PATH search, as util-linux's shell fallback does.
    pub fn login_shell(shell: &OsStr) -> io::Result<Command> {
        let base = shell
            .as_bytes()
            .rsplit(|&b| b == b'/')
            .next()
            .unwrap_or_default();
        let argv0 = OsString::from_vec([b"-", base].concat());
        let mut cmd = Command::new(&argv0, &[])?;
        cmd.program = CString::new(shell.as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        cmd.search_path = false;
        Ok(cmd)
    }

    /// Execs the command: [`Command::execvp`] for a program, [`Command::execv`] for a login shell.
    pub fn exec(&self) -> io::Error {
        if self.search_path {
            self.execvp()
        } else {
            self.execv()
        }
    }

    /// The program as given.
    pub fn program(&self) -> &CStr {
        &self.program
    }

    /// `execvp(program, argv)` — replaces the process; returns only the error.
    ///
    /// # References
    ///  - [Linux](https://man7.org/linux/man-pages/man3/execvp.3.html)
    pub fn execvp(&self) -> io::Error {
        debug_assert_eq!(self.argv.len(), self.args.len() + 1);
        // SAFETY: `program` and every `argv` pointer point into `self.args`/`self.program`, which live as long
        // as `self`; `argv` ends with a null pointer.
        unsafe { libc::execvp(self.program.as_ptr(), self.argv.as_ptr()) };
        io::Error::last_os_error()
    }

    /// `execv(program, argv)` — like [`Command::execvp`] but without the PATH search (switch_root runs init
    /// by the path given, as util-linux does).
    ///
    /// # References
    ///  - [Linux](https://man7.org/linux/man-pages/man3/execv.3.html)
    pub fn execv(&self) -> io::Error {
        debug_assert_eq!(self.argv.len(), self.args.len() + 1);
        // SAFETY: as for `execvp`: every pointer points into `self`, and `argv` ends with a null pointer.
        unsafe { libc::execv(self.program.as_ptr(), self.argv.as_ptr()) };
        io::Error::last_os_error()
    }
}

/// `faccessat2(dirfd, path, mode, flags)` (Linux 5.8) — rustix refuses `AT_EMPTY_PATH`, which switch_root needs
/// to ask "may I execute the file this `O_PATH` fd holds" without looking the path up again.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/faccessat2.2.html)
pub fn faccessat2(
    dirfd: BorrowedFd<'_>,
    path: &CStr,
    mode: libc::c_int,
    flags: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `path` is a NUL-terminated string that outlives the call; the fd is valid for the borrow.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_faccessat2,
            dirfd.as_raw_fd(),
            path.as_ptr(),
            mode,
            flags,
        )
    };
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// util-linux's exit code for a failed exec: 127 when the program was not found, else 126.
pub fn exec_failure_code(err: &io::Error) -> i32 {
    match err.raw_os_error() {
        Some(libc::ENOENT) => crate::error::EXIT_NOT_FOUND,
        _ => crate::error::EXIT_CANNOT_EXECUTE,
    }
}

/// The nsfs ioctls (`linux/nsfs.h`): `_IO(0xb7, n)`.
pub const NS_GET_USERNS: libc::c_ulong = 0xb701;
pub const NS_GET_PARENT: libc::c_ulong = 0xb702;
pub const NS_GET_NSTYPE: libc::c_ulong = 0xb703;
pub const NS_GET_OWNER_UID: libc::c_ulong = 0xb704;

/// `SIOCGSKNS` (`linux/sockios.h`): a new fd for the network namespace of a socket.
pub const SIOCGSKNS: libc::c_ulong = 0x894c;

/// `ioctl(fd, request)` for the nsfs requests that take no argument; returns the ioctl's result
/// (a new fd for NS_GET_USERNS/NS_GET_PARENT, a `CLONE_NEW*` value for NS_GET_NSTYPE).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/ioctl_nsfs.2.html)
pub fn ioctl_ns(fd: BorrowedFd<'_>, request: libc::c_ulong) -> io::Result<libc::c_int> {
    // SAFETY: these requests take no argument pointer; the fd is valid for the borrow.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), request as _) })
}

/// `NS_GET_ID` (`_IOR(0xb7, 0xd, __u64)`, Linux 6.11): the 64-bit id of a namespace.
pub const NS_GET_ID: libc::c_ulong = 0x8008_b70d;

/// `ioctl(fd, NS_GET_ID, &id)` — the 64-bit id of the namespace `fd` refers to.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/ioctl_nsfs.2.html)
pub fn ioctl_ns_id(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let mut id: u64 = 0;
    // SAFETY: NS_GET_ID writes one u64 to the pointer, which points at a live local.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_ID as _, &mut id) })?;
    Ok(id)
}

/// `ioctl(fd, NS_GET_OWNER_UID, &uid)` — the owner uid of a user namespace.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/ioctl_nsfs.2.html)
pub fn ioctl_ns_owner_uid(fd: BorrowedFd<'_>) -> io::Result<u32> {
    let mut uid: libc::uid_t = 0;
    // SAFETY: NS_GET_OWNER_UID writes one uid_t to the pointer, which points at a live local.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_OWNER_UID as _, &mut uid) })?;
    Ok(uid)
}

/// A compiled POSIX extended regular expression (`regcomp(REG_EXTENDED | REG_NOSUB)`), as lsns `-Q` `=~` uses.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/regcomp.3.html)
pub struct PosixRegex {
    compiled: Box<libc::regex_t>,
}

impl PosixRegex {
    /// Compiles `pattern`; the error is regerror's message, or [`REGEX_TOO_COMPLEX`].
    pub fn new(pattern: &str) -> Result<PosixRegex, String> {
        if regex_cost(pattern) > REGEX_COST_LIMIT {
            return Err(REGEX_TOO_COMPLEX.to_string());
        }
        let c_pattern =
            CString::new(pattern).map_err(|_| "pattern contains a NUL byte".to_string())?;
        // SAFETY: regex_t is plain data that regcomp initialises.
        let mut compiled: Box<libc::regex_t> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: `compiled` points at a live regex_t and `c_pattern` is NUL-terminated.
        let rc = unsafe {
            libc::regcomp(
                &mut *compiled,
                c_pattern.as_ptr(),
                libc::REG_EXTENDED | libc::REG_NOSUB,
            )
        };
        if rc != 0 {
            let mut buf = [0 as libc::c_char; 256];
            // SAFETY: regerror writes at most buf.len() bytes, NUL-terminated, and reads the failed regex_t.
            unsafe { libc::regerror(rc, &*compiled, buf.as_mut_ptr(), buf.len()) };
            // SAFETY: regerror NUL-terminated `buf`.
            let message = unsafe { CStr::from_ptr(buf.as_ptr()) };
            return Err(message.to_string_lossy().into_owned());
        }
        Ok(PosixRegex { compiled })
    }

    /// Whether the pattern matches anywhere in `text` (unanchored search); text with a NUL never matches.
    pub fn is_match(&self, text: &str) -> bool {
        let Ok(c_text) = CString::new(text) else {
            return false;
        };
        // SAFETY: the regex_t was compiled by regcomp; REG_NOSUB means no match array is written.
        let rc =
            unsafe { libc::regexec(&*self.compiled, c_text.as_ptr(), 0, std::ptr::null_mut(), 0) };
        rc == 0
    }
}

/// The message for a pattern refused by [`regex_cost`].
pub const REGEX_TOO_COMPLEX: &str = "Regular expression too big";

/// Patterns whose [`regex_cost`] is above this are refused before regcomp sees them. Real filters cost tens;
/// glibc needs ~700 bytes per unit, so the limit keeps regcomp under ~15 MB.
const REGEX_COST_LIMIT: u64 = 20_000;

/// An upper estimate of the automaton regcomp builds for an extended regular expression. glibc expands each
/// repetition by copying what it repeats, so `a+++…+` (n times) takes 2^n memory and `(a{255}){255}` 65,025
/// copies: a 25-character filter made regcomp allocate 24 GB (found by the lsns_filter fuzz target).
/// Every atom costs 1, a group the sum of its branches, `*`, `+`, `?` double what they follow and `{m,n}`
/// multiplies it by max(m, n) + 1; brackets and escapes are single atoms. A repetition stacked directly on
/// another (`a*+`, `a+{3}`) costs twice more: glibc's work grows 4× per stacked `+` after a `*` (measured:
/// `m*` and 13 `+` took 3.5 GB and 31 s; another fuzz finding). Unbalanced or odd syntax is costed as
/// literals: regcomp itself reports the error.
pub fn regex_cost(pattern: &str) -> u64 {
    let bytes = pattern.as_bytes();
    // Per open group: (cost of the group so far, cost of its last atom, which a repetition multiplies).
    let mut groups: Vec<(u64, u64)> = vec![(0, 0)];
    let mut i = 0;
    // Whether the byte before was a repetition: the next one is stacked on it.
    let mut stacked = false;
    while i < bytes.len() {
        let mut atom = Some(1u64);
        let mut repeated = false;
        let extra = if stacked { 2 } else { 1 };
        match bytes[i] {
            b'\\' => i += 1,
            b'[' => i = bracket_end(bytes, i),
            b'(' => {
                groups.push((0, 0));
                atom = None;
            }
            b')' if groups.len() > 1 => {
                let (inner, _) = groups.pop().unwrap_or((0, 0));
                atom = Some(inner.max(1));
            }
            b'|' => {
                if let Some(top) = groups.last_mut() {
                    top.1 = 0;
                }
                atom = None;
            }
            b'*' | b'+' | b'?' => {
                repeat(&mut groups, 2 * extra);
                atom = None;
                repeated = true;
            }
            b'{' => {
                if let Some((times, end)) = interval(bytes, i) {
                    repeat(&mut groups, times.saturating_add(1).saturating_mul(extra));
                    i = end;
                    atom = None;
                    repeated = true;
                }
            }
            _ => {}
        }
        stacked = repeated;
        if let (Some(cost), Some(top)) = (atom, groups.last_mut()) {
            top.0 = top.0.saturating_add(cost);
            top.1 = cost;
        }
        i += 1;
    }
    // Unclosed groups count like closed ones.
    groups.iter().fold(0u64, |sum, g| sum.saturating_add(g.0))
}

/// Multiplies the last atom of the innermost group by `times` (a repetition of it).
fn repeat(groups: &mut [(u64, u64)], times: u64) {
    if let Some(top) = groups.last_mut() {
        let grown = top.1.saturating_mul(times);
        top.0 = top.0.saturating_sub(top.1).saturating_add(grown);
        top.1 = grown;
    }
}

/// The index of the `]` that closes the bracket expression opened at `start` (or the last byte).
fn bracket_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    if bytes.get(i) == Some(&b'^') {
        i += 1;
    }
    // A `]` first in the list is a member, not the end.
    if bytes.get(i) == Some(&b']') {
        i += 1;
    }
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'[', Some(&kind @ (b':' | b'=' | b'.'))) => {
                // [:class:], [=x=], [.x.]: skip to the matching `kind]`.
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == kind && bytes[i + 1] == b']') {
                    i += 1;
                }
                i += 2;
            }
            (b']', _) => return i,
            _ => i += 1,
        }
    }
    bytes.len().saturating_sub(1)
}

/// `{m}`, `{m,}` or `{m,n}` at `start`: the largest count and the index of `}`; None if it is not one.
fn interval(bytes: &[u8], start: usize) -> Option<(u64, usize)> {
    let close = start + bytes[start..].iter().position(|&b| b == b'}')?;
    let body = std::str::from_utf8(&bytes[start + 1..close]).ok()?;
    let mut largest = 0u64;
    for part in body.splitn(2, ',') {
        if part.is_empty() {
            continue;
        }
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        largest = largest.max(part.parse().unwrap_or(u64::MAX));
    }
    Some((largest, close))
}

impl Drop for PosixRegex {
    fn drop(&mut self) {
        // SAFETY: `compiled` was successfully compiled and is freed exactly once.
        unsafe { libc::regfree(&mut *self.compiled) };
    }
}

impl std::fmt::Debug for PosixRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PosixRegex")
    }
}

/// `sigprocmask(how, set)` with a list of signals; returns the previous mask.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/sigprocmask.2.html)
pub fn sigprocmask(how: libc::c_int, signals: &[libc::c_int]) -> io::Result<libc::sigset_t> {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it before use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t we own.
    unsafe { libc::sigemptyset(&mut set) };
    for &s in signals {
        // SAFETY: `set` is initialised; an invalid signal number only makes sigaddset fail.
        unsafe { libc::sigaddset(&mut set, s) };
    }
    // SAFETY: both pointers point at live sigset_t values.
    let ret = unsafe { libc::pthread_sigmask(how, &set, &mut old) };
    if ret != 0 {
        return Err(io::Error::from_raw_os_error(ret));
    }
    Ok(old)
}

/// Restores a signal mask saved by [`sigprocmask`].
pub fn sigprocmask_restore(old: &libc::sigset_t) -> io::Result<()> {
    // SAFETY: `old` is a sigset_t previously filled by pthread_sigmask.
    let ret = unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old, std::ptr::null_mut()) };
    if ret != 0 {
        return Err(io::Error::from_raw_os_error(ret));
    }
    Ok(())
}

/// `signal(sig, SIG_DFL)` — restore the default action (before re-raising a child's death signal,
/// or so that an inherited SIG_IGN does not reach the exec'd program).
pub fn signal_default(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: installing SIG_DFL involves no handler code.
    let ret = unsafe { libc::signal(sig, libc::SIG_DFL) };
    if ret == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Dies the way a child died: by signal `sig` with its default action, without leaving a core file of our own.
/// Falls back to exit code 128+sig if the signal does not kill (e.g. it is ignored by the kernel for PID 1).
pub fn die_by_signal(sig: libc::c_int) -> ! {
    let no_core = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads one rlimit struct from a live local.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
    let _ = signal_default(sig);
    let _ = sigprocmask(libc::SIG_UNBLOCK, &[sig]);
    // kill(getpid()) rather than raise(): raise uses the C library's cached thread id, which is the parent's
    // in a child made by our raw-clone `fork` (single-threaded, a signal to the process is one to us).
    // SAFETY: getpid and kill have no memory-safety preconditions.
    unsafe { libc::kill(libc::getpid(), sig) };
    std::process::exit(128 + sig)
}

/// `waitpid(pid, &status, flags)` retried on EINTR; returns the raw status.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/waitpid.2.html)
pub fn waitpid(pid: libc::pid_t, flags: libc::c_int) -> io::Result<(libc::pid_t, libc::c_int)> {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a live local the kernel writes one int to.
        let ret = unsafe { libc::waitpid(pid, &mut status, flags) };
        if ret == -1 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(err);
        }
        return Ok((ret, status));
    }
}

/// How a waited-for child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    Exited(i32),
    Signaled(i32),
    Stopped(i32),
    Continued,
}

/// Decodes a raw wait status.
pub fn decode_status(status: libc::c_int) -> ChildEnd {
    if libc::WIFEXITED(status) {
        ChildEnd::Exited(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        ChildEnd::Signaled(libc::WTERMSIG(status))
    } else if libc::WIFSTOPPED(status) {
        ChildEnd::Stopped(libc::WSTOPSIG(status))
    } else {
        ChildEnd::Continued
    }
}

/// `kill(pid, sig)`.
pub fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    cvt(unsafe { libc::kill(pid, sig) }).map(|_| ())
}

/// `MAX_HANDLE_SZ` (`linux/exportfs.h`): the largest file handle the kernel hands out.
const MAX_HANDLE_SZ: usize = 128;

/// A `struct file_handle` with room for its flexible array.
#[repr(C)]
struct Handle {
    head: libc::file_handle,
    bytes: [u8; MAX_HANDLE_SZ],
}

/// `name_to_handle_at(AT_FDCWD, path, ...)` — the file handle of `path` as (handle type, handle bytes).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/open_by_handle_at.2.html)
pub fn name_to_handle(path: &CStr) -> io::Result<(libc::c_int, Vec<u8>)> {
    // SAFETY: file_handle is plain data (two ints and a flexible array); all-zero is valid.
    let mut handle: Handle = unsafe { std::mem::zeroed() };
    handle.head.handle_bytes = MAX_HANDLE_SZ as libc::c_uint;
    let mut mount_id: libc::c_int = 0;
    // SAFETY: `handle` has room for MAX_HANDLE_SZ bytes after its header, as handle_bytes says; `path` is a
    // NUL-terminated string and `mount_id` a live local.
    cvt(unsafe {
        libc::name_to_handle_at(
            libc::AT_FDCWD,
            path.as_ptr(),
            &mut handle.head,
            &mut mount_id,
            0,
        )
    })?;
    let len = (handle.head.handle_bytes as usize).min(MAX_HANDLE_SZ);
    Ok((handle.head.handle_type, handle.bytes[..len].to_vec()))
}

/// `open_by_handle_at(mount_fd, handle, flags)` — opens the file a handle names.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/open_by_handle_at.2.html)
pub fn open_by_handle(
    mount_fd: BorrowedFd<'_>,
    handle_type: libc::c_int,
    bytes: &[u8],
    flags: libc::c_int,
) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    if bytes.len() > MAX_HANDLE_SZ {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: file_handle is plain data; all-zero is valid.
    let mut handle: Handle = unsafe { std::mem::zeroed() };
    handle.head.handle_type = handle_type;
    handle.head.handle_bytes = bytes.len() as libc::c_uint;
    handle.bytes[..bytes.len()].copy_from_slice(bytes);
    // SAFETY: `handle` holds handle_bytes valid bytes after its header; the fd is valid for the borrow.
    let fd = cvt(unsafe {
        libc::open_by_handle_at(
            mount_fd.as_raw_fd(),
            &mut handle.head,
            flags | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: open_by_handle_at returned a new fd that nothing else owns.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// `poll(pidfd, POLLIN, 0)` — whether the process a pidfd refers to has exited (a zombie or already reaped).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/pidfd_open.2.html)
pub fn pidfd_exited(pidfd: BorrowedFd<'_>) -> io::Result<bool> {
    let mut entry = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one live pollfd, count 1, zero timeout.
        let ret = unsafe { libc::poll(&mut entry, 1, 0) };
        if ret == -1 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(err);
        }
        return Ok(ret > 0 && entry.revents & libc::POLLIN != 0);
    }
}

/// Sets `sig` to its default action and reports whether it was ignored before, so that a caller's
/// `SIGCHLD` = `SIG_IGN` cannot make our children vanish before we wait for them.
pub fn signal_default_was_ignored(sig: libc::c_int) -> io::Result<bool> {
    // SAFETY: installing SIG_DFL involves no handler code.
    let old = unsafe { libc::signal(sig, libc::SIG_DFL) };
    if old == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(old == libc::SIG_IGN)
}

/// `signal(sig, SIG_IGN)` — puts back an ignored disposition the caller gave us, before exec.
pub fn signal_ignore(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: installing SIG_IGN involves no handler code.
    let ret = unsafe { libc::signal(sig, libc::SIG_IGN) };
    if ret == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `_exit(code)` — leave a forked child without running our parent's atexit work or flushing its buffers.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// `unshare(flags)` — move the calling process into new namespaces (`CLONE_NEW*` flags; 0 is a no-op).
/// Fails with EINVAL for a user or mount namespace in a multi-threaded process: callers stay single-threaded.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/unshare.2.html)
pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare takes no pointers; the only hazard (threads sharing state) is excluded above.
    cvt(unsafe { libc::unshare(flags) }).map(|_| ())
}

/// `prctl(PR_SET_PDEATHSIG, sig)` — have the kernel send `sig` to us when our parent thread exits.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/PR_SET_PDEATHSIG.2const.html)
pub fn set_parent_death_signal(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: PR_SET_PDEATHSIG takes an integer argument only.
    cvt(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) }).map(|_| ())
}

/// `pidfd_open(pid, 0)` — a close-on-exec fd that becomes readable when `pid` exits (Linux 5.3+; ENOSYS before).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/pidfd_open.2.html)
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes two integers and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a fresh fd (pidfds are always close-on-exec) that nothing else owns.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// `setgroups(0, NULL)` — drop every supplementary group.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/setgroups.2.html)
pub fn clear_groups() -> io::Result<()> {
    // SAFETY: a zero-length list with a null pointer is valid.
    cvt(unsafe { libc::setgroups(0, std::ptr::null()) }).map(|_| ())
}

/// `setgid(gid)` — process-wide (the C library applies it to every thread).
pub fn setgid(gid: u32) -> io::Result<()> {
    // SAFETY: setgid takes an integer.
    cvt(unsafe { libc::setgid(gid) }).map(|_| ())
}

/// `setuid(uid)` — process-wide (the C library applies it to every thread).
pub fn setuid(uid: u32) -> io::Result<()> {
    // SAFETY: setuid takes an integer.
    cvt(unsafe { libc::setuid(uid) }).map(|_| ())
}

/// Installs `handler` for `sig` with `SA_RESTART`, so interrupted calls (waitpid) resume after it runs.
/// The handler must be async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/sigaction.2.html)
pub fn set_signal_handler(sig: libc::c_int, handler: extern "C" fn(libc::c_int)) -> io::Result<()> {
    // SAFETY: sigaction is plain data; zeroed is a valid empty value, and sa_mask is initialised below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as usize;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: sa_mask is a sigset_t inside a live local.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: `action` is initialised; the old action is not requested.
    cvt(unsafe { libc::sigaction(sig, &action, std::ptr::null_mut()) }).map(|_| ())
}

/// Makes the capabilities we hold survive `execve` even as a non-zero uid: copy the permitted set into the
/// inheritable set, then raise every capability up to `last_cap` in the ambient set (capabilities(7)).
/// Capabilities missing from the permitted set are skipped (the kernel refuses to raise them).
pub fn raise_ambient_capabilities(last_cap: u32) -> io::Result<()> {
    use rustix::thread::{self, CapabilitySet};
    let mut sets = thread::capabilities(None)?;
    sets.inheritable = sets.permitted;
    thread::set_capabilities(None, sets)?;
    for cap in 0..=last_cap.min(63) {
        let bit = CapabilitySet::from_bits_retain(1u64 << cap);
        if sets.permitted.contains(bit) {
            thread::configure_capability_in_ambient_set(bit, true)?;
        }
    }
    Ok(())
}

/// Whether the kernel started us with elevated privileges (setuid/setgid bit or file capabilities):
/// `getauxval(AT_SECURE)`, no system call needed.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/getauxval.3.html)
pub fn secure_exec() -> bool {
    // SAFETY: getauxval reads the auxiliary vector the kernel passed; it has no preconditions.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

/// Whether the real and effective user or group ids differed when the kernel started this program: the
/// `AT_UID`/`AT_EUID`/`AT_GID`/`AT_EGID` entries of the auxiliary vector, read without a system call (the
/// tools check at start-up, before anything could have changed them; four get*id calls were 7 % of
/// `unshare -Ur --pid --fork true`'s system calls).
pub fn ids_differed_at_exec() -> bool {
    // SAFETY: getauxval reads the auxiliary vector the kernel passed; it has no preconditions.
    unsafe {
        libc::getauxval(libc::AT_UID) != libc::getauxval(libc::AT_EUID)
            || libc::getauxval(libc::AT_GID) != libc::getauxval(libc::AT_EGID)
    }
}

/// Whether the caller handed us SIGPIPE ignored, as [`std_runtime_start`] found it.
static CALLER_IGNORED_SIGPIPE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// What Rust's runtime start-up does before `main` and a `no_main` binary skips, for `no_main` binaries that
/// want it (netns, and the nsbox multicall's applets whose own binaries keep std's `main`, so both behave
/// alike): a closed stdin, stdout or stderr is reopened on `/dev/null` (a file we open must never become
/// "stdout"), and SIGPIPE is ignored (a closed pipe is then an EPIPE the tool handles: `lsns | head -1` exits
/// 0). Unlike std it remembers the caller's SIGPIPE for [`restore_callers_sigpipe`].
pub fn std_runtime_start() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a live array of three pollfd; timeout 0 only asks which descriptors are open.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } != -1;
    for pollfd in fds {
        let closed = if polled {
            pollfd.revents & libc::POLLNVAL != 0
        } else {
            // SAFETY: F_GETFD reads the descriptor flags of an integer fd; no memory is involved.
            let flags = unsafe { libc::fcntl(pollfd.fd, libc::F_GETFD) };
            flags == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
        };
        if closed {
            // The lowest free descriptor is the closed one. std aborts when /dev/null is missing; we go on.
            // SAFETY: the path is a NUL-terminated literal.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
    // SAFETY: a null new action only reads the current disposition into `old`.
    let ignored = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    };
    CALLER_IGNORED_SIGPIPE.store(ignored, std::sync::atomic::Ordering::Relaxed);
    let _ = signal_ignore(libc::SIGPIPE);
}

/// Before exec: gives SIGPIPE back the disposition the caller gave us (see [`std_runtime_start`]), so that
/// `netns exec X yes | head` ends `yes`, and a caller's deliberate SIG_IGN reaches the program, as with
/// iproute2.
pub fn restore_callers_sigpipe() {
    if CALLER_IGNORED_SIGPIPE.load(std::sync::atomic::Ordering::Relaxed) {
        let _ = signal_ignore(libc::SIGPIPE);
    } else {
        let _ = signal_default(libc::SIGPIPE);
    }
}

/// The command line from C's `main(argc, argv)`, for binaries that skip Rust's runtime start-up (`no_main`).
///
/// # Safety
/// `argv` must point to `argc` valid NUL-terminated strings, as the C runtime passes them to `main`.
pub unsafe fn args_from_c(argc: libc::c_int, argv: *const *const libc::c_char) -> Vec<OsString> {
    use std::os::unix::ffi::OsStringExt;
    let count = usize::try_from(argc).unwrap_or(0);
    let mut args = Vec::with_capacity(count);
    for i in 0..count {
        // SAFETY: the caller guarantees `argv[0..argc]` are valid C strings.
        let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
        args.push(OsString::from_vec(arg.to_bytes().to_vec()));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_cost_grows_with_repetition() {
        assert_eq!(regex_cost(""), 0);
        assert_eq!(regex_cost("abc"), 3);
        assert_eq!(regex_cost("a+"), 2);
        assert_eq!(regex_cost("a++"), 8);
        assert_eq!(regex_cost("a+b+"), 4);
        assert_eq!(regex_cost("(ab)*c"), 5);
        assert_eq!(regex_cost("a{3}"), 4);
        assert_eq!(regex_cost("a{2,9}b"), 11);
        assert_eq!(regex_cost("[]a*+]+"), 2);
        assert_eq!(regex_cost("[[:alpha:]*]"), 1);
        assert_eq!(regex_cost("\\++"), 2);
        assert_eq!(regex_cost("a|b+"), 3);
        // Odd syntax is costed as literals, without panicking.
        for odd in [
            "(",
            ")",
            "[",
            "[[:",
            "{",
            "a{",
            "a{,}",
            "a{x}",
            "((a)",
            "\\",
            "a{99999999999999999999}",
        ] {
            let _ = regex_cost(odd);
        }
    }

    #[test]
    fn explosive_patterns_are_refused_before_regcomp() {
        let many = format!("m{}", "+".repeat(25));
        assert!(regex_cost(&many) > REGEX_COST_LIMIT);
        assert_eq!(
            PosixRegex::new(&many).err().as_deref(),
            Some(REGEX_TOO_COMPLEX)
        );
        assert!(PosixRegex::new("((a{255}){255}){255}").is_err());
        // A `*` with stacked `+`s grows 4× per `+` in glibc.
        assert!(PosixRegex::new(&format!("gA1*{}m", "+".repeat(13))).is_err());
        assert!(PosixRegex::new(".*?x").is_ok());
        assert!(PosixRegex::new("a{99999999999999999999}").is_err());
        // Ordinary filters still compile and match.
        let ok = PosixRegex::new("^/run/netns/[a-z0-9_-]+$").map_err(|e| e.to_string());
        assert!(ok.map(|r| r.is_match("/run/netns/blue")).unwrap_or(false));
    }

    #[test]
    fn strerror_text() {
        assert_eq!(strerror(libc::ENOENT), "No such file or directory");
        assert_eq!(strerror(libc::EPERM), "Operation not permitted");
    }

    #[test]
    fn exec_codes() {
        assert_eq!(
            exec_failure_code(&io::Error::from_raw_os_error(libc::ENOENT)),
            127
        );
        assert_eq!(
            exec_failure_code(&io::Error::from_raw_os_error(libc::EACCES)),
            126
        );
    }

    #[test]
    fn command_rejects_nul() {
        assert!(Command::new(OsStr::new("a\0b"), &[]).is_err());
        let c = Command::new(OsStr::new("true"), &[OsString::from("x")]).unwrap();
        assert_eq!(c.program().to_bytes(), b"true");
    }
}
