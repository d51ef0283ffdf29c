//! Users, groups and subordinate id ranges, read straight from the /etc files.
//!
//! Never through NSS: a static glibc binary that calls `getpwnam` for a name missing from /etc/passwd
//! dlopens libnss_systemd and crashes (see the spec, multicall.md §4.1). Fields are bytes; blank lines,
//! `#` comments, NIS `+`/`-` lines and malformed lines are skipped; the first match wins.

use std::path::Path;

pub const PASSWD: &str = "/etc/passwd";
pub const GROUP: &str = "/etc/group";
pub const SUBUID: &str = "/etc/subuid";
pub const SUBGID: &str = "/etc/subgid";

/// One line of /etc/passwd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    pub home: Vec<u8>,
    pub shell: Vec<u8>,
}

/// One line of /etc/group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: Vec<u8>,
    pub gid: u32,
}

/// One line of /etc/subuid or /etc/subgid: `owner:start:count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubIdRange {
    /// A user name or a decimal uid, as written.
    pub owner: Vec<u8>,
    pub start: u32,
    pub count: u32,
}

/// Parses an unsigned decimal id strictly: digits only, no sign, no blanks, no overflow.
pub fn parse_id(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 10 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// An id typed on the command line: [`parse_id`] after an optional leading `+` (util-linux takes `+5`; blanks,
/// signs and hex stay refused).
pub fn parse_id_operand(text: &[u8]) -> Option<u32> {
    parse_id(text.strip_prefix(b"+").unwrap_or(text))
}

/// An `-S`/`-G` style id argument (unshare, nsenter): [`parse_id`], with util-linux's message:
/// `failed to parse uid: 'TEXT'`, plus `: Numerical result out of range` when it is a number too large for
/// an id (never wrapped: util-linux 2.38's nsenter took 4294967296 as uid 0).
pub fn parse_id_arg(text: &[u8], what: &str) -> crate::error::Result<u32> {
    if let Some(id) = parse_id_operand(text) {
        return Ok(id);
    }
    let digits = text.strip_prefix(b"+").unwrap_or(text);
    let overflow = !digits.is_empty() && digits.iter().all(u8::is_ascii_digit);
    let suffix = if overflow {
        format!(": {}", crate::error::strerror(libc::ERANGE))
    } else {
        String::new()
    };
    Err(crate::error::Error::new(format!(
        "failed to parse {what}: '{}'{suffix}",
        String::from_utf8_lossy(text)
    )))
}

fn records(content: &[u8]) -> impl Iterator<Item = Vec<&[u8]>> {
    content.split(|&b| b == b'\n').filter_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match line.first() {
            None | Some(b'#') | Some(b'+') | Some(b'-') => None,
            _ => Some(line.split(|&b| b == b':').collect()),
        }
    })
}

/// All well-formed entries of a passwd file's content.
pub fn parse_passwd(content: &[u8]) -> Vec<PasswdEntry> {
    records(content)
        .filter_map(|f| {
            if f.len() != 7 || f[0].is_empty() {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_vec(),
                uid: parse_id(f[2])?,
                gid: parse_id(f[3])?,
                home: f[5].to_vec(),
                shell: f[6].to_vec(),
            })
        })
        .collect()
}

/// All well-formed entries of a group file's content.
pub fn parse_group(content: &[u8]) -> Vec<GroupEntry> {
    records(content)
        .filter_map(|f| {
            if f.len() != 4 || f[0].is_empty() {
                return None;
            }
            Some(GroupEntry {
                name: f[0].to_vec(),
                gid: parse_id(f[2])?,
            })
        })
        .collect()
}

/// All well-formed entries of a subuid/subgid file's content (count 0 and overflowing ranges are malformed).
pub fn parse_subids(content: &[u8]) -> Vec<SubIdRange> {
    records(content)
        .filter_map(|f| {
            if f.len() != 3 || f[0].is_empty() {
                return None;
            }
            let start = parse_id(f[1])?;
            let count = parse_id(f[2])?;
            if count == 0 || start.checked_add(count - 1).is_none() {
                return None;
            }
            Some(SubIdRange {
                owner: f[0].to_vec(),
                start,
                count,
            })
        })
        .collect()
}

fn read(path: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// The passwd entry of `name`, from /etc/passwd.
pub fn user_by_name(name: &[u8]) -> Option<PasswdEntry> {
    parse_passwd(&read(PASSWD))
        .into_iter()
        .find(|e| e.name == name)
}

/// The passwd entry of `uid`, from /etc/passwd.
pub fn user_by_uid(uid: u32) -> Option<PasswdEntry> {
    parse_passwd(&read(PASSWD))
        .into_iter()
        .find(|e| e.uid == uid)
}

/// The group entry of `name`, from /etc/group.
pub fn group_by_name(name: &[u8]) -> Option<GroupEntry> {
    parse_group(&read(GROUP))
        .into_iter()
        .find(|e| e.name == name)
}

/// A uid given as a decimal number or a user name from /etc/passwd.
pub fn resolve_uid(text: &[u8]) -> Option<u32> {
    parse_id_operand(text).or_else(|| user_by_name(text).map(|e| e.uid))
}

/// A gid given as a decimal number or a group name from /etc/group.
pub fn resolve_gid(text: &[u8]) -> Option<u32> {
    parse_id_operand(text).or_else(|| group_by_name(text).map(|e| e.gid))
}

/// A uid → name map of the whole /etc/passwd, for tools that name many uids (lsns USER).
pub fn uid_names() -> std::collections::HashMap<u32, String> {
    let mut map = std::collections::HashMap::new();
    for e in parse_passwd(&read(PASSWD)) {
        map.entry(e.uid)
            .or_insert_with(|| String::from_utf8_lossy(&e.name).into_owned());
    }
    map
}

/// The first subordinate range of the user `uid` (named by name or number) in `content`.
pub fn subid_range_for(content: &[u8], user_name: Option<&[u8]>, uid: u32) -> Option<SubIdRange> {
    let uid_text = uid.to_string();
    parse_subids(content)
        .into_iter()
        .find(|r| r.owner == uid_text.as_bytes() || Some(r.owner.as_slice()) == user_name)
}

/// The first range of the user `uid` in /etc/subuid (`kind_file` = [`SUBUID`]) or /etc/subgid ([`SUBGID`]).
/// Both files are keyed by the *user*.
pub fn subids_of_user(kind_file: &str, uid: u32) -> Option<SubIdRange> {
    let name = user_by_uid(uid).map(|e| e.name);
    subid_range_for(&read(kind_file), name.as_deref(), uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd() {
        let text = b"# comment\n\nroot:x:0:0:root:/root:/bin/bash\n+nis\nbad:x:zz:0::/:/bin/sh\nshort:x:1\nalice:x:1000:1000:Alice:/home/alice:/bin/zsh\nalice:x:2000:2000::/:/bin/sh\n";
        let e = parse_passwd(text);
        assert_eq!(e.len(), 3);
        assert_eq!(e[1].name, b"alice");
        assert_eq!(e[1].uid, 1000);
        assert_eq!(e[1].shell, b"/bin/zsh");
    }

    #[test]
    fn group() {
        let e = parse_group(b"root:x:0:\nwheel:x:10:a,b\nbroken:x:-1:\n");
        assert_eq!(
            e,
            vec![
                GroupEntry {
                    name: b"root".to_vec(),
                    gid: 0
                },
                GroupEntry {
                    name: b"wheel".to_vec(),
                    gid: 10
                },
            ]
        );
    }

    #[test]
    fn ids_are_strict() {
        assert_eq!(parse_id(b"0"), Some(0));
        assert_eq!(parse_id(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_id(b"4294967296"), None);
        assert_eq!(parse_id(b"-1"), None);
        assert_eq!(parse_id(b"+1"), None);
        assert_eq!(parse_id(b" 1"), None);
        assert_eq!(parse_id(b"0x10"), None);
        assert_eq!(parse_id(b""), None);
        // Typed on the command line: one leading `+` is fine.
        assert_eq!(parse_id_operand(b"+1"), Some(1));
        assert_eq!(parse_id_operand(b"+"), None);
        assert_eq!(parse_id_operand(b"++1"), None);
        assert_eq!(parse_id_operand(b"+ 1"), None);
    }

    #[test]
    fn subids() {
        let text = b"alice:100000:65536\n1001:200000:65536\nzero:1:0\nover:4294967295:2\n";
        let r = parse_subids(text);
        assert_eq!(r.len(), 2);
        assert_eq!(
            subid_range_for(text, Some(b"alice"), 1000).map(|r| r.start),
            Some(100000)
        );
        assert_eq!(
            subid_range_for(text, None, 1001).map(|r| r.start),
            Some(200000)
        );
        assert_eq!(subid_range_for(text, Some(b"bob"), 5), None);
    }
}
