//! The /etc/passwd, /etc/group and /etc/subuid parsers on arbitrary file contents: never panic, and
//! every entry they return is well formed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ns_common::users;

fuzz_target!(|data: &[u8]| {
    for e in users::parse_passwd(data) {
        assert!(!e.name.is_empty());
    }
    for e in users::parse_group(data) {
        assert!(!e.name.is_empty());
    }
    for r in users::parse_subids(data) {
        assert!(r.count > 0, "count 0 accepted");
        assert!(
            r.start.checked_add(r.count - 1).is_some(),
            "range overflows"
        );
    }
    if let Some(id) = users::parse_id(data) {
        // Strict: the text must be exactly the decimal digits of the value (leading zeros allowed).
        let text = std::str::from_utf8(data).expect("an accepted id is ASCII");
        assert!(text.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(
            text.trim_start_matches('0').parse::<u64>().unwrap_or(0),
            u64::from(id)
        );
    }
    let _ = users::subid_range_for(data, Some(b"root"), 0);
    let _ = users::subid_range_for(data, None, 65534);
});
