//! The 13 columns and how a namespace (or, in positional mode, a process) becomes a row of typed cells.

use crate::discovery::{Holder, Namespace, Process, Scan};
use crate::{Config, TreeKind};
use ns_common::{Error, NsKind, Result};
use std::collections::{HashMap, HashSet};

/// An output column, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Ns,
    Type,
    Path,
    Nprocs,
    Pid,
    Ppid,
    Command,
    Uid,
    User,
    Netnsid,
    Nsfs,
    Pns,
    Ons,
}

/// The column names, for completions.
pub const COLUMN_NAMES: &[&str] = &[
    "NS", "TYPE", "PATH", "NPROCS", "PID", "PPID", "COMMAND", "UID", "USER", "NETNSID", "NSFS",
    "PNS", "ONS",
];

pub const DEFAULT: &[Column] = &[
    Column::Ns,
    Column::Type,
    Column::Nprocs,
    Column::Pid,
    Column::User,
    Column::Command,
];

pub const DEFAULT_NET: &[Column] = &[
    Column::Ns,
    Column::Type,
    Column::Nprocs,
    Column::Pid,
    Column::User,
    Column::Netnsid,
    Column::Nsfs,
    Column::Command,
];

pub const DEFAULT_NAMESPACE_MODE: &[Column] =
    &[Column::Pid, Column::Ppid, Column::User, Column::Command];

impl Column {
    pub const ALL: [Column; 13] = [
        Column::Ns,
        Column::Type,
        Column::Path,
        Column::Nprocs,
        Column::Pid,
        Column::Ppid,
        Column::Command,
        Column::Uid,
        Column::User,
        Column::Netnsid,
        Column::Nsfs,
        Column::Pns,
        Column::Ons,
    ];

    pub fn name(self) -> &'static str {
        COLUMN_NAMES[Column::ALL.iter().position(|c| *c == self).unwrap_or(0)]
    }

    /// Case-insensitive, as `-o` and `-Q` take them.
    pub fn from_name(name: &str) -> Option<Column> {
        Column::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    pub fn description(self) -> &'static str {
        match self {
            Column::Ns => "namespace identifier (inode number)",
            Column::Type => "kind of namespace",
            Column::Path => "path to the namespace",
            Column::Nprocs => "number of processes in the namespace",
            Column::Pid => "lowest PID in the namespace",
            Column::Ppid => "PPID of the PID",
            Column::Command => "command line of the PID",
            Column::Uid => "UID of the PID",
            Column::User => "username of the PID",
            Column::Netnsid => "namespace ID as used by network subsystem",
            Column::Nsfs => "nsfs mountpoint (usually used network subsystem)",
            Column::Pns => "parent namespace identifier (inode number)",
            Column::Ons => "owner namespace identifier (inode number)",
        }
    }

    /// Integer columns: JSON numbers, compared as numbers by `-Q`.
    pub fn is_number(self) -> bool {
        matches!(
            self,
            Column::Ns
                | Column::Nprocs
                | Column::Pid
                | Column::Ppid
                | Column::Uid
                | Column::Pns
                | Column::Ons
        )
    }

    pub fn right_aligned(self) -> bool {
        self.is_number() || self == Column::Netnsid
    }
}

/// Parses a `-o` list. Like util-linux, an unknown name is reported with the rest of the list
/// (`-o NS,BOGUS,TYPE` → `unknown column: BOGUS,TYPE`); nsbox names the empty entries util-linux 2.42
/// passes over silently.
pub fn parse_list(list: &str) -> Result<Vec<Column>> {
    let mut columns = Vec::new();
    let mut rest = list;
    loop {
        let (name, tail) = match rest.split_once(',') {
            Some((name, tail)) => (name, Some(tail)),
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(Error::new("unknown column: ''"));
        }
        let column =
            Column::from_name(name).ok_or_else(|| Error::new(format!("unknown column: {rest}")))?;
        columns.push(column);
        match tail {
            Some(tail) => rest = tail,
            None => return Ok(columns),
        }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Empty,
    Int(u64),
    Str(String),
    /// Several entries (NSFS): one per line in a table, `,`-joined elsewhere.
    Lines(Vec<String>),
    /// Text from the kernel that need not be UTF-8 (COMMAND): printed byte for byte, escaped as the
    /// output mode escapes invalid sequences.
    Bytes(Vec<u8>),
}

impl Value {
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Empty => true,
            Value::Str(s) => s.is_empty(),
            Value::Lines(l) => l.is_empty(),
            Value::Bytes(b) => b.is_empty(),
            Value::Int(_) => false,
        }
    }

    /// The value as one line of bytes (lists joined by `,`).
    pub fn bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            Value::Bytes(b) => std::borrow::Cow::Borrowed(b),
            other => std::borrow::Cow::Owned(other.text().into_bytes()),
        }
    }

    /// The value as one line of text (lists joined by `,`).
    pub fn text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Int(n) => n.to_string(),
            Value::Str(s) => s.clone(),
            Value::Lines(l) => l.join(","),
            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }
}

/// A row and what the tree layouts need to place it.
#[derive(Debug, Clone)]
pub struct Row {
    /// Cells of the needed columns (see `Rows::columns`).
    pub values: Vec<Value>,
    pub ino: u64,
    /// Shown only to complete a chain in the owner and parent trees: it takes its place in the output when
    /// its first listed descendant does, not by its own inode.
    pub reached_only: bool,
    pub pid: Option<i32>,
    pub ppid: Option<i32>,
    /// The row this one nests under in the owner (resp. parent) tree, by inode.
    pub owner: u64,
    pub parent: u64,
}

/// The rows of one listing, in display order before the tree is built.
#[derive(Debug, Clone)]
pub struct Rows {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// Names uids from /etc/passwd, read once.
struct Users(Option<HashMap<u32, String>>);

impl Users {
    fn name(&mut self, uid: u32) -> String {
        let map = self.0.get_or_insert_with(ns_common::users::uid_names);
        map.get(&uid).cloned().unwrap_or_else(|| uid.to_string())
    }
}

fn opt_int<T: Into<i64>>(v: Option<T>) -> Value {
    match v {
        Some(n) => Value::Int(n.into().max(0) as u64),
        None => Value::Empty,
    }
}

fn namespace_value(
    column: Column,
    ns: &Namespace,
    process: Option<&Process>,
    users: &mut Users,
) -> Value {
    let uid = match process {
        Some(p) => p.uid,
        None => ns.owner_uid.unwrap_or(0),
    };
    match column {
        Column::Ns => Value::Int(ns.ino),
        Column::Type => Value::Str(ns.kind.type_name().to_string()),
        Column::Path => match process {
            Some(p) => Value::Str(format!("/proc/{}/ns/{}", p.pid, ns.kind.proc_name())),
            None => Value::Empty,
        },
        Column::Nprocs => Value::Int(ns.nprocs as u64),
        Column::Pid => opt_int(process.map(|p| p.pid)),
        Column::Ppid => opt_int(process.map(|p| p.ppid)),
        Column::Command => match process {
            Some(p) => match &p.command {
                Some(c) if !c.is_empty() => Value::Bytes(c.clone()),
                _ => Value::Bytes(p.comm.clone()),
            },
            None => Value::Empty,
        },
        Column::Uid => Value::Int(u64::from(uid)),
        Column::User => Value::Str(users.name(uid)),
        Column::Netnsid => match (ns.kind, ns.netnsid) {
            (NsKind::Net, Some(-1)) => Value::Str("unassigned".into()),
            (NsKind::Net, Some(id)) => Value::Str(id.to_string()),
            _ => Value::Empty,
        },
        Column::Nsfs => Value::Lines(ns.nsfs.clone()),
        Column::Pns => Value::Int(ns.parent),
        Column::Ons => Value::Int(ns.owner),
    }
}

/// The rows of the normal listing: one per namespace, sorted by inode, narrowed by `-p`/`-P`.
pub fn namespace_rows(scan: &Scan, config: &Config, needed: &[Column]) -> Rows {
    let mut users = Users(None);
    let tree = match (config.tree, config.list) {
        (Some(kind), _) => Some(kind),
        (None, true) => None,
        (None, false) => Some(TreeKind::Process),
    };
    let mut selected: HashSet<u64> = scan
        .namespaces
        .values()
        .filter(|ns| ns.holder != Holder::Ancestor)
        .filter(|ns| config.types.contains(&ns.kind))
        .filter(|ns| !config.persistent || ns.nprocs == 0)
        .filter(|ns| match (&config.task, &scan.task_ns) {
            (None, _) => true,
            (Some(_), Some(inos)) => inos.contains(&ns.ino),
            (Some(_), None) => false,
        })
        .map(|ns| ns.ino)
        .collect();
    let chosen = selected.clone();
    if matches!(tree, Some(TreeKind::Owner | TreeKind::Parent)) {
        // Complete the chains: unlisted ancestor user namespaces that listed ones reach, and in the parent
        // tree the parent pid namespaces of listed ones (`-T parent -p PID` nests PID's pid namespace under
        // its parent, as util-linux does, though PID is not in it).
        let pid_parents = tree == Some(TreeKind::Parent);
        let mut pending: Vec<u64> = selected.iter().copied().collect();
        while let Some(ino) = pending.pop() {
            let Some(ns) = scan.namespaces.get(&ino) else {
                continue;
            };
            for up in [ns.owner, ns.parent] {
                if up == 0 || selected.contains(&up) {
                    continue;
                }
                if let Some(a) = scan.namespaces.get(&up) {
                    let wanted = match a.kind {
                        NsKind::User => true,
                        NsKind::Pid => pid_parents && up == ns.parent,
                        _ => false,
                    };
                    if wanted && config.types.contains(&a.kind) {
                        selected.insert(up);
                        pending.push(up);
                    }
                }
            }
        }
    }
    let mut inos: Vec<u64> = selected.into_iter().collect();
    inos.sort_unstable();
    let rows = inos
        .iter()
        .filter_map(|ino| scan.namespaces.get(ino))
        .map(|ns| {
            let process = ns.pid.and_then(|pid| scan.processes.get(&pid));
            Row {
                values: needed
                    .iter()
                    .map(|&c| namespace_value(c, ns, process, &mut users))
                    .collect(),
                ino: ns.ino,
                // A namespace that `-p` or `-t` left out but a listed one descends from.
                reached_only: !chosen.contains(&ns.ino) && ns.holder != Holder::Ancestor,
                pid: process.map(|p| p.pid),
                ppid: process.map(|p| p.ppid),
                owner: ns.owner,
                parent: if matches!(ns.kind, NsKind::Pid | NsKind::User) {
                    ns.parent
                } else {
                    0
                },
            }
        })
        .collect();
    Rows {
        columns: needed.to_vec(),
        rows,
    }
}

/// Positional mode: one row per process of namespace `ino`, in PID order. `Ok(None)` when the namespace
/// exists but no process is in it (nothing to print).
pub fn namespace_process_rows(scan: &Scan, ino: u64, needed: &[Column]) -> Result<Option<Rows>> {
    let ns = scan
        .namespaces
        .get(&ino)
        .filter(|ns| ns.holder != Holder::Ancestor)
        .ok_or_else(|| Error::new(format!("not found namespace: {ino}")))?;
    let index = NsKind::ALL.iter().position(|k| *k == ns.kind).unwrap_or(0);
    let mut members: Vec<&Process> = scan
        .processes
        .values()
        .filter(|p| p.ns[index] == ino)
        .collect();
    if members.is_empty() {
        return Ok(None);
    }
    members.sort_unstable_by_key(|p| p.pid);
    let mut users = Users(None);
    let rows = members
        .into_iter()
        .map(|p| Row {
            values: needed
                .iter()
                .map(|&c| namespace_value(c, ns, Some(p), &mut users))
                .collect(),
            ino,
            reached_only: false,
            pid: Some(p.pid),
            ppid: Some(p.ppid),
            owner: 0,
            parent: 0,
        })
        .collect();
    Ok(Some(Rows {
        columns: needed.to_vec(),
        rows,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Column::from_name("nprocs"), Some(Column::Nprocs));
        assert_eq!(Column::from_name("NSFS"), Some(Column::Nsfs));
        assert_eq!(Column::Ons.name(), "ONS");
        assert_eq!(
            parse_list("ns,Type").unwrap(),
            vec![Column::Ns, Column::Type]
        );
        assert_eq!(
            parse_list("NS,BOGUS,TYPE").unwrap_err().message(),
            "unknown column: BOGUS,TYPE"
        );
    }
}
