//! Integration tests for unshare (see its issue).
#[allow(unused_imports)]
use crate::harness::*;
