//! Time-namespace offsets: parsing `--monotonic`/`--boottime` and writing `/proc/self/timens_offsets`.
//!
//! The kernel takes the offsets only while no process has entered the new time namespace, i.e. after
//! `unshare(CLONE_NEWTIME)` and before the first fork or exec (time_namespaces(7)).

use crate::error::{Error, Result};

/// The file a time namespace's creator writes its children's clock offsets to.
pub const OFFSETS_FILE: &str = "/proc/self/timens_offsets";

/// A clock a time namespace can shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Monotonic,
    Boottime,
}

impl Clock {
    /// The name the kernel accepts and shows in `timens_offsets`, and util-linux uses in messages.
    pub const fn name(self) -> &'static str {
        match self {
            Clock::Monotonic => "monotonic",
            Clock::Boottime => "boottime",
        }
    }
}

/// Parses an offset in whole seconds: an optional sign and decimal digits, within 64 bits.
/// Errors read `failed to parse monotonic offset: '1.5'` (plus `: Numerical result out of range` on overflow).
pub fn parse_offset(clock: Clock, text: &str) -> Result<i64> {
    let fail = || Error::new(format!("failed to parse {} offset: '{text}'", clock.name()));
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail());
    }
    // The sign is kept, so i64::MIN parses.
    text.parse::<i64>().map_err(|_| {
        Error::new(format!(
            "failed to parse {} offset: '{text}': {}",
            clock.name(),
            crate::error::strerror(libc::ERANGE)
        ))
    })
}

/// The text for `timens_offsets`: `boottime` first, then `monotonic` (the order util-linux 2.42 writes).
pub fn offsets_text(monotonic: Option<i64>, boottime: Option<i64>) -> String {
    let mut text = String::new();
    for (clock, secs) in [(Clock::Boottime, boottime), (Clock::Monotonic, monotonic)] {
        if let Some(secs) = secs {
            text.push_str(&format!("{} {secs} 0\n", clock.name()));
        }
    }
    text
}

/// Writes the offsets to `/proc/self/timens_offsets` in one write (no-op when neither is given).
pub fn write_time_offsets(monotonic: Option<i64>, boottime: Option<i64>) -> Result<()> {
    let text = offsets_text(monotonic, boottime);
    if text.is_empty() {
        return Ok(());
    }
    crate::idmap::write_proc_file(OFFSETS_FILE, &text)
        .map_err(|e| Error::os(format!("failed to write to {OFFSETS_FILE}"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(parse_offset(Clock::Monotonic, "20").unwrap(), 20);
        assert_eq!(parse_offset(Clock::Monotonic, "-5").unwrap(), -5);
        assert_eq!(parse_offset(Clock::Boottime, "+5").unwrap(), 5);
        assert_eq!(
            parse_offset(Clock::Boottime, "-9223372036854775808").unwrap(),
            i64::MIN
        );
        for bad in ["1.5", "abc", "0x10", "", "-", "+", " 1", "1 ", "--1"] {
            assert_eq!(
                parse_offset(Clock::Monotonic, bad).unwrap_err().message(),
                format!("failed to parse monotonic offset: '{bad}'")
            );
        }
        assert_eq!(
            parse_offset(Clock::Monotonic, "99999999999999999999")
                .unwrap_err()
                .message(),
            "failed to parse monotonic offset: '99999999999999999999': Numerical result out of range"
        );
    }

    #[test]
    fn text_order() {
        assert_eq!(
            offsets_text(Some(20), Some(10)),
            "boottime 10 0\nmonotonic 20 0\n"
        );
        assert_eq!(offsets_text(Some(-5), None), "monotonic -5 0\n");
        assert_eq!(offsets_text(None, None), "");
    }
}
