//! lsns — placeholder until its issue lands.

use ns_common::opts::{Complete, Tool};
use std::ffi::OsString;

pub static TOOL: Tool = Tool {
    name: "lsns",
    usage: &["lsns [options]"],
    about: "Not implemented yet.",
    opts: &[],
    help_version: true,
    help_column: 27,
    footer: "For more details see lsns(1).",
    stop_at_operand: true,
    operands: &[Complete::Command],
};

pub fn main(args: Vec<OsString>) -> i32 {
    ns_common::opts::run_tool(&TOOL, args, |_, _| {
        Err(ns_common::Error::new("not implemented yet"))
    })
}
