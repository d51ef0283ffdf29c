//! Integration tests for nsenter (see its issue).
#[allow(unused_imports)]
use crate::harness::*;
