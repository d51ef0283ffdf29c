//! The libc gaps: calls rustix does not wrap (or wraps only as unstable API), each small and explained.
//!
//! Deliberately not wrapped here:
//!  - `getpwnam`/`getgrnam` and friends: NSS crashes static glibc binaries; see [`crate::users`].
//!  - `setlocale`: util-linux's 35 openat at startup come from it; our messages are English only.
//!  - `clone3` with `CLONE_INTO_CGROUP`: not needed; `fork` after `unshare` keeps the order readable.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;

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

/// `fork()` — returns `None` in the child and the child's pid in the parent.
///
/// After the fork the child of a multi-threaded program may only do async-signal-safe work until it execs;
/// our tools are single-threaded, and their children only make syscalls and exec.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/fork.2.html)
pub fn fork() -> io::Result<Option<libc::pid_t>> {
    // SAFETY: the tools are single-threaded when they fork; the child continues with a copy of our memory.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        pid => Ok(Some(pid)),
    }
}

/// A program and its arguments, converted to C strings before any fork so the child need not allocate.
pub struct Command {
    program: CString,
    args: Vec<CString>,
    argv: Vec<*const libc::c_char>,
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
        })
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

/// `ioctl(fd, request)` for the nsfs requests that take no argument; returns the ioctl's result
/// (a new fd for NS_GET_USERNS/NS_GET_PARENT, a `CLONE_NEW*` value for NS_GET_NSTYPE).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/ioctl_nsfs.2.html)
pub fn ioctl_ns(fd: BorrowedFd<'_>, request: libc::c_ulong) -> io::Result<libc::c_int> {
    // SAFETY: these requests take no argument pointer; the fd is valid for the borrow.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), request as _) })
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
    // SAFETY: raise has no memory-safety preconditions.
    unsafe { libc::raise(sig) };
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

/// `_exit(code)` — leave a forked child without running our parent's atexit work or flushing its buffers.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

#[cfg(test)]
mod tests {
    use super::*;

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
