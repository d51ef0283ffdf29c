//! Entering the namespaces: which source each one comes from, and the two passes of `setns`.
//!
//! Pass 1 enters everything except the user namespace and ignores failures: a privileged caller gets
//! everything done while it still has its own privileges. Pass 2 enters what is left, the user namespace
//! first, and fails hard: an unprivileged caller gains the rights for the rest from the user namespace.
//! With a pidfd (Linux ≥ 5.8) each pass is one atomic `setns(pidfd, mask)`: all of the mask or nothing.

use ns_common::error::{Context, Error, Result};
use ns_common::nsfile::{self, NsId};
use ns_common::NsKind;
use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::thread::{LinkNameSpaceType, ThreadNameSpaceType};
use std::cell::OnceCell;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;

/// The order namespaces are entered in by fd, and the order their files are opened in.
pub const ENTRY_ORDER: [NsKind; 8] = [
    NsKind::User,
    NsKind::Cgroup,
    NsKind::Ipc,
    NsKind::Uts,
    NsKind::Net,
    NsKind::Pid,
    NsKind::Mnt,
    NsKind::Time,
];

/// The index of `kind` in [`ENTRY_ORDER`].
pub const fn slot(kind: NsKind) -> usize {
    match kind {
        NsKind::User => 0,
        NsKind::Cgroup => 1,
        NsKind::Ipc => 2,
        NsKind::Uts => 3,
        NsKind::Net => 4,
        NsKind::Pid => 5,
        NsKind::Mnt => 6,
        NsKind::Time => 7,
    }
}

/// Our own namespaces, each looked up once when first needed.
#[derive(Debug)]
pub struct OwnNamespaces(NsDir);

impl Default for OwnNamespaces {
    fn default() -> Self {
        OwnNamespaces(NsDir::new("/proc/self/ns".to_string(), true))
    }
}

impl OwnNamespaces {
    /// The identity of our own namespace of `kind` as it will apply to the program we run (for pid and
    /// time, the namespace our children get), or None when the kernel lacks the type.
    pub fn get(&self, kind: NsKind) -> Option<NsId> {
        self.0.id(kind).ok()
    }
}

/// The namespaces of one process, from its `/proc/PID/ns` directory, each looked up once.
///
/// The directory is opened once (`O_PATH`), and each link is read with `readlinkat`: it reads
/// `net:[4026531840]`, the inode, without following the link into nsfs as `stat` does (about half the
/// cost, see bench/analysis.md). The device is nsfs's, one for every namespace: `stat`ed once per run.
#[derive(Debug)]
pub struct NsDir {
    path: String,
    /// Links named for the children (`pid_for_children`, `time_for_children`): our own, for the program.
    for_children: bool,
    fd: OnceCell<rustix::io::Result<OwnedFd>>,
    ids: [OnceCell<rustix::io::Result<NsId>>; 8],
}

/// nsfs's device number, from the first namespace `stat`ed.
static NSFS_DEV: OnceLock<u64> = OnceLock::new();

impl NsDir {
    /// `path` is a `/proc/<pid>/ns` directory; nothing is opened before the first lookup.
    pub fn new(path: String, for_children: bool) -> NsDir {
        NsDir {
            path,
            for_children,
            fd: OnceCell::new(),
            ids: Default::default(),
        }
    }

    /// The identity of the namespace of `kind`; the error is the one `stat` of the link would give.
    pub fn id(&self, kind: NsKind) -> std::io::Result<NsId> {
        let id = self.ids[slot(kind)].get_or_init(|| {
            let name = match self.for_children {
                true => kind.for_children_name(),
                false => kind.proc_name(),
            };
            let dir = self.fd.get_or_init(|| {
                rustix::fs::open(
                    &self.path,
                    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
            });
            link_id(dir.as_ref().map_err(|e| *e)?, name)
        });
        id.map_err(std::io::Error::from)
    }
}

/// The identity behind the namespace link `name` in the `ns` directory `dir`.
fn link_id(dir: &OwnedFd, name: &str) -> rustix::io::Result<NsId> {
    let Some(&dev) = NSFS_DEV.get() else {
        let st = rustix::fs::statat(dir, name, AtFlags::empty())?;
        let _ = NSFS_DEV.set(st.st_dev);
        return Ok(NsId {
            dev: st.st_dev,
            ino: st.st_ino,
        });
    };
    let mut buf = [0u8; 64];
    let len = rustix::fs::readlinkat_raw(dir, name, &mut buf[..])?;
    let ino = link_inode(&buf[..len]).ok_or(rustix::io::Errno::INVAL)?;
    Ok(NsId { dev, ino })
}

/// The inode in a namespace link's text, `type:[inode]`.
fn link_inode(link: &[u8]) -> Option<u64> {
    let start = link.iter().position(|&b| b == b'[')? + 1;
    let digits = link[start..].strip_suffix(b"]")?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Where one namespace is entered from.
#[derive(Debug)]
pub enum Source {
    /// The target's pidfd, as part of an atomic mask.
    Pidfd,
    /// A namespace fd: a FILE argument, `/proc/PID/ns/<type>`, the parent user namespace, a socket's netns.
    Fd(OwnedFd),
}

#[derive(Debug)]
struct Entry {
    kind: NsKind,
    source: Source,
    /// Same namespace as our own (see [`Plan::add`]).
    identical: bool,
    done: bool,
}

/// What entering changed, for the steps after it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Entered {
    /// A user namespace was entered (we hold every capability in it now).
    pub user: bool,
}

/// The namespaces to enter, in [`ENTRY_ORDER`].
#[derive(Debug, Default)]
pub struct Plan {
    entries: Vec<Entry>,
    pub own: OwnNamespaces,
}

impl Plan {
    /// Adds a namespace; `id` is its identity when known. A namespace identical to our own changes nothing
    /// when joined, so net, uts, ipc, pid, cgroup and time are dropped (an unprivileged caller could not
    /// join them anyway when they belong to the initial user namespace). An identical user namespace is
    /// kept (setns says EINVAL, as util-linux reports). An identical mount namespace is kept because joining
    /// it resets root and cwd; if that join is refused, [`Plan::enter`] does `chdir("/")` instead.
    pub fn add(&mut self, kind: NsKind, source: Source, id: Option<NsId>) {
        let identical = id.is_some() && id == self.own.get(kind);
        let dropped = identical && !matches!(kind, NsKind::User | NsKind::Mnt);
        self.entries.push(Entry {
            kind,
            source,
            identical,
            done: dropped,
        });
        self.entries.sort_by_key(|e| slot(e.kind));
    }

    /// Enters every namespace of the plan in two passes (see the module documentation).
    pub fn enter(&mut self, pidfd: Option<BorrowedFd<'_>>) -> Result<Entered> {
        let _ = self.pass(pidfd, false);
        let chdir_to_root = self.pass(pidfd, true)?;
        if chdir_to_root {
            rustix::process::chdir("/").or_ctx(|| "cannot change directory to /")?;
        }
        Ok(Entered {
            user: self
                .entries
                .iter()
                .any(|e| e.kind == NsKind::User && e.done),
        })
    }

    /// One pass; returns whether an identical mount namespace was given up (so cwd must be reset by hand).
    fn pass(&mut self, pidfd: Option<BorrowedFd<'_>>, last: bool) -> Result<bool> {
        let mut mount_given_up = false;
        if last {
            if let Some(e) = self
                .entries
                .iter_mut()
                .find(|e| e.kind == NsKind::User && !e.done)
            {
                if let Source::Fd(fd) = &e.source {
                    setns_fd(fd.as_fd(), NsKind::User)
                        .map_err(|errno| fd_failure(NsKind::User, errno))?;
                    e.done = true;
                }
            }
        }
        let mut mask = self.pidfd_mask(last);
        if mask != 0 {
            let pidfd = pidfd.ok_or_else(|| Error::new("no pidfd for the target"))?;
            let mut result = setns_pidfd(pidfd, mask);
            let mount = NsKind::Mnt.clone_flag();
            if last
                && result.as_ref().err() == Some(&rustix::io::Errno::PERM)
                && mask & mount != 0
                && self.identical(NsKind::Mnt)
            {
                self.mark_done(mount);
                mount_given_up = true;
                mask &= !mount;
                result = if mask == 0 {
                    Ok(())
                } else {
                    setns_pidfd(pidfd, mask)
                };
            }
            match result {
                Ok(()) => self.mark_done(mask),
                Err(e) if last => {
                    return Err(Error::from(e).context("reassociate to namespaces failed"))
                }
                Err(_) => {}
            }
        }
        for e in &mut self.entries {
            if e.done || e.kind == NsKind::User {
                continue;
            }
            let Source::Fd(fd) = &e.source else {
                continue;
            };
            match setns_fd(fd.as_fd(), e.kind) {
                Ok(()) => e.done = true,
                Err(_) if !last => {}
                Err(rustix::io::Errno::PERM) if e.kind == NsKind::Mnt && e.identical => {
                    e.done = true;
                    mount_given_up = true;
                }
                Err(errno) => return Err(fd_failure(e.kind, errno)),
            }
        }
        Ok(mount_given_up)
    }

    fn pidfd_mask(&self, with_user: bool) -> i32 {
        self.entries
            .iter()
            .filter(|e| !e.done && matches!(e.source, Source::Pidfd))
            .filter(|e| with_user || e.kind != NsKind::User)
            .fold(0, |mask, e| mask | e.kind.clone_flag())
    }

    fn mark_done(&mut self, mask: i32) {
        for e in &mut self.entries {
            if matches!(e.source, Source::Pidfd) && mask & e.kind.clone_flag() != 0 {
                e.done = true;
            }
        }
    }

    fn identical(&self, kind: NsKind) -> bool {
        self.entries.iter().any(|e| e.kind == kind && e.identical)
    }
}

fn fd_failure(kind: NsKind, errno: rustix::io::Errno) -> Error {
    Error::from(errno).context(format!(
        "reassociate to namespace 'ns/{}' failed",
        kind.proc_name()
    ))
}

/// `setns(fd, CLONE_NEW<kind>)`: the kernel also checks that `fd` is a namespace of that kind (EINVAL otherwise).
fn setns_fd(fd: BorrowedFd<'_>, kind: NsKind) -> rustix::io::Result<()> {
    let kind = match kind {
        NsKind::Mnt => LinkNameSpaceType::Mount,
        NsKind::Uts => LinkNameSpaceType::HostNameAndNISDomainName,
        NsKind::Ipc => LinkNameSpaceType::InterProcessCommunication,
        NsKind::Net => LinkNameSpaceType::Network,
        NsKind::Pid => LinkNameSpaceType::ProcessID,
        NsKind::User => LinkNameSpaceType::User,
        NsKind::Cgroup => LinkNameSpaceType::ControlGroup,
        NsKind::Time => LinkNameSpaceType::Time,
    };
    rustix::thread::move_into_link_name_space(fd, Some(kind))
}

/// `setns(pidfd, mask)`: atomic, every namespace in the mask or none.
fn setns_pidfd(pidfd: BorrowedFd<'_>, mask: i32) -> rustix::io::Result<()> {
    rustix::thread::move_into_thread_name_spaces(
        pidfd,
        ThreadNameSpaceType::from_bits_retain(mask as u32),
    )
}

/// The identity of an fd source, for [`Plan::add`].
pub fn fd_id(fd: &OwnedFd) -> Option<NsId> {
    nsfile::ns_id(fd).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The identity of the namespace a `/proc/.../ns/...` path names (followed, as `stat` does).
    fn stat_id(path: &str) -> std::io::Result<NsId> {
        let st = rustix::fs::stat(path)?;
        Ok(NsId {
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }

    #[test]
    fn link_text_gives_the_inode() {
        assert_eq!(link_inode(b"net:[4026531840]"), Some(4026531840));
        assert_eq!(link_inode(b"pid_for_children:[1]"), Some(1));
        assert_eq!(link_inode(b"net:[]"), None);
        assert_eq!(link_inode(b"net:[12"), None);
        assert_eq!(link_inode(b"anon_inode:x"), None);
    }

    #[test]
    fn links_and_stat_agree() {
        let own = OwnNamespaces::default();
        let dir = NsDir::new("/proc/self/ns".to_string(), false);
        for kind in ENTRY_ORDER {
            let Ok(by_stat) = stat_id(&format!("/proc/self/ns/{}", kind.for_children_name()))
            else {
                continue;
            };
            assert_eq!(own.get(kind), Some(by_stat), "{kind:?}");
            let plain = stat_id(&format!("/proc/self/ns/{}", kind.proc_name())).unwrap();
            assert_eq!(dir.id(kind).unwrap(), plain, "{kind:?}");
        }
    }

    #[test]
    fn order_and_slots_agree() {
        for (i, k) in ENTRY_ORDER.into_iter().enumerate() {
            assert_eq!(slot(k), i);
        }
    }

    #[test]
    fn identical_namespaces_are_dropped_except_user_and_mount() {
        let mut plan = Plan::default();
        for kind in [NsKind::Net, NsKind::User, NsKind::Mnt] {
            let fd = nsfile::open_ns(format!("/proc/self/ns/{}", kind.proc_name())).unwrap();
            let id = fd_id(&fd);
            plan.add(kind, Source::Fd(fd), id);
        }
        let state: Vec<(NsKind, bool, bool)> = plan
            .entries
            .iter()
            .map(|e| (e.kind, e.identical, e.done))
            .collect();
        assert_eq!(
            state,
            vec![
                (NsKind::User, true, false),
                (NsKind::Net, true, true),
                (NsKind::Mnt, true, false)
            ]
        );
    }
}
