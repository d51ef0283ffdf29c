//! The `nsenter` binary. It skips Rust's runtime start-up (`no_main`): nsenter's own cost is mostly
//! start-up, and the runtime's work (stdio polling, SIGPIPE, the main thread's stack-guard lookup in
//! /proc/self/maps) would be a large part of it.
#![no_main]

#[no_mangle]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: the C runtime calls main with argc valid argument strings in argv.
    let args = unsafe { ns_common::sys::args_from_c(argc, argv) };
    nsenter::main(args)
}
