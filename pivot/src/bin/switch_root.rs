//! The switch_root binary. It skips Rust's runtime start-up (`no_main`), like unshare and nsenter: the runtime
//! would set SIGPIPE to SIG_IGN, and init (and everything it starts) would inherit that across the exec;
//! util-linux's switch_root hands init the dispositions it was given.
#![no_main]

#[no_mangle]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: the C runtime calls main with argc valid argument strings in argv.
    let args = unsafe { ns_common::sys::args_from_c(argc, argv) };
    pivot::switch_root_main(args)
}
