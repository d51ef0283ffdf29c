fn main() {
    std::process::exit(lsns::main(std::env::args_os().collect()))
}
