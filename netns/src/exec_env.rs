//! The environment `netns exec` and `netns -n` run in (spec A.6): the netns, a private mount namespace of
//! our own with `/` as a slave, a sysfs of that netns on `/sys` (with `/sys/fs/cgroup` kept), and each
//! `/etc/netns/NAME/*` bound over `/etc`.

use crate::names::{ETC_DIR, EXIT_USAGE};
use ns_common::error::{eprint_quiet, strerror, Error, Result};
use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn os_err(e: rustix::io::Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

/// Opens the netns file of a `netns` argument: `Cannot open network namespace "NAME": <err>` (rc 255).
/// The process becomes non-dumpable first: it holds an fd into that namespace, and later sits in it.
pub fn open_netns(name: &OsStr, path: &Path) -> Result<File> {
    ns_common::nsfile::become_non_dumpable()?;
    File::open(path).map_err(|e| {
        Error::os(
            format!(
                "Cannot open network namespace \"{}\"",
                name.to_string_lossy()
            ),
            e,
        )
        .with_code(EXIT_USAGE)
    })
}

/// Moves this process into the netns `fd` (named `name` in messages) and sets up its execution environment.
/// Everything before the per-file binds is fatal (rc 255); the binds and the `/sys` umount are not.
pub fn enter(name: &OsStr, fd: &File) -> Result<()> {
    let shown = name.to_string_lossy();
    crate::rtnl::enter_netns(fd.as_fd()).map_err(|e| {
        Error::os(
            format!("setting the network namespace \"{shown}\" failed"),
            e,
        )
        .with_code(EXIT_USAGE)
    })?;
    // A fresh mount namespace per exec, so the sysfs and /etc binds below stay ours.
    // SAFETY: CLONE_NEWNS does not unshare the file table; the tools are single-threaded.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNS) }
        .map_err(|e| Error::os("unshare failed", os_err(e)).with_code(EXIT_USAGE))?;
    // Host mounts keep propagating in; nothing we mount leaks out.
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::DOWNSTREAM | MountPropagationFlags::REC,
    )
    .map_err(|e| Error::os("\"mount --make-rslave /\" failed", os_err(e)).with_code(EXIT_USAGE))?;
    mount_sysfs(name)?;
    bind_etc(name);
    Ok(())
}

/// A sysfs of the new netns on `/sys` (its `class/net` lists this netns's devices), read-only when the
/// old one was, with the old `/sys/fs/cgroup` tree attached again.
fn mount_sysfs(name: &OsStr) -> Result<()> {
    let read_only = rustix::fs::statvfs("/sys")
        .map(|s| s.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY))
        .unwrap_or(false);
    // Clone the cgroup tree before detaching /sys: afterwards it is unreachable.
    let cgroup = rustix::mount::open_tree(
        rustix::fs::CWD,
        "/sys/fs/cgroup",
        rustix::mount::OpenTreeFlags::OPEN_TREE_CLONE
            | rustix::mount::OpenTreeFlags::OPEN_TREE_CLOEXEC
            | rustix::mount::OpenTreeFlags::AT_RECURSIVE,
    )
    .ok();
    let _ = rustix::mount::unmount("/sys", UnmountFlags::DETACH);
    let mut flags = if read_only {
        MountFlags::RDONLY
    } else {
        MountFlags::empty()
    };
    let mut mounted = rustix::mount::mount(name, "/sys", "sysfs", flags, None);
    if mounted == Err(rustix::io::Errno::PERM) && !read_only {
        // Rootless cases refuse a writable sysfs but accept a read-only one.
        flags = MountFlags::RDONLY;
        mounted = rustix::mount::mount(name, "/sys", "sysfs", flags, None);
    }
    mounted.map_err(|e| Error::os("mount of /sys failed", os_err(e)).with_code(EXIT_USAGE))?;
    if let Some(tree) = cgroup {
        let _ = rustix::mount::move_mount(
            tree.as_fd(),
            "",
            rustix::fs::CWD,
            "/sys/fs/cgroup",
            rustix::mount::MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
        );
    }
    Ok(())
}

/// Binds each entry of `/etc/netns/NAME` over the file of the same name in `/etc` (which must exist).
/// A failed bind is reported and skipped.
fn bind_etc(name: &OsStr) {
    let dir_path = Path::new(ETC_DIR).join(name);
    let Ok(dir) = rustix::fs::open(
        &dir_path,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    ) else {
        return;
    };
    let Ok(entries) = rustix::fs::Dir::read_from(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = OsStr::from_bytes(entry.file_name().to_bytes());
        if file == "." || file == ".." {
            continue;
        }
        let source = dir_path.join(file);
        let target = Path::new("/etc").join(file);
        if let Err(e) = rustix::mount::mount_bind(&source, &target) {
            eprint_quiet(&format!(
                "Bind {} -> {} failed: {}\n",
                source.display(),
                target.display(),
                strerror(e.raw_os_error())
            ));
        }
    }
}
