//! Integration tests for lsns (see its issue).
#[allow(unused_imports)]
use crate::harness::*;
