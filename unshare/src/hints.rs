//! One extra line after `unshare failed: <err>` naming the likely cause (nsbox deviation 4): the reference
//! message alone leaves the user guessing between sysctls, AppArmor and missing privileges.

use crate::options::Settings;
use ns_common::{Error, NsKind};

fn read_sysctl(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// The error for a failed unshare(2), with a hint line where one applies.
pub fn unshare_failed(s: &Settings, err: std::io::Error) -> Error {
    let base = Error::os("unshare failed", err);
    match hint(s, base.message()) {
        Some(line) => Error::new(format!("{}\nunshare: {line}", base.message())),
        None => base,
    }
}

fn requested(s: &Settings) -> impl Iterator<Item = NsKind> + '_ {
    NsKind::ALL.into_iter().filter(|k| s.has(*k))
}

fn hint(s: &Settings, message: &str) -> Option<String> {
    let errno_text = |e| ns_common::error::strerror(e);
    if message.ends_with(&errno_text(libc::ENOSPC)) {
        for kind in requested(s) {
            let name = format!("max_{}_namespaces", kind.type_name());
            if read_sysctl(&format!("/proc/sys/user/{name}")).as_deref() == Some("0") {
                return Some(format!(
                    "user.{name} is 0: namespaces of this type are disabled"
                ));
            }
        }
        let names: Vec<String> = requested(s)
            .map(|k| format!("user.max_{}_namespaces", k.type_name()))
            .collect();
        return Some(format!(
            "a namespace limit is exhausted; check {}",
            names.join(", ")
        ));
    }
    if message.ends_with(&errno_text(libc::EINVAL)) {
        // EINVAL for a namespace type the kernel was built without (its /proc/self/ns entry is missing).
        let missing: Vec<&str> = requested(s)
            .filter(|k| !std::path::Path::new(&format!("/proc/self/ns/{}", k.proc_name())).exists())
            .map(|k| k.type_name())
            .collect();
        return (!missing.is_empty()).then(|| {
            format!(
                "this kernel does not support {} namespaces",
                missing.join(", ")
            )
        });
    }
    if !message.ends_with(&errno_text(libc::EPERM)) {
        return None;
    }
    if s.has(NsKind::User) {
        if read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref()
            == Some("1")
        {
            return Some(
                "AppArmor blocks unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)"
                    .to_string(),
            );
        }
        if read_sysctl("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
            return Some(
                "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)"
                    .to_string(),
            );
        }
        return None;
    }
    if s.euid != 0 {
        let kind = requested(s).next()?.type_name();
        let article = if kind.starts_with('i') { "an" } else { "a" };
        return Some(format!(
            "creating {article} {kind} namespace needs CAP_SYS_ADMIN; add -r or --user"
        ));
    }
    None
}
