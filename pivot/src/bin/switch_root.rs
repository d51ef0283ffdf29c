fn main() {
    std::process::exit(pivot::switch_root_main(std::env::args_os().collect()))
}
