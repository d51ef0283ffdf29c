//! `-Z/--follow-context`: run the program in the target's SELinux context, through the kernel's
//! `/proc/.../attr` files (no libselinux).

use crate::target::Target;
use ns_common::error::{Context, Error, Result};
use rustix::fs::{Mode, OFlags};
use std::os::fd::OwnedFd;

/// `SELINUX_MAGIC` (`linux/magic.h`): selinuxfs, mounted at `/sys/fs/selinux` when SELinux is enabled.
const SELINUX_MAGIC: u64 = 0xf97c_ff8c;

/// Fails clearly when SELinux is not enabled: there is no context to follow.
pub fn check_enabled() -> Result<()> {
    let enabled = rustix::fs::statfs("/sys/fs/selinux")
        .map(|st| st.f_type as u64 == SELINUX_MAGIC)
        .unwrap_or(false);
    if enabled {
        Ok(())
    } else {
        Err(Error::new("SELinux is not enabled (--follow-context)"))
    }
}

/// The target's context and our `attr/exec`, opened while `/proc` is still ours.
#[derive(Debug)]
pub struct ExecContext {
    context: Vec<u8>,
    attr_exec: OwnedFd,
}

/// Reads the target's context.
pub fn target_context(target: &Target) -> Result<ExecContext> {
    let mut context = target.read("attr/current")?;
    while matches!(context.last(), Some(0 | b'\n')) {
        context.pop();
    }
    let path = "/proc/thread-self/attr/exec";
    let attr_exec = rustix::fs::open(path, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())
        .or_ctx(|| format!("cannot open {path}"))?;
    Ok(ExecContext { context, attr_exec })
}

impl ExecContext {
    /// Sets the context the next exec runs in (inherited by a forked child).
    pub fn apply(&self) -> Result<()> {
        rustix::io::write(&self.attr_exec, &self.context).or_ctx(|| {
            format!(
                "failed to set exec context to {}",
                String::from_utf8_lossy(&self.context)
            )
        })?;
        Ok(())
    }
}
