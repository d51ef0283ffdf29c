//! NETNSID: the id a network namespace has as seen from ours, asked with one `RTM_GETNSID` per namespace.
//!
//! The request is built by hand (a 20-byte header and one 8-byte attribute) instead of pulling in the
//! netlink-packet crates: it is the only netlink message lsns sends, and the reply has one attribute to read.
//! Layout (`linux/netlink.h`, `linux/rtnetlink.h`, `linux/net_namespace.h`):
//!
//! ```text
//! nlmsghdr { len: u32, type: u16 = RTM_GETNSID, flags: u16 = NLM_F_REQUEST, seq: u32, pid: u32 }
//! rtgenmsg { family: u8 = AF_UNSPEC } + 3 bytes padding
//! rtattr   { len: u16 = 8, type: u16 = NETNSA_FD } + u32 fd
//! ```
//! The answer is `RTM_NEWNSID` with the attribute `NETNSA_NSID` (s32, -1 = not assigned), or `NLMSG_ERROR`.

use ns_common::nlattr::{attributes, i32_at, u16_at, u32_at};
use rustix::fd::{AsRawFd, BorrowedFd, OwnedFd};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

const RTM_NEWNSID: u16 = 88;
const RTM_GETNSID: u16 = 90;
const NLM_F_REQUEST: u16 = 1;
const NETNSA_NSID: u16 = 1;
const NETNSA_FD: u16 = 3;
const NLMSG_HDRLEN: usize = 16;
const RTGENMSG_LEN: usize = 4;

/// One `NETLINK_ROUTE` socket for all the questions of a scan.
#[derive(Debug)]
pub struct NsidQuery {
    sock: OwnedFd,
    seq: u32,
}

/// The `RTM_GETNSID` request for the network namespace open as `fd`.
pub fn build_request(fd: i32, seq: u32) -> [u8; 28] {
    let mut msg = [0u8; 28];
    msg[0..4].copy_from_slice(&28u32.to_ne_bytes());
    msg[4..6].copy_from_slice(&RTM_GETNSID.to_ne_bytes());
    msg[6..8].copy_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    msg[8..12].copy_from_slice(&seq.to_ne_bytes());
    // pid 0 (the kernel fills it in) and family AF_UNSPEC are zeros already.
    msg[20..22].copy_from_slice(&8u16.to_ne_bytes());
    msg[22..24].copy_from_slice(&NETNSA_FD.to_ne_bytes());
    msg[24..28].copy_from_slice(&(fd as u32).to_ne_bytes());
    msg
}

/// The nsid in an `RTM_NEWNSID` reply; `None` for an error or anything unexpected.
pub fn parse_reply(reply: &[u8], seq: u32) -> Option<i32> {
    let len = u32_at(reply, 0)? as usize;
    if len > reply.len() || u16_at(reply, 4)? != RTM_NEWNSID || u32_at(reply, 8)? != seq {
        return None;
    }
    attributes(reply.get(NLMSG_HDRLEN + RTGENMSG_LEN..len)?)
        .find(|&(kind, _)| kind == NETNSA_NSID)
        .and_then(|(_, value)| i32_at(value, 0))
}

impl NsidQuery {
    pub fn open() -> std::io::Result<NsidQuery> {
        let sock = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::RAW,
            SocketFlags::CLOEXEC,
            None,
        )?;
        Ok(NsidQuery { sock, seq: 0 })
    }

    /// The nsid of the network namespace `netns` in ours: `Some(-1)` when none is assigned.
    pub fn nsid_of(&mut self, netns: BorrowedFd<'_>) -> Option<i32> {
        self.seq = self.seq.wrapping_add(1);
        let request = build_request(netns.as_raw_fd(), self.seq);
        rustix::net::send(&self.sock, &request, SendFlags::empty()).ok()?;
        let mut reply = [0u8; 1024];
        loop {
            let (n, _) = rustix::net::recv(&self.sock, &mut reply, RecvFlags::empty()).ok()?;
            let msg = &reply[..n.min(reply.len())];
            // A stale answer to an earlier request (never expected, one request at a time) is skipped.
            if msg.len() >= 12 && u32::from_ne_bytes([msg[8], msg[9], msg[10], msg[11]]) != self.seq
            {
                continue;
            }
            return parse_reply(msg, self.seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout() {
        let m = build_request(7, 3);
        assert_eq!(&m[0..4], &28u32.to_ne_bytes());
        assert_eq!(&m[4..6], &90u16.to_ne_bytes());
        assert_eq!(&m[24..28], &7u32.to_ne_bytes());
    }

    #[test]
    fn own_netns_is_unassigned_or_numbered() {
        let mut q = NsidQuery::open().unwrap();
        let fd = ns_common::nsfile::open_ns("/proc/self/ns/net").unwrap();
        use rustix::fd::AsFd;
        let id = q.nsid_of(fd.as_fd());
        assert!(id.is_some());
    }

    #[test]
    fn reply_parsing() {
        const NLMSG_ERROR: u16 = 2;
        let mut r = vec![0u8; 28];
        r[0..4].copy_from_slice(&28u32.to_ne_bytes());
        r[4..6].copy_from_slice(&RTM_NEWNSID.to_ne_bytes());
        r[8..12].copy_from_slice(&5u32.to_ne_bytes());
        r[20..22].copy_from_slice(&8u16.to_ne_bytes());
        r[22..24].copy_from_slice(&NETNSA_NSID.to_ne_bytes());
        r[24..28].copy_from_slice(&(-1i32).to_ne_bytes());
        assert_eq!(parse_reply(&r, 5), Some(-1));
        assert_eq!(parse_reply(&r, 6), None);
        r[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        assert_eq!(parse_reply(&r, 5), None);
    }
}
