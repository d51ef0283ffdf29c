//! User-namespace id maps: parsing `--map-users`/`--map-groups` ranges, "hole punching" a single mapping out of
//! them, validating the result the way the kernel will, and writing `uid_map`/`gid_map`/`setgroups`.
//!
//! Everything that can be checked is checked before any namespace exists (see the spec, unshare.md §4 and §11):
//! a map the kernel would refuse after side effects is an error up front.

use crate::error::{Context, Error, Result};
use crate::users;
use std::fmt::Write as _;

/// The kernel's limit on lines in one `uid_map`/`gid_map` write (since Linux 4.15).
pub const MAX_LINES: usize = 340;
/// The kernel accepts one write of less than a page.
pub const MAX_BYTES: usize = 4095;

/// Which id map: users or groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Uid,
    Gid,
}

impl IdKind {
    /// The /proc file name: `uid_map` or `gid_map`.
    pub const fn map_file(self) -> &'static str {
        match self {
            IdKind::Uid => "uid_map",
            IdKind::Gid => "gid_map",
        }
    }

    /// The subordinate-id file: /etc/subuid or /etc/subgid.
    pub const fn subid_file(self) -> &'static str {
        match self {
            IdKind::Uid => users::SUBUID,
            IdKind::Gid => users::SUBGID,
        }
    }

    /// The setuid helper that writes this map for unprivileged users.
    pub const fn helper(self) -> &'static str {
        match self {
            IdKind::Uid => "newuidmap",
            IdKind::Gid => "newgidmap",
        }
    }
}

/// One line of an id map: `count` ids starting at `inner` inside map to ids starting at `outer` outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMap {
    pub inner: u32,
    pub outer: u32,
    pub count: u32,
}

/// What a `--map-users`/`--map-groups` argument asks for, before /etc/subuid or /proc are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    /// An explicit range (from `INNER:OUTER:COUNT` or the old `OUTER,INNER,COUNT`).
    Range(IdMap),
    /// `auto`: `0 START COUNT` from the user's subordinate range.
    Auto,
    /// `subids`: `START START COUNT`, the subordinate range mapped onto itself.
    SubIds,
    /// `all`: every id of the parent namespace, mapped onto itself.
    All,
}

/// Parses an unsigned decimal field strictly: an optional `+`, then digits only; overflow is an error.
fn parse_field(text: &str) -> Option<u32> {
    users::parse_id_operand(text.as_bytes())
}

impl IdMap {
    /// A one-id mapping.
    pub const fn single(inner: u32, outer: u32) -> IdMap {
        IdMap {
            inner,
            outer,
            count: 1,
        }
    }

    /// Parses `INNER:OUTER:COUNT` or the ≤2.38 form `OUTER,INNER,COUNT` (note the order), checking that
    /// COUNT is not zero and neither range runs past 4294967295. `None` means "invalid mapping".
    pub fn parse(text: &str) -> Option<IdMap> {
        let (sep, inner_first) = if text.contains(':') {
            (':', true)
        } else {
            (',', false)
        };
        let mut fields = text.split(sep);
        let (a, b, c) = (fields.next()?, fields.next()?, fields.next()?);
        if fields.next().is_some() {
            return None;
        }
        let (a, b, count) = (parse_field(a)?, parse_field(b)?, parse_field(c)?);
        let (inner, outer) = if inner_first { (a, b) } else { (b, a) };
        let map = IdMap {
            inner,
            outer,
            count,
        };
        map.is_valid().then_some(map)
    }

    /// COUNT > 0, and START + COUNT fits in 32 bits for both sides, as the kernel demands: the id 4294967295
    /// (`(uid_t)-1`) is never mappable.
    pub fn is_valid(&self) -> bool {
        self.count > 0
            && self.inner.checked_add(self.count).is_some()
            && self.outer.checked_add(self.count).is_some()
    }

    fn inner_last(&self) -> u32 {
        self.inner + (self.count - 1)
    }

    fn outer_last(&self) -> u32 {
        self.outer + (self.count - 1)
    }

    /// Removes a single mapping's ids from this range (util-linux's "hole punching", spec §4.3): the single
    /// inner id is taken out of the inner ids, its outer id out of the outer ids; if anything was taken out,
    /// the two lists are paired element by element up to one less than the original count and written as
    /// contiguous runs. Nothing taken out: the range is unchanged.
    pub fn punch(&self, single: IdMap) -> Vec<IdMap> {
        let inner = Segments::without(self.inner, self.count, single.inner);
        let outer = Segments::without(self.outer, self.count, single.outer);
        if !inner.removed && !outer.removed {
            return vec![*self];
        }
        pair_runs(&inner.parts, &outer.parts, self.count - 1)
    }
}

impl std::fmt::Display for IdMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.inner, self.outer, self.count)
    }
}

/// A run of consecutive ids `start..start+len` (len as u64: the whole 32-bit space has 2^32 ids).
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u32,
    len: u64,
}

/// An id list `start..start+count` with at most one id taken out: one or two runs.
struct Segments {
    parts: Vec<Run>,
    removed: bool,
}

impl Segments {
    fn without(start: u32, count: u32, hole: u32) -> Segments {
        let last = start as u64 + count as u64 - 1;
        if (hole as u64) < start as u64 || hole as u64 > last {
            return Segments {
                parts: vec![Run {
                    start,
                    len: count as u64,
                }],
                removed: false,
            };
        }
        let mut parts = Vec::with_capacity(2);
        if hole > start {
            parts.push(Run {
                start,
                len: (hole - start) as u64,
            });
        }
        if (hole as u64) < last {
            parts.push(Run {
                start: hole + 1,
                len: last - hole as u64,
            });
        }
        Segments {
            parts,
            removed: true,
        }
    }
}

/// Pairs the first `n` ids of two run lists element by element and merges the pairs into maximal mappings.
fn pair_runs(inner: &[Run], outer: &[Run], n: u32) -> Vec<IdMap> {
    let mut out: Vec<IdMap> = Vec::new();
    let (mut i, mut o) = (0, 0);
    let (mut i_off, mut o_off) = (0u64, 0u64);
    let mut left = n as u64;
    while left > 0 && i < inner.len() && o < outer.len() {
        let take = left.min(inner[i].len - i_off).min(outer[o].len - o_off);
        // Both starts are within their runs, which lie inside u32 space.
        let piece = IdMap {
            inner: (inner[i].start as u64 + i_off) as u32,
            outer: (outer[o].start as u64 + o_off) as u32,
            count: take as u32,
        };
        match out.last_mut() {
            Some(prev)
                if prev.inner as u64 + prev.count as u64 == piece.inner as u64
                    && prev.outer as u64 + prev.count as u64 == piece.outer as u64 =>
            {
                prev.count += piece.count
            }
            _ => out.push(piece),
        }
        left -= take;
        i_off += take;
        o_off += take;
        if i_off == inner[i].len {
            i += 1;
            i_off = 0;
        }
        if o_off == outer[o].len {
            o += 1;
            o_off = 0;
        }
    }
    out
}

impl RangeSpec {
    /// Parses a `--map-users`/`--map-groups` argument; the error is util-linux's `invalid mapping 'TEXT'`.
    pub fn parse(text: &str) -> Result<RangeSpec> {
        match text {
            "auto" => Ok(RangeSpec::Auto),
            "subids" => Ok(RangeSpec::SubIds),
            "all" => Ok(RangeSpec::All),
            _ => IdMap::parse(text)
                .map(RangeSpec::Range)
                .ok_or_else(|| Error::new(format!("invalid mapping '{text}'"))),
        }
    }

    /// The map lines this spec stands for, for the effective user `euid` (subordinate files are keyed by the
    /// user in both /etc/subuid and /etc/subgid).
    pub fn resolve(&self, kind: IdKind, euid: u32) -> Result<Vec<IdMap>> {
        match self {
            RangeSpec::Range(map) => Ok(vec![*map]),
            RangeSpec::Auto | RangeSpec::SubIds => {
                let name = users::user_by_uid(euid).map(|e| e.name);
                let content = std::fs::read(kind.subid_file()).unwrap_or_default();
                let range = users::subid_range_for(&content, name.as_deref(), euid)
                    .ok_or_else(|| no_subid_line(kind, name.as_deref(), euid))?;
                let inner = if *self == RangeSpec::Auto {
                    0
                } else {
                    range.start
                };
                Ok(vec![IdMap {
                    inner,
                    outer: range.start,
                    count: range.count,
                }])
            }
            RangeSpec::All => {
                let path = format!("/proc/self/{}", kind.map_file());
                let text =
                    std::fs::read_to_string(&path).or_ctx(|| format!("cannot read {path}"))?;
                Ok(parse_map_file(&text)
                    .into_iter()
                    .map(|m| IdMap {
                        inner: m.inner,
                        outer: m.inner,
                        count: m.count,
                    })
                    .collect())
            }
        }
    }
}

fn no_subid_line(kind: IdKind, name: Option<&[u8]>, euid: u32) -> Error {
    let who = match name {
        Some(n) => String::from_utf8_lossy(n).into_owned(),
        None => euid.to_string(),
    };
    Error::new(format!(
        "no line matching user \"{who}\" in {}",
        kind.subid_file()
    ))
}

/// Parses the content of a `/proc/PID/uid_map` (whitespace-separated triples, one per line).
pub fn parse_map_file(text: &str) -> Vec<IdMap> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace().map(|w| w.parse::<u32>().ok());
            let map = IdMap {
                inner: f.next()??,
                outer: f.next()??,
                count: f.next()??,
            };
            map.is_valid().then_some(map)
        })
        .collect()
}

/// The complete map of one kind: the single mapping first, then every range with the single punched out of it
/// (ranges are not adjusted against each other).
pub fn combine(single: Option<IdMap>, ranges: &[IdMap]) -> Vec<IdMap> {
    let mut lines: Vec<IdMap> = single.into_iter().collect();
    for range in ranges {
        match single {
            Some(s) => lines.extend(range.punch(s)),
            None => lines.push(*range),
        }
    }
    lines
}

/// Checks a complete map as the kernel will: no two lines overlap inside or outside, at most [`MAX_LINES`]
/// lines and less than a page of text. The error names the map's text as `invalid mapping`.
pub fn validate(lines: &[IdMap]) -> std::result::Result<(), String> {
    if lines.len() > MAX_LINES {
        return Err(format!(
            "too many id map lines ({}, the kernel takes at most {MAX_LINES})",
            lines.len()
        ));
    }
    if render(lines).len() > MAX_BYTES {
        return Err(format!(
            "id map text too long (the kernel takes at most {MAX_BYTES} bytes)"
        ));
    }
    for (n, a) in lines.iter().enumerate() {
        for b in &lines[..n] {
            let inner = a.inner <= b.inner_last() && b.inner <= a.inner_last();
            let outer = a.outer <= b.outer_last() && b.outer <= a.outer_last();
            if inner || outer {
                return Err(format!(
                    "overlapping id ranges '{b}' and '{a}' ({} ids overlap)",
                    if inner { "inner" } else { "outer" }
                ));
            }
        }
    }
    Ok(())
}

/// The text written to `uid_map`/`gid_map`: one `inner outer count` line per mapping.
pub fn render(lines: &[IdMap]) -> String {
    let mut text = String::with_capacity(lines.len() * 24);
    for line in lines {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{line}");
    }
    text
}

/// The arguments of newuidmap/newgidmap after the pid: `INNER OUTER COUNT` for every line.
pub fn helper_args(lines: &[IdMap]) -> Vec<String> {
    lines
        .iter()
        .flat_map(|l| {
            [
                l.inner.to_string(),
                l.outer.to_string(),
                l.count.to_string(),
            ]
        })
        .collect()
}

/// Writes `text` to `path` in one write(2), as the kernel requires for map files.
pub fn write_proc_file(path: &str, text: &str) -> std::io::Result<()> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(path, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())?;
    let written = rustix::io::write(&fd, text.as_bytes())?;
    if written != text.len() {
        return Err(std::io::Error::from_raw_os_error(libc::EIO));
    }
    Ok(())
}

/// `setgroups` file values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetGroups {
    Allow,
    Deny,
}

impl SetGroups {
    /// Parses `allow`/`deny`; util-linux's message otherwise.
    pub fn parse(text: &str) -> Result<SetGroups> {
        match text {
            "allow" => Ok(SetGroups::Allow),
            "deny" => Ok(SetGroups::Deny),
            _ => Err(Error::new(format!(
                "unsupported --setgroups argument '{text}'"
            ))),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            SetGroups::Allow => "allow",
            SetGroups::Deny => "deny",
        }
    }
}

/// Writes `value` to `/proc/self/setgroups`; ENOENT (kernels before 3.19) is not an error.
pub fn write_setgroups(value: SetGroups) -> Result<()> {
    match write_proc_file("/proc/self/setgroups", value.as_str()) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        other => other.or_ctx(|| "write failed /proc/self/setgroups"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(inner: u32, outer: u32, count: u32) -> IdMap {
        IdMap {
            inner,
            outer,
            count,
        }
    }

    #[test]
    fn parse_forms() {
        assert_eq!(IdMap::parse("0:100000:65536"), Some(m(0, 100000, 65536)));
        assert_eq!(IdMap::parse("100000,0,65536"), Some(m(0, 100000, 65536)));
        assert_eq!(IdMap::parse("+1:+2:+3"), Some(m(1, 2, 3)));
        assert_eq!(IdMap::parse("0:0:4294967295"), Some(m(0, 0, u32::MAX)));
        assert_eq!(IdMap::parse("4294967294:0:1"), Some(m(u32::MAX - 1, 0, 1)));
    }

    #[test]
    fn parse_rejects() {
        for bad in [
            "0:1",
            "a:b:c",
            "0:1000:0",
            "0:4294967290:100",
            "4294967295:0:2",
            "0:1:2:3",
            " 0:1:2",
            "0:1:-2",
            "0x1:1:1",
            "0:1,2:3",
            "",
            "0:4294967296:1",
            "4294967295:0:1",
            "0:4294967295:1",
            "1:1:4294967295",
            "::",
        ] {
            assert_eq!(IdMap::parse(bad), None, "{bad}");
        }
        assert_eq!(
            RangeSpec::parse("0:1").unwrap_err().message(),
            "invalid mapping '0:1'"
        );
        assert_eq!(RangeSpec::parse("auto").unwrap(), RangeSpec::Auto);
        assert_eq!(RangeSpec::parse("subids").unwrap(), RangeSpec::SubIds);
        assert_eq!(RangeSpec::parse("all").unwrap(), RangeSpec::All);
    }

    /// The observed 2.42 table (spec §4.3), outer euid 0.
    #[test]
    fn hole_punching() {
        let cases: &[(u32, IdMap, &[IdMap])] = &[
            (5, m(0, 100000, 10), &[m(0, 100000, 5), m(6, 100005, 4)]),
            (0, m(0, 100000, 10), &[m(1, 100000, 9)]),
            (100, m(0, 0, 10), &[m(0, 1, 9)]),
            (5, m(0, 0, 10), &[m(0, 1, 5), m(6, 6, 4)]),
            (109, m(100, 200, 10), &[m(100, 200, 9)]),
            (100, m(100, 200, 10), &[m(101, 200, 9)]),
            (0, m(0, 0, 1), &[]),
            (0, m(1, 100000, 65536), &[m(1, 100000, 65536)]),
            (0, m(0, 100000, 65536), &[m(1, 100000, 65535)]),
            (0, m(0, 0, u32::MAX), &[m(1, 1, u32::MAX - 1)]),
        ];
        for (inner, range, want) in cases {
            assert_eq!(
                range.punch(IdMap::single(*inner, 0)),
                want.to_vec(),
                "{inner} {range}"
            );
        }
    }

    #[test]
    fn combine_and_validate() {
        let lines = combine(Some(IdMap::single(0, 0)), &[m(0, 100000, 10)]);
        assert_eq!(lines, vec![m(0, 0, 1), m(1, 100000, 9)]);
        assert!(validate(&lines).is_ok());
        assert_eq!(render(&lines), "0 0 1\n1 100000 9\n");
        assert_eq!(helper_args(&lines), ["0", "0", "1", "1", "100000", "9"]);
        let both = combine(None, &[m(0, 100000, 10), m(10, 200000, 10)]);
        assert!(validate(&both).is_ok());
        assert!(validate(&[m(0, 100000, 10), m(5, 200000, 10)]).is_err());
        assert!(validate(&[m(0, 100000, 10), m(20, 100005, 10)]).is_err());
        let many: Vec<IdMap> = (0..341).map(|n| m(n, n, 1)).collect();
        assert!(validate(&many).is_err());
    }

    #[test]
    fn map_file() {
        assert_eq!(
            parse_map_file("         0          0 4294967295\n"),
            vec![m(0, 0, u32::MAX)]
        );
        assert_eq!(
            parse_map_file("0 1000 1\n1 100000 65536\n"),
            vec![m(0, 1000, 1), m(1, 100000, 65536)]
        );
    }

    #[test]
    fn setgroups_values() {
        assert_eq!(SetGroups::parse("deny").unwrap(), SetGroups::Deny);
        assert_eq!(
            SetGroups::parse("foo").unwrap_err().message(),
            "unsupported --setgroups argument 'foo'"
        );
    }
}
