//! Parsers of kernel-provided text and messages that a process inside a namespace can influence (a command name
//! in /proc/PID/stat, a mount point in mountinfo) or that come off a socket: never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lsns::{discovery, netnsid};

fuzz_target!(|data: &[u8]| {
    if let Some((kind, ino)) = discovery::parse_ns_link(data) {
        assert!(kind.len() < data.len());
        let _ = ino;
    }
    let _ = discovery::parse_stat(data);
    let unescaped = discovery::unescape_mount_point(data);
    assert!(unescaped.len() <= data.len());
    let seq = data.first().copied().map_or(0, u32::from);
    let _ = netnsid::parse_reply(data, seq);
});
