//! `--init` (nsbox extension, spec §11.6): with `--pid --fork` the child is PID 1 of the new namespace. A PID 1
//! that is just the program leaves orphans as zombies and ignores signals it has no handler for; this minimal
//! init runs the program as its child, reaps every orphan, passes signals on, and ends with the program.

use ns_common::error::{Error, Result};
use ns_common::sys;
use std::sync::atomic::{AtomicI32, Ordering};

/// Signals PID 1 passes on to the program.
const FORWARDED: &[libc::c_int] = &[
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

/// Forks the program and reaps until it exits; returns its exit code (or 128+N when it was killed by N: the
/// kernel does not let a namespace's init kill itself with a signal).
pub fn run_as_init(
    command: &sys::Command,
    forward_to: &'static AtomicI32,
    handler: extern "C" fn(libc::c_int),
) -> Result<i32> {
    // Handlers before the fork: a signal in between must not be lost (PID 1 ignores handler-less signals).
    // exec resets them to the default in the program.
    for &sig in FORWARDED {
        sys::set_signal_handler(sig, handler).map_err(|e| Error::os("sigaction failed", e))?;
    }
    let program = match sys::fork().map_err(|e| Error::os("fork failed", e))? {
        None => return Err(crate::run::exec(command)),
        Some(pid) => pid,
    };
    forward_to.store(program, Ordering::Relaxed);
    loop {
        let (pid, status) = sys::waitpid(-1, 0).map_err(|e| Error::os("waitpid failed", e))?;
        if pid != program {
            continue;
        }
        return Ok(match sys::decode_status(status) {
            sys::ChildEnd::Exited(code) => code,
            sys::ChildEnd::Signaled(sig) => 128 + sig,
            _ => 1,
        });
    }
}
