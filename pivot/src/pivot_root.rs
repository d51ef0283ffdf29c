//! `pivot_root new_root put_old`: the system call with the arguments exactly as given, nothing more.

use crate::mounts::{self, Node};
use ns_common::error::strerror;
use ns_common::opts::show;
use ns_common::{Error, Result};
use rustix::fs::CWD;
use rustix::io::Errno;
use std::ffi::OsString;
use std::path::Path;

pub fn run(operands: Vec<OsString>) -> Result<i32> {
    let [new_root, put_old] = operands.as_slice() else {
        return Err(Error::usage("bad usage"));
    };
    match rustix::process::pivot_root(new_root.as_os_str(), put_old.as_os_str()) {
        Ok(()) => Ok(0),
        Err(errno) => {
            let mut message = format!(
                "failed to change root from `{}' to `{}': {}",
                show(new_root),
                show(put_old),
                strerror(errno.raw_os_error())
            );
            // EINVAL has half a dozen causes; name the one that holds so the user need not guess.
            if errno == Errno::INVAL {
                if let Some(hint) = einval_hint(Path::new(new_root), Path::new(put_old)) {
                    message.push_str(&format!("\n{}: hint: {hint}", crate::PIVOT_ROOT.name));
                }
            }
            Err(Error::new(message))
        }
    }
}

/// The likely reason pivot_root(2) said EINVAL, checked in the order a user most often meets them.
fn einval_hint(new_root: &Path, put_old: &Path) -> Option<String> {
    let new_name = new_root.display();
    let new = Node::at(CWD, new_root, true).ok()?;
    let new_parent = Node::at(CWD, new_root.join(".."), true).ok()?;
    if !new.is_mount_point(&new_parent) {
        return Some(format!(
            "{new_name} is not a mount point (mount --bind {new_name} {new_name})"
        ));
    }
    if let (Ok(new_path), Ok(old_path)) = (new_root.canonicalize(), put_old.canonicalize()) {
        if !old_path.starts_with(&new_path) {
            return Some(format!("{} is not under {new_name}", put_old.display()));
        }
    }
    let root = Node::at(CWD, "/", true).ok()?;
    if !root.is_mount_point(&root) {
        return Some("the current root is not a mount point (inside a chroot?)".to_string());
    }
    let all = mounts::mounts();
    let root_mount = mounts::find(&all, root.mnt_id);
    if let Some(root_mount) = root_mount {
        // The initial rootfs has no parent mount: mountinfo shows it as its own parent.
        if root_mount.fstype == "rootfs" || root_mount.parent == root_mount.id {
            return Some("the root is rootfs; use switch_root".to_string());
        }
    }
    let new_mount = mounts::find(&all, new.mnt_id);
    let old_mount = Node::at(CWD, put_old, true)
        .ok()
        .and_then(|old| mounts::find(&all, old.mnt_id));
    let involved = [
        new_mount,
        new_mount.and_then(|m| mounts::find(&all, Some(m.parent))),
        root_mount.and_then(|m| mounts::find(&all, Some(m.parent))),
        old_mount,
    ];
    if involved.iter().flatten().any(|m| m.shared) {
        return Some(
            "a mount involved has shared propagation (mount --make-rprivate /)".to_string(),
        );
    }
    None
}
