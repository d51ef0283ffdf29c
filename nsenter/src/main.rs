fn main() {
    std::process::exit(nsenter::main(std::env::args_os().collect()))
}
