//! The eight namespace types and everything the tools need to know about each.

/// A namespace type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NsKind {
    Mnt,
    Uts,
    Ipc,
    Net,
    Pid,
    User,
    Cgroup,
    Time,
}

impl NsKind {
    /// All kinds, in lsns's type order.
    pub const ALL: [NsKind; 8] = [
        NsKind::Mnt,
        NsKind::Net,
        NsKind::Pid,
        NsKind::Uts,
        NsKind::Ipc,
        NsKind::User,
        NsKind::Cgroup,
        NsKind::Time,
    ];

    /// The `CLONE_NEW*` flag for unshare(2), setns(2) and NS_GET_NSTYPE.
    pub const fn clone_flag(self) -> i32 {
        match self {
            NsKind::Mnt => libc::CLONE_NEWNS,
            NsKind::Uts => libc::CLONE_NEWUTS,
            NsKind::Ipc => libc::CLONE_NEWIPC,
            NsKind::Net => libc::CLONE_NEWNET,
            NsKind::Pid => libc::CLONE_NEWPID,
            NsKind::User => libc::CLONE_NEWUSER,
            NsKind::Cgroup => libc::CLONE_NEWCGROUP,
            NsKind::Time => libc::CLONE_NEWTIME,
        }
    }

    /// The kind of a `CLONE_NEW*` flag (as NS_GET_NSTYPE returns it).
    pub fn from_clone_flag(flag: i32) -> Option<NsKind> {
        NsKind::ALL.into_iter().find(|k| k.clone_flag() == flag)
    }

    /// The file name under `/proc/PID/ns/`.
    pub const fn proc_name(self) -> &'static str {
        match self {
            NsKind::Mnt => "mnt",
            NsKind::Uts => "uts",
            NsKind::Ipc => "ipc",
            NsKind::Net => "net",
            NsKind::Pid => "pid",
            NsKind::User => "user",
            NsKind::Cgroup => "cgroup",
            NsKind::Time => "time",
        }
    }

    /// The type name lsns prints and `-t` accepts (same as the /proc name).
    pub const fn type_name(self) -> &'static str {
        self.proc_name()
    }

    /// Parses a type name as lsns `-t` takes it.
    pub fn from_name(name: &str) -> Option<NsKind> {
        NsKind::ALL.into_iter().find(|k| k.type_name() == name)
    }

    /// The file under `/proc/PID/ns/` that names the namespace the process's *children* get.
    /// For pid and time namespaces, unshare(2) does not move the caller itself.
    pub const fn for_children_name(self) -> &'static str {
        match self {
            NsKind::Pid => "pid_for_children",
            NsKind::Time => "time_for_children",
            other => other.proc_name(),
        }
    }

    /// The short option letter unshare and nsenter use for this kind.
    pub const fn option_letter(self) -> char {
        match self {
            NsKind::Mnt => 'm',
            NsKind::Uts => 'u',
            NsKind::Ipc => 'i',
            NsKind::Net => 'n',
            NsKind::Pid => 'p',
            NsKind::User => 'U',
            NsKind::Cgroup => 'C',
            NsKind::Time => 'T',
        }
    }

    /// The long option name unshare and nsenter use for this kind.
    pub const fn option_name(self) -> &'static str {
        match self {
            NsKind::Mnt => "mount",
            NsKind::Uts => "uts",
            NsKind::Ipc => "ipc",
            NsKind::Net => "net",
            NsKind::Pid => "pid",
            NsKind::User => "user",
            NsKind::Cgroup => "cgroup",
            NsKind::Time => "time",
        }
    }

    /// The kind an unshare/nsenter long option names.
    pub fn from_option_name(name: &str) -> Option<NsKind> {
        NsKind::ALL.into_iter().find(|k| k.option_name() == name)
    }
}

/// The type names, for completions and validation.
pub const TYPE_NAMES: &[&str] = &["mnt", "net", "ipc", "user", "pid", "uts", "cgroup", "time"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for k in NsKind::ALL {
            assert_eq!(NsKind::from_clone_flag(k.clone_flag()), Some(k));
            assert_eq!(NsKind::from_name(k.type_name()), Some(k));
            assert_eq!(NsKind::from_option_name(k.option_name()), Some(k));
            assert!(TYPE_NAMES.contains(&k.type_name()));
        }
        assert_eq!(NsKind::Pid.for_children_name(), "pid_for_children");
        assert_eq!(NsKind::Net.for_children_name(), "net");
    }
}
