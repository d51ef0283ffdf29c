fn main() {
    std::process::exit(netns::veth_main(std::env::args_os().collect()))
}
