//! The one place that speaks rtnetlink: a blocking `NETLINK_ROUTE` socket bound to one network namespace,
//! request/ack/dump handling, kernel errors with their extended-ack text, and the few requests both tools send.
//!
//! A netlink socket belongs to the netns its creating thread was in at `socket()` time, so [`Rtnl::open_in`]
//! enters the target netns, opens the socket and returns, and every later request on that socket talks to that
//! netns (spec A.10).
//!
//! Request bodies are netlink-packet-route's message types (`LinkMessage`, `AddressMessage`, `NsidMessage`),
//! emitted one by one behind a `nlmsghdr` written here; replies are decoded here, reading only the fields the
//! tools use. Going through the crate's `RouteNetlinkMessage` instead would link in its parser and emitter for
//! every rtnetlink message and attribute, 300 KB of the static multicall (bench/analysis.md, "Size").

use netlink_packet_core::{
    Emitable, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkExtentMask, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
use netlink_packet_route::AddressFamily;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use ns_common::error::{strerror, Error};
use ns_common::nlattr::{align, attributes, c_string, i32_at, u16_at, u32_at};
use std::fs::File;
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// iproute2's exit code for a kernel (netlink) error.
pub const EXIT_KERNEL: i32 = 2;

/// A request the kernel refused: its errno and, when the kernel gave one, its extended-ack message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    pub errno: i32,
    pub message: Option<String>,
}

impl KernelError {
    /// iproute2's wording: `Error: <extack>.` when the kernel explained itself, else
    /// `RTNETLINK answers: <strerror>`.
    pub fn text(&self) -> String {
        match &self.message {
            Some(m) if m.ends_with('.') => format!("Error: {m}"),
            Some(m) => format!("Error: {m}."),
            None => format!("RTNETLINK answers: {}", strerror(self.errno)),
        }
    }

    /// The error a tool ends with (rc 2, as `ip`).
    pub fn into_error(self) -> Error {
        Error::new(self.text()).with_code(EXIT_KERNEL)
    }
}

/// A failure talking to the kernel: either the socket itself failed, or the kernel answered with an error.
#[derive(Debug)]
pub enum NlError {
    Io(io::Error),
    Kernel(KernelError),
}

impl NlError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            NlError::Io(e) => e.raw_os_error(),
            NlError::Kernel(k) => Some(k.errno),
        }
    }

    pub fn into_error(self) -> Error {
        match self {
            NlError::Io(e) => Error::os("netlink", e).with_code(EXIT_KERNEL),
            NlError::Kernel(k) => k.into_error(),
        }
    }
}

impl From<io::Error> for NlError {
    fn from(e: io::Error) -> Self {
        NlError::Io(e)
    }
}

impl From<NlError> for Error {
    fn from(e: NlError) -> Self {
        e.into_error()
    }
}

pub type NlResult<T> = std::result::Result<T, NlError>;

/// A rtnetlink socket in one network namespace.
pub struct Rtnl {
    socket: Socket,
    sequence: u32,
}

/// `/proc/thread-self/ns/net`: the netns of the calling thread, which is what setns changes.
pub fn current_netns() -> io::Result<File> {
    File::open("/proc/thread-self/ns/net")
}

/// `setns(fd, CLONE_NEWNET)`.
pub fn enter_netns(fd: BorrowedFd<'_>) -> io::Result<()> {
    rustix::thread::move_into_link_name_space(fd, Some(rustix::thread::LinkNameSpaceType::Network))
        .map_err(io::Error::from)
}

impl Rtnl {
    /// A socket in the caller's netns, with extended acks and strict dump checking on.
    pub fn open() -> io::Result<Rtnl> {
        let socket = Socket::new(NETLINK_ROUTE)?;
        // Extended acks carry the kernel's own explanation ("Peer netns already has a nsid assigned");
        // capped acks keep error replies short (the request is not echoed back).
        socket.set_ext_ack(true)?;
        socket.set_cap_ack(true)?;
        // Older kernels lack strict checking; dumps then return everything, which we filter anyway.
        let _ = socket.set_netlink_get_strict_chk(true);
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Rtnl {
            socket,
            sequence: 0,
        })
    }

    /// A socket inside the netns `ns`: enter it, open the socket, come back.
    pub fn open_in(ns: BorrowedFd<'_>) -> io::Result<Rtnl> {
        let saved = current_netns()?;
        enter_netns(ns)?;
        let opened = Rtnl::open();
        // Going back cannot fail for a netns we were in a moment ago unless the kernel is out of memory;
        // carrying on in the wrong netns would be worse than stopping.
        if let Err(e) = enter_netns(saved.as_fd()) {
            return Err(io::Error::new(
                e.kind(),
                format!("cannot return to the original network namespace: {e}"),
            ));
        }
        opened
    }

    /// Sends one request: our `nlmsghdr`, then the body as netlink-packet-route emits it (see the module doc
    /// for why the body is not wrapped in the crate's `NetlinkMessage<RouteNetlinkMessage>`).
    fn send(&mut self, kind: u16, body: &impl Emitable, flags: u16) -> io::Result<u32> {
        self.sequence = self.sequence.wrapping_add(1);
        self.socket
            .send(&packet(kind, body, flags, self.sequence), 0)?;
        Ok(self.sequence)
    }

    /// Sends `body` as a message of type `kind` and collects the answer: every message of a dump
    /// (`NLM_F_DUMP`), nothing but the ack (`NLM_F_ACK`), or the single reply of a plain request.
    fn request(&mut self, kind: u16, body: &impl Emitable, flags: u16) -> NlResult<Vec<Reply>> {
        let sequence = self.send(kind, body, flags | NLM_F_REQUEST)?;
        self.receive(sequence, flags)
    }

    /// The answer to request `sequence` sent with `flags` (see [`Rtnl::request`]).
    fn receive(&mut self, sequence: u32, flags: u16) -> NlResult<Vec<Reply>> {
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut replies = Vec::new();
        let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
        loop {
            buf.clear();
            let len = match self.socket.recv(&mut buf, 0) {
                Ok(len) => len,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            let mut offset = 0;
            while offset + NLMSG_HDRLEN <= len.min(buf.len()) {
                let total = u32_at(&buf, offset).unwrap_or(0) as usize;
                if total < NLMSG_HDRLEN || offset + total > buf.len() {
                    break;
                }
                let chunk = &buf[offset..offset + total];
                offset += align(total);
                if u32_at(chunk, 8) != Some(sequence) {
                    continue;
                }
                let kind = u16_at(chunk, 4).unwrap_or(0);
                let header_flags = u16_at(chunk, 6).unwrap_or(0);
                let body = &chunk[NLMSG_HDRLEN..];
                match kind {
                    NLMSG_DONE => {
                        // A dump that fails after it started (e.g. an unknown target nsid) ends with a
                        // negative error in NLMSG_DONE, extended-ack attributes right after it.
                        match i32_at(body, 0) {
                            Some(code) if code < 0 => {
                                return Err(NlError::Kernel(KernelError {
                                    errno: code.wrapping_neg(),
                                    message: done_extack_message(header_flags, &body[4..]),
                                }))
                            }
                            _ => return Ok(replies),
                        }
                    }
                    NLMSG_ERROR => {
                        let code = i32_at(body, 0).ok_or_else(|| {
                            io::Error::new(
                                io::ErrorKind::InvalidData,
                                "short netlink error message",
                            )
                        })?;
                        if code == 0 {
                            return Ok(replies);
                        }
                        return Err(NlError::Kernel(KernelError {
                            errno: code.wrapping_neg(),
                            message: extack_message(header_flags, &body[4..]),
                        }));
                    }
                    kind if kind >= NLMSG_MIN_TYPE => {
                        replies.push(Reply {
                            kind,
                            body: body.to_vec(),
                        });
                        if !dump && flags & NLM_F_ACK == 0 {
                            return Ok(replies);
                        }
                    }
                    // NLMSG_NOOP and NLMSG_OVERRUN carry nothing for us.
                    _ => {}
                }
            }
        }
    }

    /// A request answered by an ack only.
    fn ack(&mut self, kind: u16, body: &impl Emitable, flags: u16) -> NlResult<()> {
        self.request(kind, body, flags | NLM_F_ACK).map(|_| ())
    }

    // --- links ---

    /// The link called `name` in this socket's netns (RTM_GETLINK with IFLA_IFNAME).
    pub fn link_by_name(&mut self, name: &str) -> NlResult<Link> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::ExtMask(vec![
            LinkExtentMask::Vf,
            LinkExtentMask::SkipStats,
        ]));
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        let replies = self.request(RTM_GETLINK, &msg, 0)?;
        replies
            .iter()
            .find_map(Link::parse)
            .ok_or_else(|| NlError::Io(io::Error::from_raw_os_error(libc::ENODEV)))
    }

    /// Every link of this socket's netns.
    pub fn links(&mut self) -> NlResult<Vec<Link>> {
        let mut msg = LinkMessage::default();
        msg.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let replies = self.request(RTM_GETLINK, &msg, NLM_F_DUMP)?;
        Ok(replies.iter().filter_map(Link::parse).collect())
    }

    /// One RTM_NEWLINK creating a veth pair, each end directly in its netns (no move afterwards).
    pub fn create_veth(&mut self, spec: &VethSpec<'_>) -> NlResult<()> {
        let mut peer = LinkMessage::default();
        if let Some(fd) = spec.peer_netns {
            peer.attributes.push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
        }
        peer.attributes
            .push(LinkAttribute::IfName(spec.peer.to_string()));
        if let Some(mtu) = spec.mtu {
            peer.attributes.push(LinkAttribute::Mtu(mtu));
        }
        let mut msg = LinkMessage::default();
        msg.attributes
            .push(LinkAttribute::IfName(spec.name.to_string()));
        if let Some(mtu) = spec.mtu {
            msg.attributes.push(LinkAttribute::Mtu(mtu));
        }
        if let Some(fd) = spec.netns {
            msg.attributes.push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
        }
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]));
        self.ack(RTM_NEWLINK, &msg, NLM_F_EXCL | NLM_F_CREATE)
    }

    /// Sets `IFF_UP` on the link `index` (ifi_change = IFF_UP, no attributes).
    pub fn set_up(&mut self, index: u32) -> NlResult<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        self.ack(RTM_NEWLINK, &msg, 0)
    }

    /// RTM_DELLINK by index.
    pub fn delete_link(&mut self, index: u32) -> NlResult<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        self.ack(RTM_DELLINK, &msg, 0)
    }

    /// RTM_DELLINK by name.
    pub fn delete_link_by_name(&mut self, name: &str) -> NlResult<()> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        self.ack(RTM_DELLINK, &msg, 0)
    }

    // --- addresses ---

    /// RTM_NEWADDR: `address/prefix_len` on link `index`, scope universe, IFA_LOCAL = IFA_ADDRESS.
    pub fn add_address(&mut self, index: u32, address: IpAddr, prefix_len: u8) -> NlResult<()> {
        let mut msg = AddressMessage::default();
        msg.header.family = match address {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        msg.header.prefix_len = prefix_len;
        msg.header.scope = AddressScope::Universe;
        msg.header.index = index;
        msg.attributes.push(AddressAttribute::Local(address));
        msg.attributes.push(AddressAttribute::Address(address));
        self.ack(RTM_NEWADDR, &msg, NLM_F_EXCL | NLM_F_CREATE)
    }

    /// Every address of this socket's netns.
    pub fn addresses(&mut self) -> NlResult<Vec<Address>> {
        let replies = self.request(RTM_GETADDR, &AddressMessage::default(), NLM_F_DUMP)?;
        Ok(replies.iter().filter_map(Address::parse).collect())
    }

    // --- nsids ---

    /// The nsid this netns gave the netns `fd` refers to (None when unassigned).
    pub fn nsid_of(&mut self, fd: BorrowedFd<'_>) -> NlResult<Option<i32>> {
        let mut msg = NsidMessage::default();
        msg.attributes
            .push(NsidAttribute::Fd(fd.as_raw_fd() as u32));
        let replies = self.request(RTM_GETNSID, &msg, 0)?;
        Ok(replies
            .iter()
            .find_map(NsidEntry::parse)
            .map(|entry| entry.nsid)
            .filter(|id| *id >= 0))
    }

    /// RTM_NEWNSID: give the netns `fd` the nsid `nsid` (-1 = let the kernel choose).
    pub fn set_nsid(&mut self, fd: BorrowedFd<'_>, nsid: i32) -> NlResult<()> {
        let mut msg = NsidMessage::default();
        msg.attributes
            .push(NsidAttribute::Fd(fd.as_raw_fd() as u32));
        msg.attributes.push(NsidAttribute::Id(nsid));
        self.ack(RTM_NEWNSID, &msg, 0)
    }

    /// RTM_GETNSID: a dump of every (nsid, current-nsid) pair, or the single `nsid`.
    pub fn nsids(&mut self, target: Option<i32>, nsid: Option<i32>) -> NlResult<Vec<NsidEntry>> {
        let mut msg = NsidMessage::default();
        if let Some(t) = target {
            msg.attributes.push(NsidAttribute::TargetNsid(t));
        }
        let flags = match nsid {
            Some(id) => {
                msg.attributes.push(NsidAttribute::Id(id));
                0
            }
            None => NLM_F_DUMP,
        };
        let replies = self.request(RTM_GETNSID, &msg, flags)?;
        Ok(replies.iter().filter_map(NsidEntry::parse).collect())
    }
}

/// What `veth add` asks the kernel to create.
pub struct VethSpec<'a> {
    pub name: &'a str,
    pub peer: &'a str,
    pub netns: Option<BorrowedFd<'a>>,
    pub peer_netns: Option<BorrowedFd<'a>>,
    pub mtu: Option<u32>,
}

// --- the wire format: message types, and the replies ---
//
// Only the fields the tools read are decoded; the rest of a reply is skipped. Layouts from
// `linux/netlink.h`, `linux/rtnetlink.h`, `linux/if_link.h`, `linux/if_addr.h` and `linux/net_namespace.h`.

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// Types below this are netlink's own messages (noop, error, done, overrun).
const NLMSG_MIN_TYPE: u16 = 16;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const RTM_NEWNSID: u16 = 88;
const RTM_GETNSID: u16 = 90;
/// `struct ifinfomsg`: family, pad, type (u16), index (s32), flags (u32), change (u32).
const IFINFOMSG_LEN: usize = 16;
/// `struct ifaddrmsg`: family, prefixlen, flags, scope (u8 each), index (u32).
const IFADDRMSG_LEN: usize = 8;
/// `struct rtgenmsg`: family, padded to 4 bytes.
const RTGENMSG_LEN: usize = 4;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINK: u16 = 5;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_LINK_NETNSID: u16 = 37;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const NETNSA_NSID: u16 = 1;
const NETNSA_CURRENT_NSID: u16 = 5;
const IFF_UP: u32 = 1;

/// A whole request: `nlmsghdr` (length, type, flags, sequence, port id 0 = to the kernel), then `body`.
fn packet(kind: u16, body: &impl Emitable, flags: u16, sequence: u32) -> Vec<u8> {
    let len = NLMSG_HDRLEN + body.buffer_len();
    let mut buf = vec![0u8; len];
    buf[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
    buf[4..6].copy_from_slice(&kind.to_ne_bytes());
    buf[6..8].copy_from_slice(&flags.to_ne_bytes());
    buf[8..12].copy_from_slice(&sequence.to_ne_bytes());
    body.emit(&mut buf[NLMSG_HDRLEN..]);
    buf
}

/// One message of an answer other than netlink's own: its type and what follows its `nlmsghdr`.
struct Reply {
    kind: u16,
    body: Vec<u8>,
}

/// The parts of an RTM_NEWLINK the tools read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    /// `IFF_*` flags.
    pub flags: u32,
    pub name: Option<String>,
    /// `IFLA_INFO_KIND` is `veth`.
    pub veth: bool,
    /// `IFLA_LINK`: for a veth, the peer's ifindex in the peer's netns.
    pub peer_index: Option<u32>,
    /// `IFLA_LINK_NETNSID`: the nsid of the peer's netns, when that is another netns.
    pub peer_nsid: Option<i32>,
}

impl Link {
    fn parse(reply: &Reply) -> Option<Link> {
        if reply.kind != RTM_NEWLINK {
            return None;
        }
        let body = &reply.body;
        let mut link = Link {
            index: u32_at(body, 4)?,
            flags: u32_at(body, 8)?,
            name: None,
            veth: false,
            peer_index: None,
            peer_nsid: None,
        };
        for (kind, value) in attributes(body.get(IFINFOMSG_LEN..)?) {
            match kind {
                IFLA_IFNAME => link.name = Some(String::from_utf8_lossy(c_string(value)).into()),
                IFLA_LINK => link.peer_index = u32_at(value, 0),
                IFLA_LINK_NETNSID => link.peer_nsid = i32_at(value, 0),
                IFLA_LINKINFO => {
                    link.veth = attributes(value)
                        .any(|(k, v)| k == IFLA_INFO_KIND && c_string(v) == b"veth");
                }
                _ => {}
            }
        }
        Some(link)
    }

    pub fn is_up(&self) -> bool {
        self.flags & IFF_UP != 0
    }
}

/// The parts of an RTM_NEWADDR the tools read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub index: u32,
    pub prefix_len: u8,
    /// `IFA_LOCAL`, else `IFA_ADDRESS` (they differ only on point-to-point links).
    pub address: Option<IpAddr>,
}

impl Address {
    fn parse(reply: &Reply) -> Option<Address> {
        if reply.kind != RTM_NEWADDR {
            return None;
        }
        let body = &reply.body;
        let (mut local, mut address) = (None, None);
        for (kind, value) in attributes(body.get(IFADDRMSG_LEN..)?) {
            match kind {
                IFA_LOCAL => local = ip_address(value),
                IFA_ADDRESS => address = ip_address(value),
                _ => {}
            }
        }
        Some(Address {
            index: u32_at(body, 4)?,
            prefix_len: *body.get(1)?,
            address: local.or(address),
        })
    }
}

fn ip_address(value: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(value) {
        return Some(IpAddr::from(v4));
    }
    <[u8; 16]>::try_from(value).ok().map(IpAddr::from)
}

/// One answer of an nsid dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NsidEntry {
    pub nsid: i32,
    /// With a target nsid: the nsid the target netns gives the netns this entry names.
    pub current: Option<i32>,
}

impl NsidEntry {
    /// An RTM_NEWNSID with its NETNSA_NSID (None without one).
    fn parse(reply: &Reply) -> Option<NsidEntry> {
        if reply.kind != RTM_NEWNSID {
            return None;
        }
        let (mut nsid, mut current) = (None, None);
        for (kind, value) in attributes(reply.body.get(RTGENMSG_LEN..)?) {
            match kind {
                NETNSA_NSID => nsid = i32_at(value, 0),
                NETNSA_CURRENT_NSID => current = i32_at(value, 0),
                _ => {}
            }
        }
        Some(NsidEntry {
            nsid: nsid?,
            current,
        })
    }
}

/// The extended-ack text (`NLMSGERR_ATTR_MSG`) of an error reply, if the kernel attached one.
/// `payload` is what follows the error code: the echoed request header (just the header when capped),
/// then the TLVs.
fn extack_message(flags: u16, payload: &[u8]) -> Option<String> {
    const NLMSGERR_ATTR_MSG: u16 = 1;
    if flags & NLM_F_ACK_TLVS == 0 || payload.len() < NLMSG_HDRLEN {
        return None;
    }
    let echoed = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        u32_at(payload, 0)? as usize
    };
    attributes(payload.get(align(echoed)..)?)
        .find(|(kind, _)| *kind == NLMSGERR_ATTR_MSG)
        .map(|(_, text)| String::from_utf8_lossy(c_string(text)).into_owned())
}

/// The extended-ack text of a failed dump's NLMSG_DONE (no echoed request there, unlike NLMSG_ERROR).
fn done_extack_message(flags: u16, attrs: &[u8]) -> Option<String> {
    const NLMSGERR_ATTR_MSG: u16 = 1;
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    attributes(attrs)
        .find(|(kind, _)| *kind == NLMSGERR_ATTR_MSG)
        .map(|(_, text)| String::from_utf8_lossy(c_string(text)).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_error_wording() {
        let e = KernelError {
            errno: libc::EEXIST,
            message: None,
        };
        assert_eq!(e.text(), "RTNETLINK answers: File exists");
        let e = KernelError {
            errno: libc::EINVAL,
            message: Some("Peer netns already has a nsid assigned".into()),
        };
        assert_eq!(e.text(), "Error: Peer netns already has a nsid assigned.");
        assert_eq!(e.into_error().code(), 2);
    }

    #[test]
    fn extack_after_capped_header() {
        let mut payload = vec![0u8; 16];
        let text = b"ipv4: Address already assigned\0";
        let len = (4 + text.len()) as u16;
        payload.extend_from_slice(&len.to_ne_bytes());
        payload.extend_from_slice(&1u16.to_ne_bytes());
        payload.extend_from_slice(text);
        assert_eq!(
            extack_message(NLM_F_ACK_TLVS | NLM_F_CAPPED, &payload).as_deref(),
            Some("ipv4: Address already assigned")
        );
        assert_eq!(extack_message(NLM_F_CAPPED, &payload), None);
    }

    /// Our header plus the crate's body must be exactly the bytes the crate's whole-message emitter makes.
    #[test]
    fn request_framing_matches_the_crate() {
        use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
        use netlink_packet_route::RouteNetlinkMessage;
        let mut peer = LinkMessage::default();
        peer.attributes.push(LinkAttribute::NetNsFd(4));
        peer.attributes.push(LinkAttribute::IfName("right".into()));
        let mut link = LinkMessage::default();
        link.attributes.push(LinkAttribute::IfName("left0".into()));
        link.attributes.push(LinkAttribute::Mtu(1400));
        link.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]));
        let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;
        let ours = packet(RTM_NEWLINK, &link, flags, 7);

        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = 7;
        let mut whole = NetlinkMessage::new(
            header,
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)),
        );
        whole.finalize();
        let mut theirs = vec![0u8; whole.buffer_len()];
        whole.serialize(&mut theirs);
        assert_eq!(ours, theirs);
    }

    /// A reply as the crate would emit it, parsed by our decoder.
    fn reply_of(kind: u16, body: &impl Emitable) -> Reply {
        let bytes = packet(kind, body, 0, 1);
        Reply {
            kind,
            body: bytes[NLMSG_HDRLEN..].to_vec(),
        }
    }

    #[test]
    fn link_reply() {
        let mut msg = LinkMessage::default();
        msg.header.index = 12;
        msg.header.flags = LinkFlags::Up | LinkFlags::Broadcast;
        msg.attributes.push(LinkAttribute::IfName("veth0".into()));
        msg.attributes.push(LinkAttribute::Mtu(1500));
        msg.attributes.push(LinkAttribute::Link(3));
        msg.attributes.push(LinkAttribute::LinkNetNsId(2));
        msg.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Veth,
            )]));
        let link = Link::parse(&reply_of(RTM_NEWLINK, &msg)).unwrap();
        assert_eq!(
            link,
            Link {
                index: 12,
                flags: libc::IFF_UP as u32 | libc::IFF_BROADCAST as u32,
                name: Some("veth0".into()),
                veth: true,
                peer_index: Some(3),
                peer_nsid: Some(2),
            }
        );
        assert!(link.is_up());

        let mut lo = LinkMessage::default();
        lo.header.index = 1;
        lo.attributes.push(LinkAttribute::IfName("lo".into()));
        let lo = Link::parse(&reply_of(RTM_NEWLINK, &lo)).unwrap();
        assert!(!lo.veth && !lo.is_up());
        assert_eq!((lo.peer_index, lo.peer_nsid), (None, None));
        assert_eq!(Link::parse(&reply_of(RTM_NEWADDR, &msg)), None);
    }

    #[test]
    fn address_reply() {
        let v6: IpAddr = "fd00::1".parse().unwrap();
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet6;
        msg.header.prefix_len = 64;
        msg.header.index = 5;
        msg.attributes.push(AddressAttribute::Address(v6));
        let a = Address::parse(&reply_of(RTM_NEWADDR, &msg)).unwrap();
        assert_eq!((a.index, a.prefix_len, a.address), (5, 64, Some(v6)));

        // IFA_LOCAL wins over IFA_ADDRESS (the peer's address on a point-to-point link).
        let local: IpAddr = "10.0.0.1".parse().unwrap();
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet;
        msg.header.prefix_len = 32;
        msg.attributes
            .push(AddressAttribute::Address("10.0.0.2".parse().unwrap()));
        msg.attributes.push(AddressAttribute::Local(local));
        let a = Address::parse(&reply_of(RTM_NEWADDR, &msg)).unwrap();
        assert_eq!(a.address, Some(local));
    }

    #[test]
    fn nsid_reply() {
        let mut msg = NsidMessage::default();
        msg.attributes.push(NsidAttribute::Id(4711));
        msg.attributes.push(NsidAttribute::CurrentNsid(-1));
        assert_eq!(
            NsidEntry::parse(&reply_of(RTM_NEWNSID, &msg)),
            Some(NsidEntry {
                nsid: 4711,
                current: Some(-1)
            })
        );
        assert_eq!(
            NsidEntry::parse(&reply_of(RTM_NEWNSID, &NsidMessage::default())),
            None
        );
    }
}
