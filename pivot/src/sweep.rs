//! Emptying the old initramfs after switch_root: only on ramfs/tmpfs, only through directory fds, never into
//! another filesystem or mount, never following a symlink, never into the new root.

use crate::mounts::Node;
use ns_common::error::{strerror, warn};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{openat, unlinkat, AtFlags, Mode, OFlags};
use std::ffi::CString;

const RAMFS_MAGIC: i64 = 0x8584_58f6;
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// Deletes what lies on the old root's filesystem. Every failure is a warning: the caller execs init regardless.
///
/// `keep` is the new root: a newroot made with `mount --bind DIR DIR` on the initramfs itself shares the old
/// root's device, so the walk can meet it as an ordinary directory once it has been moved away.
pub fn remove_old_root(old_root: OwnedFd, keep: &Node) {
    let tool = crate::SWITCH_ROOT.name;
    let is_initramfs = match rustix::fs::fstatfs(&old_root) {
        // f_type is i64 here but narrower (and unsigned) on some architectures.
        #[allow(clippy::unnecessary_cast)]
        Ok(fs) => matches!(fs.f_type as i64, RAMFS_MAGIC | TMPFS_MAGIC),
        Err(e) => {
            warn(
                tool,
                format!("stat of old root failed: {}", strerror(e.raw_os_error())),
            );
            false
        }
    };
    if !is_initramfs {
        warn(tool, "old root filesystem is not an initramfs");
        return;
    }
    let root = match Node::of_fd(&old_root) {
        Ok(node) => node,
        Err(e) => {
            warn(
                tool,
                format!("stat of old root failed: {}", strerror(e.raw_os_error())),
            );
            return;
        }
    };
    let sweep = Sweep {
        tool,
        root,
        keep: *keep,
    };
    sweep.empty_dir(&old_root, "");
}

struct Sweep {
    tool: &'static str,
    /// The old root: only inodes on its device and mount are removed.
    root: Node,
    keep: Node,
}

impl Sweep {
    /// Removes the contents of `dir` (shown in messages as `path`, relative to the old root); returns whether
    /// it is now empty and may be removed itself.
    fn empty_dir(&self, dir: &OwnedFd, path: &str) -> bool {
        let names = match entry_names(dir) {
            Ok(names) => names,
            Err(e) => {
                self.warn_errno("failed to read directory", path, e);
                return false;
            }
        };
        let mut emptied = true;
        for name in names {
            let child = format!("{path}/{}", name.to_string_lossy());
            if !self.remove_entry(dir, &name, &child) {
                emptied = false;
            }
        }
        emptied
    }

    /// Removes one entry of `dir`; returns false when it stays (another filesystem, the new root, an error).
    fn remove_entry(&self, dir: &OwnedFd, name: &CString, path: &str) -> bool {
        let node = match Node::at(dir, name.as_c_str(), false) {
            Ok(node) => node,
            Err(e) => {
                self.warn_errno("stat of", path, e);
                return false;
            }
        };
        // A mount point reports the mounted filesystem's root, so this also keeps every mount point.
        if !node.same_mount(&self.root) || node.same_inode(&self.keep) {
            return false;
        }
        if !node.is_dir() {
            return match unlinkat(dir, name.as_c_str(), AtFlags::empty()) {
                Ok(()) => true,
                Err(e) => {
                    self.warn_errno("failed to unlink", path, e);
                    false
                }
            };
        }
        let sub = match openat(
            dir,
            name.as_c_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(e) => {
                self.warn_errno("failed to open directory", path, e);
                return false;
            }
        };
        // The name may have been replaced since the statx: trust only what the fd is.
        match Node::of_fd(&sub) {
            Ok(opened) if opened.same_inode(&node) && opened.same_mount(&self.root) => {}
            _ => return false,
        }
        let emptied = self.empty_dir(&sub, path);
        drop(sub);
        if !emptied {
            return false;
        }
        match unlinkat(dir, name.as_c_str(), AtFlags::REMOVEDIR) {
            Ok(()) => true,
            Err(e) => {
                self.warn_errno("failed to remove directory", path, e);
                false
            }
        }
    }

    fn warn_errno(&self, what: &str, path: &str, e: rustix::io::Errno) {
        let shown = if path.is_empty() { "/" } else { path };
        warn(
            self.tool,
            format!("{what} {shown}: {}", strerror(e.raw_os_error())),
        );
    }
}

/// The names in a directory, without `.` and `..`, read in full before anything is removed.
fn entry_names<Fd: AsFd>(dir: Fd) -> Result<Vec<CString>, rustix::io::Errno> {
    let mut names = Vec::new();
    let mut entries = rustix::fs::Dir::read_from(dir)?;
    while let Some(entry) = entries.read() {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}
