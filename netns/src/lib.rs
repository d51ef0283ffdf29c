//! netns (ip netns as its own tool) and veth — placeholders until issue #7 lands.

use ns_common::opts::{Complete, Tool};
use std::ffi::OsString;

pub static NETNS: Tool = Tool {
    name: "netns",
    usage: &["netns [ list ]"],
    about: "Manage network namespaces.",
    opts: &[],
    help_version: true,
    help_column: 27,
    footer: "",
    stop_at_operand: true,
    operands: &[Complete::Nothing],
};

pub static VETH: Tool = Tool {
    name: "veth",
    usage: &["veth add NAME PEER [options]"],
    about: "Create, address and raise veth pairs.",
    opts: &[],
    help_version: true,
    help_column: 27,
    footer: "",
    stop_at_operand: true,
    operands: &[Complete::Nothing],
};

pub fn netns_main(args: Vec<OsString>) -> i32 {
    ns_common::opts::run_tool(&NETNS, args, |_, _| {
        Err(ns_common::Error::new("not implemented yet"))
    })
}

pub fn veth_main(args: Vec<OsString>) -> i32 {
    ns_common::opts::run_tool(&VETH, args, |_, _| {
        Err(ns_common::Error::new("not implemented yet"))
    })
}
