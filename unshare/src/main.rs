//! The unshare binary. It skips Rust's runtime start-up (`no_main`): unshare runs for a moment before exec,
//! and the start-up's ~15 system calls (stdio polling, SIGPIPE, stack-overflow handlers) would be most of its
//! own cost. It also leaves the caller's SIGPIPE disposition as it was.
#![no_main]

#[no_mangle]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: the C runtime calls main with argc valid argument strings in argv.
    let args = unsafe { ns_common::sys::args_from_c(argc, argv) };
    unshare::main(args)
}
