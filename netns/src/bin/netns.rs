fn main() {
    std::process::exit(netns::netns_main(std::env::args_os().collect()))
}
