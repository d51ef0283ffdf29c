//! Signal-name parsing: never panics, and every accepted name denotes a real signal number.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ns_common::signals;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (_, max) = signals::rt_range();
    if let Some(n) = signals::parse_name(text) {
        assert!((1..=max).contains(&n), "{text:?} -> {n}");
        let _ = signals::name_of(n);
    }
    if let Some(n) = signals::parse_name_or_number(text) {
        assert!((1..=max).contains(&n), "{text:?} -> {n}");
    }
});
