//! pivot_root and switch_root — placeholders until issue #6 lands.

use ns_common::opts::{Complete, Tool};
use std::ffi::OsString;

pub static PIVOT_ROOT: Tool = Tool {
    name: "pivot_root",
    usage: &["pivot_root [options] new_root put_old"],
    about: "Change the root filesystem.",
    opts: &[],
    help_version: true,
    help_column: 27,
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
    help_column: 27,
    footer: "For more details see switch_root(8).",
    stop_at_operand: true,
    operands: &[Complete::Dir],
};

pub fn pivot_root_main(args: Vec<OsString>) -> i32 {
    ns_common::opts::run_tool(&PIVOT_ROOT, args, |_, _| {
        Err(ns_common::Error::new("not implemented yet"))
    })
}

pub fn switch_root_main(args: Vec<OsString>) -> i32 {
    ns_common::opts::run_tool(&SWITCH_ROOT, args, |_, _| {
        Err(ns_common::Error::new("not implemented yet"))
    })
}
