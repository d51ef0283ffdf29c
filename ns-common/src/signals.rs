//! Signal names and numbers, without libc's tables (they differ between glibc and musl).

/// Standard signal names (without `SIG`) and numbers on Linux x86_64/aarch64.
pub const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// `SIGRTMIN` and `SIGRTMAX` as the C library reports them at run time (glibc reserves two).
pub fn rt_range() -> (i32, i32) {
    (libc::SIGRTMIN(), libc::SIGRTMAX())
}

/// Parses a signal name as util-linux's `--kill-child=` does: case-insensitive, optional `SIG`,
/// `RTMIN+n`/`RTMAX-n`. Numbers are not names and are rejected.
pub fn parse_name(text: &str) -> Option<i32> {
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, n)) = SIGNALS.iter().find(|(name, _)| *name == bare) {
        return Some(n);
    }
    let (min, max) = rt_range();
    let rt = |rest: &str, base: i32, sign: i32| -> Option<i32> {
        let offset: i32 = parse_small(rest)?;
        let n = base + sign * offset;
        // `RTMIN+0`/`RTMAX-0` name RTMIN/RTMAX and util-linux takes them; only the bare names are refused.
        (min..=max).contains(&n).then_some(n)
    };
    if let Some(rest) = bare.strip_prefix("RTMIN+") {
        return rt(rest, min, 1);
    }
    if let Some(rest) = bare.strip_prefix("RTMAX-") {
        return rt(rest, max, -1);
    }
    None
}

/// Parses a signal given as a name or a number (kill-style), 1..=SIGRTMAX.
pub fn parse_name_or_number(text: &str) -> Option<i32> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let n = parse_small(text)?;
        return (1..=rt_range().1).contains(&n).then_some(n);
    }
    parse_name(text)
}

fn parse_small(text: &str) -> Option<i32> {
    if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The name of signal `n` without `SIG` (`KILL`), or `RTMIN+n`, or the number.
pub fn name_of(n: i32) -> String {
    if let Some((name, _)) = SIGNALS.iter().find(|(_, num)| *num == n) {
        return (*name).to_string();
    }
    let (min, max) = rt_range();
    if n == min {
        "RTMIN".to_string()
    } else if n == max {
        "RTMAX".to_string()
    } else if n > min && n < max {
        format!("RTMIN+{}", n - min)
    } else {
        n.to_string()
    }
}

/// Names offered by shell completion (`SIG` prefixed, as util-linux's bash completion).
pub fn completion_names() -> Vec<String> {
    let mut seen = Vec::new();
    for (name, _) in SIGNALS {
        let full = format!("SIG{name}");
        if !seen.contains(&full) {
            seen.push(full);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_name("KILL"), Some(9));
        assert_eq!(parse_name("sigterm"), Some(15));
        assert_eq!(parse_name("SIGHUP"), Some(1));
        assert_eq!(parse_name("15"), None);
        assert_eq!(parse_name("RTMIN"), None);
        assert_eq!(parse_name("0"), None);
        assert_eq!(parse_name("NOSUCHSIG"), None);
        let (min, max) = rt_range();
        assert_eq!(parse_name("RTMIN+1"), Some(min + 1));
        assert_eq!(parse_name("SIGRTMAX-1"), Some(max - 1));
        assert_eq!(parse_name("RTMIN+999"), None);
        assert_eq!(parse_name("RTMIN+0"), Some(min));
        assert_eq!(parse_name("rtmax-0"), Some(max));
        assert_eq!(parse_name("RTMIN+30"), Some(max));
        assert_eq!(parse_name("RTMIN+31"), None);
        assert_eq!(parse_name("RTMAX-31"), None);
        assert_eq!(parse_name("RTMIN+-1"), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_name_or_number("9"), Some(9));
        assert_eq!(parse_name_or_number("0"), None);
        assert_eq!(parse_name_or_number("-1"), None);
        assert_eq!(parse_name_or_number("99999999999"), None);
        assert_eq!(name_of(15), "TERM");
    }
}
