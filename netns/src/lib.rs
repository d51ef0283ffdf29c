//! `netns` (iproute2's `ip netns` as its own tool) and `veth` (create, address and raise a veth pair in one
//! process). Everything that talks rtnetlink lives in [`rtnl`]; see `spec/netns.md` for the behaviour.

mod cli;
mod exec_env;
mod json;
mod names;
mod netns_cmd;
mod rtnl;
mod rundir;
mod veth_cmd;

use ns_common::opts::{ArgKind, Complete, Opt, Tool};
use std::ffi::OsString;

/// The `ip netns` subcommands, in iproute2's prefix-matching order (the first one a word is a prefix of wins).
pub const NETNS_SUBCOMMANDS: &[&str] = &[
    "list", "show", "lst", "list-id", "help", "add", "set", "delete", "identify", "pids", "exec",
    "monitor", "attach",
];

pub static NETNS: Tool = Tool {
    name: "netns",
    usage: &[
        "netns [options] list",
        "netns [options] add NAME",
        "netns [options] attach NAME PID",
        "netns [options] set NAME NETNSID",
        "netns [options] [-all] delete [NAME]",
        "netns [options] identify [PID]",
        "netns [options] pids NAME",
        "netns [options] [-all] exec [NAME] cmd ...",
        "netns [options] monitor",
        "netns [options] list-id [target-nsid POSITIVE-INT] [nsid POSITIVE-INT]",
    ],
    about: "Manage network namespaces (iproute2's `ip netns`).\n\
            Options also take iproute2's single-dash spellings (-all, -netns, -json, -pretty);\n\
            subcommands may be abbreviated (a = add, d = delete, e = exec, ...).",
    opts: &[
        Opt::flag(
            None,
            "all",
            "apply delete or exec to every network namespace",
        ),
        Opt::with_arg(
            Some('n'),
            "netns",
            ArgKind::Required,
            " <name>",
            Complete::Netns,
            "run the subcommand inside network namespace <name>",
        ),
        Opt::flag(
            Some('j'),
            "json",
            "JSON output for list, list-id and identify",
        ),
        Opt::flag(Some('p'), "pretty", "indent the JSON output"),
    ],
    help_version: true,
    help_column: 27,
    footer: "NETNSID := auto | POSITIVE-INT\nFor more details see ip-netns(8).",
    stop_at_operand: true,
    operands: &[Complete::Values(NETNS_SUBCOMMANDS), Complete::Netns],
};

/// The `veth` subcommands.
pub const VETH_SUBCOMMANDS: &[&str] = &["add", "del", "list"];

pub static VETH: Tool = Tool {
    name: "veth",
    usage: &[
        "veth add NAME PEER [--netns NS] [--peer-netns NS] [--addr CIDR]... [--peer-addr CIDR]... [--mtu N] [--up]",
        "veth del NAME [--netns NS]",
        "veth list [--netns NS] [-J]",
    ],
    about: "Create, address and raise veth pairs in one process.\n\
            NS is a name under /run/netns, a PID, or a path to a network namespace file.",
    opts: &[
        Opt::with_arg(
            None,
            "netns",
            ArgKind::Required,
            " <ns>",
            Complete::Netns,
            "network namespace of NAME (default: the current one)",
        ),
        Opt::with_arg(
            None,
            "peer-netns",
            ArgKind::Required,
            " <ns>",
            Complete::Netns,
            "network namespace of PEER (default: the current one)",
        ),
        Opt::with_arg(
            None,
            "addr",
            ArgKind::Required,
            " <cidr>",
            Complete::Nothing,
            "add an IPv4 or IPv6 address to NAME (repeatable)",
        ),
        Opt::with_arg(
            None,
            "peer-addr",
            ArgKind::Required,
            " <cidr>",
            Complete::Nothing,
            "add an IPv4 or IPv6 address to PEER (repeatable)",
        ),
        Opt::with_arg(
            None,
            "mtu",
            ArgKind::Required,
            " <n>",
            Complete::Nothing,
            "MTU of both ends (68-65535)",
        ),
        Opt::flag(
            None,
            "up",
            "set both ends up (and lo in their namespaces)",
        ),
        Opt::flag(Some('J'), "json", "JSON output for list"),
    ],
    help_version: true,
    help_column: 27,
    footer: "Exit status: 0 success, 1 usage or local error, 2 kernel error.",
    stop_at_operand: false,
    operands: &[Complete::Values(VETH_SUBCOMMANDS), Complete::Link],
};

/// `netns ARGS...`: the whole tool.
pub fn netns_main(args: Vec<OsString>) -> i32 {
    netns_cmd::main(args)
}

/// `veth ARGS...`: the whole tool.
pub fn veth_main(args: Vec<OsString>) -> i32 {
    veth_cmd::main(args)
}
