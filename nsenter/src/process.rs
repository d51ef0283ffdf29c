//! The program: the fork a pid namespace needs, waiting for the child, the environment and the exec.

use ns_common::error::{Error, Result};
use ns_common::sys::{self, ChildEnd, Command};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// What the caller of [`fork`] is after it returns.
pub enum Side {
    /// We are the child: go on to exec.
    Child,
    /// We are the parent: exit with this code (the child's).
    Parent(i32),
}

/// Forks; the parent waits for the child and returns its exit status, or dies by the child's signal.
/// Only the child (which becomes the program) is in the entered pid namespace.
pub fn fork() -> Result<Side> {
    // A caller's SIG_IGN for SIGCHLD would let the kernel reap the child before we can read its status.
    let chld_ignored = sys::signal_default_was_ignored(libc::SIGCHLD).unwrap_or(false);
    let child = match sys::fork() {
        Err(e) => return Err(Error::os("fork failed", e)),
        Ok(None) => {
            if chld_ignored {
                let _ = sys::signal_ignore(libc::SIGCHLD);
            }
            return Ok(Side::Child);
        }
        Ok(Some(pid)) => pid,
    };
    loop {
        let (_, status) =
            sys::waitpid(child, libc::WUNTRACED).map_err(|e| Error::os("waitpid failed", e))?;
        match sys::decode_status(status) {
            ChildEnd::Exited(code) => return Ok(Side::Parent(code)),
            ChildEnd::Signaled(sig) => sys::die_by_signal(sig),
            // Job control through nsenter: stop with the child, and wake it when we are continued.
            ChildEnd::Stopped(_) => {
                let _ = sys::kill(
                    rustix::process::getpid().as_raw_nonzero().get(),
                    libc::SIGSTOP,
                );
                let _ = sys::kill(child, libc::SIGCONT);
            }
            ChildEnd::Continued => {}
        }
    }
}

/// `-e`: replaces our environment with the target's `environ` content (NUL-separated `KEY=value`).
pub fn replace_environment(environ: &[u8]) {
    let keys: Vec<OsString> = std::env::vars_os().map(|(k, _)| k).collect();
    for key in keys {
        std::env::remove_var(key);
    }
    for entry in environ.split(|&b| b == 0) {
        let Some(eq) = entry.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (key, value) = (&entry[..eq], &entry[eq + 1..]);
        // set_var refuses an empty key; such entries cannot be looked up anyway.
        if key.is_empty() {
            continue;
        }
        std::env::set_var(OsStr::from_bytes(key), OsStr::from_bytes(value));
    }
}

/// Execs `program` (searched in `PATH`), or the shell when there is none; returns only the failure.
pub fn exec(program: &[OsString]) -> Error {
    // SIGPIPE is left as our caller set it, as util-linux does: nsenter and the nsbox multicall are `no_main`,
    // so Rust's runtime never set it to SIG_IGN (a caller's SIG_IGN is deliberate and reaches the program).
    let (path, command) = match program.split_first() {
        Some((prog, args)) => (prog.clone(), Command::new(prog, args)),
        None => {
            let shell = shell();
            // A login shell, run by the path given (no PATH search), as util-linux does.
            let command = Command::login_shell(&shell);
            (shell, command)
        }
    };
    let err = match command {
        Ok(command) => command.exec(),
        Err(e) => e,
    };
    let code = sys::exec_failure_code(&err);
    Error::os(format!("failed to execute {}", path.to_string_lossy()), err).with_code(code)
}

/// `$SHELL` when set and not empty, else our login shell from `/etc/passwd`, else `/bin/sh`.
fn shell() -> OsString {
    if let Some(shell) = std::env::var_os("SHELL").filter(|s| !s.is_empty()) {
        return shell;
    }
    let uid = rustix::process::getuid().as_raw();
    ns_common::users::user_by_uid(uid)
        .map(|e| e.shell)
        .filter(|s| !s.is_empty())
        .map(OsString::from_vec)
        .unwrap_or_else(|| OsString::from("/bin/sh"))
}
