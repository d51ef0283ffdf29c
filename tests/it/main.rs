//! Integration tests: they run the built binaries against the real kernel, as root and as `nobody`.

mod harness;

mod completions;
mod load;
mod lsns;
mod multicall;
mod netns;
mod nsenter;
mod pivot;
mod reliability;
mod ship;
mod unshare;
