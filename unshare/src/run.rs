//! What unshare does, in the order the kernel sees it (spec unshare.md §3). Read top to bottom.

use crate::helper::{self, Helper};
use crate::options::{Propagation, Settings};
use crate::persist::{self, BindProcess, Persisted};
use crate::{hints, mounts};
use ns_common::error::{self, Context, Error, Result};
use ns_common::idmap::{self, IdKind, IdMap};
use ns_common::{sys, timens, NsKind};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

/// The pid `--forward-signals` (and `--init`) pass SIGTERM/SIGINT on to; 0 until the child exists.
static FORWARD_TO: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward_signal(sig: libc::c_int) {
    let pid = FORWARD_TO.load(Ordering::Relaxed);
    if pid > 0 {
        // kill(2) is async-signal-safe; a child that already exited is no error worth reporting.
        let _ = sys::kill(pid, sig);
    }
}

/// Runs everything after parsing; `command` is the prepared program (or shell) to exec at the end.
pub fn run(s: &Settings, command: &sys::Command) -> Result<i32> {
    // A caller that ignores SIGCHLD would make waitpid() fail with ECHILD: children would be reaped for us.
    sys::signal_default(libc::SIGCHLD).map_err(|e| Error::os("cannot reset SIGCHLD", e))?;

    // Our pid, asked for only when something needs it (the helpers name /proc/PID, persistence binds it).
    let unshare_pid = || std::process::id() as libc::pid_t;

    // Helpers are forked before unshare(2) so that they stay in our original namespaces with our original
    // privileges: after -m our mounts are invisible outside, after -U we lack CAP_SYS_ADMIN over the original
    // mount namespace, and an unprivileged process cannot write a range map for itself. The bind process also
    // undoes the binds if a later step fails; only --fork's parent, which stays in our original namespaces
    // and keeps its root, directory and privileges, can do without it (see persist.rs).
    let needs_bind_process =
        !s.persist.is_empty() && (s.has(NsKind::Mnt) || s.has(NsKind::User) || !s.fork);
    let bind_process = if needs_bind_process {
        Some(BindProcess::spawn(&s.persist, unshare_pid(), s.fork)?)
    } else {
        None
    };
    let map_process = if s.map_process_writes(IdKind::Uid) || s.map_process_writes(IdKind::Gid) {
        let pid = unshare_pid();
        Some(Helper::spawn(|| write_maps_for(s, pid))?)
    } else {
        None
    };

    // --owner: a permanent drop *before* unshare(2), so the new user namespace belongs to UID:GID.
    // Groups, then gid, then uid: each later step needs the privilege the earlier one keeps.
    if let Some((uid, gid)) = s.owner {
        sys::clear_groups().map_err(|e| Error::os("setgroups failed", e))?;
        sys::setgid(gid).map_err(|e| Error::os("setgid() failed", e))?;
        sys::setuid(uid).map_err(|e| Error::os("setuid() failed", e))?;
    }

    // Up to here nothing was created or mounted: every error above leaves no trace (the helpers are aborted
    // and reaped by their Drop).
    sys::unshare(s.clone_flags).map_err(|e| hints::unshare_failed(s, e))?;

    // setgroups must be settled before any gid_map is written: the kernel refuses `deny` afterwards, and an
    // unprivileged writer may only write gid_map once it is `deny`. (util-linux 2.42 writes an explicit value
    // after gid_map and fails; nsbox deviation 2.)
    if let Some(value) = s.setgroups_to_write() {
        idmap::write_setgroups(value)?;
    }

    if let Some(helper) = map_process {
        let code = helper.release()?;
        if code != 0 {
            return Ok(code);
        }
    }

    // The kernel takes time offsets only until the first process enters the namespace: before fork or exec.
    if s.has(NsKind::Time) {
        timens::write_time_offsets(s.monotonic, s.boottime)?;
    }

    if s.fork {
        return fork_and_wait(s, command, bind_process);
    }

    // No fork: we are the final process; persist first (it only needs our pid), then configure and exec.
    // Persisted binds are kept by the exec (which closes the keeper's line), undone by a failure before it.
    let undo = if s.persist.is_empty() {
        None
    } else {
        match persist::persist(&s.persist, bind_process, unshare_pid())? {
            Persisted::Bound(undo) => Some(undo),
            Persisted::Failed(code) => return Ok(code),
        }
    };
    let outcome = final_process(s, command, None);
    if let (Err(_), Some(undo)) = (&outcome, undo) {
        undo.roll_back(&s.persist);
    }
    outcome
}

/// The map process: writes the maps of every kind that has ranges (or that `--owner` hands over) for `pid`.
/// As root it writes /proc/PID/{u,g}id_map itself; otherwise newuidmap/newgidmap check /etc/subuid for us.
fn write_maps_for(s: &Settings, pid: libc::pid_t) -> Result<i32> {
    for kind in [IdKind::Uid, IdKind::Gid] {
        if !s.map_process_writes(kind) {
            continue;
        }
        let lines = s.map_lines(kind);
        if s.euid == 0 {
            let path = format!("/proc/{pid}/{}", kind.map_file());
            idmap::write_proc_file(&path, &idmap::render(&lines))
                .or_ctx(|| format!("failed to write {path}"))?;
        } else {
            let code = run_map_helper(kind, pid, &lines)?;
            if code != 0 {
                return Ok(code);
            }
        }
    }
    Ok(0)
}

/// Runs `newuidmap PID INNER OUTER COUNT...` (or newgidmap) and returns its exit code.
fn run_map_helper(kind: IdKind, pid: libc::pid_t, lines: &[IdMap]) -> Result<i32> {
    let mut args = vec![pid.to_string().into()];
    args.extend(idmap::helper_args(lines).into_iter().map(Into::into));
    let program = kind.helper();
    let command = sys::Command::new(program.as_ref(), &args)
        .map_err(|e| Error::os(format!("failed to execute {program}"), e))?;
    match sys::fork().map_err(|e| Error::os("fork failed", e))? {
        None => {
            let err = command.execvp();
            let code = sys::exec_failure_code(&err);
            error::finish(
                "unshare",
                Err(Error::os(format!("failed to execute {program}"), err).with_code(code)),
            );
            sys::exit_now(code)
        }
        Some(child) => {
            let (_, status) = sys::waitpid(child, 0).map_err(|e| Error::os("waitpid failed", e))?;
            Ok(match sys::decode_status(status) {
                sys::ChildEnd::Exited(code) => code,
                _ => error::EXIT_FAILURE,
            })
        }
    }
}

/// `--fork`: the parent persists the namespaces, then waits and hands on the child's exit status or death
/// signal; the child goes on to the final steps.
fn fork_and_wait(
    s: &Settings,
    command: &sys::Command,
    bind_process: Option<BindProcess>,
) -> Result<i32> {
    // SIGINT/SIGTERM are blocked before the fork, so there is no moment they could kill the parent alone.
    // With --forward-signals the handlers go in now and the parent unblocks once it knows the child's pid:
    // a signal that arrives in between waits, pending, instead of being forwarded to nobody.
    if s.forward_signals {
        for sig in [libc::SIGINT, libc::SIGTERM] {
            sys::set_signal_handler(sig, forward_signal)
                .map_err(|e| Error::os("sigaction failed", e))?;
        }
    }
    let old_mask = sys::sigprocmask(libc::SIG_BLOCK, &[libc::SIGINT, libc::SIGTERM])
        .map_err(|e| Error::os("sigprocmask block failed", e))?;
    // The child checks this pidfd after PR_SET_PDEATHSIG to catch a parent that died before the prctl.
    // Without pidfd_open (Linux < 5.3) the check is skipped.
    let parent_pidfd = match s.kill_child {
        Some(_) => sys::pidfd_open(std::process::id() as libc::pid_t).ok(),
        None => None,
    };
    // With persistence the child waits until the namespace files are bound, so the program never runs in
    // namespaces that failed to persist; on the same line it reports a failure before its exec, so that the
    // binds are undone.
    let persist_gate = if s.persist.is_empty() {
        None
    } else {
        Some(helper::channel()?)
    };

    match sys::fork().map_err(|e| Error::os("fork failed", e))? {
        None => {
            // The forwarding handlers are the parent's business; the child takes signals as the program will.
            if s.forward_signals {
                for sig in [libc::SIGINT, libc::SIGTERM] {
                    let _ = sys::signal_default(sig);
                }
            }
            sys::sigprocmask_restore(&old_mask)
                .map_err(|e| Error::os("sigprocmask restore failed", e))?;
            if let Some(bind_process) = bind_process {
                bind_process.forget_in_child();
            }
            let gate = match persist_gate {
                Some((wait_end, go_end)) => {
                    drop(go_end);
                    if !helper::wait_for_go(&wait_end) {
                        sys::exit_now(error::EXIT_FAILURE);
                    }
                    Some(wait_end)
                }
                None => None,
            };
            let outcome = final_process(s, command, parent_pidfd);
            // Here only before an exec, or after one that failed (also in --init's program child).
            if let (Err(_), Some(gate)) = (&outcome, &gate) {
                let _ = helper::send_byte(gate);
            }
            outcome
        }
        Some(child) => {
            FORWARD_TO.store(child, Ordering::Relaxed);
            if s.forward_signals {
                sys::sigprocmask_restore(&old_mask)
                    .map_err(|e| Error::os("sigprocmask restore failed", e))?;
            }
            drop(parent_pidfd);
            if let Some((wait_end, go_end)) = persist_gate {
                drop(wait_end);
                // After the fork: pid_for_children exists only once a child does.
                let pid = std::process::id() as libc::pid_t;
                let undo = match persist::persist(&s.persist, bind_process, pid) {
                    Ok(Persisted::Bound(undo)) => undo,
                    Ok(Persisted::Failed(code)) => return abort_child(child, Ok(code)),
                    Err(e) => return abort_child(child, Err(e)),
                };
                if let Err(e) = helper::send_byte(&go_end) {
                    undo.roll_back(&s.persist);
                    return abort_child(child, Err(Error::os("cannot release child", e)));
                }
                // One byte: the child failed before its exec. EOF: it exec'd (or died of a signal).
                if helper::wait_for_go(&go_end) {
                    undo.roll_back(&s.persist);
                }
            }
            wait_for_child(child)
        }
    }
}

/// The child has not run the program yet and must not run it half-configured: kill it, reap it, and end with
/// `outcome`.
fn abort_child(child: libc::pid_t, outcome: Result<i32>) -> Result<i32> {
    let _ = sys::kill(child, libc::SIGKILL);
    let _ = sys::waitpid(child, 0);
    outcome
}

/// Waits for the child and returns its exit code; dies of the child's death signal (no core of our own).
fn wait_for_child(child: libc::pid_t) -> Result<i32> {
    let (_, status) = sys::waitpid(child, 0).map_err(|e| Error::os("waitpid failed", e))?;
    match sys::decode_status(status) {
        sys::ChildEnd::Exited(code) => Ok(code),
        sys::ChildEnd::Signaled(sig) => sys::die_by_signal(sig),
        _ => Err(Error::new("child exit failed")),
    }
}

/// The process that execs the program: it configures itself in the new namespaces, in this order.
fn final_process(
    s: &Settings,
    command: &sys::Command,
    parent_pidfd: Option<OwnedFd>,
) -> Result<i32> {
    if let Some(sig) = s.kill_child {
        sys::set_parent_death_signal(sig).map_err(|e| Error::os("prctl failed", e))?;
        // The parent may have died before the prctl: then no signal will ever come.
        if let Some(fd) = parent_pidfd {
            if sys::pidfd_exited(std::os::fd::AsFd::as_fd(&fd)).unwrap_or(false) {
                return Err(Error::new(
                    "parent process exited before the child was ready",
                ));
            }
        }
    }

    // Single maps of kinds the map process did not write: the creator may map its own id once (setgroups was
    // set to deny right after unshare(2) where a gid map follows).
    for kind in [IdKind::Uid, IdKind::Gid] {
        if let Some(inner) = s.maps(kind).single_inner {
            if !s.map_process_writes(kind) {
                let path = format!("/proc/self/{}", kind.map_file());
                let line = idmap::render(&[IdMap::single(inner, s.outer_id(kind))]);
                idmap::write_proc_file(&path, &line).or_ctx(|| format!("write failed {path}"))?;
            }
        }
    }

    if s.has(NsKind::Mnt) && s.propagation != Propagation::Unchanged {
        mounts::set_root_propagation(s.propagation)?;
    }

    // An `F` (fix-binary) interpreter is opened at registration: register before the chroot, so the path is
    // looked up in the caller's filesystem.
    let early_interp = s.root.is_some()
        && s.load_interp
            .as_ref()
            .is_some_and(mounts::interp_has_fix_flag);
    if early_interp {
        let dir = Path::new(crate::options::DEFAULT_BINFMT);
        mounts::mount_binfmt(dir)?;
        if let Some(interp) = &s.load_interp {
            mounts::register_interp(dir, interp)?;
        }
    }

    match (&s.root, &s.wd) {
        (Some(root), wd) => {
            rustix::process::chroot(root)
                .or_ctx(|| format!("cannot change root directory to '{}'", root.display()))?;
            // Into the new root first: chroot leaves the cwd where it was, outside the new root, and a
            // relative --wd (`..`, or a symlink chain) resolved from there would land the program outside it
            // (util-linux 2.38 does). From "/", a relative --wd is relative to the new root and `..` stops there.
            std::env::set_current_dir("/").or_ctx(|| "cannot change directory to /".to_string())?;
            if let Some(dir) = wd {
                std::env::set_current_dir(dir)
                    .or_ctx(|| format!("cannot change directory to {}", dir.display()))?;
            }
        }
        (None, Some(wd)) => std::env::set_current_dir(wd)
            .or_ctx(|| format!("cannot change directory to {}", wd.display()))?,
        (None, None) => {}
    }

    if let Some(dir) = &s.mount_proc {
        let already_private = s.root.is_some() || s.propagation == Propagation::Private;
        mounts::mount_proc(dir, !already_private)?;
    }
    // binfmt_misc is one instance per user namespace: the mount inside the new root shows an entry registered
    // early just as well.
    if let Some(dir) = &s.mount_binfmt {
        mounts::mount_binfmt(dir)?;
        if let (Some(interp), false) = (&s.load_interp, early_interp) {
            mounts::register_interp(dir, interp)?;
        }
    }

    // Groups, then gid, then uid: setuid() to non-root would take away the right to change the others.
    if let Some(gid) = s.setgid {
        sys::clear_groups().map_err(|e| Error::os("setgroups failed", e))?;
        sys::setgid(gid).map_err(|e| Error::os("setgid() failed", e))?;
    }
    if let Some(uid) = s.setuid {
        sys::setuid(uid).map_err(|e| Error::os("setuid() failed", e))?;
    }

    // Capabilities last: they are only worth keeping for the exec that follows.
    if s.keep_caps && s.has(NsKind::User) {
        keep_capabilities()?;
    }

    if s.init {
        return crate::init::run_as_init(command, &FORWARD_TO, forward_signal);
    }
    Err(exec(command))
}

/// Execs the program; only returns the error (126, or 127 when not found).
pub fn exec(command: &sys::Command) -> Error {
    // SIGPIPE is left as our caller set it, as util-linux does: unshare and the nsbox multicall are `no_main`,
    // so Rust's runtime never set it to SIG_IGN (a caller's SIG_IGN is deliberate and reaches the program).
    let err = command.exec();
    let code = sys::exec_failure_code(&err);
    Error::os(
        format!("failed to execute {}", command.program().to_string_lossy()),
        err,
    )
    .with_code(code)
}

/// `--keep-caps`: carry the capabilities we hold in the new user namespace across exec via the ambient set,
/// which is what keeps them for a program running as a non-zero uid.
fn keep_capabilities() -> Result<()> {
    let text = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .or_ctx(|| "cannot read /proc/sys/kernel/cap_last_cap")?;
    let last: u32 = text
        .trim()
        .parse()
        .map_err(|_| Error::new("cannot parse /proc/sys/kernel/cap_last_cap"))?;
    sys::raise_ambient_capabilities(last).map_err(|e| Error::os("cannot set capabilities", e))
}
