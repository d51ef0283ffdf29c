//! Namespace files: `/proc/PID/ns/*` and their bind mounts, the nsfs ioctls, and persisting a namespace.

use crate::error::{Context, Error, Result};
use crate::nskind::NsKind;
use crate::sys;
use rustix::fs::{Mode, OFlags};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::path::Path;

/// The identity of a namespace: nsfs device and inode (what `readlink /proc/PID/ns/X` shows as `[inode]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NsId {
    pub dev: u64,
    pub ino: u64,
}

/// Makes the process non-dumpable, before it opens an fd into another namespace (or enters one): the
/// processes living there must not ptrace it or take its fds through `/proc/PID/fd`. An exec makes the
/// program it runs dumpable again, as if it were run directly.
pub fn become_non_dumpable() -> Result<()> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .or_ctx(|| "prctl(PR_SET_DUMPABLE) failed")
}

/// Opens a namespace file read-only and close-on-exec.
pub fn open_ns(path: impl AsRef<Path>) -> Result<OwnedFd> {
    let path = path.as_ref();
    rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .or_ctx(|| format!("cannot open {}", path.display()))
}

/// `/proc/PID/ns/NAME` (or `/proc/self/...` for pid 0).
pub fn proc_ns_path(pid: i32, name: &str) -> String {
    if pid == 0 {
        format!("/proc/self/ns/{name}")
    } else {
        format!("/proc/{pid}/ns/{name}")
    }
}

/// The identity of an open namespace file.
pub fn ns_id(fd: impl AsFd) -> std::io::Result<NsId> {
    let st = rustix::fs::fstat(fd)?;
    Ok(NsId {
        dev: st.st_dev,
        ino: st.st_ino,
    })
}

/// `NS_GET_NSTYPE`: the kind of namespace `fd` refers to; `EINVAL`/`ENOTTY` when it is not a namespace.
pub fn ns_kind(fd: impl AsFd) -> std::io::Result<NsKind> {
    let flag = sys::ioctl_ns(fd.as_fd(), sys::NS_GET_NSTYPE)?;
    NsKind::from_clone_flag(flag).ok_or_else(|| std::io::Error::from_raw_os_error(libc::EINVAL))
}

fn fd_from_ioctl(fd: impl AsFd, request: libc::c_ulong) -> std::io::Result<OwnedFd> {
    let raw = sys::ioctl_ns(fd.as_fd(), request)?;
    // SAFETY: NS_GET_USERNS/NS_GET_PARENT return a new fd (close-on-exec) that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// `NS_GET_USERNS`: the user namespace that owns the namespace `fd`.
pub fn owning_userns(fd: impl AsFd) -> std::io::Result<OwnedFd> {
    fd_from_ioctl(fd, sys::NS_GET_USERNS)
}

/// `NS_GET_PARENT`: the parent of a pid or user namespace.
pub fn parent_ns(fd: impl AsFd) -> std::io::Result<OwnedFd> {
    fd_from_ioctl(fd, sys::NS_GET_PARENT)
}

/// Opens the namespace of `kind` whose 64-bit id (`NS_GET_ID`) is `id`, through an nsfs file handle
/// (`struct nsfs_file_handle { u64 ns_id; u32 ns_type; u32 ns_inum; }`, Linux 6.19 per the man page).
///
/// The handle of our own namespace of that kind serves as the template (it carries the handle type and
/// the namespace type); only the id is replaced and the inode number cleared.
pub fn open_ns_by_id(kind: NsKind, id: u64) -> Result<OwnedFd> {
    let own = format!("/proc/self/ns/{}", kind.proc_name());
    let unsupported = || Error::new("opening namespaces by ID is not supported by this kernel");
    let own_c = std::ffi::CString::new(own.clone()).map_err(|_| unsupported())?;
    let (handle_type, mut bytes) = match sys::name_to_handle(&own_c) {
        Ok(handle) => handle,
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL)
            ) =>
        {
            return Err(unsupported())
        }
        Err(e) => return Err(Error::os(format!("cannot get a file handle for {own}"), e)),
    };
    if bytes.len() < 16 {
        return Err(unsupported());
    }
    bytes[..8].copy_from_slice(&id.to_ne_bytes());
    bytes[12..16].copy_from_slice(&0u32.to_ne_bytes());
    let mount_fd = open_ns(&own)?;
    let fd = sys::open_by_handle(mount_fd.as_fd(), handle_type, &bytes, libc::O_RDONLY)
        .or_ctx(|| format!("cannot open {} namespace :{id}", kind.type_name()))?;
    // The handle layout comes from the man page, not from a kernel we could test on: check what we got.
    let got_id = sys::ioctl_ns_id(fd.as_fd()).ok();
    if ns_kind(&fd).ok() != Some(kind) || got_id != Some(id) {
        return Err(Error::new(format!(
            "namespace :{id} is not a {} namespace with that ID",
            kind.type_name()
        )));
    }
    Ok(fd)
}

/// `SIOCGSKNS`: the network namespace of the socket `fd`; `ENOTTY` when `fd` is not a socket.
pub fn socket_netns(fd: impl AsFd) -> std::io::Result<OwnedFd> {
    // SIOCGSKNS returns a new close-on-exec nsfs fd, as NS_GET_USERNS does.
    fd_from_ioctl(fd, sys::SIOCGSKNS)
}

/// `NS_GET_OWNER_UID`: the uid that created the user namespace `fd`.
pub fn owner_uid(fd: impl AsFd) -> std::io::Result<u32> {
    sys::ioctl_ns_owner_uid(fd.as_fd())
}

/// Checks that `fd` is a namespace of `kind`; util-linux-style message otherwise.
pub fn expect_kind(fd: impl AsFd, kind: NsKind, path: &Path) -> Result<()> {
    match ns_kind(fd) {
        Ok(k) if k == kind => Ok(()),
        Ok(_) => Err(Error::new(format!(
            "{} is not a {} namespace",
            path.display(),
            kind.type_name()
        ))),
        Err(_) => Err(Error::new(format!(
            "{} is not a namespace file",
            path.display()
        ))),
    }
}

/// Bind-mounts the namespace file `source` (e.g. `/proc/PID/ns/net`) onto `target`, which must exist.
pub fn bind_ns(source: &Path, target: &Path) -> Result<()> {
    rustix::mount::mount_bind(source, target)
        .or_ctx(|| format!("mount {} on {} failed", source.display(), target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_ids() {
        // NS_GET_ID exists since Linux 6.11; an older kernel says ENOTTY.
        let fd = open_ns("/proc/self/ns/net").unwrap();
        match sys::ioctl_ns_id(fd.as_fd()) {
            Ok(id) => {
                assert!(id > 0);
                let again = open_ns("/proc/self/ns/net").unwrap();
                assert_eq!(sys::ioctl_ns_id(again.as_fd()).unwrap(), id);
            }
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::ENOTTY)),
        }
    }

    #[test]
    fn socket_namespace() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let netns = socket_netns(&socket).unwrap();
        let own = open_ns("/proc/self/ns/net").unwrap();
        assert_eq!(ns_id(&netns).unwrap(), ns_id(&own).unwrap());
        let file = std::fs::File::open("/proc/self/status").unwrap();
        assert_eq!(
            socket_netns(&file).unwrap_err().raw_os_error(),
            Some(libc::ENOTTY)
        );
    }

    #[test]
    fn own_namespaces() {
        let fd = open_ns("/proc/self/ns/net").unwrap();
        assert_eq!(ns_kind(&fd).unwrap(), NsKind::Net);
        let id = ns_id(&fd).unwrap();
        let link = std::fs::read_link("/proc/self/ns/net").unwrap();
        assert_eq!(link.to_string_lossy(), format!("net:[{}]", id.ino));
        expect_kind(&fd, NsKind::Net, Path::new("/proc/self/ns/net")).unwrap();
        assert!(expect_kind(&fd, NsKind::Uts, Path::new("x")).is_err());
    }

    #[test]
    fn not_a_namespace() {
        let fd = open_ns("/proc/self/status").unwrap();
        assert!(ns_kind(&fd).is_err());
        assert_eq!(
            open_ns("/nonexistent/x").unwrap_err().message(),
            "cannot open /nonexistent/x: No such file or directory"
        );
    }
}
