//! `switch_root newroot init [arg...]`: move the API filesystems into newroot, make it `/`, empty the old
//! initramfs and exec init.
//!
//! Everything that can be checked is checked before the first mount moves (nsbox deviation: util-linux checks
//! newroot and init only as it goes, and by then /dev, /proc, ... may already have moved).

use crate::exec_check::{self, NotExecutable};
use crate::mounts::{self, Node};
use crate::sweep;
use ns_common::error::{strerror, warn};
use ns_common::opts::show;
use ns_common::sys::{exec_failure_code, Command};
use ns_common::{Error, Result};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{openat, Mode, OFlags, CWD};
use rustix::io::Errno;
use rustix::mount::{move_mount, unmount, MoveMountFlags, UnmountFlags};
use std::ffi::{OsStr, OsString};
use std::path::Path;

/// The API filesystems that follow the root into newroot, in the order util-linux moves them.
const API_FILESYSTEMS: [&str; 4] = ["/dev", "/proc", "/sys", "/run"];

pub fn run(operands: Vec<OsString>) -> Result<i32> {
    let [newroot, init, init_args @ ..] = operands.as_slice() else {
        return Err(Error::usage("not enough arguments"));
    };
    let plan = Plan::check(newroot, init)?;
    let command = Command::new(init, init_args)
        .map_err(|e| Error::os(format!("failed to execute {}", show(init)), e))?;

    let moved = plan.move_api_filesystems();
    let old_root = plan.switch(&moved)?;
    sweep::remove_old_root(old_root, &plan.newroot);

    let err = command.execv();
    let code = exec_failure_code(&err);
    Err(Error::os(format!("failed to execute {}", show(init)), err).with_code(code))
}

/// What `check` found out, kept so the later steps act on the very directory that was checked.
struct Plan<'a> {
    newroot_name: &'a OsStr,
    newroot_fd: OwnedFd,
    newroot: Node,
    /// The API filesystems that are mount points now, with their directory in newroot (or why not).
    moves: Vec<(&'static str, Option<OwnedFd>)>,
}

impl<'a> Plan<'a> {
    /// Refuses, before anything changes, every input that would leave the machine half-switched.
    fn check(newroot_name: &'a OsStr, init: &OsStr) -> Result<Plan<'a>> {
        let shown = show(newroot_name);
        let stat_failed = |e: Errno| {
            Error::new(format!(
                "stat of {shown} failed: {}",
                strerror(e.raw_os_error())
            ))
        };
        let named = Node::at(CWD, newroot_name, true).map_err(stat_failed)?;
        if !named.is_dir() {
            return Err(Error::new(format!("{shown} is not a directory")));
        }
        let newroot_fd = rustix::fs::open(
            newroot_name,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(stat_failed)?;
        let newroot = Node::of_fd(&newroot_fd).map_err(stat_failed)?;
        let root = Node::at(CWD, "/", true)
            .map_err(|e| Error::new(format!("stat of / failed: {}", strerror(e.raw_os_error()))))?;
        if newroot.same_inode(&root) {
            return Err(Error::new(format!("{shown} is the current root")));
        }
        let parent = Node::at(&newroot_fd, "..", true).map_err(stat_failed)?;
        if !newroot.is_mount_point(&parent) {
            return Err(Error::new(format!(
                "{shown} is not a mount point (mount --bind {shown} {shown})"
            )));
        }
        check_init(&newroot_fd, &shown, init)?;

        let mut moves = Vec::new();
        for dir in API_FILESYSTEMS {
            let Ok(node) = Node::at(CWD, dir, false) else {
                continue;
            };
            if !node.is_dir() || !node.is_mount_point(&root) {
                continue;
            }
            moves.push((dir, target_dir(&newroot_fd, &newroot, dir)));
        }

        // MS_MOVE fails with EINVAL when the moved mount's parent has shared propagation; find out now,
        // not after /dev and /proc have gone.
        let all = mounts::mounts();
        let moved_mounts = std::iter::once(newroot.mnt_id).chain(
            moves
                .iter()
                .filter(|(_, target)| target.is_some())
                .map(|(dir, _)| Node::at(CWD, *dir, false).ok().and_then(|n| n.mnt_id)),
        );
        for id in moved_mounts {
            let parent = mounts::find(&all, id).and_then(|m| mounts::find(&all, Some(m.parent)));
            if parent.is_some_and(|p| p.shared) {
                return Err(Error::new(
                    "cannot move mounts out of a mount with shared propagation (mount --make-rprivate /)",
                ));
            }
        }
        Ok(Plan {
            newroot_name,
            newroot_fd,
            newroot,
            moves,
        })
    }

    /// Moves each API filesystem onto its directory in newroot (submounts such as /dev/pts move along) and
    /// returns the ones that moved. One that newroot has no plain directory for, or that is already mounted
    /// there, stays until newroot has become the root (see `switch`).
    fn move_api_filesystems(&self) -> Vec<&'static str> {
        let tool = crate::SWITCH_ROOT.name;
        let mut moved = Vec::new();
        for (dir, target) in &self.moves {
            let Some(target) = target else {
                continue;
            };
            match move_onto(dir, target, self.newroot_name) {
                Ok(()) => moved.push(*dir),
                Err(e) => {
                    warn(
                        tool,
                        format!(
                            "failed to mount moving {dir} to {}{dir}: {}",
                            show(self.newroot_name),
                            strerror(e.raw_os_error())
                        ),
                    );
                    let _ = unmount(*dir, UnmountFlags::FORCE);
                }
            }
        }
        moved
    }

    /// Undoes `move_api_filesystems` when newroot cannot become the root; best effort, each failure a warning.
    fn move_back(&self, moved: &[&'static str]) {
        for dir in moved {
            let back = openat(
                &self.newroot_fd,
                &dir[1..],
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .and_then(|mounted| {
                move_mount(
                    mounted.as_fd(),
                    "",
                    CWD,
                    *dir,
                    MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
                )
            });
            if let Err(e) = back {
                warn(
                    crate::SWITCH_ROOT.name,
                    format!(
                        "failed to move {}{dir} back to {dir}: {}",
                        show(self.newroot_name),
                        strerror(e.raw_os_error())
                    ),
                );
            }
        }
    }

    /// Makes newroot the root: chdir into it, move its mount onto `/`, chroot, chdir `/`.
    /// Returns an fd of the old root, for emptying it.
    fn switch(&self, moved: &[&'static str]) -> Result<OwnedFd> {
        let failed = |what: String, e: Errno| {
            warn(
                crate::SWITCH_ROOT.name,
                format!("{what}: {}", strerror(e.raw_os_error())),
            );
            Error::new("failed. Sorry.")
        };
        let shown = show(self.newroot_name);
        let old_root = rustix::fs::open(
            "/",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| failed("cannot open /".to_string(), e))?;
        let old_cwd = rustix::fs::open(".", OFlags::PATH | OFlags::CLOEXEC, Mode::empty());
        // Until newroot is on `/`, a failure puts /dev, /proc, ... back where they were.
        let undo = |error: Error| {
            if let Ok(old_cwd) = &old_cwd {
                let _ = rustix::process::fchdir(old_cwd);
            }
            self.move_back(moved);
            error
        };
        rustix::process::fchdir(&self.newroot_fd)
            .map_err(|e| undo(failed(format!("failed to change directory to {shown}"), e)))?;
        rustix::mount::mount_move(".", "/")
            .map_err(|e| undo(failed(format!("failed to mount moving {shown} to /"), e)))?;
        // Our root is still the old root's directory until the chroot, so `/dev` still names the old one: this
        // is the last moment to detach what did not move (and only now, so that a failed switch loses nothing).
        for (dir, _) in &self.moves {
            if !moved.contains(dir) {
                let _ = unmount(*dir, UnmountFlags::DETACH);
            }
        }
        rustix::process::chroot(".").map_err(|e| failed("failed to change root".to_string(), e))?;
        rustix::process::chdir("/")
            .map_err(|e| failed("cannot change directory to /".to_string(), e))?;
        Ok(old_root)
    }
}

/// The directory in newroot an API filesystem moves to, or `None` when it must be detached instead: newroot
/// lacks it, it is not a plain directory (a symlink could point out of newroot), or something is mounted there.
fn target_dir(newroot_fd: &OwnedFd, newroot: &Node, dir: &str) -> Option<OwnedFd> {
    let name = dir.trim_start_matches('/');
    let node = Node::at(newroot_fd, name, false).ok()?;
    if !node.is_dir() || node.is_mount_point(newroot) {
        return None;
    }
    let fd = openat(
        newroot_fd,
        name,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    Node::of_fd(&fd)
        .is_ok_and(|opened| opened.same_inode(&node))
        .then_some(fd)
}

/// `move_mount(dir → target fd)`: the target is the directory that was checked, not a path looked up again.
fn move_onto(dir: &str, target: &OwnedFd, newroot_name: &OsStr) -> std::result::Result<(), Errno> {
    match move_mount(
        CWD,
        dir,
        target.as_fd(),
        "",
        MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    ) {
        // Linux before 5.2: MS_MOVE by path.
        Err(Errno::NOSYS) => {
            rustix::mount::mount_move(dir, Path::new(newroot_name).join(&dir[1..]))
        }
        other => other,
    }
}

/// init must be an executable regular file inside newroot (with its interpreter, if any), its path and any
/// symlink on the way resolved with newroot as `/`, exactly as the exec after the chroot will see it.
fn check_init(newroot_fd: &OwnedFd, newroot_shown: &str, init: &OsStr) -> Result<()> {
    let detail = match exec_check::check(newroot_fd, init) {
        Ok(()) => return Ok(()),
        Err(NotExecutable::Itself(errno)) => strerror(errno.raw_os_error()),
        Err(NotExecutable::Interpreter(interpreter, errno)) => format!(
            "its interpreter {}: {}",
            show(&interpreter),
            strerror(errno.raw_os_error())
        ),
    };
    Err(Error::new(format!(
        "cannot access {} in {newroot_shown}: {detail}",
        show(init)
    )))
}
