//! Credentials after entering: supplementary groups, then gid, then uid, then ambient capabilities — the
//! order in which each step still has the privilege the next one needs.
//!
//! The process is single-threaded, so the per-thread set*id system calls rustix makes change the whole process.

use ns_common::error::{Error, Result};
use ns_common::sys;
use rustix::thread::{self, CapabilitySet};

/// The credentials to set before exec.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Drop supplementary groups (whenever a gid is set).
    pub drop_groups: bool,
    /// `setgroups(0, NULL)` was tried before entering (user namespace, no `--preserve-credentials`):
    /// whether it succeeded there, in our original namespace.
    pub dropped_before_entering: Option<bool>,
    /// `--keep-caps`.
    pub keep_caps: bool,
}

/// `setgroups(0, NULL)` while still in the original user namespace, where a privileged caller may.
pub fn drop_groups_early() -> bool {
    thread::set_thread_groups(&[]).is_ok()
}

impl Credentials {
    /// Applies the credentials; `in_user_ns` says whether a user namespace was entered.
    pub fn apply(&self, in_user_ns: bool) -> Result<()> {
        if self.drop_groups {
            if let Err(errno) = thread::set_thread_groups(&[]) {
                // Already dropped in the original namespace: nothing left to drop.
                let dropped_before = self.dropped_before_entering == Some(true);
                // After setns(CLONE_NEWUSER) we hold every capability in that namespace, so EPERM means the
                // namespace forbids setgroups (setgroups=deny, or no gid map yet): the process cannot hold
                // supplementary groups there anyway (nsbox deviation: util-linux fails).
                let denied = in_user_ns && errno == rustix::io::Errno::PERM;
                if !dropped_before && !denied {
                    return Err(Error::from(errno).context("setgroups failed"));
                }
            }
        }
        // Not rustix's Uid/Gid: they assert on (uid_t)-1, which `-S 4294967295` reaches; the kernel answers
        // EINVAL for it, as util-linux reports.
        if let Some(gid) = self.gid {
            sys::setgid(gid).map_err(|e| Error::os("setgid() failed", e))?;
        }
        if let Some(uid) = self.uid {
            sys::setuid(uid).map_err(|e| Error::os("setuid() failed", e))?;
        }
        if self.keep_caps && in_user_ns {
            raise_ambient()?;
        }
        Ok(())
    }
}

/// `--keep-caps`: every permitted capability goes into the inheritable and ambient sets, so the program
/// keeps them across exec. After a setuid to a non-zero uid the permitted set is empty: nothing to raise.
fn raise_ambient() -> Result<()> {
    let mut caps =
        thread::capabilities(None).map_err(|e| Error::from(e).context("capget failed"))?;
    if caps.permitted.is_empty() {
        return Ok(());
    }
    caps.inheritable = caps.permitted;
    thread::set_capabilities(None, caps).map_err(|e| Error::from(e).context("capset failed"))?;
    for bit in 0..64 {
        let cap = CapabilitySet::from_bits_retain(1 << bit);
        if caps.permitted.contains(cap) {
            thread::configure_capability_in_ambient_set(cap, true).map_err(|e| {
                Error::from(e).context(format!("cannot raise ambient capability {bit}"))
            })?;
        }
    }
    Ok(())
}
