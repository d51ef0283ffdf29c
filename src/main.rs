//! nsbox: every tool in one binary, dispatched on the name it was called by (busybox style).
//!
//! It skips Rust's runtime start-up (`no_main`), like the unshare and nsenter binaries: `nsbox unshare …` and
//! `nsbox nsenter …` then cost what the single binaries cost, and the programs they (and switch_root) exec
//! keep the caller's SIGPIPE disposition. The applets whose own binaries keep std's `main` get its start-up
//! work from [`ns_common::sys::std_runtime_start`] (see `multicall::start`).
// Under `cargo test` the test harness is the entry point (it runs the dispatcher's unit tests).
#![cfg_attr(not(test), no_main)]

mod multicall;

#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: the C runtime calls main with argc valid argument strings in argv.
    let args = unsafe { ns_common::sys::args_from_c(argc, argv) };
    multicall::main(args)
}

/// Under `cargo test` the harness brings its own `main`; this one only keeps the dispatcher reachable, as
/// the real entry point above is compiled out.
#[cfg(test)]
fn main() {
    std::process::exit(multicall::main(std::env::args_os().collect()))
}
