//! Helper processes forked *before* unshare(2), so they keep the caller's namespaces and privileges, and
//! released (or aborted) through a pipe afterwards: the map process (writes id maps for us) and the bind process
//! (bind-mounts our namespace files where we no longer could).
//!
//! A pipe rather than an eventfd: closing the write end without writing is an unambiguous "abort", which also
//! happens by itself when unshare dies, so a helper never outlives us waiting forever.

use ns_common::error::{self, Error, Result};
use ns_common::sys;
use rustix::pipe::{pipe_with, PipeFlags};
use std::os::fd::OwnedFd;

/// A forked helper waiting for the word to go.
pub struct Helper {
    pid: libc::pid_t,
    go: Option<OwnedFd>,
}

/// Blocks until the other side writes a byte (true) or closes the pipe (false).
pub fn wait_for_go(fd: &OwnedFd) -> bool {
    let mut byte = [0u8; 1];
    loop {
        match rustix::io::read(fd, &mut byte) {
            Ok(n) => return n == 1,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return false,
        }
    }
}

/// Writes the one byte that releases whoever waits in [`wait_for_go`].
pub fn send_go(fd: &OwnedFd) -> std::io::Result<()> {
    loop {
        match rustix::io::write(fd, &[1]) {
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// A pipe for releasing a process: (read end for the waiter, write end for the releaser), both close-on-exec.
pub fn go_pipe() -> Result<(OwnedFd, OwnedFd)> {
    pipe_with(PipeFlags::CLOEXEC).map_err(|e| Error::os("pipe failed", std::io::Error::from(e)))
}

impl Helper {
    /// Forks a helper that waits for [`Helper::release`] and then runs `work`, exiting with its result
    /// (an error is printed as `unshare: message` and becomes the exit code).
    pub fn spawn(work: impl FnOnce() -> Result<i32>) -> Result<Helper> {
        let (wait_end, go_end) = go_pipe()?;
        match sys::fork().map_err(|e| Error::os("fork failed", e))? {
            None => {
                drop(go_end);
                let code = if wait_for_go(&wait_end) {
                    error::finish("unshare", work())
                } else {
                    0
                };
                sys::exit_now(code)
            }
            Some(pid) => Ok(Helper {
                pid,
                go: Some(go_end),
            }),
        }
    }

    /// Tells the helper to do its work and waits for it; returns its exit code (1 if it died of a signal).
    pub fn release(mut self) -> Result<i32> {
        let go = self.go.take();
        if let Some(fd) = &go {
            send_go(fd).map_err(|e| Error::os("cannot release helper process", e))?;
        }
        drop(go);
        let status = self.reap()?;
        Ok(match sys::decode_status(status) {
            sys::ChildEnd::Exited(code) => code,
            _ => error::EXIT_FAILURE,
        })
    }

    fn reap(&mut self) -> Result<libc::c_int> {
        let pid = std::mem::replace(&mut self.pid, 0);
        let (_, status) = sys::waitpid(pid, 0).map_err(|e| Error::os("waitpid failed", e))?;
        Ok(status)
    }

    /// In a forked child of ours: close our copy of the pipe without waiting (the helper is not our child).
    pub fn forget_in_child(mut self) {
        self.go = None;
        self.pid = 0;
    }
}

impl Drop for Helper {
    /// Aborts a helper that was never released: closing the pipe makes it exit; then reap it.
    fn drop(&mut self) {
        self.go = None;
        if self.pid > 0 {
            let _ = self.reap();
        }
    }
}
