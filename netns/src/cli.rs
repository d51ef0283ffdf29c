//! iproute2-style global options for `netns`, looked up in the tool's option table.
//!
//! `ip` reads its global options word by word: `-j`, `-json`, `-all`, `-n NAME`, where a single-dash word may be
//! any prefix of an option name and the first option in table order wins (`-a` = `-all`). getopt cannot read
//! that, so this parser walks the words itself; the GNU spellings (`--json`, `--netns=NAME`, unique prefixes)
//! work too. Parsing stops at the first word that is not an option: the subcommand.

use ns_common::opts::{Matched, Opt, Tool};
use std::ffi::OsString;

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Help,
    Version,
    Run {
        opts: Vec<Matched>,
        /// The subcommand and its arguments.
        rest: Vec<OsString>,
    },
}

/// A word that is not an option `ip` knows (`Option "-x" is unknown, try "netns -help".`),
/// or an option without its argument.
#[derive(Debug, PartialEq, Eq)]
pub struct BadOption(pub String);

fn lookup(tool: &'static Tool, word: &str) -> Result<&'static Opt, BadOption> {
    let unknown = || {
        BadOption(format!(
            "Option \"{word}\" is unknown, try \"{} -help\".",
            tool.name
        ))
    };
    if let Some(long) = word.strip_prefix("--") {
        // GNU: exact, else a unique prefix.
        if let Some(o) = tool.all_opts().find(|o| o.long == long) {
            return Ok(o);
        }
        let mut found = tool.all_opts().filter(|o| o.long.starts_with(long));
        return match (found.next(), found.next()) {
            (Some(o), None) if !long.is_empty() => Ok(o),
            _ => Err(unknown()),
        };
    }
    let name = &word[1..];
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if let Some(o) = tool.all_opts().find(|o| o.short == Some(c)) {
            return Ok(o);
        }
    }
    // iproute2: the first option (in table order) the word is a prefix of; `-Version` as `ip` spells it.
    let lower = name.to_ascii_lowercase();
    tool.all_opts()
        .find(|o| !name.is_empty() && o.long.starts_with(lower.as_str()))
        .ok_or_else(unknown)
}

/// Reads the global options of `args` (argv[0] first) against `tool`.
pub fn parse(tool: &'static Tool, args: Vec<OsString>) -> Result<Parsed, BadOption> {
    let mut words = args.into_iter().skip(1).peekable();
    let mut opts = Vec::new();
    while let Some(word) = words.peek() {
        let text = word.to_string_lossy().into_owned();
        if text == "--" {
            words.next();
            break;
        }
        if !text.starts_with('-') || text == "-" {
            break;
        }
        words.next();
        let (key, glued) = match text.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(OsString::from(v))),
            _ => (text.clone(), None),
        };
        let opt = lookup(tool, &key)?;
        let value = if opt.takes_arg() {
            match glued.or_else(|| words.next()) {
                Some(v) => Some(v),
                None => {
                    return Err(BadOption(format!(
                        "Option \"{key}\" requires an argument, try \"{} -help\".",
                        tool.name
                    )))
                }
            }
        } else if glued.is_some() {
            return Err(BadOption(format!(
                "Option \"{key}\" takes no argument, try \"{} -help\".",
                tool.name
            )));
        } else {
            None
        };
        match opt.long {
            "help" => return Ok(Parsed::Help),
            "version" => return Ok(Parsed::Version),
            _ => opts.push(Matched { opt, value }),
        }
    }
    Ok(Parsed::Run {
        opts,
        rest: words.collect(),
    })
}

/// The first keyword of `keywords` that `word` is a (non-empty) prefix of, as iproute2's `matches`.
pub fn match_keyword(word: &str, keywords: &[&'static str]) -> Option<&'static str> {
    if word.is_empty() {
        return None;
    }
    keywords.iter().copied().find(|k| k.starts_with(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NETNS;

    fn run(list: &[&str]) -> (Vec<(&'static str, Option<String>)>, Vec<String>) {
        let args = std::iter::once("netns")
            .chain(list.iter().copied())
            .map(OsString::from)
            .collect();
        match parse(&NETNS, args).unwrap() {
            Parsed::Run { opts, rest } => (
                opts.iter()
                    .map(|m| {
                        (
                            m.name(),
                            m.value.as_ref().map(|v| v.to_string_lossy().into()),
                        )
                    })
                    .collect(),
                rest.iter().map(|v| v.to_string_lossy().into()).collect(),
            ),
            other => panic!("{other:?}"),
        }
    }

    fn err(list: &[&str]) -> String {
        let args = std::iter::once("netns")
            .chain(list.iter().copied())
            .map(OsString::from)
            .collect();
        parse(&NETNS, args).unwrap_err().0
    }

    #[test]
    fn iproute2_spellings() {
        let (opts, rest) = run(&["-all", "-j", "-netns", "x", "exec", "-j"]);
        assert_eq!(
            opts,
            vec![("all", None), ("json", None), ("netns", Some("x".into()))]
        );
        assert_eq!(rest, vec!["exec", "-j"]);
        let (opts, _) = run(&["-a", "-js", "-pretty", "-n", "y"]);
        assert_eq!(
            opts,
            vec![
                ("all", None),
                ("json", None),
                ("pretty", None),
                ("netns", Some("y".into()))
            ]
        );
    }

    #[test]
    fn gnu_spellings() {
        let (opts, rest) = run(&["--all", "--json", "--netns=z", "--pre", "list"]);
        assert_eq!(
            opts,
            vec![
                ("all", None),
                ("json", None),
                ("netns", Some("z".into())),
                ("pretty", None)
            ]
        );
        assert_eq!(rest, vec!["list"]);
    }

    #[test]
    fn help_version_and_errors() {
        let args = |l: &[&str]| {
            std::iter::once("netns")
                .chain(l.iter().copied())
                .map(OsString::from)
                .collect()
        };
        assert_eq!(parse(&NETNS, args(&["-h"])).unwrap(), Parsed::Help);
        assert_eq!(parse(&NETNS, args(&["--help"])).unwrap(), Parsed::Help);
        assert_eq!(parse(&NETNS, args(&["-V"])).unwrap(), Parsed::Version);
        assert_eq!(parse(&NETNS, args(&["-Version"])).unwrap(), Parsed::Version);
        assert_eq!(
            err(&["-x"]),
            "Option \"-x\" is unknown, try \"netns -help\"."
        );
        assert_eq!(
            err(&["-n"]),
            "Option \"-n\" requires an argument, try \"netns -help\"."
        );
    }

    #[test]
    fn keywords_by_prefix_in_order() {
        let k = crate::NETNS_SUBCOMMANDS;
        assert_eq!(match_keyword("l", k), Some("list"));
        assert_eq!(match_keyword("s", k), Some("show"));
        assert_eq!(match_keyword("list-i", k), Some("list-id"));
        assert_eq!(match_keyword("se", k), Some("set"));
        assert_eq!(match_keyword("a", k), Some("add"));
        assert_eq!(match_keyword("at", k), Some("attach"));
        assert_eq!(match_keyword("d", k), Some("delete"));
        assert_eq!(match_keyword("e", k), Some("exec"));
        assert_eq!(match_keyword("i", k), Some("identify"));
        assert_eq!(match_keyword("p", k), Some("pids"));
        assert_eq!(match_keyword("m", k), Some("monitor"));
        assert_eq!(match_keyword("h", k), Some("help"));
        assert_eq!(match_keyword("frob", k), None);
        assert_eq!(match_keyword("", k), None);
    }
}
