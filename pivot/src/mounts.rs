//! What the pivot tools need to know about a directory and its mount: identity (device, inode, mount id),
//! whether it is a mount point, and the propagation and type of a mount from /proc/self/mountinfo.

use rustix::fd::AsFd;
use rustix::fs::{statx, AtFlags, FileType, StatxAttributes, StatxFlags};
use rustix::io::Errno;
use rustix::path::Arg;

/// One inode as `statx` (or `fstatat` on kernels without it) reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub dev: u64,
    pub ino: u64,
    pub file_type: FileType,
    /// The mount it was reached through (`STATX_MNT_ID`, Linux 5.8); the id /proc/self/mountinfo uses.
    pub mnt_id: Option<u64>,
    /// `STATX_ATTR_MOUNT_ROOT` (Linux 5.8), when the kernel reports it.
    mount_root: Option<bool>,
}

impl Node {
    /// `statx(dirfd, path)`; symlinks are followed only when `follow` is set. Automounts are never triggered.
    pub fn at<P: Arg, Fd: AsFd>(dirfd: Fd, path: P, follow: bool) -> Result<Node, Errno> {
        let mut flags = AtFlags::NO_AUTOMOUNT;
        if !follow {
            flags |= AtFlags::SYMLINK_NOFOLLOW;
        }
        Self::statx(dirfd, path, flags)
    }

    /// The inode an open fd (also an `O_PATH` fd) refers to.
    pub fn of_fd<Fd: AsFd>(fd: Fd) -> Result<Node, Errno> {
        Self::statx(fd, "", AtFlags::EMPTY_PATH | AtFlags::NO_AUTOMOUNT)
    }

    fn statx<P: Arg, Fd: AsFd>(dirfd: Fd, path: P, flags: AtFlags) -> Result<Node, Errno> {
        let path = path.into_c_str()?;
        match statx(
            dirfd.as_fd(),
            &*path,
            flags,
            StatxFlags::TYPE | StatxFlags::INO | StatxFlags::MNT_ID,
        ) {
            Ok(x) => Ok(Node {
                dev: rustix::fs::makedev(x.stx_dev_major, x.stx_dev_minor),
                ino: x.stx_ino,
                file_type: FileType::from_raw_mode(x.stx_mode.into()),
                mnt_id: (x.stx_mask & StatxFlags::MNT_ID.bits() != 0).then_some(x.stx_mnt_id),
                mount_root: x
                    .stx_attributes_mask
                    .contains(StatxAttributes::MOUNT_ROOT)
                    .then(|| x.stx_attributes.contains(StatxAttributes::MOUNT_ROOT)),
            }),
            // Linux before 4.11 (or an old seccomp filter): plain fstatat, without mount ids.
            Err(Errno::NOSYS) => {
                let st = rustix::fs::statat(dirfd, &*path, flags)?;
                Ok(Node {
                    dev: st.st_dev,
                    ino: st.st_ino,
                    file_type: FileType::from_raw_mode(st.st_mode),
                    mnt_id: None,
                    mount_root: None,
                })
            }
            Err(e) => Err(e),
        }
    }

    pub fn is_dir(&self) -> bool {
        self.file_type == FileType::Directory
    }

    pub fn same_inode(&self, other: &Node) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }

    /// Whether this directory is the root of a mount. `parent` is the directory containing it; it is needed
    /// only on kernels without `STATX_ATTR_MOUNT_ROOT`, where a different device is the best sign there is.
    pub fn is_mount_point(&self, parent: &Node) -> bool {
        match self.mount_root {
            Some(root) => root,
            None => self.dev != parent.dev,
        }
    }

    /// Whether `other` lies on the same mount as this node: the same device and, where known, the same mount.
    pub fn same_mount(&self, other: &Node) -> bool {
        self.dev == other.dev
            && match (self.mnt_id, other.mnt_id) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// One line of /proc/self/mountinfo, the fields we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub id: u64,
    pub parent: u64,
    pub shared: bool,
    pub fstype: String,
}

/// The mounts of our mount namespace; empty when /proc is not mounted (early in an initramfs).
pub fn mounts() -> Vec<Mount> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|text| text.lines().filter_map(parse_mountinfo_line).collect())
        .unwrap_or_default()
}

/// `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw` (proc(5)).
fn parse_mountinfo_line(line: &str) -> Option<Mount> {
    let mut fields = line.split(' ');
    let id = fields.next()?.parse().ok()?;
    let parent = fields.next()?.parse().ok()?;
    // major:minor, root, mount point, mount options
    let mut fields = fields.skip(4);
    let mut shared = false;
    for optional in fields.by_ref() {
        if optional == "-" {
            break;
        }
        shared |= optional.starts_with("shared:");
    }
    let fstype = fields.next()?.to_string();
    Some(Mount {
        id,
        parent,
        shared,
        fstype,
    })
}

/// The mount with this id.
pub fn find(mounts: &[Mount], id: Option<u64>) -> Option<&Mount> {
    let id = id?;
    mounts.iter().find(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mountinfo_lines() {
        let m = parse_mountinfo_line(
            "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue",
        )
        .unwrap();
        assert_eq!(
            m,
            Mount {
                id: 36,
                parent: 35,
                shared: true,
                fstype: "ext3".into()
            }
        );
        let m = parse_mountinfo_line("1 1 0:2 / / rw - rootfs rootfs rw").unwrap();
        assert!(!m.shared);
        assert_eq!(m.fstype, "rootfs");
        assert_eq!(parse_mountinfo_line("garbage"), None);
    }

    #[test]
    fn root_is_a_mount_point_and_a_directory() {
        let root = Node::at(rustix::fs::CWD, "/", true).unwrap();
        assert!(root.is_dir());
        assert!(root.is_mount_point(&root) || root.mount_root.is_none());
        let again = Node::of_fd(
            rustix::fs::open("/", rustix::fs::OFlags::PATH, rustix::fs::Mode::empty()).unwrap(),
        )
        .unwrap();
        assert!(root.same_inode(&again) && root.same_mount(&again));
    }
}
