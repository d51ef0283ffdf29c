//! Integration tests: they run the built binaries against the real kernel, as root and as `nobody`.

mod harness;

mod completions;
mod lsns;
mod multicall;
mod netns;
mod nsenter;
mod pivot;
mod ship;
mod unshare;
