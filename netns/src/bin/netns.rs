//! The `netns` binary. It skips Rust's runtime start-up (`no_main`) to learn the caller's SIGPIPE disposition,
//! which `netns exec` hands on to its command as `ip netns exec` does; std's `main` would have replaced it
//! with SIG_IGN before we could look. The rest of std's start-up is done by `std_runtime_start`.
#![no_main]

#[no_mangle]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: the C runtime calls main with argc valid argument strings in argv.
    let args = unsafe { ns_common::sys::args_from_c(argc, argv) };
    ns_common::sys::std_runtime_start();
    netns::netns_main(args)
}
