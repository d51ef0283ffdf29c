//! Persistence (`--TYPE=FILE`): the new namespaces bind-mounted onto files, all or nothing. A bind that fails
//! undoes the earlier ones; a later step that fails before the program runs (propagation, chroot, chdir, the
//! proc and binfmt_misc mounts, credentials, capabilities, exec) undoes them all before unshare exits.
//!
//! The binds live in the original mount namespace, so only a process still there, with its privileges, its
//! root and its working directory (FILE may be relative), can undo them:
//! - `--fork` without `-m`/`-U`: the parent is such a process; it binds, and unmounts by itself if the child
//!   reports a failure.
//! - otherwise the *bind process*, forked before unshare(2), binds. (The final process could not undo them even
//!   without `-m`/`-U`: by then it may have changed root or directory, or dropped privileges with `--setuid`.)
//!   It answers one byte on its [`channel`](crate::helper::channel) and then waits there for the verdict: EOF
//!   keeps the binds, one byte unmounts them; its exit, EOF on our end, says that is done. With `--fork` the
//!   parent gives the verdict and reaps it. Without, we exec, and after the exec it would be an unexpected
//!   child of the program, a zombie the program never reaps: so it leaves the waiting to a *keeper*, a child
//!   of its own that is orphaned when it exits; the exec closes our close-on-exec end, which is the verdict
//!   "keep".
//!
//! A final process killed by a signal before the exec keeps the binds (it cannot tell anyone), as util-linux
//! keeps them after every failure.

use crate::helper::{self, Helper};
use ns_common::error::{Error, Result};
use ns_common::{sys, NsKind};
use std::os::fd::OwnedFd;
use std::path::PathBuf;

/// The namespaces to persist and the files they go onto, in command-line order.
pub type Files = [(NsKind, PathBuf)];

/// The bind process: binds when released, then waits for the verdict (see the module comment).
pub struct BindProcess {
    helper: Helper,
    stays: bool,
}

impl BindProcess {
    /// Forks the bind process; once released it binds `/proc/PID/ns/*` of `pid` (our pid). It `stays` to wait
    /// for the verdict itself (with `--fork`), else leaves a keeper.
    pub fn spawn(files: &Files, pid: libc::pid_t, stays: bool) -> Result<BindProcess> {
        let helper = Helper::spawn_on_channel(|channel| {
            bind_namespaces(files, pid)?;
            if !stays {
                match sys::fork() {
                    Ok(None) => wait_for_verdict(channel, files),
                    Ok(Some(_keeper)) => {}
                    Err(e) => {
                        unbind_namespaces(files);
                        return Err(Error::os("fork failed", e));
                    }
                }
            }
            // Our answer: bound. (If we are gone unanswered, the other end reads EOF and reaps our status.)
            let _ = helper::send_byte(channel);
            if stays {
                wait_for_verdict(channel, files);
            }
            Ok(0)
        })?;
        Ok(BindProcess { helper, stays })
    }

    /// In a forked child of ours: close our copy of the line (the bind process is not our child).
    pub fn forget_in_child(self) {
        self.helper.forget_in_child();
    }
}

/// The bind process or its keeper: one byte unmounts the files; EOF keeps them. Either way its exit closes
/// the channel, which tells the other end that it is done.
fn wait_for_verdict(channel: &OwnedFd, files: &Files) -> ! {
    if helper::wait_for_go(channel) {
        unbind_namespaces(files);
    }
    sys::exit_now(0)
}

/// How binds that were made are undone.
pub enum Undo {
    /// We made them, and are still in the original mount namespace.
    Ourselves,
    /// The bind process or its keeper listens on the other end.
    Listener(Helper),
}

/// What [`persist`] did.
pub enum Persisted {
    /// Everything is bound; dropping the [`Undo`] (or the exec, which closes it) keeps it so.
    Bound(Undo),
    /// Nothing is bound; the bind process failed with this exit status and has printed its message.
    Failed(i32),
}

/// Persists the namespaces: through the bind process if there is one, else directly.
pub fn persist(
    files: &Files,
    bind_process: Option<BindProcess>,
    pid: libc::pid_t,
) -> Result<Persisted> {
    let Some(BindProcess { helper, stays }) = bind_process else {
        return bind_namespaces(files, pid).map(|()| Persisted::Bound(Undo::Ourselves));
    };
    match helper.release_until_answer()? {
        Ok(mut listener) => {
            if !stays {
                // It has left the keeper and exits: reaped now, it is never a child of the program.
                if let Err(e) = listener.wait_exit() {
                    listener.tell_and_wait();
                    return Err(e);
                }
            }
            Ok(Persisted::Bound(Undo::Listener(listener)))
        }
        Err(code) => Ok(Persisted::Failed(code)),
    }
}

impl Undo {
    /// After a failure before the program ran: unmounts every file, and returns once that is done.
    pub fn roll_back(self, files: &Files) {
        match self {
            Undo::Ourselves => unbind_namespaces(files),
            // Then dropped: a bind process that stayed is reaped.
            Undo::Listener(listener) => listener.tell_and_wait(),
        }
    }
}

/// Bind-mounts `/proc/PID/ns/TYPE` onto each file; on failure nothing stays mounted.
fn bind_namespaces(files: &Files, pid: libc::pid_t) -> Result<()> {
    for (n, (kind, file)) in files.iter().enumerate() {
        let source = PathBuf::from(format!("/proc/{pid}/ns/{}", kind.for_children_name()));
        if let Err(e) = ns_common::nsfile::bind_ns(&source, file) {
            unbind_namespaces(&files[..n]);
            return Err(e);
        }
    }
    Ok(())
}

/// Undoes [`bind_namespaces`]: lazily, as a namespace file may be open or in use.
fn unbind_namespaces(files: &Files) {
    for (_, file) in files {
        let _ = rustix::mount::unmount(file, rustix::mount::UnmountFlags::DETACH);
    }
}
