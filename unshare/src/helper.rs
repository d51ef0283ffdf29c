//! Helper processes forked *before* unshare(2), so they keep the caller's namespaces and privileges, and
//! released (or aborted) through a pipe afterwards: the map process (writes id maps for us) and the bind process
//! (bind-mounts our namespace files where we no longer could).
//!
//! A pipe rather than an eventfd: closing the write end without writing is an unambiguous "abort", which also
//! happens by itself when unshare dies, so a helper never outlives us waiting forever. Where the waiter must
//! answer back on the same line (persistence, see `persist`), a [`channel`] does the same both ways.

use ns_common::error::{self, Error, Result};
use ns_common::sys;
use rustix::net::{socketpair, AddressFamily, SendFlags, SocketFlags, SocketType};
use rustix::pipe::{pipe_with, PipeFlags};
use std::os::fd::OwnedFd;

/// A forked helper waiting for the word to go.
pub struct Helper {
    pid: libc::pid_t,
    go: Option<OwnedFd>,
    send: fn(&OwnedFd) -> std::io::Result<()>,
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

/// Writes one byte on a [`channel`]; a peer that is gone is an error (EPIPE), never a SIGPIPE that would kill us.
pub fn send_byte(fd: &OwnedFd) -> std::io::Result<()> {
    loop {
        match rustix::net::send(fd, &[1], SendFlags::NOSIGNAL) {
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

/// A two-way line between two processes: (the waiter's end, the releaser's end) of a connected UNIX stream
/// socket pair, close-on-exec. Like a pipe, an end closed without a byte reads as EOF on the other.
pub fn channel() -> Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .map_err(|e| Error::os("socketpair failed", std::io::Error::from(e)))
}

impl Helper {
    /// Forks a helper that waits for [`Helper::release`] and then runs `work`, exiting with its result
    /// (an error is printed as `unshare: message` and becomes the exit code).
    pub fn spawn(work: impl FnOnce() -> Result<i32>) -> Result<Helper> {
        let (wait_end, go_end) = go_pipe()?;
        Self::spawn_on(wait_end, go_end, send_go, |_| work())
    }

    /// [`Helper::spawn`] over a [`channel`]: `work` gets the helper's end, still open, so that it (or a process
    /// it leaves behind) can answer and go on listening: see [`Helper::release_until_answer`].
    pub fn spawn_on_channel(work: impl FnOnce(&OwnedFd) -> Result<i32>) -> Result<Helper> {
        let (wait_end, go_end) = channel()?;
        Self::spawn_on(wait_end, go_end, send_byte, work)
    }

    fn spawn_on(
        wait_end: OwnedFd,
        go_end: OwnedFd,
        send: fn(&OwnedFd) -> std::io::Result<()>,
        work: impl FnOnce(&OwnedFd) -> Result<i32>,
    ) -> Result<Helper> {
        match sys::fork().map_err(|e| Error::os("fork failed", e))? {
            None => {
                drop(go_end);
                let code = if wait_for_go(&wait_end) {
                    error::finish("unshare", work(&wait_end))
                } else {
                    0
                };
                sys::exit_now(code)
            }
            Some(pid) => Ok(Helper {
                pid,
                go: Some(go_end),
                send,
            }),
        }
    }

    /// Tells the helper to do its work and waits for it; returns its exit code (1 if it died of a signal).
    pub fn release(mut self) -> Result<i32> {
        if let Some(fd) = &self.go {
            (self.send)(fd).map_err(|e| Error::os("cannot release helper process", e))?;
        }
        self.go = None;
        self.exit_code()
    }

    /// For a helper on a [`channel`] whose work answers one byte when done and then listens on: tells it to
    /// do its work and waits for the answer. `Ok(Err(code))`: it failed, exiting with `code`, and is reaped.
    pub fn release_until_answer(mut self) -> Result<std::result::Result<Helper, i32>> {
        let answered = match &self.go {
            Some(fd) => {
                send_byte(fd).map_err(|e| Error::os("cannot release helper process", e))?;
                wait_for_go(fd)
            }
            None => false,
        };
        if answered {
            return Ok(Ok(self));
        }
        self.go = None;
        self.exit_code().map(Err)
    }

    /// Waits for a helper that has answered to exit; what it left behind listens on.
    pub fn wait_exit(&mut self) -> Result<()> {
        self.reap().map(drop)
    }

    /// Sends one more byte on the [`channel`] and waits until the other end is closed: by the helper's exit, or
    /// that of the process it left behind.
    pub fn tell_and_wait(&self) {
        if let Some(fd) = &self.go {
            // A listener already gone (killed) cannot be helped; the read then sees EOF at once.
            let _ = send_byte(fd);
            while wait_for_go(fd) {}
        }
    }

    fn exit_code(&mut self) -> Result<i32> {
        let status = self.reap()?;
        Ok(match sys::decode_status(status) {
            sys::ChildEnd::Exited(code) => code,
            _ => error::EXIT_FAILURE,
        })
    }

    fn reap(&mut self) -> Result<libc::c_int> {
        let pid = std::mem::replace(&mut self.pid, 0);
        if pid <= 0 {
            return Err(Error::new("helper process already reaped"));
        }
        let (_, status) = sys::waitpid(pid, 0).map_err(|e| Error::os("waitpid failed", e))?;
        Ok(status)
    }

    /// In a forked child of ours: close our copy of the line without waiting (the helper is not our child).
    pub fn forget_in_child(mut self) {
        self.go = None;
        self.pid = 0;
    }
}

impl Drop for Helper {
    /// Closing our end aborts a helper that was never released, or ends one that listens on; then reap it.
    fn drop(&mut self) {
        self.go = None;
        if self.pid > 0 {
            let _ = self.reap();
        }
    }
}
