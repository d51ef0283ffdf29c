//! Time-namespace offsets: parsing `--monotonic`/`--boottime` and writing `/proc/self/timens_offsets`.
//! (Filled in with unshare, issue #3.)
