//! The one place that speaks rtnetlink: a blocking `NETLINK_ROUTE` socket bound to one network namespace,
//! request/ack/dump handling, kernel errors with their extended-ack text, and the few requests both tools send.
//!
//! A netlink socket belongs to the netns its creating thread was in at `socket()` time, so [`Rtnl::open_in`]
//! enters the target netns, opens the socket and returns, and every later request on that socket talks to that
//! netns (spec A.10).

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED,
    NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkExtentMask, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use ns_common::error::{strerror, Error};
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

    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> io::Result<u32> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket.send(&buf, 0)?;
        Ok(self.sequence)
    }

    /// Sends `message` and collects the answer: every message of a dump (`NLM_F_DUMP`), nothing but the ack
    /// (`NLM_F_ACK`), or the single reply of a plain request.
    pub fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> NlResult<Vec<RouteNetlinkMessage>> {
        let sequence = self.send(message, flags | NLM_F_REQUEST)?;
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
            while offset + 16 <= len.min(buf.len()) {
                let total = u32::from_ne_bytes([
                    buf[offset],
                    buf[offset + 1],
                    buf[offset + 2],
                    buf[offset + 3],
                ]) as usize;
                if total < 16 || offset + total > buf.len() {
                    break;
                }
                let chunk = &buf[offset..offset + total];
                offset += (total + 3) & !3;
                let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(chunk)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                if parsed.header.sequence_number != sequence {
                    continue;
                }
                let header_flags = parsed.header.flags;
                match parsed.payload {
                    NetlinkPayload::Done(_) => return Ok(replies),
                    NetlinkPayload::Error(err) => match err.code {
                        None => return Ok(replies),
                        Some(code) => {
                            return Err(NlError::Kernel(KernelError {
                                errno: -code.get(),
                                message: extack_message(header_flags, &err.header),
                            }))
                        }
                    },
                    NetlinkPayload::InnerMessage(inner) => {
                        replies.push(inner);
                        if !dump && flags & NLM_F_ACK == 0 {
                            return Ok(replies);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// A request answered by an ack only.
    pub fn ack(&mut self, message: RouteNetlinkMessage, flags: u16) -> NlResult<()> {
        self.request(message, flags | NLM_F_ACK).map(|_| ())
    }

    // --- links ---

    /// The interface index of `name` in this socket's netns (RTM_GETLINK with IFLA_IFNAME).
    pub fn link_by_name(&mut self, name: &str) -> NlResult<LinkMessage> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::ExtMask(vec![
            LinkExtentMask::Vf,
            LinkExtentMask::SkipStats,
        ]));
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        let replies = self.request(RouteNetlinkMessage::GetLink(msg), 0)?;
        replies
            .into_iter()
            .find_map(|m| match m {
                RouteNetlinkMessage::NewLink(link) => Some(link),
                _ => None,
            })
            .ok_or_else(|| NlError::Io(io::Error::from_raw_os_error(libc::ENODEV)))
    }

    /// Every link of this socket's netns.
    pub fn links(&mut self) -> NlResult<Vec<LinkMessage>> {
        let mut msg = LinkMessage::default();
        msg.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let replies = self.request(RouteNetlinkMessage::GetLink(msg), NLM_F_DUMP)?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(link) => Some(link),
                _ => None,
            })
            .collect())
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
        self.ack(RouteNetlinkMessage::NewLink(msg), NLM_F_EXCL | NLM_F_CREATE)
    }

    /// Sets `IFF_UP` on the link `index` (ifi_change = IFF_UP, no attributes).
    pub fn set_up(&mut self, index: u32) -> NlResult<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        self.ack(RouteNetlinkMessage::NewLink(msg), 0)
    }

    /// RTM_DELLINK by index.
    pub fn delete_link(&mut self, index: u32) -> NlResult<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        self.ack(RouteNetlinkMessage::DelLink(msg), 0)
    }

    /// RTM_DELLINK by name.
    pub fn delete_link_by_name(&mut self, name: &str) -> NlResult<()> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        self.ack(RouteNetlinkMessage::DelLink(msg), 0)
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
        self.ack(
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_EXCL | NLM_F_CREATE,
        )
    }

    /// Every address of this socket's netns.
    pub fn addresses(&mut self) -> NlResult<Vec<AddressMessage>> {
        let replies = self.request(
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            NLM_F_DUMP,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => Some(a),
                _ => None,
            })
            .collect())
    }

    // --- nsids ---

    /// The nsid this netns gave the netns `fd` refers to (None when unassigned).
    pub fn nsid_of(&mut self, fd: BorrowedFd<'_>) -> NlResult<Option<i32>> {
        let mut msg = NsidMessage::default();
        msg.attributes
            .push(NsidAttribute::Fd(fd.as_raw_fd() as u32));
        let replies = self.request(RouteNetlinkMessage::GetNsId(msg), 0)?;
        Ok(replies.iter().find_map(|m| match m {
            RouteNetlinkMessage::NewNsId(n) => nsid_attr(n, |a| match a {
                NsidAttribute::Id(id) if *id >= 0 => Some(*id),
                _ => None,
            }),
            _ => None,
        }))
    }

    /// RTM_NEWNSID: give the netns `fd` the nsid `nsid` (-1 = let the kernel choose).
    pub fn set_nsid(&mut self, fd: BorrowedFd<'_>, nsid: i32) -> NlResult<()> {
        let mut msg = NsidMessage::default();
        msg.attributes
            .push(NsidAttribute::Fd(fd.as_raw_fd() as u32));
        msg.attributes.push(NsidAttribute::Id(nsid));
        self.ack(RouteNetlinkMessage::NewNsId(msg), 0)
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
        let replies = self.request(RouteNetlinkMessage::GetNsId(msg), flags)?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewNsId(n) => Some(NsidEntry {
                    nsid: nsid_attr(n, |a| match a {
                        NsidAttribute::Id(id) => Some(*id),
                        _ => None,
                    })?,
                    current: nsid_attr(n, |a| match a {
                        NsidAttribute::CurrentNsid(id) => Some(*id),
                        _ => None,
                    }),
                }),
                _ => None,
            })
            .collect())
    }
}

/// One answer of an nsid dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NsidEntry {
    pub nsid: i32,
    /// With a target nsid: the nsid the target netns gives the netns this entry names.
    pub current: Option<i32>,
}

fn nsid_attr(msg: &NsidMessage, pick: impl Fn(&NsidAttribute) -> Option<i32>) -> Option<i32> {
    msg.attributes.iter().find_map(pick)
}

/// What `veth add` asks the kernel to create.
pub struct VethSpec<'a> {
    pub name: &'a str,
    pub peer: &'a str,
    pub netns: Option<BorrowedFd<'a>>,
    pub peer_netns: Option<BorrowedFd<'a>>,
    pub mtu: Option<u32>,
}

/// The extended-ack text (`NLMSGERR_ATTR_MSG`) of an error reply, if the kernel attached one.
/// `payload` is what follows the error code: the echoed request header (just the header when capped),
/// then the TLVs.
fn extack_message(flags: u16, payload: &[u8]) -> Option<String> {
    const NLMSGERR_ATTR_MSG: u16 = 1;
    if flags & NLM_F_ACK_TLVS == 0 || payload.len() < 16 {
        return None;
    }
    let echoed = if flags & NLM_F_CAPPED != 0 {
        16
    } else {
        u32::from_ne_bytes([payload[0], payload[1], payload[2], payload[3]]) as usize
    };
    let mut rest = payload.get((echoed + 3) & !3..)?;
    while rest.len() >= 4 {
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
        let kind = u16::from_ne_bytes([rest[2], rest[3]]) & 0x3fff;
        if len < 4 || len > rest.len() {
            break;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let text = &rest[4..len];
            let text = text.split(|&b| b == 0).next().unwrap_or(text);
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
    }
    None
}

/// The name of a link message.
pub fn link_name(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

/// Whether a link message describes a veth device.
pub fn is_veth(link: &LinkMessage) -> bool {
    link.attributes.iter().any(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos
            .iter()
            .any(|i| matches!(i, LinkInfo::Kind(InfoKind::Veth))),
        _ => false,
    })
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
}
