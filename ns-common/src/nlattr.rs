//! Reading netlink messages by hand: native-endian fields at an offset and the `struct nlattr` TLVs that
//! follow a message's fixed header. lsns (RTM_GETNSID) and netns/veth (rtnetlink replies) read their answers
//! with these rather than through the netlink-packet crates' generic parsers (size: README "Static builds").

/// `nla_type` without its flag bits (NLA_F_NESTED, NLA_F_NET_BYTEORDER).
const NLA_TYPE_MASK: u16 = 0x3fff;

/// `NLMSG_ALIGN`/`NLA_ALIGN`: lengths are padded to 4 bytes.
pub fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// The native-endian u16 at `at`, if `data` is long enough.
pub fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(
        data.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// The native-endian u32 at `at`, if `data` is long enough.
pub fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(
        data.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The native-endian s32 at `at`, if `data` is long enough.
pub fn i32_at(data: &[u8], at: usize) -> Option<i32> {
    u32_at(data, at).map(|v| v as i32)
}

/// The attributes in `data` as (type without flag bits, payload), up to the first malformed one.
pub fn attributes(mut data: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let len = u16_at(data, 0)? as usize;
        let kind = u16_at(data, 2)? & NLA_TYPE_MASK;
        if len < 4 || len > data.len() {
            return None;
        }
        let value = &data[4..len];
        data = data.get(align(len)..).unwrap_or(&[]);
        Some((kind, value))
    })
}

/// A string attribute up to its terminating NUL.
pub fn c_string(value: &[u8]) -> &[u8] {
    value.split(|&b| b == 0).next().unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_attributes_end_the_walk() {
        // A zero length, then a length past the end: nothing is returned and nothing panics.
        assert_eq!(attributes(&[0, 0, 3, 0, 1, 2, 3, 4]).count(), 0);
        assert_eq!(attributes(&[40, 0, 3, 0, 1, 2]).count(), 0);
        let ok = [6u8, 0, 3, 0, b'l', b'o', 0, 0, 3, 0];
        let found: Vec<_> = attributes(&ok).collect();
        assert_eq!(found, vec![(3, &b"lo"[..])]);
        // The flag bits are not part of the type.
        assert_eq!(attributes(&[4, 0, 1, 0x80]).next(), Some((1, &[][..])));
    }

    #[test]
    fn fields_past_the_end_are_none() {
        assert_eq!(u16_at(&[1, 0], 0), Some(1));
        assert_eq!(u16_at(&[1, 0], 1), None);
        assert_eq!(u32_at(&[0; 3], 0), None);
        assert_eq!(i32_at(&(-1i32).to_ne_bytes(), 0), Some(-1));
        assert_eq!(u32_at(&[], usize::MAX), None);
        assert_eq!(c_string(b"veth\0\0"), b"veth");
    }
}
