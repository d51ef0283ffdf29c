//! `veth add|del|list`: veth pairs over rtnetlink in one process (spec part B).
//!
//! `add` creates both ends directly in their target namespaces with one RTM_NEWLINK (moving a device costs
//! ~19 ms of kernel time), then addresses and raises them through one socket per namespace. It is atomic:
//! if anything fails after the pair exists, the pair is deleted before the error is reported.

use crate::cli::match_keyword;
use crate::json::{self, Value};
use crate::names::{check_ifname, netns_path, veth_ns_path};
use crate::rtnl::{current_netns, Address, NlError, Rtnl, VethSpec};
use crate::VETH;
use ns_common::error::{Error, Result};
use ns_common::opts::{print_stdout, run_tool, Matched};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

pub fn main(args: Vec<OsString>) -> i32 {
    run_tool(&VETH, args, run)
}

/// An address with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub address: IpAddr,
    pub prefix_len: u8,
}

impl Cidr {
    /// `a.b.c.d[/0-32]` or `x:…[/0-128]`; without a prefix, a host address.
    pub fn parse(text: &str) -> Result<Cidr> {
        let bad = || Error::usage(format!("invalid address '{text}'"));
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let address: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix_len = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|n| *n <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
        };
        Ok(Cidr {
            address,
            prefix_len,
        })
    }
}

/// What the options of one invocation said.
#[derive(Debug, Default)]
struct Options {
    netns: Option<OsString>,
    peer_netns: Option<OsString>,
    addrs: Vec<Cidr>,
    peer_addrs: Vec<Cidr>,
    mtu: Option<u32>,
    up: bool,
    json: bool,
}

fn parse_mtu(text: &str) -> Result<u32> {
    text.parse::<u32>()
        .ok()
        .filter(|n| (68..=65535).contains(n))
        .ok_or_else(|| Error::usage(format!("invalid MTU '{text}' (68-65535)")))
}

fn read_options(opts: &[Matched]) -> Result<Options> {
    let mut o = Options::default();
    for m in opts {
        match m.name() {
            "netns" => o.netns = m.value.clone(),
            "peer-netns" => o.peer_netns = m.value.clone(),
            "addr" => o.addrs.push(Cidr::parse(&m.value_str())?),
            "peer-addr" => o.peer_addrs.push(Cidr::parse(&m.value_str())?),
            "mtu" => o.mtu = Some(parse_mtu(&m.value_str())?),
            "up" => o.up = true,
            "json" => o.json = true,
            _ => {}
        }
    }
    Ok(o)
}

/// Refuses options that make no sense for `sub` (rather than silently ignoring them).
fn only(opts: &[Matched], sub: &str, allowed: &[&str]) -> Result<()> {
    match opts.iter().find(|m| !allowed.contains(&m.name())) {
        Some(m) => Err(Error::usage(format!(
            "option '--{}' does not apply to '{sub}'",
            m.name()
        ))),
        None => Ok(()),
    }
}

fn run(opts: Vec<Matched>, operands: Vec<OsString>) -> Result<i32> {
    let Some(word) = operands.first() else {
        return Err(Error::usage("no subcommand given (add, del or list)"));
    };
    let text = word.to_string_lossy();
    let sub = match_keyword(&text, &["add", "delete", "del", "list", "show"])
        .ok_or_else(|| Error::usage(format!("unknown subcommand '{text}'")))?;
    let args = &operands[1..];
    let options = read_options(&opts)?;
    match sub {
        "add" => {
            let [name, peer] = args else {
                return Err(Error::usage("'add' needs NAME and PEER"));
            };
            add(&str_arg(name)?, &str_arg(peer)?, &options)
        }
        "delete" | "del" => {
            only(&opts, "del", &["netns"])?;
            let [name] = args else {
                return Err(Error::usage("'del' needs NAME"));
            };
            del(&str_arg(name)?, &options)
        }
        _ => {
            only(&opts, "list", &["netns", "json"])?;
            if let Some(extra) = args.first() {
                return Err(Error::usage(format!(
                    "unexpected argument '{}'",
                    extra.to_string_lossy()
                )));
            }
            list(&options)
        }
    }
}

fn str_arg(word: &OsStr) -> Result<String> {
    let name = word.to_str().ok_or_else(|| {
        Error::new(format!(
            "invalid interface name '{}'",
            word.to_string_lossy()
        ))
    })?;
    check_ifname(name)?;
    Ok(name.to_string())
}

/// Opens an NS argument: `cannot open network namespace "left": <err>`. veth becomes non-dumpable first: it
/// holds the fd to its exit and briefly enters that netns to open a socket there.
fn open_ns(word: &OsStr) -> Result<File> {
    ns_common::nsfile::become_non_dumpable()?;
    File::open(veth_ns_path(word)).map_err(|e| {
        Error::os(
            format!(
                "cannot open network namespace \"{}\"",
                word.to_string_lossy()
            ),
            e,
        )
    })
}

/// (device, inode) of a netns file: equal for two files of the same netns.
type NsKey = (u64, u64);

fn ns_key(file: &File) -> Result<NsKey> {
    let m = file
        .metadata()
        .map_err(|e| Error::os("cannot stat network namespace", e))?;
    Ok((m.dev(), m.ino()))
}

/// One rtnetlink socket per network namespace, opened on first use.
struct Sockets {
    own: NsKey,
    open: Vec<(NsKey, Rtnl)>,
}

impl Sockets {
    fn new() -> Result<Sockets> {
        let own_file =
            current_netns().map_err(|e| Error::os("cannot open /proc/thread-self/ns/net", e))?;
        let own = ns_key(&own_file)?;
        let rtnl = Rtnl::open().map_err(|e| Error::os("cannot open rtnetlink socket", e))?;
        Ok(Sockets {
            own,
            open: vec![(own, rtnl)],
        })
    }

    /// The socket for `ns` (None = our own netns).
    fn get(&mut self, ns: Option<&File>) -> Result<&mut Rtnl> {
        let key = match ns {
            Some(f) => ns_key(f)?,
            None => self.own,
        };
        let at = match self.open.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                let file =
                    ns.ok_or_else(|| Error::new("no socket for the current network namespace"))?;
                let rtnl = Rtnl::open_in(file.as_fd()).map_err(|e| {
                    Error::os("cannot open a rtnetlink socket in the network namespace", e)
                })?;
                self.open.push((key, rtnl));
                self.open.len() - 1
            }
        };
        Ok(&mut self.open[at].1)
    }

    fn is_own(&self, ns: Option<&File>) -> Result<bool> {
        Ok(match ns {
            Some(f) => ns_key(f)? == self.own,
            None => true,
        })
    }
}

fn cannot_find(name: &str, err: NlError) -> Error {
    match err.errno() {
        Some(libc::ENODEV) => Error::new(format!("Cannot find device \"{name}\"")),
        _ => err.into_error(),
    }
}

fn add(name: &str, peer: &str, o: &Options) -> Result<i32> {
    let netns = o.netns.as_deref().map(open_ns).transpose()?;
    let peer_netns = o.peer_netns.as_deref().map(open_ns).transpose()?;
    let mut sockets = Sockets::new()?;
    if name == peer {
        let a = netns
            .as_ref()
            .map(ns_key)
            .transpose()?
            .unwrap_or(sockets.own);
        let b = peer_netns
            .as_ref()
            .map(ns_key)
            .transpose()?
            .unwrap_or(sockets.own);
        if a == b {
            return Err(Error::usage(format!(
                "NAME and PEER are both '{name}' in the same network namespace"
            )));
        }
    }
    let spec = VethSpec {
        name,
        peer,
        netns: netns.as_ref().map(|f| f.as_fd()),
        peer_netns: peer_netns.as_ref().map(|f| f.as_fd()),
        mtu: o.mtu,
    };
    sockets.get(None)?.create_veth(&spec)?;
    let ends = [
        (name, netns.as_ref(), &o.addrs),
        (peer, peer_netns.as_ref(), &o.peer_addrs),
    ];
    if let Err(e) = configure(&mut sockets, &ends, o.up) {
        rollback(&mut sockets, &ends);
        return Err(e);
    }
    Ok(0)
}

type End<'a> = (&'a str, Option<&'a File>, &'a Vec<Cidr>);

/// Addresses, then `--up` for both ends and `lo` in each namespace we were asked to put an end in.
fn configure(sockets: &mut Sockets, ends: &[End<'_>; 2], up: bool) -> Result<()> {
    let mut indexes = [0u32; 2];
    for (i, (name, ns, addrs)) in ends.iter().enumerate() {
        if addrs.is_empty() && !up {
            continue;
        }
        let rtnl = sockets.get(*ns)?;
        indexes[i] = rtnl
            .link_by_name(name)
            .map_err(|e| cannot_find(name, e))?
            .index;
        for cidr in addrs.iter() {
            rtnl.add_address(indexes[i], cidr.address, cidr.prefix_len)?;
        }
    }
    if !up {
        return Ok(());
    }
    for (i, (_, ns, _)) in ends.iter().enumerate() {
        sockets.get(*ns)?.set_up(indexes[i])?;
    }
    for (_, ns, _) in ends.iter() {
        if sockets.is_own(*ns)? {
            continue;
        }
        let rtnl = sockets.get(*ns)?;
        let lo = rtnl.link_by_name("lo").map_err(|e| cannot_find("lo", e))?;
        if !lo.is_up() {
            rtnl.set_up(lo.index)?;
        }
    }
    Ok(())
}

/// Deletes the pair (either end takes the other with it), trying NAME's side first, then PEER's.
fn rollback(sockets: &mut Sockets, ends: &[End<'_>; 2]) {
    for (name, ns, _) in ends.iter() {
        if let Ok(rtnl) = sockets.get(*ns) {
            if rtnl.delete_link_by_name(name).is_ok() {
                return;
            }
        }
    }
}

fn del(name: &str, o: &Options) -> Result<i32> {
    let netns = o.netns.as_deref().map(open_ns).transpose()?;
    let mut sockets = Sockets::new()?;
    let rtnl = sockets.get(netns.as_ref())?;
    let link = rtnl.link_by_name(name).map_err(|e| cannot_find(name, e))?;
    if !link.veth {
        return Err(Error::new(format!("{name} is not a veth device")));
    }
    rtnl.delete_link(link.index)?;
    Ok(0)
}

fn address_text(a: &Address) -> Option<String> {
    a.address.map(|ip| format!("{ip}/{}", a.prefix_len))
}

/// One row of `veth list`.
struct Row {
    name: String,
    ifindex: u32,
    state: &'static str,
    peer: String,
    peer_ifindex: i64,
    peer_netns: String,
    addresses: Vec<String>,
}

fn list(o: &Options) -> Result<i32> {
    let netns = o.netns.as_deref().map(open_ns).transpose()?;
    let mut sockets = Sockets::new()?;
    let rtnl = sockets.get(netns.as_ref())?;
    let links = rtnl.links()?;
    let addresses = rtnl.addresses()?;
    // nsid (as the listed netns numbers them) → /run/netns name.
    let mut names = std::collections::HashMap::new();
    for entry in crate::rundir::names() {
        if let Ok(f) = File::open(netns_path(&entry)) {
            if let Ok(Some(id)) = rtnl.nsid_of(f.as_fd()) {
                names.entry(id).or_insert(entry);
            }
        }
    }
    let mut rows = Vec::new();
    for link in links.iter().filter(|l| l.veth) {
        let ifindex = link.index;
        let peer_ifindex = link.peer_index.map_or(0, i64::from);
        let nsid = link.peer_nsid.map(i64::from);
        let fallback_peer = format!("if{peer_ifindex}");
        let (peer_netns, peer) = match nsid {
            None => {
                let peer = links
                    .iter()
                    .find(|l| i64::from(l.index) == peer_ifindex)
                    .and_then(|l| l.name.clone())
                    .unwrap_or(fallback_peer);
                ("-".to_string(), peer)
            }
            Some(id) => match i32::try_from(id).ok().and_then(|id| names.get(&id)) {
                Some(ns_name) => {
                    let peer = peer_name_in(ns_name, peer_ifindex).unwrap_or(fallback_peer);
                    (ns_name.to_string_lossy().into_owned(), peer)
                }
                None => (format!("nsid {id}"), fallback_peer),
            },
        };
        rows.push(Row {
            name: link.name.clone().unwrap_or_else(|| "?".to_string()),
            ifindex,
            state: if link.is_up() { "UP" } else { "DOWN" },
            peer,
            peer_ifindex,
            peer_netns,
            addresses: addresses
                .iter()
                .filter(|a| a.index == ifindex)
                .filter_map(address_text)
                .collect(),
        });
    }
    if o.json {
        let objects: Vec<json::Object> = rows
            .into_iter()
            .map(|r| {
                vec![
                    ("name", Value::Str(r.name)),
                    ("ifindex", Value::Int(r.ifindex.into())),
                    ("state", Value::Str(r.state.into())),
                    ("peer", Value::Str(r.peer)),
                    ("peer_ifindex", Value::Int(r.peer_ifindex)),
                    ("peer_netns", Value::Str(r.peer_netns)),
                    ("addresses", Value::StrList(r.addresses)),
                ]
            })
            .collect();
        return print_stdout(&json::array(&objects, false));
    }
    let table: Vec<[String; 5]> = rows
        .into_iter()
        .map(|r| {
            let addresses = if r.addresses.is_empty() {
                "-".to_string()
            } else {
                r.addresses.join(",")
            };
            [r.name, r.peer, r.peer_netns, r.state.to_string(), addresses]
        })
        .collect();
    let header = ["NAME", "PEER", "PEER-NETNS", "STATE", "ADDRESSES"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(table.iter()) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$} ", width = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    print_stdout(&out)
}

/// The name of link `index` inside the named netns, if we can look there.
fn peer_name_in(ns_name: &OsStr, index: i64) -> Option<String> {
    let file = File::open(netns_path(ns_name)).ok()?;
    let mut rtnl = Rtnl::open_in(file.as_fd()).ok()?;
    rtnl.links()
        .ok()?
        .iter()
        .find(|l| i64::from(l.index) == index)
        .and_then(|l| l.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        let c = Cidr::parse("192.168.0.1/24").unwrap();
        assert_eq!(c.address, "192.168.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(c.prefix_len, 24);
        assert_eq!(Cidr::parse("10.0.0.1").unwrap().prefix_len, 32);
        assert_eq!(Cidr::parse("fd00::1").unwrap().prefix_len, 128);
        assert_eq!(Cidr::parse("fd00::1/64").unwrap().prefix_len, 64);
        for bad in [
            "10.0.0.1/33",
            "fd00::1/129",
            "x/24",
            "10.0.0.1/",
            "10.0.0.1/+1",
            "",
        ] {
            let e = Cidr::parse(bad).unwrap_err();
            assert_eq!(e.message(), format!("invalid address '{bad}'"));
        }
    }

    #[test]
    fn mtus() {
        assert_eq!(parse_mtu("1500").unwrap(), 1500);
        assert!(parse_mtu("67").is_err());
        assert!(parse_mtu("65536").is_err());
        assert!(parse_mtu("abc").is_err());
    }
}
