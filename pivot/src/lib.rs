//! `pivot_root` and `switch_root`, util-linux drop-ins: change the root mount of a mount namespace.
//!
//! `pivot_root` is the bare system call. `switch_root` is the last step of an initramfs and the one that deletes
//! files, so it checks everything before it changes anything and deletes only through directory fds (see
//! [`sweep`]).

mod exec_check;
mod mounts;
mod pivot_root;
mod sweep;
mod switch_root;

use ns_common::opts::{Complete, Tool};
use std::ffi::OsString;

pub static PIVOT_ROOT: Tool = Tool {
    name: "pivot_root",
    usage: &["pivot_root [options] new_root put_old"],
    about: "Change the root filesystem.",
    opts: &[],
    help_version: true,
    help_column: 16,
    footer: "For more details see pivot_root(8).",
    stop_at_operand: false,
    operands: &[Complete::Dir],
};

pub static SWITCH_ROOT: Tool = Tool {
    name: "switch_root",
    usage: &["switch_root [options] <newrootdir> <init> <args to init>"],
    about: "Switch to another filesystem as the root of the mount tree.",
    opts: &[],
    help_version: true,
    help_column: 16,
    footer: "For more details see switch_root(8).",
    stop_at_operand: true,
    // newroot, then init (a file inside newroot, but completed from here), then init's own arguments.
    operands: &[Complete::Dir, Complete::File, Complete::Nothing],
};

/// `pivot_root new_root put_old`; args[0] is argv[0] as invoked.
pub fn pivot_root_main(args: Vec<OsString>) -> i32 {
    ns_common::opts::run_tool(&PIVOT_ROOT, args, |_, operands| pivot_root::run(operands))
}

/// `switch_root newroot init [arg...]`; args[0] is argv[0] as invoked. Returns only on failure.
pub fn switch_root_main(args: Vec<OsString>) -> i32 {
    ns_common::opts::run_tool(&SWITCH_ROOT, args, |_, operands| switch_root::run(operands))
}
