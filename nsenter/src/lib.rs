//! nsenter — run a program in namespaces of another process (util-linux 2.42 nsenter(1)).
//!
//! `run` reads top to bottom in the order the kernel sees the steps: parse (opening FILE/DIR arguments), open
//! the target's pidfd and what else is needed from it, drop supplementary groups while still privileged,
//! enter in two passes, change root and directory, fork for a pid namespace, set credentials, exec.

mod cgroup;
mod credentials;
mod enter;
mod options;
mod process;
mod selinux;
mod target;

use credentials::Credentials;
use enter::{OwnNamespaces, Plan, Source, ENTRY_ORDER};
use ns_common::error::{Context, Error, Result};
use ns_common::opts::{ArgKind, Complete, Matched, Opt, Tool};
use ns_common::{nsfile, NsKind};
use options::{DirArg, IdArg, NsArg, Settings};
use process::Side;
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use target::Target;

const NS_FILE: &str = "[=<file>]";

static OPTS: &[Opt] = &[
    Opt::flag(Some('a'), "all", "enter all namespaces"),
    Opt::with_arg(
        Some('t'),
        "target",
        ArgKind::Required,
        " <pid>[:<inode>]",
        Complete::Pid,
        "target process to get namespaces from\n(<inode>: of a pidfd for it, checked)",
    ),
    Opt::with_arg(
        Some('m'),
        "mount",
        ArgKind::Optional,
        NS_FILE,
        Complete::File,
        "enter mount namespace",
    ),
    Opt::with_arg(
        Some('u'),
        "uts",
        ArgKind::Optional,
        NS_FILE,
        Complete::File,
        "enter UTS namespace (hostname etc)",
    ),
    Opt::with_arg(
        Some('i'),
        "ipc",
        ArgKind::Optional,
        NS_FILE,
        Complete::File,
        "enter System V IPC namespace",
    ),
    Opt::with_arg(
        Some('n'),
        "net",
        ArgKind::Optional,
        NS_FILE,
        Complete::File,
        "enter network namespace",
    ),
    Opt::with_arg(
        Some('N'),
        "net-socket",
        ArgKind::Required,
        " <fd>",
        Complete::Nothing,
        "enter socket's network namespace (use with --target)",
    ),
    Opt::with_arg(
        Some('p'),
        "pid",
        ArgKind::Optional,
        NS_FILE,
        Complete::File,
        "enter pid namespace",
    ),
    Opt::with_arg(
        Some('C'),
        "cgroup",
        ArgKind::Optional,
        NS_FILE,
        Complete::File,
        "enter cgroup namespace",
    ),
    Opt::with_arg(
        Some('U'),
        "user",
        ArgKind::Optional,
        NS_FILE,
        Complete::File,
        "enter user namespace",
    ),
    Opt::flag(None, "user-parent", "enter parent user namespace"),
    Opt::with_arg(
        Some('T'),
        "time",
        ArgKind::Optional,
        NS_FILE,
        Complete::File,
        "enter time namespace",
    ),
    Opt::with_arg(
        Some('S'),
        "setuid",
        ArgKind::Required,
        " <uid>|follow",
        Complete::Values(&["follow"]),
        "set uid in entered namespace",
    ),
    Opt::with_arg(
        Some('G'),
        "setgid",
        ArgKind::Required,
        " <gid>|follow",
        Complete::Values(&["follow"]),
        "set gid in entered namespace",
    ),
    Opt::flag(None, "preserve-credentials", "do not touch uids or gids"),
    Opt::flag(
        None,
        "keep-caps",
        "retain capabilities granted in user namespaces",
    ),
    Opt::with_arg(
        Some('r'),
        "root",
        ArgKind::Optional,
        "[=<dir>]",
        Complete::Dir,
        "set the root directory",
    ),
    Opt::with_arg(
        Some('w'),
        "wd",
        ArgKind::Optional,
        "[=<dir>]",
        Complete::Dir,
        "set the working directory",
    ),
    Opt::with_arg(
        Some('W'),
        "wdns",
        ArgKind::Optional,
        "[=<dir>]",
        Complete::Dir,
        "set the working directory in namespace",
    ),
    Opt::flag(
        Some('e'),
        "env",
        "inherit environment variables from target process",
    ),
    Opt::flag(
        Some('F'),
        "no-fork",
        "do not fork before exec'ing <program>",
    ),
    Opt::flag(
        Some('c'),
        "join-cgroup",
        "join the cgroup of the target process",
    ),
    Opt::flag(
        Some('Z'),
        "follow-context",
        "set SELinux context according to --target PID",
    ),
];

pub static TOOL: Tool = Tool {
    name: "nsenter",
    usage: &["nsenter [options] [<program> [<argument>...]]"],
    about: "Run a program with namespaces of other processes.",
    opts: OPTS,
    help_version: true,
    help_column: 24,
    footer: "For more details see nsenter(1).",
    stop_at_operand: true,
    operands: &[Complete::Command],
};

pub fn main(args: Vec<OsString>) -> i32 {
    ns_common::opts::run_tool(&TOOL, args, run)
}

fn no_target() -> Error {
    Error::new("no target PID specified")
}

fn run(opts: Vec<Matched>, operands: Vec<OsString>) -> Result<i32> {
    // A setuid/setgid copy has already been refused by run_tool (it would let any user into any namespace
    // as root).
    // We are about to hold fds into the target's namespaces.
    ns_common::nsfile::become_non_dumpable()?;
    let mut s = options::parse(opts, operands)?;
    if s.follow_context {
        selinux::check_enabled()?;
    }
    let mut plan = Plan::default();
    // The target, if anything comes from it: one pidfd, kept for the whole run. `-a` needs it first: its
    // look at the target's user namespace must be about the process the pidfd names.
    let mut target = None;
    if s.all {
        let t = Target::open(s.target.ok_or_else(no_target)?)?;
        enable_all(&mut s, &plan.own, &t)?;
        target = Some(t);
    }
    let needs_target_ns = s
        .namespaces
        .iter()
        .any(|n| matches!(n, Some(NsArg::Target)))
        || s.net_socket.is_some()
        || s.user_parent;
    if target.is_none() {
        target = open_target(&s, needs_target_ns)?;
    }
    let target_ref = || target.as_ref().ok_or_else(no_target);
    if s.user_parent {
        let fd = parent_user_ns(target_ref()?)?;
        s.namespaces[enter::slot(NsKind::User)] = Some(NsArg::File(fd));
    }
    if let Some(fd) = s.net_socket {
        let netns = socket_netns(target_ref()?, fd)?;
        s.namespaces[enter::slot(NsKind::Net)] = Some(NsArg::File(netns));
    }
    let any_namespace = s.any_namespace();
    let user_requested = s.namespace(NsKind::User).is_some();
    let pid_requested = s.namespace(NsKind::Pid).is_some();
    add_to_plan(&mut plan, &mut s, target.as_ref())?;

    // Everything else read from the target is opened now, before entering anything.
    let root = open_target_dir(s.root.take(), target.as_ref(), "root")?;
    let wd = open_target_dir(s.wd.take(), target.as_ref(), "cwd")?;
    let environ = match s.env {
        true => Some(target_ref()?.read("environ")?),
        false => None,
    };
    let follows = s.uid == Some(IdArg::Follow) || s.gid == Some(IdArg::Follow);
    let proc_dir = match follows {
        true => Some(target_ref()?.open_dir("")?),
        false => None,
    };
    let cgroup = match s.join_cgroup {
        true => Some(cgroup::open_procs(target_ref()?)?),
        false => None,
    };
    let exec_context = match s.follow_context {
        true => Some(selinux::target_context(target_ref()?)?),
        false => None,
    };
    if let Some(t) = &target {
        t.confirm_alive()?;
    }

    if !any_namespace {
        return Err(Error::new("no namespace specified"));
    }
    let fork = pid_requested && !s.no_fork;

    // Entering a user namespace makes us root there unless told otherwise; groups are dropped now, while we
    // may still be privileged in our own namespace, and once more after entering.
    let become_root = user_requested && !s.preserve_credentials;
    let (uid, gid) = match become_root {
        true => (s.uid.or(Some(IdArg::Id(0))), s.gid.or(Some(IdArg::Id(0)))),
        false => (s.uid, s.gid),
    };
    let dropped_before_entering = become_root.then(credentials::drop_groups_early);

    let entered = plan
        .enter(target.as_ref().and_then(Target::pidfd))
        .map_err(|e| with_user_ns_hint(e, user_requested, target.as_ref(), &plan.own))?;

    change_root_and_directory(root, wd, s.wdns.take())?;
    if let Some(environ) = environ {
        process::replace_environment(&environ);
    }
    if let Some(cgroup) = &cgroup {
        cgroup.join()?;
    }
    let owner = match &proc_dir {
        Some(dir) => Some(
            rustix::fs::fstat(dir)
                .or_ctx(|| format!("cannot stat /proc/{}", target.as_ref().map_or(0, |t| t.pid)))?,
        ),
        None => None,
    };
    let resolve = |id: Option<IdArg>, follow: fn(&rustix::fs::Stat) -> u32| match id {
        Some(IdArg::Id(n)) => Some(n),
        Some(IdArg::Follow) => owner.as_ref().map(follow),
        None => None,
    };
    let credentials = Credentials {
        uid: resolve(uid, |st| st.st_uid),
        gid: resolve(gid, |st| st.st_gid),
        drop_groups: gid.is_some(),
        dropped_before_entering,
        keep_caps: s.keep_caps,
    };
    if let Some(context) = &exec_context {
        context.apply()?;
    }
    // Nothing that points into the target is needed any more: neither the waiting parent nor the
    // program keeps it.
    drop((plan, target, proc_dir, cgroup, exec_context));

    if fork {
        if let Side::Parent(code) = process::fork()? {
            return Ok(code);
        }
    }
    credentials.apply(entered.user)?;
    Err(process::exec(&s.program))
}

/// `-a`: every namespace type the kernel has, for the target, unless an option names it explicitly.
/// The user namespace is skipped when it is our own: joining it is EINVAL, and re-entering it would give
/// back capabilities a caller may have dropped.
fn enable_all(s: &mut Settings, own: &OwnNamespaces, target: &Target) -> Result<()> {
    for kind in ENTRY_ORDER {
        if s.namespace(kind).is_some() {
            continue;
        }
        let Some(own) = own.get(kind) else {
            continue;
        };
        if kind == NsKind::User {
            let theirs = target
                .ns_id(NsKind::User)
                .or_ctx(|| format!("stat of {} failed", target.proc_path("ns/user")))?;
            if theirs == own {
                continue;
            }
        }
        s.namespaces[enter::slot(kind)] = Some(NsArg::Target);
    }
    Ok(())
}

/// One extra line after an EPERM from setns when the likely cause is a missing `-U`: an unprivileged
/// caller may join the target's namespaces only from inside the user namespace that owns them.
fn with_user_ns_hint(
    err: Error,
    user_requested: bool,
    target: Option<&Target>,
    own: &OwnNamespaces,
) -> Error {
    let eperm = err
        .message()
        .ends_with(&ns_common::error::strerror(libc::EPERM));
    let privileged = rustix::thread::capabilities(None)
        .map(|caps| {
            caps.effective
                .contains(rustix::thread::CapabilitySet::SYS_ADMIN)
        })
        .unwrap_or(false);
    let other_user_ns = target
        .and_then(|t| t.ns_id(NsKind::User).ok())
        .is_some_and(|theirs| Some(theirs) != own.get(NsKind::User));
    if !eperm || user_requested || privileged || !other_user_ns {
        return err;
    }
    Error::new(format!(
        "{}\nnsenter: the target's namespaces belong to its user namespace: add -U (--user) to enter it first",
        err.message()
    ))
}

/// Opens the target when anything comes from it; complains about a missing `-t` in util-linux's words.
fn open_target(s: &Settings, needs_target_ns: bool) -> Result<Option<Target>> {
    let needs_target = needs_target_ns
        || matches!(s.root, Some(DirArg::Target))
        || matches!(s.wd, Some(DirArg::Target))
        || s.env
        || s.join_cgroup
        || s.follow_context
        || s.uid == Some(IdArg::Follow)
        || s.gid == Some(IdArg::Follow);
    if !needs_target {
        return Ok(None);
    }
    let Some(arg) = s.target else {
        return Err(if needs_target_ns {
            no_target()
        } else if matches!(s.root, Some(DirArg::Target)) {
            Error::new("neither filename nor target pid supplied for root")
        } else if matches!(s.wd, Some(DirArg::Target)) {
            Error::new("neither filename nor target pid supplied for cwd")
        } else {
            no_target()
        });
    };
    Target::open(arg).map(Some)
}

/// `--user-parent`: the parent of the target's user namespace.
fn parent_user_ns(target: &Target) -> Result<OwnedFd> {
    let own = target.open_ns(NsKind::User)?;
    nsfile::parent_ns(&own).or_ctx(|| "failed to open parent namespace")
}

/// `-N FD`: the network namespace of the target's socket FD, through a copy of that fd.
fn socket_netns(target: &Target, fd: i32) -> Result<OwnedFd> {
    let pid = target.pid;
    let pidfd = target
        .pidfd()
        .ok_or_else(|| Error::new("--net-socket needs pidfd_getfd (Linux 5.6 or later)"))?;
    let socket = rustix::process::pidfd_getfd(pidfd, fd, rustix::process::PidfdGetfdFlags::empty())
        .or_ctx(|| format!("cannot get fd {fd} of process {pid}"))?;
    nsfile::socket_netns(socket.as_fd()).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOTTY) => Error::new(format!("fd {fd} of process {pid} is not a socket")),
        _ => Error::os(
            format!("cannot get the network namespace of fd {fd} of process {pid}"),
            e,
        ),
    })
}

/// Adds the requested namespaces to the plan: by pidfd where `setns` takes one, else by fd
/// (FILE arguments, and `/proc/PID/ns/<type>` on kernels before 5.8 or without a pidfd).
fn add_to_plan(plan: &mut Plan, s: &mut Settings, target: Option<&Target>) -> Result<()> {
    let by_pidfd = target.is_some_and(Target::setns_by_pidfd);
    for kind in ENTRY_ORDER {
        match s.namespaces[enter::slot(kind)].take() {
            None => {}
            Some(NsArg::File(fd)) => {
                let id = enter::fd_id(&fd);
                plan.add(kind, Source::Fd(fd), id);
            }
            Some(NsArg::Target) => {
                let t = target.ok_or_else(no_target)?;
                if by_pidfd {
                    let id = t.ns_id(kind).ok();
                    plan.add(kind, Source::Pidfd, id);
                } else {
                    let fd = t.open_ns(kind)?;
                    let id = enter::fd_id(&fd);
                    plan.add(kind, Source::Fd(fd), id);
                }
            }
        }
    }
    Ok(())
}

/// A directory to change to, with the name messages use for it.
type Dir = (OwnedFd, String);

/// `-r`/`-w` without a directory: the target's `/proc/PID/root` or `/proc/PID/cwd`.
fn open_target_dir(
    arg: Option<DirArg>,
    target: Option<&Target>,
    what: &str,
) -> Result<Option<Dir>> {
    match arg {
        None => Ok(None),
        Some(DirArg::Dir { fd, path }) => Ok(Some((fd, path.to_string_lossy().into_owned()))),
        Some(DirArg::Target) => {
            let t = target.ok_or_else(no_target)?;
            Ok(Some((t.open_dir(what)?, t.proc_path(what))))
        }
    }
}

/// `-r`, then `-W` (resolved inside the new root) or `-w`. Without `-w`/`-W`, `-r` keeps the current
/// directory (re-expressed under the new root, or outside it: a "tunnel", as util-linux allows).
fn change_root_and_directory(
    root: Option<Dir>,
    wd: Option<Dir>,
    wdns: Option<OsString>,
) -> Result<()> {
    if let Some((root, name)) = root {
        let keep_cwd = match wd.is_none() && wdns.is_none() {
            true => Some(options::open_dir(".")?),
            false => None,
        };
        rustix::process::fchdir(&root).or_ctx(|| format!("cannot change directory to {name}"))?;
        rustix::process::chroot(".").or_ctx(|| "chroot failed")?;
        rustix::process::chdir("/").or_ctx(|| "cannot change directory to /")?;
        if let Some(cwd) = keep_cwd {
            rustix::process::fchdir(&cwd)
                .or_ctx(|| "cannot change back to the working directory")?;
        }
    }
    let wd = match wdns {
        Some(path) => Some((
            options::open_dir(&path)?,
            path.to_string_lossy().into_owned(),
        )),
        None => wd,
    };
    if let Some((dir, name)) = wd {
        rustix::process::fchdir(&dir).or_ctx(|| format!("cannot change directory to {name}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ns_common::opts::Parsed;

    fn parse(list: &[&str]) -> Parsed {
        let args = std::iter::once("nsenter")
            .chain(list.iter().copied())
            .map(OsString::from)
            .collect();
        TOOL.parse(args).unwrap()
    }

    fn names(list: &[&str]) -> (Vec<(String, Option<String>)>, Vec<String>) {
        match parse(list) {
            Parsed::Run { opts, operands } => (
                opts.iter()
                    .map(|m| {
                        (
                            m.name().to_string(),
                            m.value.as_ref().map(|v| v.to_string_lossy().into_owned()),
                        )
                    })
                    .collect(),
                operands
                    .iter()
                    .map(|v| v.to_string_lossy().into_owned())
                    .collect(),
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn optional_arguments_are_glued_only() {
        let (opts, rest) = names(&["-t", "1", "-n", "/run/netns/x"]);
        assert_eq!(opts[1], ("net".into(), None));
        assert_eq!(rest, vec!["/run/netns/x"]);
        let (opts, _) = names(&["-n/run/netns/x", "--uts=/u", "-W/proc", "--wdns=/p"]);
        assert_eq!(opts[0], ("net".into(), Some("/run/netns/x".into())));
        assert_eq!(opts[1], ("uts".into(), Some("/u".into())));
        assert_eq!(opts[2], ("wdns".into(), Some("/proc".into())));
        assert_eq!(opts[3], ("wdns".into(), Some("/p".into())));
        // The 2.42 -W trap: a separate word is the program.
        let (opts, rest) = names(&["-t", "1", "-m", "-W", "/proc", "pwd"]);
        assert_eq!(opts[2], ("wdns".into(), None));
        assert_eq!(rest, vec!["/proc", "pwd"]);
    }

    #[test]
    fn required_arguments_take_both_forms() {
        for form in [
            &["-S", "0"][..],
            &["-S0"],
            &["--setuid", "0"],
            &["--setuid=0"],
        ] {
            let (opts, _) = names(form);
            assert_eq!(opts, vec![("setuid".into(), Some("0".into()))]);
        }
        let (opts, _) = names(&["-N3", "-t", "5", "-G", "follow"]);
        assert_eq!(opts[0], ("net-socket".into(), Some("3".into())));
        assert_eq!(opts[2], ("setgid".into(), Some("follow".into())));
    }

    #[test]
    fn stops_at_program_and_prefixes() {
        let (opts, rest) = names(&["-t", "1", "-n", "ip", "-br", "a"]);
        assert_eq!(opts.len(), 2);
        assert_eq!(rest, vec!["ip", "-br", "a"]);
        let (opts, _) = names(&["--pre", "--user-p", "--keep"]);
        let opts: Vec<String> = opts.into_iter().map(|o| o.0).collect();
        assert_eq!(
            opts,
            vec!["preserve-credentials", "user-parent", "keep-caps"]
        );
        let err = TOOL
            .parse(vec!["nsenter".into(), "--ne".into()])
            .unwrap_err();
        assert_eq!(
            err.render("nsenter"),
            "nsenter: option '--ne' is ambiguous; possibilities: '--net' '--net-socket'\nTry 'nsenter --help' for more information.\n"
        );
    }

    fn settings(list: &[&str]) -> Result<Settings> {
        match parse(list) {
            Parsed::Run { opts, operands } => options::parse(opts, operands),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn settings_from_options() {
        let s = settings(&[
            "-t",
            "7:9",
            "-n",
            "--uts=/proc/self/ns/uts",
            "-W",
            "-S0",
            "sh",
        ])
        .unwrap();
        assert_eq!(s.target.unwrap().pid, 7);
        assert_eq!(s.target.unwrap().inode, Some(9));
        assert!(matches!(s.namespace(NsKind::Net), Some(NsArg::Target)));
        assert!(matches!(s.namespace(NsKind::Uts), Some(NsArg::File(_))));
        assert!(s.namespace(NsKind::Mnt).is_none());
        assert_eq!(s.wdns, None);
        assert_eq!(s.uid, Some(IdArg::Id(0)));
        assert_eq!(s.program, vec![OsString::from("sh")]);
        let err = |list: &[&str]| settings(list).unwrap_err().message().to_string();
        assert_eq!(
            err(&["-w", "-W"]),
            "options --wd and --wdns cannot be combined"
        );
        assert_eq!(
            err(&["-W/x", "--wd"]),
            "options --wd and --wdns cannot be combined"
        );
        assert_eq!(
            err(&["--net=/nonexist"]),
            "cannot open /nonexist: No such file or directory"
        );
        assert_eq!(
            err(&["-r/etc/passwd"]),
            "cannot open /etc/passwd: Not a directory"
        );
        // Files are opened in command-line order: the first bad one is reported.
        assert_eq!(
            err(&["-u/nonexist-a", "-n/nonexist-b"]),
            "cannot open /nonexist-a: No such file or directory"
        );
        assert_eq!(err(&["-G", "x"]), "failed to parse gid: 'x'");
    }

    #[test]
    fn help_shows_the_real_argument_forms() {
        let help = TOOL.help();
        assert!(help.contains("\n -S, --setuid <uid>|follow"));
        assert!(help.contains("\n -G, --setgid <gid>|follow"));
        assert!(help.contains("\n -W, --wdns[=<dir>]     set the working directory in namespace\n"));
        assert!(help.contains("\n -n, --net[=<file>]     enter network namespace\n"));
        assert!(help.ends_with("For more details see nsenter(1).\n"));
    }
}
