//! Names: netns names under `/run/netns`, netns arguments (name, PID or path) and interface names.

use ns_common::error::{Error, Result};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where `ip netns` keeps its named network namespaces.
pub const RUN_DIR: &str = "/run/netns";
/// Per-netns configuration files bound over `/etc` by `exec`.
pub const ETC_DIR: &str = "/etc/netns";

/// iproute2's exit code for argument errors.
pub const EXIT_USAGE: i32 = 255;

const NAME_MAX: usize = 255;

/// iproute2's rule for netns names: not empty, not `.`/`..`, no `/`, at most NAME_MAX bytes.
pub fn is_valid_netns_name(name: &OsStr) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && b.len() <= NAME_MAX && !b.contains(&b'/') && b != b"." && b != b".."
}

/// Checks a netns name: `Invalid netns name "a/b"`, rc 255.
pub fn check_netns_name(name: &OsStr) -> Result<()> {
    if is_valid_netns_name(name) {
        Ok(())
    } else {
        Err(
            Error::new(format!("Invalid netns name \"{}\"", name.to_string_lossy()))
                .with_code(EXIT_USAGE),
        )
    }
}

/// `/run/netns/NAME`.
pub fn netns_path(name: &OsStr) -> PathBuf {
    Path::new(RUN_DIR).join(name)
}

/// Whether a word is a PID as iproute2 reads one: digits only.
pub fn is_pid(word: &OsStr) -> bool {
    let b = word.as_bytes();
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

/// The file a `netns` argument names: `/run/netns/NAME`, or, when it is all digits and no such name
/// exists, `/proc/PID/ns/net` (as current iproute2 development resolves it).
pub fn netns_arg_path(word: &OsStr) -> PathBuf {
    let named = netns_path(word);
    if is_pid(word) && std::fs::symlink_metadata(&named).is_err() {
        return PathBuf::from(format!("/proc/{}/ns/net", word.to_string_lossy()));
    }
    named
}

/// The file a `veth` NS argument names: a path when it contains `/`, else as [`netns_arg_path`].
pub fn veth_ns_path(word: &OsStr) -> PathBuf {
    if word.as_bytes().contains(&b'/') {
        return PathBuf::from(word);
    }
    netns_arg_path(word)
}

/// Interface names as the kernel accepts them (checked before any request): 1–15 bytes, no `/`, `:` or
/// whitespace, not `.`/`..`.
pub fn check_ifname(name: &str) -> Result<()> {
    const IFNAMSIZ: usize = 16;
    if name.len() >= IFNAMSIZ {
        return Err(Error::new(format!(
            "interface name too long (max 15 bytes): '{name}'"
        )));
    }
    if name.is_empty()
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        return Err(Error::new(format!("invalid interface name '{name}'")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netns_names() {
        for bad in ["", ".", "..", "a/b", "/x"] {
            assert!(!is_valid_netns_name(OsStr::new(bad)), "{bad}");
        }
        assert!(!is_valid_netns_name(OsStr::new(&"x".repeat(256))));
        for good in ["a", "...", "a.b", "-x", &"y".repeat(255)] {
            assert!(is_valid_netns_name(OsStr::new(good)), "{good}");
        }
        let e = check_netns_name(OsStr::new("a/b")).unwrap_err();
        assert_eq!(e.message(), "Invalid netns name \"a/b\"");
        assert_eq!(e.code(), 255);
    }

    #[test]
    fn pids() {
        assert!(is_pid(OsStr::new("123")));
        for bad in ["", "-1", "12x", " 1"] {
            assert!(!is_pid(OsStr::new(bad)), "{bad}");
        }
    }

    #[test]
    fn ns_arguments() {
        assert_eq!(
            netns_arg_path(OsStr::new("nsbox-no-such-name")),
            PathBuf::from("/run/netns/nsbox-no-such-name")
        );
        assert_eq!(
            veth_ns_path(OsStr::new("/proc/1/ns/net")),
            PathBuf::from("/proc/1/ns/net")
        );
    }

    #[test]
    fn interface_names() {
        assert!(check_ifname("veth0").is_ok());
        assert!(check_ifname("exactly15bytes_").is_ok());
        assert_eq!(
            check_ifname("sixteen_bytes_xx").unwrap_err().message(),
            "interface name too long (max 15 bytes): 'sixteen_bytes_xx'"
        );
        for bad in ["", ".", "..", "a/b", "a:b", "a b", "a\tb"] {
            assert_eq!(
                check_ifname(bad).unwrap_err().message(),
                format!("invalid interface name '{bad}'")
            );
        }
    }
}
