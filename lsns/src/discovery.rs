//! Finding namespaces: one pass over /proc, then the nsfs bind mounts of /proc/self/mountinfo.
//!
//! Every per-process read goes through a directory fd of `/proc/PID` opened first, so a PID recycled during the
//! scan cannot mix two processes' data. Any per-process or per-fd error (the process exited, we may not read
//! it) skips that process or fd; the scan itself never fails. Per-namespace work (the nsfs ioctls, NETNSID) is
//! done once, when the namespace is first seen, with a file of it that is open at that moment.

use crate::netnsid::NsidQuery;
use ns_common::{nsfile, NsKind};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags, RawDir};
use rustix::io::Errno;
use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::fmt::Write as _;

/// What the caller needs, so that nothing else is read.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub types: Vec<NsKind>,
    /// Read the command line of each namespace's representative process.
    pub need_command: bool,
    /// Parent and owner namespaces (PNS, ONS, owner and parent trees).
    pub need_relatives: bool,
    pub need_netnsid: bool,
    /// Add unlisted ancestor user namespaces (owner and parent trees).
    pub add_ancestors: bool,
    /// Walk the fd tables for namespaces held by fds and sockets.
    pub scan_fds: bool,
    /// Positional mode: read the command line of every process of this namespace.
    pub namespace: Option<u64>,
    /// `-p`: remember the namespaces of this process.
    pub task: Option<i32>,
}

/// A process as lsns shows it.
#[derive(Debug, Clone)]
pub struct Process {
    pub pid: i32,
    pub ppid: i32,
    pub uid: u32,
    /// `comm` from /proc/PID/stat, the fallback for an empty command line (bytes: not always UTF-8).
    pub comm: Vec<u8>,
    pub command: Option<Vec<u8>>,
    /// Inode per kind, in [`NsKind::ALL`] order; 0 when not read.
    pub ns: [u64; 8],
}

/// How a namespace was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Process,
    /// An fd, a socket or a bind mount, but no process.
    Persistent,
    /// Only reached as the owner or parent of a listed namespace.
    Ancestor,
}

/// A namespace and what the kernel told us about it.
#[derive(Debug, Clone)]
pub struct Namespace {
    pub ino: u64,
    pub kind: NsKind,
    pub holder: Holder,
    pub nprocs: usize,
    /// The lowest PID in the namespace.
    pub pid: Option<i32>,
    /// `NS_GET_PARENT` (pid and user namespaces), 0 at the top or when unknown.
    pub parent: u64,
    /// `NS_GET_USERNS`, 0 for the initial user namespace or when unknown.
    pub owner: u64,
    /// `NS_GET_OWNER_UID` of a user namespace without processes.
    pub owner_uid: Option<u32>,
    /// `Some(-1)` = unassigned; `None` = not asked or not answered.
    pub netnsid: Option<i32>,
    /// Mount points of nsfs bind mounts of this namespace, in mountinfo order.
    pub nsfs: Vec<String>,
}

impl Namespace {
    fn new(ino: u64, kind: NsKind, holder: Holder) -> Namespace {
        Namespace {
            ino,
            kind,
            holder,
            nprocs: 0,
            pid: None,
            parent: 0,
            owner: 0,
            owner_uid: None,
            netnsid: None,
            nsfs: Vec::new(),
        }
    }
}

/// Everything one scan found.
#[derive(Debug, Default)]
pub struct Scan {
    pub namespaces: HashMap<u64, Namespace>,
    pub processes: HashMap<i32, Process>,
    /// The inodes of the `-p` process, when it was found.
    pub task_ns: Option<Vec<u64>>,
    /// An nsfs ioctl is unknown to this kernel (exit status 2).
    pub ioctl_unsupported: bool,
}

impl Scan {
    pub fn exit_code(&self) -> i32 {
        if self.ioctl_unsupported {
            2
        } else {
            0
        }
    }
}

/// `ns/<type>` per kind, in [`NsKind::ALL`] order.
const NS_PATHS: [&str; 8] = [
    "ns/mnt",
    "ns/net",
    "ns/pid",
    "ns/uts",
    "ns/ipc",
    "ns/user",
    "ns/cgroup",
    "ns/time",
];

fn kind_index(kind: NsKind) -> usize {
    NsKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

/// Parses the readlink text of a namespace file, `net:[4026531840]`.
pub fn parse_ns_link(text: &[u8]) -> Option<(&[u8], u64)> {
    let open = text.iter().position(|&b| b == b':')?;
    let rest = text[open + 1..].strip_prefix(b"[")?.strip_suffix(b"]")?;
    if rest.is_empty() || !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let ino = std::str::from_utf8(rest).ok()?.parse().ok()?;
    Some((&text[..open], ino))
}

/// Reads a whole small /proc file relative to `dir`.
fn read_at(dir: BorrowedFd<'_>, name: &str, buf: &mut Vec<u8>) -> Result<(), Errno> {
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        match rustix::io::read(&fd, &mut chunk) {
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                // procfs hands out these files whole in one read when the buffer is large enough:
                // a short read is the end, which saves the read that would return 0.
                if n < chunk.len() {
                    return Ok(());
                }
            }
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `(comm, ppid)` from the content of /proc/PID/stat; `None` when it is short or malformed.
pub fn parse_stat(stat: &[u8]) -> Option<(Vec<u8>, i32)> {
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let comm = stat[open + 1..close].to_vec();
    let mut fields = stat[close + 1..]
        .split(|&b| b == b' ')
        .filter(|f| !f.is_empty());
    let _state = fields.next()?;
    let ppid = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
    Some((comm, ppid))
}

/// The command line as lsns shows it: NULs become spaces, the trailing NUL goes.
pub fn command_from_cmdline(raw: &[u8]) -> Vec<u8> {
    let trimmed = raw.strip_suffix(b"\0").unwrap_or(raw);
    trimmed
        .iter()
        .map(|&b| if b == 0 { b' ' } else { b })
        .collect()
}

struct Scanner<'r> {
    request: &'r ScanRequest,
    scan: Scan,
    nsid: Option<NsidQuery>,
    seen_sockets: HashSet<u64>,
    buf: Vec<u8>,
    /// getdents64 buffer for fd directories, reused for every process this scanner (worker) reads.
    dir_buf: Vec<u8>,
    /// `fd/N` for probing fd tables, reused likewise.
    fd_path: String,
    /// `stat /proc/PID/fd` gives the number of open fds (Linux 6.2 and later).
    fd_count_works: bool,
    /// The last 16 probes, newest in bit 0: 1 where the table needed the directory listing after all.
    probe_history: u16,
    /// fd tables looked at so far.
    fd_tables: usize,
}

/// The getdents64 buffer for one fd directory: 4 KiB holds ~170 entries (`0` .. `999` are 24 bytes each),
/// so a usual table is one call plus the one that sees the end.
const FD_DIR_BUF: usize = 4096;

/// Missing fd numbers tolerated while probing a table before listing the directory instead.
const FD_PROBE_MISSES: usize = 2;

/// Whether `stat /proc/self/fd` counts our open fds (we have at least stdin..stderr or the /proc fd open).
fn fd_count_works() -> bool {
    rustix::fs::stat("/proc/self/fd").is_ok_and(|st| st.st_size > 0)
}

impl<'r> Scanner<'r> {
    /// Fills in what the kernel knows about a namespace from an open file of it.
    fn inspect(&mut self, ns: &mut Namespace, fd: BorrowedFd<'_>) {
        if self.request.need_relatives {
            if matches!(ns.kind, NsKind::Pid | NsKind::User) {
                ns.parent = self.relative(fd, true);
            }
            ns.owner = self.relative(fd, false);
        }
        if ns.kind == NsKind::User && ns.holder != Holder::Process {
            ns.owner_uid = nsfile::owner_uid(fd).ok();
        }
        if ns.kind == NsKind::Net && self.request.need_netnsid {
            if let Some(q) = &mut self.nsid {
                ns.netnsid = q.nsid_of(fd);
            }
        }
    }

    /// The inode of the parent (`NS_GET_PARENT`) or owner (`NS_GET_USERNS`) of `fd`; 0 when there is none we
    /// may see. Unlisted user namespaces reached this way are kept as ancestors for the trees.
    fn relative(&mut self, fd: BorrowedFd<'_>, parent: bool) -> u64 {
        let got = if parent {
            nsfile::parent_ns(fd)
        } else {
            nsfile::owning_userns(fd)
        };
        let rel = match got {
            Ok(rel) => rel,
            Err(e) => {
                if e.raw_os_error() == Some(libc::ENOTTY) {
                    self.scan.ioctl_unsupported = true;
                }
                return 0;
            }
        };
        let ino = match nsfile::ns_id(&rel) {
            Ok(id) => id.ino,
            Err(_) => return 0,
        };
        if self.request.add_ancestors && !self.scan.namespaces.contains_key(&ino) {
            let kind = if parent {
                nsfile::ns_kind(&rel).ok()
            } else {
                Some(NsKind::User)
            };
            if kind == Some(NsKind::User) {
                let mut ns = Namespace::new(ino, NsKind::User, Holder::Ancestor);
                // Reserve the entry first: the recursion up the chain stops at known inodes.
                self.scan.namespaces.insert(ino, ns.clone());
                self.inspect(&mut ns, rel.as_fd());
                self.scan.namespaces.insert(ino, ns);
            }
        }
        ino
    }

    /// Adds a namespace found without a process (fd, socket, bind mount), if its type is selected.
    fn add_persistent(&mut self, ino: u64, kind: NsKind, fd: Option<BorrowedFd<'_>>) {
        if !self.request.types.contains(&kind) {
            return;
        }
        match self.scan.namespaces.get_mut(&ino) {
            Some(ns) if ns.holder != Holder::Ancestor => return,
            Some(ns) => {
                ns.holder = Holder::Persistent;
                return;
            }
            None => {}
        }
        let mut ns = Namespace::new(ino, kind, Holder::Persistent);
        if let Some(fd) = fd {
            self.inspect(&mut ns, fd);
        }
        self.scan.namespaces.insert(ino, ns);
    }

    fn scan_processes(&mut self, proc_fd: BorrowedFd<'_>, pids: &[(i32, CString)]) {
        for (pid, name) in pids {
            self.scan_process(proc_fd, *pid, name);
        }
    }

    /// Reads what rows show of a process: owner, PPID, comm and (if asked) the command line.
    /// `None` when the process is gone or unreadable.
    fn read_process(&mut self, dir: BorrowedFd<'_>, pid: i32, ns: [u64; 8]) -> Option<Process> {
        let st = rustix::fs::fstat(dir).ok()?;
        let mut buf = std::mem::take(&mut self.buf);
        let parsed = read_at(dir, "stat", &mut buf)
            .ok()
            .and_then(|_| parse_stat(&buf));
        let command = if parsed.is_some() && self.request.need_command {
            read_at(dir, "cmdline", &mut buf)
                .ok()
                .map(|_| command_from_cmdline(&buf))
        } else {
            None
        };
        self.buf = buf;
        let (comm, ppid) = parsed?;
        if self.request.need_command && command.is_none() {
            return None;
        }
        Some(Process {
            pid,
            ppid,
            uid: st.st_uid,
            comm,
            command,
            ns,
        })
    }

    fn scan_process(&mut self, proc_fd: BorrowedFd<'_>, pid: i32, name: &std::ffi::CStr) {
        let Ok(dir) = rustix::fs::openat(
            proc_fd,
            name,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return;
        };
        let mut ns = [0u64; 8];
        let mut any = false;
        let mut link = [std::mem::MaybeUninit::<u8>::uninit(); 64];
        for &kind in &self.request.types {
            let path = NS_PATHS[kind_index(kind)];
            // readlink (`net:[4026531840]`) is cheaper than stat, which follows the link into nsfs.
            if let Ok((text, _)) = rustix::fs::readlinkat_raw(&dir, path, &mut link) {
                if let Some((_, ino)) = parse_ns_link(text) {
                    ns[kind_index(kind)] = ino;
                    any = true;
                }
            }
        }
        if !any {
            return;
        }
        // Only the lowest PID of a namespace is shown, so only it (and, in positional mode, the members of
        // that namespace) is read further. /proc is listed in PID order: this is once per namespace.
        let shown = self
            .request
            .namespace
            .is_some_and(|target| ns.contains(&target))
            || ns.iter().any(|&ino| {
                ino != 0
                    && self
                        .scan
                        .namespaces
                        .get(&ino)
                        .is_none_or(|n| n.pid.is_none_or(|p| pid < p))
            });
        let process = if shown {
            // Gone since its namespaces were read: skip it whole, as if it had exited a moment earlier.
            let Some(p) = self.read_process(dir.as_fd(), pid, ns) else {
                return;
            };
            Some(p)
        } else {
            None
        };
        if self.request.task == Some(pid) {
            self.scan.task_ns = Some(ns.iter().copied().filter(|&i| i != 0).collect());
        }
        for &kind in &self.request.types {
            let ino = ns[kind_index(kind)];
            if ino == 0 {
                continue;
            }
            match self.scan.namespaces.get_mut(&ino) {
                // Found earlier through an fd or as an ancestor: what was learnt stays.
                Some(ns) => ns.holder = Holder::Process,
                None => {
                    let mut ns = Namespace::new(ino, kind, Holder::Process);
                    if self.request.need_relatives
                        || (kind == NsKind::Net && self.request.need_netnsid)
                    {
                        if let Ok(fd) = rustix::fs::openat(
                            &dir,
                            NS_PATHS[kind_index(kind)],
                            OFlags::RDONLY | OFlags::CLOEXEC,
                            Mode::empty(),
                        ) {
                            self.inspect(&mut ns, fd.as_fd());
                        }
                    }
                    self.scan.namespaces.insert(ino, ns);
                }
            }
            if let Some(ns) = self.scan.namespaces.get_mut(&ino) {
                ns.nprocs += 1;
                if ns.pid.is_none_or(|p| pid < p) {
                    ns.pid = Some(pid);
                }
            }
        }
        if self.request.scan_fds {
            self.scan_fds(dir.as_fd(), pid);
        }
        if let Some(p) = process {
            self.scan.processes.insert(pid, p);
        }
    }

    /// Namespaces held by fds of `pid`: nsfs files directly, network namespaces through sockets.
    ///
    /// Since Linux 6.2 `stat /proc/PID/fd` reports the number of open fds: the usual small, dense fd table
    /// (0, 1, 2, ...) is then read by probing `fd/0`, `fd/1`, ... until that many were seen, which saves
    /// opening, listing (twice, to see the end) and closing the directory. A sparse table (a shell's fd 255)
    /// falls back to listing the directory after a few misses.
    fn scan_fds(&mut self, dir: BorrowedFd<'_>, pid: i32) {
        let mut pidfd: Option<Option<OwnedFd>> = None;
        let mut next = 0;
        // Probing pays only while most tables are dense; a farm of processes that inherited a stray high fd
        // would make every probe end in a listing. So probe while at most 4 of the last 16 probes fell back,
        // and, when not, still every 16th process to notice when the tables get dense again.
        self.fd_tables += 1;
        let probing = self.fd_count_works
            && (self.probe_history.count_ones() <= 4 || self.fd_tables.is_multiple_of(16));
        if probing {
            let Ok(st) = rustix::fs::statat(dir, "fd", AtFlags::empty()) else {
                return;
            };
            let mut left = usize::try_from(st.st_size).unwrap_or(0);
            let mut misses = 0;
            // The scanner's buffers, reused for every process: no allocation per fd table (under musl the
            // workers would contend on malloc's one lock, and freed blocks go back and forth to the kernel).
            let mut path = std::mem::take(&mut self.fd_path);
            let mut link = [std::mem::MaybeUninit::<u8>::uninit(); 256];
            let mut failed = false;
            while left > 0 && misses < FD_PROBE_MISSES {
                path.clear();
                let _ = write!(path, "fd/{next}");
                match rustix::fs::readlinkat_raw(dir, path.as_str(), &mut link) {
                    Ok((target, _)) => {
                        left -= 1;
                        self.check_fd(dir, &path, next, target, pid, &mut pidfd);
                    }
                    Err(Errno::NOENT) => misses += 1,
                    Err(_) => {
                        failed = true;
                        break;
                    }
                }
                next += 1;
            }
            self.fd_path = path;
            if failed {
                return;
            }
            self.probe_history = (self.probe_history << 1) | u16::from(left != 0);
            if left == 0 {
                return;
            }
        }
        let Ok(fd_dir) = rustix::fs::openat(
            dir,
            "fd",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return;
        };
        let mut dir_buf = std::mem::take(&mut self.dir_buf);
        let mut entries = RawDir::new(&fd_dir, dir_buf.spare_capacity_mut());
        let mut link = [std::mem::MaybeUninit::<u8>::uninit(); 256];
        while let Some(entry) = entries.next() {
            let Ok(entry) = entry else { break };
            let name = entry.file_name();
            let Some(fd_num) = std::str::from_utf8(name.to_bytes())
                .ok()
                .and_then(|s| s.parse::<i32>().ok())
            else {
                continue;
            };
            // Already probed above.
            if fd_num < next {
                continue;
            }
            let Ok((target, _)) = rustix::fs::readlinkat_raw(&fd_dir, name, &mut link) else {
                continue;
            };
            let Ok(name) = name.to_str() else { continue };
            self.check_fd(fd_dir.as_fd(), name, fd_num, target, pid, &mut pidfd);
        }
        self.dir_buf = dir_buf;
    }

    /// One fd whose link reads `target`: an nsfs file or a socket adds its namespace when nothing else
    /// holds it. `path` opens the fd relative to `base`.
    fn check_fd(
        &mut self,
        base: BorrowedFd<'_>,
        path: &str,
        fd_num: i32,
        target: &[u8],
        pid: i32,
        pidfd: &mut Option<Option<OwnedFd>>,
    ) {
        let Some((prefix, ino)) = parse_ns_link(target) else {
            return;
        };
        if prefix == b"socket" {
            if !self.request.types.contains(&NsKind::Net) || !self.seen_sockets.insert(ino) {
                return;
            }
            let pidfd = pidfd.get_or_insert_with(|| {
                rustix::process::Pid::from_raw(pid).and_then(|p| {
                    rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok()
                })
            });
            if let Some(pidfd) = pidfd.as_ref() {
                self.socket_netns(pidfd.as_fd(), fd_num);
            }
            return;
        }
        let Some(kind) = std::str::from_utf8(prefix).ok().and_then(NsKind::from_name) else {
            return;
        };
        let known = self
            .scan
            .namespaces
            .get(&ino)
            .is_some_and(|ns| ns.holder != Holder::Ancestor);
        if known || !self.request.types.contains(&kind) {
            return;
        }
        let Ok(ns_fd) =
            rustix::fs::openat(base, path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        else {
            return;
        };
        // The fd may have been replaced between readlink and open: trust only what the file itself says.
        let Ok(id) = nsfile::ns_id(&ns_fd) else {
            return;
        };
        let Ok(kind) = nsfile::ns_kind(&ns_fd) else {
            return;
        };
        self.add_persistent(id.ino, kind, Some(ns_fd.as_fd()));
    }

    /// The network namespace of socket `fd_num` of the process behind `pidfd` (`SIOCGSKNS` on a copy of it).
    fn socket_netns(&mut self, pidfd: BorrowedFd<'_>, fd_num: i32) {
        let Ok(sock) =
            rustix::process::pidfd_getfd(pidfd, fd_num, rustix::process::PidfdGetfdFlags::empty())
        else {
            return;
        };
        let Ok(netns) = nsfile::socket_netns(&sock) else {
            return;
        };
        if let Ok(id) = nsfile::ns_id(&netns) {
            self.add_persistent(id.ino, NsKind::Net, Some(netns.as_fd()));
        }
    }

    /// nsfs bind mounts: they give NSFS for every namespace and find those nothing else holds.
    fn scan_mounts(&mut self) {
        let Ok(text) = std::fs::read("/proc/self/mountinfo") else {
            return;
        };
        for line in text.split(|&b| b == b'\n') {
            let Some((root, mount_point)) = nsfs_mount(line) else {
                continue;
            };
            let Some((prefix, ino)) = parse_ns_link(root) else {
                continue;
            };
            let Some(kind) = std::str::from_utf8(prefix).ok().and_then(NsKind::from_name) else {
                continue;
            };
            let path = unescape_mount_point(mount_point);
            if !self.scan.namespaces.contains_key(&ino)
                || self.scan.namespaces.get(&ino).map(|n| n.holder) == Some(Holder::Ancestor)
            {
                let fd = rustix::fs::open(
                    path.as_slice(),
                    OFlags::RDONLY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .ok();
                // A file over-mounted since mountinfo was read is not this namespace: check before asking it.
                let fd = fd.filter(|fd| nsfile::ns_id(fd).is_ok_and(|id| id.ino == ino));
                self.add_persistent(ino, kind, fd.as_ref().map(|f| f.as_fd()));
            }
            if let Some(ns) = self.scan.namespaces.get_mut(&ino) {
                ns.nsfs.push(String::from_utf8_lossy(&path).into_owned());
            }
        }
    }
}

/// `(root, mount point)` of a mountinfo line whose filesystem type is nsfs.
fn nsfs_mount(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let sep = fields.iter().position(|f| *f == b"-")?;
    if fields.get(sep + 1) != Some(&&b"nsfs"[..]) {
        return None;
    }
    Some((fields.get(3)?, fields.get(4)?))
}

/// Undoes the octal escapes of mountinfo (`\040` space, `\011` tab, `\012` newline, `\134` backslash).
pub fn unescape_mount_point(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && i + 3 < raw.len() {
            let digits = &raw[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(byte) = u8::try_from(value) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

/// Scans the system for the namespaces `request` asks about.
/// The numeric entries of /proc (processes, not threads), in the kernel's order: ascending PIDs.
fn list_processes(proc_fd: BorrowedFd<'_>) -> Vec<(i32, CString)> {
    let mut pids = Vec::new();
    let Ok(dup) = rustix::io::fcntl_dupfd_cloexec(proc_fd, 0) else {
        return pids;
    };
    let Ok(mut dir) = rustix::fs::Dir::new(dup) else {
        return pids;
    };
    while let Some(entry) = dir.read() {
        let Ok(entry) = entry else { break };
        let name = entry.file_name().to_bytes();
        if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
            continue;
        }
        if let Some(pid) = std::str::from_utf8(name).ok().and_then(|s| s.parse().ok()) {
            pids.push((pid, entry.file_name().to_owned()));
        }
    }
    pids
}

/// Below this many processes one thread is as fast as several.
const PARALLEL_THRESHOLD: usize = 512;
/// Processes handed to a worker at a time; interleaving keeps the cheap kernel threads (low PIDs) spread.
const CHUNK: usize = 64;

impl Scan {
    /// Adds what another worker found: counts add up, the lowest PID wins, a process holder beats the rest.
    fn merge(&mut self, other: Scan) {
        self.ioctl_unsupported |= other.ioctl_unsupported;
        if self.task_ns.is_none() {
            self.task_ns = other.task_ns;
        }
        self.processes.extend(other.processes);
        for (ino, ns) in other.namespaces {
            let Some(cur) = self.namespaces.get_mut(&ino) else {
                self.namespaces.insert(ino, ns);
                continue;
            };
            cur.nprocs += ns.nprocs;
            cur.pid = match (cur.pid, ns.pid) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let rank = |h: Holder| match h {
                Holder::Process => 0,
                Holder::Persistent => 1,
                Holder::Ancestor => 2,
            };
            if rank(ns.holder) < rank(cur.holder) {
                cur.holder = ns.holder;
            }
            if cur.parent == 0 {
                cur.parent = ns.parent;
            }
            if cur.owner == 0 {
                cur.owner = ns.owner;
            }
            cur.owner_uid = cur.owner_uid.or(ns.owner_uid);
            cur.netnsid = cur.netnsid.or(ns.netnsid);
        }
    }
}

impl<'r> Scanner<'r> {
    fn new(request: &'r ScanRequest) -> Scanner<'r> {
        Scanner {
            request,
            scan: Scan::default(),
            nsid: if request.need_netnsid && request.types.contains(&NsKind::Net) {
                NsidQuery::open().ok()
            } else {
                None
            },
            seen_sockets: HashSet::new(),
            buf: Vec::with_capacity(4096),
            dir_buf: Vec::with_capacity(FD_DIR_BUF),
            fd_path: String::with_capacity(16),
            fd_count_works: fd_count_works(),
            probe_history: 0,
            fd_tables: 0,
        }
    }
}

/// Scans the system for the namespaces `request` asks about.
///
/// With many processes the /proc walk is split over the CPUs: each worker scans interleaved chunks of
/// PIDs into its own maps, merged afterwards (the work stays linear; only the wall time shrinks).
pub fn scan(request: &ScanRequest) -> Scan {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get().min(4))
        .unwrap_or(1);
    scan_with(request, workers, PARALLEL_THRESHOLD)
}

fn scan_with(request: &ScanRequest, workers: usize, threshold: usize) -> Scan {
    let mut scanner = Scanner::new(request);
    if let Ok(proc_fd) = rustix::fs::open(
        "/proc",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        let pids = list_processes(proc_fd.as_fd());
        if workers < 2 || pids.len() < threshold {
            scanner.scan_processes(proc_fd.as_fd(), &pids);
        } else {
            let chunks: Vec<&[(i32, CString)]> = pids.chunks(CHUNK).collect();
            let proc_fd = proc_fd.as_fd();
            let results: Vec<Option<Scan>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..workers)
                    .map(|w| {
                        let mine: Vec<&[(i32, CString)]> =
                            chunks.iter().skip(w).step_by(workers).copied().collect();
                        s.spawn(move || {
                            let mut worker = Scanner::new(request);
                            for chunk in mine {
                                worker.scan_processes(proc_fd, chunk);
                            }
                            worker.scan
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().ok()).collect()
            });
            for result in results.into_iter().flatten() {
                scanner.scan.merge(result);
            }
        }
    }
    scanner.scan_mounts();
    scanner.scan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ns_links() {
        assert_eq!(
            parse_ns_link(b"net:[4026531840]"),
            Some((&b"net"[..], 4026531840))
        );
        assert_eq!(parse_ns_link(b"socket:[12]"), Some((&b"socket"[..], 12)));
        assert_eq!(parse_ns_link(b"/dev/null"), None);
        assert_eq!(parse_ns_link(b"anon_inode:[eventfd]"), None);
        assert_eq!(parse_ns_link(b"net:[]"), None);
    }

    #[test]
    fn stat_lines() {
        let (comm, ppid) = parse_stat(b"42 (a) b) c) S 7 42 42 0").unwrap();
        assert_eq!(comm, b"a) b) c");
        assert_eq!(ppid, 7);
        assert!(parse_stat(b"42 (x").is_none());
        assert!(parse_stat(b"42 (x) S").is_none());
    }

    #[test]
    fn cmdlines() {
        assert_eq!(command_from_cmdline(b"sleep\x00200\x00"), b"sleep 200");
        assert_eq!(command_from_cmdline(b""), b"");
        assert_eq!(command_from_cmdline(b"a\xffb"), b"a\xffb");
    }

    #[test]
    fn mountinfo_lines() {
        let line = b"120 30 0:4 uts:[4026532177] /tmp/x\\040y rw,relatime - nsfs nsfs rw";
        let (root, mp) = nsfs_mount(line).unwrap();
        assert_eq!(root, b"uts:[4026532177]");
        assert_eq!(unescape_mount_point(mp), b"/tmp/x y");
        assert_eq!(unescape_mount_point(b"a\\134b\\012\\011"), b"a\\b\n\t");
        assert_eq!(unescape_mount_point(b"a\\9"), b"a\\9");
        assert!(nsfs_mount(b"1 2 0:5 / /proc rw - proc proc rw").is_none());
    }

    #[test]
    fn parallel_scan_agrees() {
        let request = ScanRequest {
            types: NsKind::ALL.to_vec(),
            need_command: true,
            need_relatives: true,
            need_netnsid: true,
            add_ancestors: true,
            scan_fds: true,
            namespace: None,
            task: Some(std::process::id() as i32),
        };
        let one = scan_with(&request, 1, usize::MAX);
        let three = scan_with(&request, 3, 0);
        let mine = three.task_ns.clone().unwrap();
        assert_eq!(mine.len(), 8);
        assert_eq!(one.task_ns.unwrap(), mine);
        for ino in mine {
            let (a, b) = (&one.namespaces[&ino], &three.namespaces[&ino]);
            assert_eq!(a.holder, Holder::Process);
            assert_eq!(b.holder, Holder::Process);
            assert_eq!((a.kind, a.parent, a.owner), (b.kind, b.parent, b.owner));
            // The lowest PID (the same process unless it just exited) has its details read.
            let pid = b.pid.unwrap();
            assert!(three.processes.contains_key(&pid));
            assert!(b.nprocs > 0);
        }
    }

    #[test]
    fn finds_own_namespaces() {
        let request = ScanRequest {
            types: NsKind::ALL.to_vec(),
            need_command: true,
            need_relatives: true,
            need_netnsid: false,
            add_ancestors: false,
            scan_fds: true,
            namespace: None,
            task: Some(std::process::id() as i32),
        };
        let scan = scan(&request);
        let own = std::fs::metadata("/proc/self/ns/uts").map(|m| {
            use std::os::unix::fs::MetadataExt;
            m.ino()
        });
        let own = own.unwrap();
        assert!(scan.namespaces.contains_key(&own));
        assert!(scan.task_ns.unwrap().contains(&own));
    }
}
