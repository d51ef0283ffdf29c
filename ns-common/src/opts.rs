//! One option table per tool drives parsing, `--help`, `--version` and the shell completions.
//!
//! Parsing follows GNU `getopt_long` as util-linux uses it: unique prefixes of long options, optional arguments
//! only in the glued form (`--net=/x`, and `-n/x` only where the tool allows it), and by default a stop at the
//! first non-option (the `+` in util-linux's option strings) so `unshare ls -l` hands `-l` to `ls`.

use crate::error::{Error, Result};
use std::ffi::{OsStr, OsString};

/// How an option takes its argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A flag: `-f`, `--fork`.
    None,
    /// `-R dir`, `-Rdir`, `--root dir`, `--root=dir`.
    Required,
    /// Optional, glued only: `--net=/x` and `-n/x`.
    Optional,
    /// Optional on the long form only (`--net=/x`); the short letter takes no argument, so `-n/x` is `-n -/ -x`.
    OptionalLongOnly,
}

/// What a shell should offer for an option's argument or a positional word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complete {
    Nothing,
    File,
    Dir,
    Pid,
    User,
    Group,
    Signal,
    Netns,
    /// Network interface names (veth).
    Link,
    /// Exactly one of these words.
    Values(&'static [&'static str]),
    /// A comma-separated list of these words, no repeats.
    CommaList(&'static [&'static str]),
    /// A command and its arguments: hand over to that command's completion.
    Command,
    /// Numeric user ids (from /etc/passwd when present).
    Uid,
    /// Numeric group ids (from /etc/group when present).
    Gid,
    /// Names of veth interfaces.
    Veth,
    /// These words, or what the second completion offers (`nsenter -S`: `follow` or a uid).
    WithWords(&'static [&'static str], &'static Complete),
    /// A subcommand word, then that subcommand's arguments (the last one repeats).
    Subcommands(&'static [(&'static str, &'static [Complete])]),
}

/// One option of a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opt {
    pub short: Option<char>,
    /// The long name without dashes; also the key the tool matches on.
    pub long: &'static str,
    pub arg: ArgKind,
    /// What `--help` prints right after `--long`, e.g. `[=<file>]`, `=<dir>`, ` <uid>`.
    pub value: &'static str,
    /// Help text; `\n` starts a continuation line at the description column.
    pub help: &'static str,
    pub complete: Complete,
    /// Print a blank line before this option in `--help`.
    pub group_start: bool,
    /// Hidden from `--help` (still parsed and completed).
    pub hidden: bool,
}

impl Opt {
    /// A flag without argument.
    pub const fn flag(short: Option<char>, long: &'static str, help: &'static str) -> Opt {
        Opt {
            short,
            long,
            arg: ArgKind::None,
            value: "",
            help,
            complete: Complete::Nothing,
            group_start: false,
            hidden: false,
        }
    }

    /// An option with an argument of `kind`, shown in help as `--long{value}`.
    pub const fn with_arg(
        short: Option<char>,
        long: &'static str,
        arg: ArgKind,
        value: &'static str,
        complete: Complete,
        help: &'static str,
    ) -> Opt {
        Opt {
            short,
            long,
            arg,
            value,
            help,
            complete,
            group_start: false,
            hidden: false,
        }
    }

    /// Same option, with a blank line before it in `--help`.
    pub const fn group(mut self) -> Opt {
        self.group_start = true;
        self
    }

    /// Same option, left out of `--help`.
    pub const fn hide(mut self) -> Opt {
        self.hidden = true;
        self
    }

    /// The option head as `--help` shows it: ` -m, --mount[=<file>]` or ` --keep-caps`.
    pub fn help_head(&self) -> String {
        match self.short {
            Some(c) => format!(" -{c}, --{}{}", self.long, self.value),
            None => format!(" --{}{}", self.long, self.value),
        }
    }

    pub fn takes_arg(&self) -> bool {
        self.arg != ArgKind::None
    }
}

/// The built-in `-h/--help` and `-V/--version` every util-linux tool has.
pub const HELP: Opt = Opt::flag(Some('h'), "help", "display this help");
pub const VERSION: Opt = Opt::flag(Some('V'), "version", "display version");

/// A tool's command line: its options and the text around them in `--help`.
#[derive(Debug)]
pub struct Tool {
    pub name: &'static str,
    /// Usage lines, each without the leading space, e.g. `unshare [options] [<program> [<argument>...]]`.
    pub usage: &'static [&'static str],
    pub about: &'static str,
    pub opts: &'static [Opt],
    /// Whether `-h`/`-V` are added to the table (util-linux style).
    pub help_version: bool,
    /// Column where descriptions start in `--help` (util-linux uses 27 for most tools).
    pub help_column: usize,
    /// Trailing text after the options (e.g. `For more details see unshare(1).`).
    pub footer: &'static str,
    /// Stop at the first non-option (`+` in getopt). When false, options and operands may be mixed.
    pub stop_at_operand: bool,
    /// What the positional words are, in order; the last one repeats.
    pub operands: &'static [Complete],
}

/// What one option occurrence parsed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub opt: &'static Opt,
    pub value: Option<OsString>,
}

impl Matched {
    /// The long name, which tools match on.
    pub fn name(&self) -> &'static str {
        self.opt.long
    }

    /// The value as a string for messages and numeric parsing (lossy for non-UTF-8).
    pub fn value_str(&self) -> String {
        self.value
            .as_deref()
            .map(|v| v.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// The outcome of parsing a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Help,
    Version,
    Run {
        /// Options in command-line order.
        opts: Vec<Matched>,
        /// Operands (with `stop_at_operand`, the first non-option and everything after it).
        operands: Vec<OsString>,
    },
}

impl Tool {
    /// Every option, with `-h`/`-V` if the tool has them.
    pub fn all_opts(&self) -> impl Iterator<Item = &'static Opt> + '_ {
        let builtins: &'static [Opt] = if self.help_version {
            &[HELP, VERSION]
        } else {
            &[]
        };
        self.opts.iter().chain(builtins.iter())
    }

    fn find_short(&self, c: char) -> Option<&'static Opt> {
        self.all_opts().find(|o| o.short == Some(c))
    }

    /// Exact long name, else a unique prefix, as getopt_long. `word` is the argument as typed after `--`
    /// (`name=value`), which getopt quotes whole when it cannot match it.
    fn find_long(&self, name: &str, word: &str, argv0: &str) -> Result<&'static Opt> {
        if let Some(o) = self.all_opts().find(|o| o.long == name) {
            return Ok(o);
        }
        let candidates: Vec<&'static Opt> = self
            .all_opts()
            .filter(|o| o.long.starts_with(name))
            .collect();
        match candidates.as_slice() {
            [one] => Ok(one),
            [] => Err(getopt_error(
                argv0,
                format!("unrecognized option '--{word}'"),
            )),
            many => {
                let list: Vec<String> = many.iter().map(|o| format!("'--{}'", o.long)).collect();
                Err(getopt_error(
                    argv0,
                    format!(
                        "option '--{word}' is ambiguous; possibilities: {}",
                        list.join(" ")
                    ),
                ))
            }
        }
    }

    /// Parses `args` (argv[0] first) against this tool's table.
    pub fn parse(&self, args: Vec<OsString>) -> Result<Parsed> {
        let mut args = args.into_iter();
        let argv0 = args
            .next()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.name.to_string());
        let mut parser = lexopt::Parser::from_args(args);
        let mut opts = Vec::new();
        let mut operands = Vec::new();
        loop {
            let arg = match parser.next() {
                Ok(Some(arg)) => arg,
                Ok(None) => break,
                // lexopt reads `-m=/x` as "-m with a value"; getopt reads it as `-m -= -/ -x`.
                Err(lexopt::Error::UnexpectedValue { option, .. }) if !option.starts_with("--") => {
                    return Err(getopt_error(&argv0, "invalid option -- '='".to_string()))
                }
                Err(e) => return Err(getopt_error(&argv0, e.to_string())),
            };
            let (opt, value) = match arg {
                lexopt::Arg::Short(c) => {
                    let opt = self
                        .find_short(c)
                        .ok_or_else(|| getopt_error(&argv0, format!("invalid option -- '{c}'")))?;
                    let value = match opt.arg {
                        ArgKind::None | ArgKind::OptionalLongOnly => None,
                        ArgKind::Optional => parser.optional_value(),
                        ArgKind::Required => Some(parser.value().map_err(|_| {
                            getopt_error(&argv0, format!("option requires an argument -- '{c}'"))
                        })?),
                    };
                    (opt, value)
                }
                lexopt::Arg::Long(name) => {
                    let name = name.to_string();
                    let attached = parser.optional_value();
                    let word = match &attached {
                        Some(v) => format!("{name}={}", v.to_string_lossy()),
                        None => name.clone(),
                    };
                    let opt = self.find_long(&name, &word, &argv0)?;
                    let value = match opt.arg {
                        ArgKind::None => {
                            if attached.is_some() {
                                return Err(getopt_error(
                                    &argv0,
                                    format!("option '--{}' doesn't allow an argument", opt.long),
                                ));
                            }
                            None
                        }
                        ArgKind::Optional | ArgKind::OptionalLongOnly => attached,
                        ArgKind::Required => match attached {
                            Some(v) => Some(v),
                            None => Some(parser.value().map_err(|_| {
                                getopt_error(
                                    &argv0,
                                    format!("option '--{}' requires an argument", opt.long),
                                )
                            })?),
                        },
                    };
                    (opt, value)
                }
                lexopt::Arg::Value(v) => {
                    operands.push(v);
                    if self.stop_at_operand {
                        operands
                            .extend(parser.raw_args().map_err(|e| Error::usage(e.to_string()))?);
                        break;
                    }
                    continue;
                }
            };
            // getopt handles -h/-V as ordinary options; util-linux acts on them at once.
            if self.help_version && opt.long == "help" {
                return Ok(Parsed::Help);
            }
            if self.help_version && opt.long == "version" {
                return Ok(Parsed::Version);
            }
            opts.push(Matched { opt, value });
        }
        Ok(Parsed::Run { opts, operands })
    }

    /// The `--help` text, util-linux layout.
    pub fn help(&self) -> String {
        let mut out = String::from("\nUsage:\n");
        for line in self.usage {
            out.push_str(&format!(" {line}\n"));
        }
        out.push_str(&format!("\n{}\n\nOptions:\n", self.about));
        for opt in self.opts.iter().filter(|o| !o.hidden) {
            if opt.group_start {
                out.push('\n');
            }
            self.push_help_line(&mut out, opt);
        }
        if self.help_version {
            // util-linux separates -h/-V from the tool's own options; with none (pivot_root) there is no gap.
            if self.opts.iter().any(|o| !o.hidden) {
                out.push('\n');
            }
            self.push_help_line(&mut out, &HELP);
            self.push_help_line(&mut out, &VERSION);
        }
        if !self.footer.is_empty() {
            out.push_str(&format!("\n{}\n", self.footer));
        }
        out
    }

    fn push_help_line(&self, out: &mut String, opt: &Opt) {
        let head = opt.help_head();
        let col = self.help_column;
        let mut lines = opt.help.split('\n');
        let first = lines.next().unwrap_or("");
        if head.chars().count() + 1 < col || (head.chars().count() < col && first.is_empty()) {
            out.push_str(&format!("{head:<col$}{first}\n"));
        } else {
            out.push_str(&format!("{head}\n{:col$}{first}\n", ""));
        }
        for more in lines {
            out.push_str(&format!("{:col$}{more}\n", ""));
        }
    }

    /// The `--version` line.
    pub fn version(&self) -> String {
        format!("{} from nsbox {}\n", self.name, crate::VERSION)
    }
}

fn getopt_error(argv0: &str, message: String) -> Error {
    Error::usage(message).with_prefix(argv0)
}

/// Parses, prints help or version when asked, and otherwise hands options and operands to `run`.
/// This is the whole `main` of a util-linux style tool.
pub fn run_tool(
    tool: &Tool,
    args: Vec<OsString>,
    run: impl FnOnce(Vec<Matched>, Vec<OsString>) -> Result<i32>,
) -> i32 {
    let outcome = refuse_setuid().and_then(|()| match tool.parse(args) {
        Ok(Parsed::Help) => print_stdout(&tool.help()),
        Ok(Parsed::Version) => print_stdout(&tool.version()),
        Ok(Parsed::Run { opts, operands }) => run(opts, operands),
        Err(e) => Err(e),
    });
    crate::error::finish(tool.name, outcome)
}

/// Every tool's first step (through [`run_tool`], or called by a tool with its own `main`): refuse to run
/// installed setuid/setgid or with file capabilities. Such a copy would hand any user root's power over
/// namespaces, mounts and links (`unshare --root`, `nsenter -t 1`, `netns add`, `switch_root`); the tools are
/// not a privilege boundary, and refusing before the command line is even parsed keeps the privileged code
/// path empty. Both tests: `AT_SECURE` (what the kernel says about this exec, file capabilities included) and
/// real ≠ effective ids at exec (a process that gained them some other way); both from the auxiliary vector,
/// so the check costs no system call.
pub fn refuse_setuid() -> Result<()> {
    if crate::sys::secure_exec() || crate::sys::ids_differed_at_exec() {
        return Err(Error::new("refusing to run with setuid/setgid privileges"));
    }
    Ok(())
}

/// Writes `text` to stdout; a closed pipe is not an error (`lsns | head -1`).
pub fn print_stdout(text: &str) -> Result<i32> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(Error::os("write error", e)),
    }
}

/// Lossy display of an OS string for messages.
pub fn show(s: &OsStr) -> String {
    s.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    static OPTS: &[Opt] = &[
        Opt::with_arg(
            Some('m'),
            "mount",
            ArgKind::OptionalLongOnly,
            "[=<file>]",
            Complete::File,
            "unshare mounts namespace",
        ),
        Opt::with_arg(
            Some('n'),
            "net",
            ArgKind::Optional,
            "[=<file>]",
            Complete::File,
            "enter network namespace",
        ),
        Opt::flag(Some('f'), "fork", "fork before launching <program>").group(),
        Opt::flag(None, "forward-signals", "forward signals"),
        Opt::with_arg(
            Some('R'),
            "root",
            ArgKind::Required,
            "=<dir>",
            Complete::Dir,
            "run the command with root directory set to <dir>",
        ),
        Opt::with_arg(
            None,
            "map-users",
            ArgKind::Required,
            "=<inneruid>:<outeruid>:<count>",
            Complete::Nothing,
            "map count users\nsecond line",
        ),
    ];

    static T: Tool = Tool {
        name: "t",
        usage: &["t [options] [<program> [<argument>...]]"],
        about: "Test tool.",
        opts: OPTS,
        help_version: true,
        help_column: 27,
        footer: "For more details see t(1).",
        stop_at_operand: true,
        operands: &[Complete::Command],
    };

    fn args(list: &[&str]) -> Vec<OsString> {
        std::iter::once("t")
            .chain(list.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn run(list: &[&str]) -> (Vec<(&'static str, Option<String>)>, Vec<String>) {
        match T.parse(args(list)).unwrap() {
            Parsed::Run { opts, operands } => (
                opts.iter()
                    .map(|m| (m.name(), m.value.as_ref().map(|v| show(v))))
                    .collect(),
                operands.iter().map(|v| show(v)).collect(),
            ),
            other => panic!("{other:?}"),
        }
    }

    fn err(list: &[&str]) -> String {
        T.parse(args(list)).unwrap_err().render("t")
    }

    #[test]
    fn stops_at_first_operand() {
        let (opts, rest) = run(&["-f", "ls", "-l", "--fork"]);
        assert_eq!(opts, vec![("fork", None)]);
        assert_eq!(rest, vec!["ls", "-l", "--fork"]);
    }

    #[test]
    fn double_dash_ends_options() {
        let (_, rest) = run(&["--", "-weird"]);
        assert_eq!(rest, vec!["-weird"]);
    }

    #[test]
    fn optional_long_only_is_glued_only() {
        let (opts, rest) = run(&["--mount", "/x"]);
        assert_eq!(opts, vec![("mount", None)]);
        assert_eq!(rest, vec!["/x"]);
        let (opts, _) = run(&["--mount=/x"]);
        assert_eq!(opts, vec![("mount", Some("/x".into()))]);
        assert!(err(&["-m/x"]).starts_with("t: invalid option -- '/'"));
        assert!(err(&["-m=/x"]).starts_with("t: invalid option -- '='"));
    }

    #[test]
    fn optional_short_glued() {
        let (opts, _) = run(&["-n/x"]);
        assert_eq!(opts, vec![("net", Some("/x".into()))]);
        let (opts, rest) = run(&["-n", "/x"]);
        assert_eq!(opts, vec![("net", None)]);
        assert_eq!(rest, vec!["/x"]);
    }

    #[test]
    fn clusters() {
        let (opts, _) = run(&["-fm", "-Rdir"]);
        assert_eq!(
            opts,
            vec![
                ("fork", None),
                ("mount", None),
                ("root", Some("dir".into()))
            ]
        );
    }

    #[test]
    fn required_forms() {
        for form in [&["-R", "d"][..], &["-Rd"], &["--root", "d"], &["--root=d"]] {
            let (opts, _) = run(form);
            assert_eq!(opts, vec![("root", Some("d".into()))]);
        }
        assert_eq!(
            err(&["--root"]),
            "t: option '--root' requires an argument\nTry 't --help' for more information.\n"
        );
        assert!(err(&["-R"]).starts_with("t: option requires an argument -- 'R'"));
    }

    #[test]
    fn prefixes() {
        let (opts, _) = run(&["--ro=d", "--mo"]);
        assert_eq!(opts, vec![("root", Some("d".into())), ("mount", None)]);
        assert_eq!(
            err(&["--fo"]),
            "t: option '--fo' is ambiguous; possibilities: '--fork' '--forward-signals'\nTry 't --help' for more information.\n"
        );
    }

    #[test]
    fn unknown_and_flag_with_value() {
        assert_eq!(
            err(&["--frob"]),
            "t: unrecognized option '--frob'\nTry 't --help' for more information.\n"
        );
        assert!(err(&["-x"]).starts_with("t: invalid option -- 'x'"));
        assert!(err(&["--fork=1"]).starts_with("t: option '--fork' doesn't allow an argument"));
        // getopt quotes the whole word, `=value` included, when the name does not match.
        assert!(err(&["--frob=1"]).starts_with("t: unrecognized option '--frob=1'\n"));
        assert!(err(&["--fo=1"]).starts_with("t: option '--fo=1' is ambiguous; possibilities:"));
        // A required argument glued with `=` is taken, an empty one too.
        assert_eq!(run(&["--root="]).0, vec![("root", Some("".into()))]);
    }

    #[test]
    fn help_and_version_short_circuit() {
        assert_eq!(
            T.parse(args(&["-f", "-h", "--bogus"])).unwrap(),
            Parsed::Help
        );
        assert_eq!(T.parse(args(&["--vers"])).unwrap(), Parsed::Version);
    }

    #[test]
    fn help_layout() {
        let help = T.help();
        assert!(help.starts_with(
            "\nUsage:\n t [options] [<program> [<argument>...]]\n\nTest tool.\n\nOptions:\n"
        ));
        assert!(help.contains("\n -m, --mount[=<file>]      unshare mounts namespace\n"));
        assert!(help.contains("\n\n -f, --fork                fork"));
        assert!(help.contains(" --map-users=<inneruid>:<outeruid>:<count>\n                           map count users\n                           second line\n"));
        assert!(help.ends_with("\n -h, --help                display this help\n -V, --version             display version\n\nFor more details see t(1).\n"));
    }
}
