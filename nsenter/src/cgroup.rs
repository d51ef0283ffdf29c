//! `-c/--join-cgroup`: move into the target's cgroup (cgroup v2 only).
//!
//! `cgroup.procs` is opened before entering: the kernel checks a write against the cgroup namespace the
//! file was opened in, which must be our original one.

use crate::target::Target;
use ns_common::error::{Context, Error, Result};
use rustix::fs::{Mode, OFlags};
use std::os::fd::OwnedFd;

/// `CGROUP2_SUPER_MAGIC` (`linux/magic.h`).
const CGROUP2_SUPER_MAGIC: u64 = 0x6367_7270;

/// The target's `cgroup.procs`, open for writing.
#[derive(Debug)]
pub struct CgroupProcs {
    fd: OwnedFd,
    path: String,
}

/// Finds the target's cgroup v2 path and opens its `cgroup.procs` for appending.
pub fn open_procs(target: &Target) -> Result<CgroupProcs> {
    let is_v2 = rustix::fs::statfs("/sys/fs/cgroup")
        .map(|st| st.f_type as u64 == CGROUP2_SUPER_MAGIC)
        .unwrap_or(false);
    if !is_v2 {
        return Err(Error::new("--join-cgroup is only supported in cgroup v2"));
    }
    let content = target.read("cgroup")?;
    let relative = unified_path(&content).ok_or_else(|| {
        Error::new(format!(
            "cannot find the cgroup v2 path of process {}",
            target.pid
        ))
    })?;
    let path = format!(
        "/sys/fs/cgroup{}/cgroup.procs",
        relative.trim_end_matches('/')
    );
    let fd = rustix::fs::open(
        &path,
        OFlags::WRONLY | OFlags::APPEND | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .or_ctx(|| format!("cannot open {path}"))?;
    Ok(CgroupProcs { fd, path })
}

/// The path of the `0::/path` line of a `/proc/PID/cgroup` file.
fn unified_path(content: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(content);
    text.lines()
        .find_map(|line| line.strip_prefix("0::"))
        .filter(|path| path.starts_with('/'))
        .map(str::to_string)
}

impl CgroupProcs {
    /// Writes our pid, so that we and every child from now on are in the target's cgroup.
    pub fn join(&self) -> Result<()> {
        let pid = format!("{}\n", rustix::process::getpid().as_raw_nonzero());
        rustix::io::write(&self.fd, pid.as_bytes())
            .or_ctx(|| format!("cannot write to {}", self.path))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_unified_line() {
        assert_eq!(
            unified_path(b"12:pids:/a\n0::/user.slice/x\n"),
            Some("/user.slice/x".into())
        );
        assert_eq!(unified_path(b"0::/\n"), Some("/".into()));
        assert_eq!(unified_path(b"1:name=systemd:/\n"), None);
    }
}
