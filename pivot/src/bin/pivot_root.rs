fn main() {
    std::process::exit(pivot::pivot_root_main(std::env::args_os().collect()))
}
