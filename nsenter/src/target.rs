//! The `-t` process: one pidfd for the whole run, and the `/proc/PID` files nsenter reads from it.
//!
//! The pidfd is what makes the run race-free: it cannot come to name another process when the PID is
//! recycled. It is the atomic `setns` handle (Linux ≥ 5.8), the `pidfd_getfd` handle for `-N`, the
//! `PID:INODE` check (pidfs, Linux ≥ 6.9), and the liveness check after `/proc/PID/...` files are opened.

use crate::enter::NsDir;
use crate::options::TargetArg;
use ns_common::error::{Context, Error, Result};
use ns_common::nsfile::NsId;
use ns_common::{nsfile, sys, NsKind};
use rustix::fs::{Mode, OFlags};
use rustix::process::{Pid, PidfdFlags};
use std::cell::OnceCell;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// `PIDFS_MAGIC` (`linux/magic.h`): the filesystem of pidfds since Linux 6.9, where each process has its own inode.
const PIDFS_MAGIC: u64 = 0x5049_4446;

/// The target process.
#[derive(Debug)]
pub struct Target {
    pub pid: i32,
    /// None when the kernel has no pidfd_open (or it failed without `:INODE`): `/proc/PID/...` files only.
    pidfd: Option<OwnedFd>,
    /// Whether `setns` takes the pidfd (Linux ≥ 5.8): known from the open, or asked of uname when needed.
    setns_by_pidfd: OnceCell<bool>,
    /// `/proc/PID/ns`, for the identities of the target's namespaces.
    ns: NsDir,
}

impl Target {
    /// Opens the pidfd for `-t PID[:INODE]`. A zombie target is an error; a vanished one falls back to the
    /// `/proc` path, whose open then reports it (as util-linux does), unless `:INODE` asked for a check.
    pub fn open(arg: TargetArg) -> Result<Target> {
        let pid = arg.pid;
        // PIDFD_NONBLOCK (Linux ≥ 5.10; it only affects waitid, which we never call on the pidfd) tells
        // us without a uname(2) that setns takes pidfds (≥ 5.8); older kernels refuse the flag: open again.
        let setns_by_pidfd = OnceCell::new();
        let opened = match Pid::from_raw(pid) {
            Some(p) => match rustix::process::pidfd_open(p, PidfdFlags::NONBLOCK) {
                Err(rustix::io::Errno::INVAL) => {
                    rustix::process::pidfd_open(p, PidfdFlags::empty())
                }
                other => {
                    if other.is_ok() {
                        let _ = setns_by_pidfd.set(true);
                    }
                    other
                }
            },
            None => Err(rustix::io::Errno::SRCH),
        };
        let no_valid_fd = |errno: rustix::io::Errno| {
            Error::from(errno).context(format!(
                "failed to obtain a valid file descriptor for PID {pid}"
            ))
        };
        if let Some(inode) = arg.inode {
            let fd = opened.as_ref().map_err(|&errno| no_valid_fd(errno))?;
            let on_pidfs = rustix::fs::fstatfs(fd)
                .map(|st| st.f_type as u64 == PIDFS_MAGIC)
                .unwrap_or(false);
            if !on_pidfs {
                return Err(Error::new(
                    "-t PID:INODE needs pidfd inodes (pidfs, Linux 6.9 or later)",
                ));
            }
            let st = rustix::fs::fstat(fd).or_ctx(|| format!("cannot stat pidfd of PID {pid}"))?;
            if st.st_ino != inode {
                return Err(no_valid_fd(rustix::io::Errno::SRCH));
            }
        }
        // Without a pidfd the `/proc/PID/...` opens report a vanished target, in util-linux's words.
        let target = Target {
            pid,
            pidfd: opened.ok(),
            setns_by_pidfd,
            ns: NsDir::new(format!("/proc/{pid}/ns"), false),
        };
        if target.exited() {
            return Err(Error::new(format!("process {pid} is a zombie")));
        }
        Ok(target)
    }

    /// The pidfd, when there is one.
    pub fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|fd| fd.as_fd())
    }

    /// Whether `setns(pidfd, mask)` can enter the target's namespaces: there is a pidfd and Linux ≥ 5.8.
    pub fn setns_by_pidfd(&self) -> bool {
        self.pidfd.is_some() && *self.setns_by_pidfd.get_or_init(setns_by_pidfd_supported)
    }

    /// The identity of the target's namespace of `kind` (`/proc/PID/ns/<kind>`), looked up once.
    pub fn ns_id(&self, kind: NsKind) -> std::io::Result<NsId> {
        self.ns.id(kind)
    }

    /// Whether the process has exited since the pidfd was opened (never known without a pidfd).
    fn exited(&self) -> bool {
        self.pidfd()
            .map(|fd| sys::pidfd_exited(fd).unwrap_or(false))
            .unwrap_or(false)
    }

    /// After opening `/proc/PID/...` files: the pidfd confirms that PID still names the same live process,
    /// so none of those files can belong to a process that reused the PID.
    pub fn confirm_alive(&self) -> Result<()> {
        if self.exited() {
            return Err(Error::new(format!("process {} exited", self.pid)));
        }
        Ok(())
    }

    /// `/proc/PID/REST`.
    pub fn proc_path(&self, rest: &str) -> String {
        format!("/proc/{}/{rest}", self.pid)
    }

    /// Opens `/proc/PID/ns/<kind>`.
    pub fn open_ns(&self, kind: NsKind) -> Result<OwnedFd> {
        nsfile::open_ns(nsfile::proc_ns_path(self.pid, kind.proc_name()))
    }

    /// Opens a directory of the target (`root`, `cwd`, or the `/proc/PID` directory itself with "").
    pub fn open_dir(&self, rest: &str) -> Result<OwnedFd> {
        let path = self.proc_path(rest);
        let path = path.trim_end_matches('/');
        crate::options::open_dir(path)
    }

    /// Reads a whole `/proc/PID/` file.
    pub fn read(&self, rest: &str) -> Result<Vec<u8>> {
        let path = self.proc_path(rest);
        let fd = rustix::fs::open(&path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .or_ctx(|| format!("cannot open {path}"))?;
        let mut file = std::fs::File::from(fd);
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut content)
            .or_ctx(|| format!("cannot read {path}"))?;
        Ok(content)
    }
}

/// The kernel release as (major, minor), to pick the setns flavour by version rather than by trial
/// (`pidfd_open` exists since 5.3, but `setns` accepts a pidfd only since 5.8).
pub fn kernel_version() -> (u32, u32) {
    let uname = rustix::system::uname();
    let release = uname.release().to_string_lossy();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Whether `setns(pidfd, mask)` is available.
pub fn setns_by_pidfd_supported() -> bool {
    kernel_version() >= (5, 8)
}
