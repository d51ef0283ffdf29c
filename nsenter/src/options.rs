//! Raw options → settings: numbers parsed strictly, and every `=FILE`/`=DIR` argument opened at once, in
//! command-line order, as util-linux does (so `--net=/nonexist` fails before anything else happens).

use crate::enter::slot;
use ns_common::error::{Context, Error, Result};
use ns_common::opts::{show, Matched};
use ns_common::{nsfile, NsKind};
use rustix::fs::{Mode, OFlags};
use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

/// `-t PID` or `-t PID:INODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetArg {
    pub pid: i32,
    /// The inode of a pidfd for the process (pidfs), to rule out a recycled PID.
    pub inode: Option<u64>,
}

/// Where a requested namespace comes from.
#[derive(Debug)]
pub enum NsArg {
    /// The `-t` process's namespace of that type.
    Target,
    /// A namespace file opened at parse time (`--net=/run/netns/x`, `--net=:NSID`), or a namespace
    /// found from the target (`--user-parent`, `-N`).
    File(OwnedFd),
}

impl NsArg {
    fn is_target(&self) -> bool {
        matches!(self, NsArg::Target)
    }
}

/// `-S`/`-G`: a number, or `follow` (the owner of `/proc/PID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdArg {
    Id(u32),
    Follow,
}

/// `-r`/`-w`: the target's root/cwd, or a directory opened before entering.
#[derive(Debug)]
pub enum DirArg {
    Target,
    Dir { fd: OwnedFd, path: OsString },
}

impl DirArg {
    fn is_target(&self) -> bool {
        matches!(self, DirArg::Target)
    }
}

/// Everything the command line asked for.
#[derive(Debug, Default)]
pub struct Settings {
    pub target: Option<TargetArg>,
    /// Requested namespaces, indexed by [`slot`] (the order they are entered in).
    pub namespaces: [Option<NsArg>; 8],
    pub all: bool,
    pub net_socket: Option<i32>,
    pub user_parent: bool,
    pub uid: Option<IdArg>,
    pub gid: Option<IdArg>,
    pub preserve_credentials: bool,
    pub keep_caps: bool,
    pub root: Option<DirArg>,
    pub wd: Option<DirArg>,
    /// `-W=DIR`, resolved after entering. `-W` without a directory has no effect.
    pub wdns: Option<OsString>,
    pub env: bool,
    pub no_fork: bool,
    pub join_cgroup: bool,
    pub follow_context: bool,
    pub program: Vec<OsString>,
}

impl Settings {
    /// The namespace requested for `kind`, if any.
    pub fn namespace(&self, kind: NsKind) -> Option<&NsArg> {
        self.namespaces[slot(kind)].as_ref()
    }

    /// Whether any namespace is requested.
    pub fn any_namespace(&self) -> bool {
        self.namespaces.iter().any(Option::is_some)
    }
}

/// Turns the parsed option list into settings, opening files as it goes.
pub fn parse(opts: Vec<Matched>, program: Vec<OsString>) -> Result<Settings> {
    let mut s = Settings {
        program,
        ..Settings::default()
    };
    // `-W` without a directory does nothing, but it still conflicts with `-w`.
    let mut wdns_given = false;
    for m in opts {
        let value = m.value.as_deref();
        match m.name() {
            "all" => s.all = true,
            "target" => s.target = Some(parse_target(value.unwrap_or_default())?),
            "net-socket" => s.net_socket = Some(parse_fd(value.unwrap_or_default())?),
            "user-parent" => s.user_parent = true,
            "setuid" => s.uid = Some(parse_id(value.unwrap_or_default(), "uid")?),
            "setgid" => s.gid = Some(parse_id(value.unwrap_or_default(), "gid")?),
            "preserve-credentials" => s.preserve_credentials = true,
            "keep-caps" => s.keep_caps = true,
            "root" => set_unless_target(&mut s.root, dir_arg(value)?, DirArg::is_target),
            "wd" => set_unless_target(&mut s.wd, dir_arg(value)?, DirArg::is_target),
            "wdns" => {
                wdns_given = true;
                s.wdns = value.map(OsStr::to_os_string);
            }
            "env" => s.env = true,
            "no-fork" => s.no_fork = true,
            "join-cgroup" => s.join_cgroup = true,
            "follow-context" => s.follow_context = true,
            name => {
                let Some(kind) = NsKind::from_option_name(name) else {
                    return Err(Error::new(format!("unhandled option --{name}")));
                };
                let arg = ns_arg(kind, value)?;
                set_unless_target(&mut s.namespaces[slot(kind)], arg, NsArg::is_target);
            }
        }
    }
    if s.wd.is_some() && wdns_given {
        return Err(Error::new("options --wd and --wdns cannot be combined"));
    }
    Ok(s)
}

/// Records `value` for an option given again, except over the target's own (a bare `-n`, `-r`, `-w`): as in
/// util-linux, that beats `--net=FILE`/`-r=DIR`, whichever comes first. FILE was still opened, so a missing
/// one is reported all the same.
fn set_unless_target<T>(current: &mut Option<T>, value: T, is_target: fn(&T) -> bool) {
    if !current.as_ref().is_some_and(is_target) {
        *current = Some(value);
    }
}

/// `PID` or `PID:INODE`: positive decimal numbers only, no sign, no overflow.
pub fn parse_target(text: &OsStr) -> Result<TargetArg> {
    let invalid = || Error::new("invalid PID argument");
    let text = text.to_str().ok_or_else(invalid)?;
    let (pid, inode) = match text.split_once(':') {
        Some((pid, inode)) => (pid, Some(inode)),
        None => (text, None),
    };
    let pid: i32 = parse_decimal(pid).filter(|&p| p > 0).ok_or_else(invalid)?;
    let inode = match inode {
        Some(i) => Some(
            parse_decimal::<u64>(i)
                .filter(|&i| i > 0)
                .ok_or_else(invalid)?,
        ),
        None => None,
    };
    Ok(TargetArg { pid, inode })
}

/// A decimal number made of digits only (`str::parse` alone would accept a leading `+`).
fn parse_decimal<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_id(text: &OsStr, what: &str) -> Result<IdArg> {
    if text == "follow" {
        return Ok(IdArg::Follow);
    }
    ns_common::users::parse_id_arg(text.as_bytes(), what).map(IdArg::Id)
}

fn parse_fd(text: &OsStr) -> Result<i32> {
    text.to_str()
        .and_then(parse_decimal::<i32>)
        .ok_or_else(|| Error::new(format!("failed to parse fd: '{}'", show(text))))
}

fn ns_arg(kind: NsKind, value: Option<&OsStr>) -> Result<NsArg> {
    let Some(path) = value else {
        return Ok(NsArg::Target);
    };
    // `=:NSID` names a namespace by its 64-bit id; a file whose name starts with `:` is written `./:name`.
    if let Some(id) = path.as_bytes().strip_prefix(b":") {
        let id = std::str::from_utf8(id)
            .ok()
            .and_then(parse_decimal::<u64>)
            .ok_or_else(|| Error::new(format!("failed to parse namespace ID: '{}'", show(path))))?;
        return Ok(NsArg::File(nsfile::open_ns_by_id(kind, id)?));
    }
    Ok(NsArg::File(nsfile::open_ns(path)?))
}

fn dir_arg(value: Option<&OsStr>) -> Result<DirArg> {
    let Some(path) = value else {
        return Ok(DirArg::Target);
    };
    Ok(DirArg::Dir {
        fd: open_dir(path)?,
        path: path.to_os_string(),
    })
}

/// Opens a directory to change into later: `O_PATH` needs only search permission, as `cd` does.
pub fn open_dir(path: impl AsRef<std::path::Path>) -> Result<OwnedFd> {
    let path = path.as_ref();
    rustix::fs::open(
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .or_ctx(|| format!("cannot open {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = |s: &str| parse_target(OsStr::new(s));
        assert_eq!(
            t("12").unwrap(),
            TargetArg {
                pid: 12,
                inode: None
            }
        );
        assert_eq!(
            t("12:345").unwrap(),
            TargetArg {
                pid: 12,
                inode: Some(345)
            }
        );
        for bad in [
            "0",
            "-5",
            "+5",
            "99999999999",
            "12:abc",
            "abc",
            "",
            "12:",
            ":5",
            "12:0",
            "1 ",
        ] {
            assert_eq!(
                t(bad).unwrap_err().message(),
                "invalid PID argument",
                "{bad}"
            );
        }
    }

    #[test]
    fn ids() {
        assert_eq!(
            parse_id(OsStr::new("follow"), "uid").unwrap(),
            IdArg::Follow
        );
        assert_eq!(parse_id(OsStr::new("0"), "uid").unwrap(), IdArg::Id(0));
        // util-linux's strtoul takes a leading `+`; blanks and a second sign stay refused.
        assert_eq!(parse_id(OsStr::new("+5"), "uid").unwrap(), IdArg::Id(5));
        for bad in ["+", "++5", " 5", "+-5"] {
            assert!(parse_id(OsStr::new(bad), "uid").is_err(), "{bad}");
        }
        assert_eq!(
            parse_id(OsStr::new("abc"), "uid").unwrap_err().message(),
            "failed to parse uid: 'abc'"
        );
        assert_eq!(
            parse_id(OsStr::new("-1"), "gid").unwrap_err().message(),
            "failed to parse gid: '-1'"
        );
        assert!(parse_id(OsStr::new("4294967296"), "uid").is_err());
    }

    #[test]
    fn fds() {
        assert_eq!(parse_fd(OsStr::new("3")).unwrap(), 3);
        assert_eq!(
            parse_fd(OsStr::new("x")).unwrap_err().message(),
            "failed to parse fd: 'x'"
        );
        assert!(parse_fd(OsStr::new("-1")).is_err());
    }
}
