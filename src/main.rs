//! nsbox: every tool in one binary, dispatched on the name it was called by (busybox style).

mod multicall;

fn main() {
    std::process::exit(multicall::main(std::env::args_os().collect()))
}
