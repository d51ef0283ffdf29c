//! Time-namespace offsets: `parse_offset` never panics and accepts exactly an optional sign and decimal digits
//! that fit in 64 bits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ns_common::timens::{self, Clock};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for clock in [Clock::Monotonic, Clock::Boottime] {
        match timens::parse_offset(clock, text) {
            Ok(secs) => {
                assert_eq!(text.parse::<i64>().ok(), Some(secs), "{text:?}");
                let _ = timens::offsets_text(Some(secs), Some(secs));
            }
            Err(e) => assert!(!e.message().is_empty()),
        }
    }
});
