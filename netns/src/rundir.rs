//! `/run/netns`: the shared mount every named netns lives on, and the entries `add`, `attach` and `delete`
//! make and remove (spec A.4, A.5).

use crate::names::{netns_path, RUN_DIR};
use ns_common::error::{eprint_quiet, Error, Result};
use rustix::fs::{FlockOperation, Mode, OFlags};
use rustix::mount::{MountPropagationFlags, UnmountFlags};
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::path::PathBuf;

fn os_err(e: rustix::io::Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

/// Makes `/run/netns` a shared, recursive bind mount of itself, once. Idempotent, and serialised with
/// `flock` so that concurrent `add`s stack exactly one self-bind: the check (the first MS_SHARED) happens
/// under the lock.
pub fn prepare() -> Result<()> {
    match rustix::fs::mkdir(RUN_DIR, Mode::from_bits_truncate(0o755)) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        // Unprivileged: the mount below fails with iproute2's message.
        Err(_) => {}
    }
    let lock = rustix::fs::open(
        RUN_DIR,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok();
    if let Some(dir) = &lock {
        if let Err(e) = rustix::fs::flock(dir, FlockOperation::LockExclusive) {
            eprint_quiet(&format!(
                "Warning: could not flock netns runtime directory \"{RUN_DIR}\": {}\n",
                ns_common::error::strerror(e.raw_os_error())
            ));
        }
    }
    let shared = MountPropagationFlags::SHARED | MountPropagationFlags::REC;
    let mut bound = false;
    loop {
        match rustix::mount::mount_change(RUN_DIR, shared) {
            Ok(()) => break,
            // Not a mount point yet: make it one (a self-bind), then leave any peer group the bind
            // inherited (so the MS_SHARED makes a new one: on systemd hosts /run is shared and every
            // netns mount would otherwise show up twice), and retry.
            Err(rustix::io::Errno::INVAL) if !bound => {
                let bind = rustix::mount::mount_bind_recursive(RUN_DIR, RUN_DIR);
                if let Err(e) = bind {
                    return Err(Error::os(
                        format!("mount --bind {RUN_DIR} {RUN_DIR} failed"),
                        os_err(e),
                    ));
                }
                let private = MountPropagationFlags::PRIVATE | MountPropagationFlags::REC;
                let _ = rustix::mount::mount_change(RUN_DIR, private);
                bound = true;
            }
            Err(e) => {
                return Err(Error::os(
                    format!("mount --make-shared {RUN_DIR} failed"),
                    os_err(e),
                ))
            }
        }
    }
    // Dropping the fd releases the lock.
    drop(lock);
    Ok(())
}

/// The O_EXCL placeholder of a new entry, removed again (detached and unlinked) unless [`Entry::keep`]
/// is called: whatever fails after it was created leaves nothing behind.
pub struct Entry {
    path: PathBuf,
    keep: bool,
}

impl Entry {
    /// Creates `/run/netns/NAME` exclusively, mode 0.
    pub fn create(name: &OsStr) -> Result<Entry> {
        let path = netns_path(name);
        let created = rustix::fs::open(
            &path,
            OFlags::RDONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
            Mode::empty(),
        );
        match created {
            Ok(fd) => {
                drop(fd);
                Ok(Entry { path, keep: false })
            }
            Err(e) => Err(Error::os(
                format!("Cannot create namespace file \"{}\"", path.display()),
                os_err(e),
            )),
        }
    }

    /// Binds `source` (a netns file) on the placeholder: `Bind SOURCE -> PATH failed: <err>`.
    pub fn bind(&self, source: &str) -> Result<()> {
        rustix::mount::mount_bind(source, &self.path).map_err(|e| {
            Error::os(
                format!("Bind {source} -> {} failed", self.path.display()),
                os_err(e),
            )
        })
    }

    /// The entry is complete: keep it.
    pub fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if !self.keep {
            let _ = rustix::mount::unmount(&self.path, UnmountFlags::DETACH);
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `add NAME`: a new network namespace, bound at `/run/netns/NAME`. Done in this process, no fork:
/// unshare, bind `/proc/self/ns/net`, and go back to the original netns.
pub fn add(name: &OsStr) -> Result<()> {
    prepare()?;
    let entry = Entry::create(name)?;
    let saved = File::open("/proc/self/ns/net")
        .map_err(|e| Error::os("Cannot open /proc/self/ns/net", e))?;
    // SAFETY: CLONE_NEWNET does not unshare the file table, so no thread can observe file descriptors
    // from another table; the tools are single-threaded anyway.
    let unshared = unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) };
    if let Err(e) = unshared {
        return Err(Error::os(
            format!(
                "Failed to create a new network namespace \"{}\"",
                name.to_string_lossy()
            ),
            os_err(e),
        ));
    }
    // Bind last, so that `monitor` (which sees the placeholder appear) finds a usable file.
    let bound = entry.bind("/proc/self/ns/net");
    let back = crate::rtnl::enter_netns(saved.as_fd());
    bound?;
    back.map_err(|e| Error::os("setns back to the original network namespace failed", e))?;
    entry.keep();
    Ok(())
}

/// `attach NAME PID`: bind `/proc/PID/ns/net` at `/run/netns/NAME`.
pub fn attach(name: &OsStr, pid: &str) -> Result<()> {
    prepare()?;
    let entry = Entry::create(name)?;
    entry.bind(&format!("/proc/{pid}/ns/net"))?;
    entry.keep();
    Ok(())
}

/// `delete NAME`: detach the mount (result ignored), unlink. A racing mount-namespace copy can pin the
/// file for a moment (EBUSY): retry a few times.
pub fn delete(name: &OsStr) -> Result<()> {
    let path = netns_path(name);
    let _ = rustix::mount::unmount(&path, UnmountFlags::DETACH);
    let mut tries = 0;
    loop {
        match std::fs::remove_file(&path) {
            Ok(()) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 20 => {
                tries += 1;
                let _ = rustix::mount::unmount(&path, UnmountFlags::DETACH);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => {
                return Err(Error::os(
                    format!("Cannot remove namespace file \"{}\"", path.display()),
                    e,
                ))
            }
        }
    }
}

/// The names in `/run/netns`, in directory order (a missing directory has none).
pub fn names() -> Vec<std::ffi::OsString> {
    listed().unwrap_or_default()
}

/// The names in `/run/netns`, or None when the directory cannot be read (e.g. it does not exist yet).
pub fn listed() -> Option<Vec<std::ffi::OsString>> {
    let dir = std::fs::read_dir(RUN_DIR).ok()?;
    Some(dir.filter_map(|e| e.ok().map(|e| e.file_name())).collect())
}
