//! The mounts unshare makes inside the new mount namespace: root propagation, proc, binfmt_misc.

use crate::options::Propagation;
use ns_common::error::{Context, Error, Result};
use rustix::mount::{self, MountFlags, MountPropagationFlags};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Sets `mode` recursively on `/` (the copy of the caller's tree we got with CLONE_NEWNS), so that mounts made
/// inside stay inside (private) or follow the chosen propagation.
pub fn set_root_propagation(mode: Propagation) -> Result<()> {
    let flag = match mode {
        Propagation::Slave => MountPropagationFlags::DOWNSTREAM,
        Propagation::Shared => MountPropagationFlags::SHARED,
        Propagation::Private => MountPropagationFlags::PRIVATE,
        Propagation::Unchanged => return Ok(()),
    };
    mount::mount_change("/", MountPropagationFlags::REC | flag)
        .or_ctx(|| "cannot change root filesystem propagation")
}

/// Mounts a fresh proc at `dir`. When `/` was not made recursively private, `dir` itself is made private
/// first so the new proc does not propagate back to the caller (EINVAL: `dir` is not a mount point yet).
pub fn mount_proc(dir: &Path, make_private: bool) -> Result<()> {
    if make_private {
        match mount::mount_change(
            dir,
            MountPropagationFlags::REC | MountPropagationFlags::PRIVATE,
        ) {
            Ok(()) | Err(rustix::io::Errno::INVAL) => {}
            Err(e) => {
                return Err(e).or_ctx(|| format!("cannot change {} propagation", dir.display()))
            }
        }
    }
    let flags = MountFlags::NOSUID | MountFlags::NOEXEC | MountFlags::NODEV;
    mount::mount("proc", dir, "proc", flags, None)
        .or_ctx(|| format!("mount {} failed", dir.display()))
}

/// Mounts binfmt_misc at `dir` (per user namespace since Linux 6.7).
pub fn mount_binfmt(dir: &Path) -> Result<()> {
    let flags = MountFlags::NOSUID | MountFlags::NOEXEC | MountFlags::NODEV;
    mount::mount("binfmt_misc", dir, "binfmt_misc", flags, None)
        .or_ctx(|| format!("mount {} failed", dir.display()))
}

/// Registers a binfmt_misc entry `:name:type:offset:magic:mask:interpreter:flags` by writing it to
/// `dir/register`.
pub fn register_interp(dir: &Path, entry: &OsStr) -> Result<()> {
    let path = dir.join("register");
    let fail = |e| Error::os(format!("write failed {}", path.display()), e);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(fail)?;
    use std::io::Write;
    file.write_all(entry.as_bytes()).map_err(fail)
}

/// Whether a binfmt_misc entry's flags field (the last one) contains `F` (open the interpreter now).
pub fn interp_has_fix_flag(entry: &std::ffi::OsString) -> bool {
    let bytes = entry.as_bytes();
    let Some(&delim) = bytes.first() else {
        return false;
    };
    bytes
        .split(|&b| b == delim)
        .nth(7)
        .is_some_and(|flags| flags.contains(&b'F'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_flag() {
        assert!(interp_has_fix_flag(
            &":qemu:M::\\x7fELF::/usr/bin/qemu:F".into()
        ));
        assert!(interp_has_fix_flag(&":a:E::x::/bin/i:OCF".into()));
        assert!(!interp_has_fix_flag(&":a:E::x::/bin/i:".into()));
        assert!(!interp_has_fix_flag(&":a:E::x::/bin/F".into()));
        assert!(!interp_has_fix_flag(&"".into()));
    }
}
