//! Integration tests for netns (see its issue).
#[allow(unused_imports)]
use crate::harness::*;
