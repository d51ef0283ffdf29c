//! Integration tests for pivot (see its issue).
#[allow(unused_imports)]
use crate::harness::*;
