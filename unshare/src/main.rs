fn main() {
    std::process::exit(unshare::main(std::env::args_os().collect()))
}
