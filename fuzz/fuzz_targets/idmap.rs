//! The id-map parsers (`--map-users`/`--map-groups` specs, /proc/PID/uid_map content) and what is built from
//! them: never panic, never accept a map the kernel would refuse for being empty or overflowing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ns_common::idmap::{self, IdMap, RangeSpec};

fn assert_sane(map: &IdMap) {
    assert!(map.count > 0, "empty range {map:?}");
    assert!(
        map.inner.checked_add(map.count).is_some(),
        "inner overflow {map:?}"
    );
    assert!(
        map.outer.checked_add(map.count).is_some(),
        "outer overflow {map:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(map) = IdMap::parse(text) {
        assert_sane(&map);
    }
    let _ = RangeSpec::parse(text);
    let lines = idmap::parse_map_file(text);
    for map in &lines {
        assert_sane(map);
    }
    // Punch every line with the first one as the single map, as `-r --map-users=...` does.
    if let Some((first, rest)) = lines.split_first() {
        let single = IdMap {
            inner: first.inner,
            outer: first.outer,
            count: 1,
        };
        for range in rest {
            for part in range.punch(single) {
                assert_sane(&part);
            }
        }
        let combined = idmap::combine(Some(single), rest);
        if idmap::validate(&combined).is_ok() {
            let _ = idmap::render(&combined);
            let _ = idmap::helper_args(&combined);
        }
    }
});
