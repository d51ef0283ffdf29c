//! The option table (util-linux 2.42 layout) and the step from what the user typed to validated settings.
//!
//! Everything that can fail without touching the system fails here, before anything is created:
//! names, numbers, id ranges (including the overlap the kernel would refuse later), subordinate ids, conflicts.

use ns_common::idmap::{self, IdKind, IdMap, RangeSpec, SetGroups};
use ns_common::opts::{ArgKind, Complete, Matched, Opt, Tool};
use ns_common::timens::{self, Clock};
use ns_common::{signals, users, Error, NsKind, Result};
use std::ffi::OsString;
use std::path::PathBuf;

const fn ns(short: char, long: &'static str, help: &'static str) -> Opt {
    Opt::with_arg(
        Some(short),
        long,
        ArgKind::OptionalLongOnly,
        "[=<file>]",
        Complete::File,
        help,
    )
}

const fn required(
    short: Option<char>,
    long: &'static str,
    value: &'static str,
    complete: Complete,
    help: &'static str,
) -> Opt {
    Opt::with_arg(short, long, ArgKind::Required, value, complete, help)
}

const fn optional(
    long: &'static str,
    value: &'static str,
    complete: Complete,
    help: &'static str,
) -> Opt {
    Opt::with_arg(None, long, ArgKind::OptionalLongOnly, value, complete, help)
}

const PROPAGATION_MODES: &[&str] = &["slave", "shared", "private", "unchanged"];

static OPTS: &[Opt] = &[
    ns('m', "mount", "unshare mounts namespace"),
    ns('u', "uts", "unshare UTS namespace (hostname etc)"),
    ns('i', "ipc", "unshare System V IPC namespace"),
    ns('n', "net", "unshare network namespace"),
    ns('p', "pid", "unshare pid namespace"),
    ns('U', "user", "unshare user namespace"),
    ns('C', "cgroup", "unshare cgroup namespace"),
    ns('T', "time", "unshare time namespace"),
    Opt::flag(Some('f'), "fork", "fork before launching <program>").group(),
    required(
        None,
        "map-user",
        "=<uid>|<name>",
        Complete::User,
        "map current user to uid (implies --user)",
    ),
    required(
        None,
        "map-group",
        "=<gid>|<name>",
        Complete::Group,
        "map current group to gid (implies --user)",
    ),
    Opt::flag(
        Some('r'),
        "map-root-user",
        "map current user to root (implies --user)",
    ),
    Opt::flag(
        Some('c'),
        "map-current-user",
        "map current user to itself (implies --user)",
    ),
    Opt::flag(
        None,
        "map-auto",
        "map users and groups automatically (implies --user)",
    ),
    Opt::flag(
        None,
        "map-subids",
        "map users and groups using subuids and subgids (implies --user)",
    ),
    required(
        None,
        "map-users",
        "=<inneruid>:<outeruid>:<count>",
        Complete::Nothing,
        "map count users from outeruid to inneruid (implies --user)",
    ),
    required(
        None,
        "map-groups",
        "=<innergid>:<outergid>:<count>",
        Complete::Nothing,
        "map count groups from outergid to innergid (implies --user)",
    ),
    required(
        None,
        "owner",
        "=<uid>:<gid>",
        Complete::Nothing,
        "create the user namespace owned by uid:gid (implies --user)",
    ),
    optional(
        "kill-child",
        "[=<signame>]",
        Complete::Signal,
        "when dying, kill the forked child (implies --fork)\n  defaults to SIGKILL",
    )
    .group(),
    Opt::flag(
        None,
        "forward-signals",
        "forward SIGTERM and SIGINT to the forked child (implies --fork)",
    ),
    Opt::flag(
        None,
        "init",
        "run a minimal init as PID 1 that reaps orphans\n(needs --pid, implies --fork)",
    ),
    optional(
        "mount-proc",
        "[=<dir>]",
        Complete::Dir,
        "mount proc filesystem first (implies --mount)",
    ),
    optional(
        "mount-binfmt",
        "[=<dir>]",
        Complete::Dir,
        "mount binfmt filesystem first (implies --user and --mount)",
    ),
    required(
        Some('l'),
        "load-interp",
        "=<string>",
        Complete::Nothing,
        "load binfmt definition in the namespace (implies --mount-binfmt)",
    ),
    required(
        None,
        "propagation",
        " slave|shared|private|unchanged",
        Complete::Values(PROPAGATION_MODES),
        "modify mount propagation in mount namespace",
    ),
    required(
        None,
        "setgroups",
        " allow|deny",
        Complete::Values(&["allow", "deny"]),
        "control the setgroups syscall in user namespaces",
    ),
    Opt::flag(
        None,
        "keep-caps",
        "retain capabilities granted in user namespaces",
    ),
    required(
        Some('R'),
        "root",
        "=<dir>",
        Complete::Dir,
        "run the command with root directory set to <dir>",
    )
    .group(),
    required(
        Some('w'),
        "wd",
        "=<dir>",
        Complete::Dir,
        "change working directory to <dir>",
    ),
    required(
        Some('S'),
        "setuid",
        " <uid>",
        Complete::Nothing,
        "set uid in entered namespace",
    ),
    required(
        Some('G'),
        "setgid",
        " <gid>",
        Complete::Nothing,
        "set gid in entered namespace",
    ),
    required(
        None,
        "monotonic",
        " <offset>",
        Complete::Nothing,
        "set clock monotonic offset (seconds) in time namespaces",
    ),
    required(
        None,
        "boottime",
        " <offset>",
        Complete::Nothing,
        "set clock boottime offset (seconds) in time namespaces",
    ),
];

/// unshare's command line.
pub static TOOL: Tool = Tool {
    name: "unshare",
    usage: &["unshare [options] [<program> [<argument>...]]"],
    about: "Run a program with some namespaces unshared from the parent.",
    opts: OPTS,
    help_version: true,
    help_column: 27,
    footer: "For more details see unshare(1).",
    stop_at_operand: true,
    operands: &[Complete::Command],
};

/// Where the default `--mount-proc` and `--mount-binfmt` go.
pub const DEFAULT_PROC: &str = "/proc";
pub const DEFAULT_BINFMT: &str = "/proc/sys/fs/binfmt_misc";

/// Recursive propagation to set on `/` in the new mount namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Slave,
    Shared,
    Private,
    Unchanged,
}

/// The maps of one kind (uid or gid) the user asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindMaps {
    /// `--map-user`/`--map-group`/`-r`/`-c`: the inner id the caller's own id maps to.
    pub single_inner: Option<u32>,
    /// Range lines, already resolved (auto/subids/all) and in command-line order.
    pub ranges: Vec<IdMap>,
}

/// Everything unshare will do, validated.
#[derive(Debug)]
pub struct Settings {
    /// `CLONE_NEW*` flags for the one unshare(2) call.
    pub clone_flags: i32,
    /// Namespaces to persist: kind and the existing file to bind it onto.
    pub persist: Vec<(NsKind, PathBuf)>,
    pub fork: bool,
    pub kill_child: Option<i32>,
    pub forward_signals: bool,
    pub init: bool,
    pub mount_proc: Option<PathBuf>,
    pub mount_binfmt: Option<PathBuf>,
    pub load_interp: Option<OsString>,
    pub propagation: Propagation,
    pub root: Option<PathBuf>,
    pub wd: Option<PathBuf>,
    pub setuid: Option<u32>,
    pub setgid: Option<u32>,
    pub uid_maps: KindMaps,
    pub gid_maps: KindMaps,
    pub owner: Option<(u32, u32)>,
    pub setgroups: Option<SetGroups>,
    pub keep_caps: bool,
    pub monotonic: Option<i64>,
    pub boottime: Option<i64>,
    /// The effective ids unshare started with (the outer side of single maps).
    pub euid: u32,
    pub egid: u32,
}

impl Settings {
    pub fn has(&self, kind: NsKind) -> bool {
        self.clone_flags & kind.clone_flag() != 0
    }

    /// Whether a kind's map is written by the map process (it has ranges, or `--owner` moves the single map
    /// there) rather than by the final process itself.
    pub fn map_process_writes(&self, kind: IdKind) -> bool {
        let maps = self.maps(kind);
        !maps.ranges.is_empty() || (self.owner.is_some() && maps.single_inner.is_some())
    }

    pub fn maps(&self, kind: IdKind) -> &KindMaps {
        match kind {
            IdKind::Uid => &self.uid_maps,
            IdKind::Gid => &self.gid_maps,
        }
    }

    /// The caller's outer id of `kind`.
    pub fn outer_id(&self, kind: IdKind) -> u32 {
        match kind {
            IdKind::Uid => self.euid,
            IdKind::Gid => self.egid,
        }
    }

    /// The full map text the map process writes for `kind`: single line first, then the punched ranges.
    pub fn map_lines(&self, kind: IdKind) -> Vec<IdMap> {
        let maps = self.maps(kind);
        let single = maps
            .single_inner
            .map(|inner| IdMap::single(inner, self.outer_id(kind)));
        idmap::combine(single, &maps.ranges)
    }

    /// The setgroups value to write right after unshare(2): the explicit one, else `deny` when the final
    /// process will write a single gid map itself (the kernel demands it of an unprivileged writer).
    pub fn setgroups_to_write(&self) -> Option<SetGroups> {
        self.setgroups.or_else(|| {
            (self.gid_maps.single_inner.is_some() && !self.map_process_writes(IdKind::Gid))
                .then_some(SetGroups::Deny)
        })
    }
}

fn parse_owner(text: &str) -> Result<(u32, u32)> {
    let fail = || Error::new("failed to parse owner");
    let (uid, gid) = text.split_once(':').ok_or_else(fail)?;
    Ok((
        users::parse_id_operand(uid.as_bytes()).ok_or_else(fail)?,
        users::parse_id_operand(gid.as_bytes()).ok_or_else(fail)?,
    ))
}

fn parse_propagation(text: &str) -> Result<Propagation> {
    match text {
        "slave" => Ok(Propagation::Slave),
        "shared" => Ok(Propagation::Shared),
        "private" => Ok(Propagation::Private),
        "unchanged" => Ok(Propagation::Unchanged),
        _ => Err(Error::new(format!("unsupported propagation mode: {text}"))),
    }
}

/// Validates a complete map before anything exists; the kernel would refuse it after side effects.
fn check_map(kind: IdKind, lines: &[IdMap], specs: &[String]) -> Result<()> {
    // Up to 340 ranges fit a map: name the first and the last rather than print a 4 KiB line.
    let shown = match specs {
        [first, .., last] if specs.len() > 4 => format!("{first} ... {last}"),
        _ => specs.join(" "),
    };
    if lines.is_empty() && !specs.is_empty() {
        return Err(Error::new(format!(
            "invalid mapping '{shown}': no {} left to map",
            match kind {
                IdKind::Uid => "uid",
                IdKind::Gid => "gid",
            }
        )));
    }
    idmap::validate(lines).map_err(|why| Error::new(format!("invalid mapping '{shown}': {why}")))
}

impl Settings {
    /// Turns parsed options into settings. `euid`/`egid` are the caller's effective ids.
    pub fn from_options(opts: &[Matched], euid: u32, egid: u32) -> Result<Settings> {
        let mut s = Settings {
            clone_flags: 0,
            persist: Vec::new(),
            fork: false,
            kill_child: None,
            forward_signals: false,
            init: false,
            mount_proc: None,
            mount_binfmt: None,
            load_interp: None,
            propagation: Propagation::Private,
            root: None,
            wd: None,
            setuid: None,
            setgid: None,
            uid_maps: KindMaps::default(),
            gid_maps: KindMaps::default(),
            owner: None,
            setgroups: None,
            keep_caps: false,
            monotonic: None,
            boottime: None,
            euid,
            egid,
        };
        let mut user_specs: Vec<(RangeSpec, String)> = Vec::new();
        let mut group_specs: Vec<(RangeSpec, String)> = Vec::new();
        let mut binfmt_default = false;
        for m in opts {
            let value = m.value_str();
            let path = || m.value.as_ref().map(PathBuf::from);
            if let Some(kind) = NsKind::from_option_name(m.name()) {
                s.clone_flags |= kind.clone_flag();
                if let Some(file) = path() {
                    // A repeated option persists to the last file given.
                    s.persist.retain(|(k, _)| *k != kind);
                    s.persist.push((kind, file));
                }
                continue;
            }
            match m.name() {
                "fork" => s.fork = true,
                "kill-child" => {
                    let sig = match &m.value {
                        None => libc::SIGKILL,
                        Some(_) => signals::parse_name(&value)
                            .ok_or_else(|| Error::new(format!("unknown signal: {value}")))?,
                    };
                    s.kill_child = Some(sig);
                    s.fork = true;
                }
                "forward-signals" => {
                    s.forward_signals = true;
                    s.fork = true;
                }
                "init" => {
                    s.init = true;
                    s.fork = true;
                }
                "mount-proc" => {
                    s.mount_proc = Some(path().unwrap_or_else(|| DEFAULT_PROC.into()));
                    s.clone_flags |= libc::CLONE_NEWNS;
                }
                "mount-binfmt" => {
                    binfmt_default = m.value.is_none();
                    s.mount_binfmt = Some(path().unwrap_or_else(|| DEFAULT_BINFMT.into()));
                    s.clone_flags |= libc::CLONE_NEWNS | libc::CLONE_NEWUSER;
                }
                "load-interp" => {
                    s.load_interp = m.value.clone();
                    if s.mount_binfmt.is_none() {
                        binfmt_default = true;
                        s.mount_binfmt = Some(DEFAULT_BINFMT.into());
                    }
                    s.clone_flags |= libc::CLONE_NEWNS | libc::CLONE_NEWUSER;
                }
                "propagation" => s.propagation = parse_propagation(&value)?,
                "root" => s.root = path(),
                "wd" => s.wd = path(),
                "setuid" => s.setuid = Some(users::parse_id_arg(value.as_bytes(), "uid")?),
                "setgid" => s.setgid = Some(users::parse_id_arg(value.as_bytes(), "gid")?),
                "map-user" => {
                    // 4294967295 is `(uid_t)-1`, which no map can contain.
                    let uid = users::resolve_uid(value.as_bytes())
                        .filter(|&id| id != u32::MAX)
                        .ok_or_else(|| Error::new(format!("failed to parse uid '{value}'")))?;
                    s.uid_maps.single_inner = Some(uid);
                    s.clone_flags |= libc::CLONE_NEWUSER;
                }
                "map-group" => {
                    let gid = users::resolve_gid(value.as_bytes())
                        .filter(|&id| id != u32::MAX)
                        .ok_or_else(|| Error::new(format!("failed to parse gid '{value}'")))?;
                    s.gid_maps.single_inner = Some(gid);
                    s.clone_flags |= libc::CLONE_NEWUSER;
                }
                "map-root-user" | "map-current-user" => {
                    let (uid, gid) = if m.name() == "map-root-user" {
                        (0, 0)
                    } else {
                        (euid, egid)
                    };
                    s.uid_maps.single_inner = Some(uid);
                    s.gid_maps.single_inner = Some(gid);
                    s.clone_flags |= libc::CLONE_NEWUSER;
                }
                "map-users" | "map-groups" => {
                    let spec = RangeSpec::parse(&value)?;
                    let list = if m.name() == "map-users" {
                        &mut user_specs
                    } else {
                        &mut group_specs
                    };
                    list.push((spec, value));
                    s.clone_flags |= libc::CLONE_NEWUSER;
                }
                "map-auto" | "map-subids" => {
                    let (spec, word) = if m.name() == "map-auto" {
                        (RangeSpec::Auto, "auto")
                    } else {
                        (RangeSpec::SubIds, "subids")
                    };
                    user_specs.push((spec, word.to_string()));
                    group_specs.push((spec, word.to_string()));
                    s.clone_flags |= libc::CLONE_NEWUSER;
                }
                "owner" => {
                    s.owner = Some(parse_owner(&value)?);
                    s.clone_flags |= libc::CLONE_NEWUSER;
                }
                "setgroups" => s.setgroups = Some(SetGroups::parse(&value)?),
                "keep-caps" => s.keep_caps = true,
                "monotonic" => s.monotonic = Some(timens::parse_offset(Clock::Monotonic, &value)?),
                "boottime" => s.boottime = Some(timens::parse_offset(Clock::Boottime, &value)?),
                other => return Err(Error::new(format!("unhandled option --{other}"))),
            }
        }
        // The default binfmt_misc directory lives in /proc, so it needs a proc of our own there.
        if binfmt_default && s.mount_proc.is_none() {
            s.mount_proc = Some(DEFAULT_PROC.into());
        }
        s.check_conflicts()?;
        for (kind, specs) in [(IdKind::Uid, &user_specs), (IdKind::Gid, &group_specs)] {
            let mut ranges = Vec::new();
            for (spec, _) in specs.iter() {
                ranges.extend(spec.resolve(kind, euid)?);
            }
            match kind {
                IdKind::Uid => s.uid_maps.ranges = ranges,
                IdKind::Gid => s.gid_maps.ranges = ranges,
            }
            let words: Vec<String> = specs.iter().map(|(_, w)| w.clone()).collect();
            check_map(kind, &s.map_lines(kind), &words)?;
        }
        Ok(s)
    }

    fn check_conflicts(&self) -> Result<()> {
        if (self.monotonic.is_some() || self.boottime.is_some()) && !self.has(NsKind::Time) {
            return Err(Error::new(
                "options --monotonic and --boottime require unsharing of a time namespace (-T)",
            ));
        }
        if self.setgroups == Some(SetGroups::Allow) && self.gid_maps.single_inner.is_some() {
            return Err(Error::new(
                "options --setgroups=allow and --map-group are mutually exclusive",
            ));
        }
        if self.init && !self.has(NsKind::Pid) {
            return Err(Error::new("option --init requires --pid"));
        }
        if let Some((kind, file)) = self.persist.iter().find(|(k, _)| *k == NsKind::Pid) {
            if !self.fork {
                // The reference fails the same way, but only after the namespaces exist.
                return Err(Error::new(format!(
                    "mount /proc/{}/ns/{} on {} failed: {}",
                    std::process::id(),
                    kind.for_children_name(),
                    file.display(),
                    ns_common::error::strerror(libc::ENOENT)
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ns_common::opts::Parsed;

    fn settings(args: &[&str]) -> Result<Settings> {
        let argv = std::iter::once("unshare")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        match TOOL.parse(argv)? {
            Parsed::Run { opts, .. } => Settings::from_options(&opts, 1000, 1000),
            other => panic!("{other:?}"),
        }
    }

    fn err(args: &[&str]) -> String {
        settings(args).unwrap_err().message().to_string()
    }

    #[test]
    fn namespaces_and_implications() {
        let s = settings(&["-Ur", "--pid", "--fork"]).unwrap();
        assert_eq!(s.clone_flags, libc::CLONE_NEWUSER | libc::CLONE_NEWPID);
        assert!(s.fork);
        assert_eq!(s.setgroups_to_write(), Some(SetGroups::Deny));
        let s = settings(&["--kill-child"]).unwrap();
        assert_eq!((s.fork, s.kill_child), (true, Some(libc::SIGKILL)));
        let s = settings(&["--mount-proc"]).unwrap();
        assert_eq!(s.clone_flags, libc::CLONE_NEWNS);
        let s = settings(&["--mount-binfmt"]).unwrap();
        assert_eq!(s.mount_proc, Some(PathBuf::from("/proc")));
        let s = settings(&["--mount-binfmt=/x"]).unwrap();
        assert_eq!(s.mount_proc, None);
        let s = settings(&["-l", ":a:M::x::/bin/true:"]).unwrap();
        assert_eq!(s.clone_flags, libc::CLONE_NEWNS | libc::CLONE_NEWUSER);
        assert_eq!(s.mount_proc, Some(PathBuf::from("/proc")));
        let s = settings(&["--net=/a", "-n", "--net=/b"]).unwrap();
        assert_eq!(s.persist, vec![(NsKind::Net, PathBuf::from("/b"))]);
    }

    #[test]
    fn single_maps() {
        let s = settings(&["-c"]).unwrap();
        assert_eq!(s.map_lines(IdKind::Uid), vec![IdMap::single(1000, 1000)]);
        let s = settings(&["-r", "--map-user=5"]).unwrap();
        assert_eq!(s.uid_maps.single_inner, Some(5));
        assert_eq!(s.gid_maps.single_inner, Some(0));
        assert!(!s.map_process_writes(IdKind::Uid));
        let s = settings(&["-r", "--map-groups=1:100000:10"]).unwrap();
        assert!(s.map_process_writes(IdKind::Gid));
        assert_eq!(s.setgroups_to_write(), None);
        let s = settings(&["--owner=1:2", "-r"]).unwrap();
        assert!(s.map_process_writes(IdKind::Uid));
        assert_eq!(s.owner, Some((1, 2)));
    }

    #[test]
    fn bad_values() {
        assert_eq!(
            err(&["--map-user=nosuchuser-x"]),
            "failed to parse uid 'nosuchuser-x'"
        );
        assert_eq!(err(&["--map-group=-1"]), "failed to parse gid '-1'");
        assert_eq!(
            err(&["--map-user=4294967295"]),
            "failed to parse uid '4294967295'"
        );
        assert_eq!(err(&["-S", "abc"]), "failed to parse uid: 'abc'");
        assert_eq!(err(&["-G", "0x10"]), "failed to parse gid: '0x10'");
        assert_eq!(
            err(&["-S", "4294967296"]),
            "failed to parse uid: '4294967296': Numerical result out of range"
        );
        assert_eq!(err(&["--owner=a:b"]), "failed to parse owner");
        assert_eq!(err(&["--owner=1"]), "failed to parse owner");
        assert_eq!(err(&["--map-users=0:1"]), "invalid mapping '0:1'");
        assert_eq!(err(&["--map-users=0:1000:0"]), "invalid mapping '0:1000:0'");
        assert_eq!(
            err(&["--propagation", "foo"]),
            "unsupported propagation mode: foo"
        );
        assert_eq!(
            err(&["--setgroups=foo"]),
            "unsupported --setgroups argument 'foo'"
        );
        assert_eq!(err(&["--kill-child=15"]), "unknown signal: 15");
        assert_eq!(
            err(&["--monotonic", "1.5", "-T"]),
            "failed to parse monotonic offset: '1.5'"
        );
    }

    #[test]
    fn conflicts() {
        assert_eq!(
            err(&["--monotonic", "5"]),
            "options --monotonic and --boottime require unsharing of a time namespace (-T)"
        );
        assert_eq!(
            err(&["-r", "--setgroups=allow"]),
            "options --setgroups=allow and --map-group are mutually exclusive"
        );
        assert!(err(&["--pid=/x"])
            .ends_with("/ns/pid_for_children on /x failed: No such file or directory"));
        assert!(err(&["--map-users=0:100000:10", "--map-users=5:200000:10"])
            .starts_with("invalid mapping '0:100000:10 5:200000:10': overlapping"));
    }
}
