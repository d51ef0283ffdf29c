//! `netns`: the subcommands of `ip netns`. Messages are iproute2's, printed without a program prefix
//! (scripts grep them), and exit codes are iproute2's: 1 for most failures, 255 for argument errors,
//! 2 for kernel errors.

use crate::cli::{self, match_keyword};
use crate::exec_env;
use crate::json::{self, Value};
use crate::names::{check_netns_name, is_pid, netns_arg_path, netns_path, EXIT_USAGE, RUN_DIR};
use crate::rtnl::{Rtnl, EXIT_KERNEL};
use crate::rundir;
use crate::{NETNS, NETNS_SUBCOMMANDS};
use ns_common::error::{eprint_quiet, strerror_of, Error, Result};
use ns_common::opts::print_stdout;
use ns_common::sys;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

const USAGE: &str = "Usage:\tnetns list
\tnetns add NAME
\tnetns attach NAME PID
\tnetns set NAME NETNSID
\tnetns [-all] delete [NAME]
\tnetns identify [PID]
\tnetns pids NAME
\tnetns [-all] exec [NAME] cmd ...
\tnetns monitor
\tnetns list-id [target-nsid POSITIVE-INT] [nsid POSITIVE-INT]
NETNSID := auto | POSITIVE-INT
";

/// The global options that matter to the subcommands.
#[derive(Debug, Default)]
struct Globals {
    all: bool,
    json: bool,
    pretty: bool,
}

/// The whole tool: parse, run, print the error (if any) once, without a prefix.
pub fn main(args: Vec<OsString>) -> i32 {
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprint_quiet(&format!("{}\n", e.message()));
            e.code()
        }
    }
}

/// The usage text on stderr, rc 255 (`help`, and argument errors).
fn usage() -> Result<i32> {
    eprint_quiet(USAGE);
    Ok(EXIT_USAGE)
}

fn no_name() -> Error {
    Error::new("No netns name specified")
}

fn run(args: Vec<OsString>) -> Result<i32> {
    // Not through run_tool (iproute2's parser and messages), so the setuid refusal is called here.
    ns_common::opts::refuse_setuid()?;
    let (opts, rest) = match cli::parse(&NETNS, args) {
        Ok(cli::Parsed::Help) => return print_stdout(&NETNS.help()),
        Ok(cli::Parsed::Version) => return print_stdout(&NETNS.version()),
        Ok(cli::Parsed::Run { opts, rest }) => (opts, rest),
        Err(bad) => return Err(Error::new(bad.0).with_code(EXIT_USAGE)),
    };
    let mut globals = Globals::default();
    let mut inside = None;
    for m in &opts {
        match m.name() {
            "all" => globals.all = true,
            "json" => globals.json = true,
            "pretty" => globals.pretty = true,
            "netns" => inside = m.value.clone(),
            _ => {}
        }
    }
    if let Some(name) = inside {
        check_netns_name(&name)?;
        let fd = exec_env::open_netns(&name, &netns_arg_path(&name))?;
        exec_env::enter(&name, &fd)?;
    }
    let mut rest = rest.into_iter();
    let Some(word) = rest.next() else {
        return list(&globals);
    };
    let args: Vec<OsString> = rest.collect();
    let text = word.to_string_lossy();
    let Some(sub) = match_keyword(&text, NETNS_SUBCOMMANDS) else {
        return Err(Error::new(format!(
            "Command \"{text}\" is unknown, try \"netns help\"."
        ))
        .with_code(EXIT_USAGE));
    };
    match sub {
        "list" | "show" | "lst" => list(&globals),
        "list-id" => list_id(&globals, &args),
        "help" => usage(),
        "add" => {
            let name = args.first().ok_or_else(no_name)?;
            check_netns_name(name)?;
            rundir::add(name).map(|_| 0)
        }
        "attach" => attach(&args),
        "set" => set(&args),
        "delete" => delete(&globals, &args),
        "identify" => identify(&globals, &args),
        "pids" => pids(&args),
        "exec" => exec(&globals, &args),
        "monitor" => monitor(),
        _ => usage(),
    }
}

/// `list`: every entry with the nsid this netns gave it, if any. nsid lookups that fail (an entry that
/// is no netns, no rtnetlink) are silent.
fn list(globals: &Globals) -> Result<i32> {
    // Without a /run/netns there is no output at all, not even `[]` with -j (as iproute2).
    let Some(names) = rundir::listed() else {
        return Ok(0);
    };
    // No socket at all when there is nothing to look up.
    let mut rtnl = if names.is_empty() {
        None
    } else {
        Rtnl::open().ok()
    };
    let mut objects = Vec::new();
    let mut text = String::new();
    for name in names {
        let id = match (&mut rtnl, File::open(netns_path(&name))) {
            (Some(rtnl), Ok(f)) => rtnl.nsid_of(f.as_fd()).ok().flatten(),
            _ => None,
        };
        let shown = name.to_string_lossy().into_owned();
        match id {
            Some(id) => text.push_str(&format!("{shown} (id: {id})\n")),
            None => text.push_str(&format!("{shown}\n")),
        }
        let mut object = vec![("name", Value::Str(shown))];
        if let Some(id) = id {
            object.push(("id", Value::Int(id.into())));
        }
        objects.push(object);
    }
    if globals.json {
        return print_stdout(&json::array(&objects, globals.pretty));
    }
    print_stdout(&text)
}

/// nsid → the first `/run/netns` name with that nsid (in this netns's numbering).
fn names_by_nsid(rtnl: &mut Rtnl) -> HashMap<i32, String> {
    let mut map = HashMap::new();
    for name in rundir::names() {
        if let Ok(f) = File::open(netns_path(&name)) {
            if let Ok(Some(id)) = rtnl.nsid_of(f.as_fd()) {
                map.entry(id)
                    .or_insert_with(|| name.to_string_lossy().into_owned());
            }
        }
    }
    map
}

/// A `list-id` number: a non-negative int.
fn parse_nsid_arg(word: &OsStr, what: &str) -> Result<i32> {
    let text = word.to_string_lossy();
    let n = strtol_i32(&text).ok_or_else(|| {
        Error::new(format!(
            "Error: argument \"{text}\" is wrong: \"{what}\" value is invalid"
        ))
        .with_code(EXIT_USAGE)
    })?;
    // iproute2 names the argument "(null)" here; we name it.
    non_negative(n, &text, what)
}

/// `n` if it is not negative, else iproute2's `value should be >= 0` usage error.
fn non_negative(n: i32, text: &str, what: &str) -> Result<i32> {
    if n < 0 {
        return Err(Error::new(format!(
            "Error: argument \"{text}\" is wrong: \"{what}\" value should be >= 0"
        ))
        .with_code(EXIT_USAGE));
    }
    Ok(n)
}

/// A number as iproute2 reads nsids (`strtol` with base 0, the whole word, within 32 bits): leading
/// blanks, a sign, `0x` hex, a leading `0` octal, else decimal.
fn strtol_i32(text: &str) -> Option<i32> {
    let t = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (16, hex)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i64::from_str_radix(digits, radix).ok()?;
    i32::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// `list-id [target-nsid N] [nsid M]`.
fn list_id(globals: &Globals, args: &[OsString]) -> Result<i32> {
    let mut target = None;
    let mut nsid = None;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let key = match_keyword(&word.to_string_lossy(), &["target-nsid", "nsid"]);
        let Some(key) = key else {
            return usage();
        };
        let Some(value) = words.next() else {
            return Err(
                Error::new("Command line is not complete. Try option \"help\"")
                    .with_code(EXIT_USAGE),
            );
        };
        let n = parse_nsid_arg(value, key)?;
        if key == "nsid" {
            nsid = Some(n);
        } else {
            target = Some(n);
        }
    }
    let mut rtnl = Rtnl::open().map_err(|e| Error::os("Cannot open rtnetlink", e))?;
    let entries = match rtnl.nsids(target, nsid) {
        Ok(entries) => entries,
        Err(crate::rtnl::NlError::Kernel(k)) if k.errno == libc::EOPNOTSUPP => {
            return Err(Error::new("RTM_GETNSID is not supported by the kernel."));
        }
        // A failed dump is reported as iproute2 reports it.
        // With -j iproute2 has opened (and then closes) the array before the dump fails.
        Err(e) if nsid.is_none() => {
            let text = e.into_error().message().to_string();
            if globals.json {
                print_stdout(&json::array(&[], globals.pretty))?;
            }
            return Err(Error::new(format!("{text}\nDump terminated")));
        }
        Err(e) => return Err(e.into_error()),
    };
    let names = names_by_nsid(&mut rtnl);
    let mut text = String::new();
    let mut objects = Vec::new();
    for entry in entries {
        let key = entry.current.unwrap_or(entry.nsid);
        let name = names.get(&key);
        let mut object = Vec::new();
        if entry.nsid >= 0 {
            text.push_str(&format!("nsid {} ", entry.nsid));
            object.push(("nsid", Value::Int(entry.nsid.into())));
        } else {
            text.push_str("nsid unassigned ");
            object.push(("nsid", Value::Str("unassigned".into())));
        }
        match entry.current {
            Some(current) if current >= 0 => {
                text.push_str(&format!("current-nsid {current} "));
                object.push(("current-nsid", Value::Int(current.into())));
            }
            Some(_) => {
                text.push_str("current-nsid unassigned ");
                object.push(("current-nsid", Value::Str("unassigned".into())));
            }
            None => {}
        }
        if let Some(name) = name {
            text.push_str(&format!("(iproute2 netns name: {name})"));
            object.push(("name", Value::Str(name.clone())));
        }
        text.push('\n');
        objects.push(object);
    }
    if globals.json {
        return print_stdout(&json::array(&objects, globals.pretty));
    }
    print_stdout(&text)
}

/// `attach NAME PID`.
fn attach(args: &[OsString]) -> Result<i32> {
    let (Some(name), Some(pid)) = (args.first(), args.get(1)) else {
        return Err(Error::new("No netns name and PID specified"));
    };
    check_netns_name(name)?;
    // Checked before /run/netns is touched, so a bad PID leaves nothing behind.
    let pid = attach_pid(pid)
        .ok_or_else(|| Error::new(format!("Invalid PID: {}", pid.to_string_lossy())))?;
    rundir::attach(name, &pid.to_string()).map(|_| 0)
}

/// An `attach` PID: decimal digits for 1..=i32::MAX (iproute2 says `Invalid PID` for 0 and anything beyond
/// pid_t). Unlike iproute2, no sign, no `0x`/octal forms and no leading zero: `010` would be PID 8 there and
/// 10 to a reader, so it is refused rather than guessed.
fn attach_pid(word: &OsStr) -> Option<i32> {
    let text = word.to_str()?;
    if !is_pid(word) || text.starts_with('0') {
        return None;
    }
    text.parse::<i32>().ok()
}

/// A `set` nsid: `auto` (-1) or 0..=i32::MAX.
fn parse_netnsid(word: &OsStr) -> Result<i32> {
    let text = word.to_string_lossy();
    if text == "auto" {
        return Ok(-1);
    }
    let invalid = || {
        Error::new(format!(
            "Error: argument \"{text}\" is wrong: Invalid \"netnsid\" value"
        ))
        .with_code(EXIT_USAGE)
    };
    let n = strtol_i32(&text).ok_or_else(invalid)?;
    non_negative(n, &text, "netnsid")
}

/// `set NAME NSID|auto`.
fn set(args: &[OsString]) -> Result<i32> {
    let name = args.first().ok_or_else(no_name)?;
    let value = args.get(1).ok_or_else(|| Error::new("No nsid specified"))?;
    check_netns_name(name)?;
    let nsid = parse_netnsid(value)?;
    let fd = File::open(netns_arg_path(name)).map_err(|e| {
        Error::os(
            format!(
                "Cannot open network namespace \"{}\"",
                name.to_string_lossy()
            ),
            e,
        )
    })?;
    let mut rtnl =
        Rtnl::open().map_err(|e| Error::os("Cannot open rtnetlink", e).with_code(EXIT_KERNEL))?;
    rtnl.set_nsid(fd.as_fd(), nsid)?;
    Ok(0)
}

/// `delete NAME` and `-all delete`.
fn delete(globals: &Globals, args: &[OsString]) -> Result<i32> {
    if globals.all {
        let mut code = 0;
        for name in rundir::names() {
            if let Err(e) = rundir::delete(&name) {
                eprint_quiet(&format!("{}\n", e.message()));
                code = e.code();
            }
        }
        return Ok(code);
    }
    let name = args.first().ok_or_else(no_name)?;
    check_netns_name(name)?;
    rundir::delete(name).map(|_| 0)
}

/// (device, inode) of a netns file, as `stat` follows it.
fn ns_identity(path: impl AsRef<std::path::Path>) -> std::io::Result<(u64, u64)> {
    std::fs::metadata(path).map(|m| (m.dev(), m.ino()))
}

fn cannot_open(e: std::io::Error) -> Error {
    Error::new(format!(
        "Cannot open network namespace: {}",
        strerror_of(&e)
    ))
}

/// `identify [PID]`: every name of the netns of PID (default: ours). nsbox deviation: all matching names,
/// where iproute2 prints only the last one.
fn identify(globals: &Globals, args: &[OsString]) -> Result<i32> {
    let target = match args.first() {
        None => "/proc/self/ns/net".to_string(),
        Some(p) if is_pid(p) => format!("/proc/{}/ns/net", p.to_string_lossy()),
        Some(p) => {
            return Err(Error::new(format!(
                "Specified string '{}' is not a pid",
                p.to_string_lossy()
            )))
        }
    };
    let wanted = ns_identity(&target).map_err(cannot_open)?;
    let names: Vec<String> = rundir::names()
        .into_iter()
        .filter(|n| ns_identity(netns_path(n)).ok() == Some(wanted))
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    if globals.json {
        let objects: Vec<json::Object> = names
            .into_iter()
            .map(|n| vec![("name", Value::Str(n))])
            .collect();
        return print_stdout(&json::array(&objects, globals.pretty));
    }
    if names.is_empty() {
        return print_stdout("\n");
    }
    print_stdout(&names.iter().map(|n| format!("{n}\n")).collect::<String>())
}

/// `pids NAME`: the processes whose netns is NAME, in /proc order.
fn pids(args: &[OsString]) -> Result<i32> {
    let name = args.first().ok_or_else(no_name)?;
    check_netns_name(name)?;
    let wanted = ns_identity(netns_arg_path(name)).map_err(cannot_open)?;
    let mut text = String::new();
    if let Ok(proc_dir) = std::fs::read_dir("/proc") {
        for entry in proc_dir.flatten() {
            let pid = entry.file_name();
            if !is_pid(&pid) {
                continue;
            }
            let path = format!("/proc/{}/ns/net", pid.to_string_lossy());
            if ns_identity(&path).ok() == Some(wanted) {
                text.push_str(&format!("{}\n", pid.to_string_lossy()));
            }
        }
    }
    print_stdout(&text)
}

/// Enters the netns `name` and its environment, then replaces this process with `command`.
/// Returns only on failure.
fn exec_in(name: &OsStr, command: &[OsString]) -> Error {
    let fd = match exec_env::open_netns(name, &netns_arg_path(name)) {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    if let Err(e) = exec_env::enter(name, &fd) {
        return e;
    }
    drop(fd);
    let program = &command[0];
    let shown = program.to_string_lossy();
    let cmd = match sys::Command::new(program, &command[1..]) {
        Ok(cmd) => cmd,
        Err(e) => return Error::os(format!("exec of \"{shown}\" failed"), e),
    };
    // We run with SIGPIPE ignored (std_runtime_start); the command gets the caller's disposition back.
    sys::restore_callers_sigpipe();
    let err = cmd.execvp();
    Error::os(format!("exec of \"{shown}\" failed"), err)
}

/// `exec NAME cmd...` (no fork: the command's exit status and signals are its own) and `-all exec cmd...`.
fn exec(globals: &Globals, args: &[OsString]) -> Result<i32> {
    if globals.all {
        if args.is_empty() {
            return Err(Error::new("No command specified"));
        }
        for name in rundir::names() {
            print_stdout(&format!("\nnetns: {}\n", name.to_string_lossy()))?;
            match sys::fork().map_err(|e| Error::os("fork failed", e))? {
                None => {
                    let err = exec_in(&name, args);
                    eprint_quiet(&format!("{}\n", err.message()));
                    sys::exit_now(1);
                }
                Some(child) => {
                    let _ = sys::waitpid(child, 0);
                }
            }
        }
        return Ok(0);
    }
    let name = args.first().ok_or_else(no_name)?;
    check_netns_name(name)?;
    if args.len() < 2 {
        return Err(Error::new("No command specified"));
    }
    Err(exec_in(name, &args[1..]))
}

/// `monitor`: `add NAME` / `delete NAME` as entries appear and disappear, one flushed line each.
fn monitor() -> Result<i32> {
    use rustix::fs::inotify;
    let _ = rustix::fs::mkdir(RUN_DIR, rustix::fs::Mode::from_bits_truncate(0o755));
    let fd = inotify::init(inotify::CreateFlags::CLOEXEC)
        .map_err(|e| Error::os("inotify_init failed", std::io::Error::from(e)))?;
    inotify::add_watch(
        &fd,
        RUN_DIR,
        inotify::WatchFlags::CREATE | inotify::WatchFlags::DELETE,
    )
    .map_err(|e| Error::os("inotify_add_watch failed", std::io::Error::from(e)))?;
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 4096];
    let mut reader = inotify::Reader::new(&fd, &mut buf);
    let mut out = std::io::stdout().lock();
    loop {
        let event = match reader.next() {
            Ok(event) => event,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => {
                return Err(Error::os(
                    "read of inotify events failed",
                    std::io::Error::from(e),
                ))
            }
        };
        let Some(file) = event.file_name() else {
            continue;
        };
        let what = if event.events().contains(inotify::ReadFlags::CREATE) {
            "add"
        } else if event.events().contains(inotify::ReadFlags::DELETE) {
            "delete"
        } else {
            continue;
        };
        let line = format!("{what} {}\n", file.to_string_lossy());
        if out
            .write_all(line.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            return Ok(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attach_pids() {
        assert_eq!(attach_pid(OsStr::new("1")), Some(1));
        assert_eq!(attach_pid(OsStr::new("2147483647")), Some(i32::MAX));
        for bad in [
            "",
            "0",
            "00",
            "010",
            "-1",
            "+5",
            " 5",
            "5x",
            "0x10",
            "2147483648",
            "99999999999",
        ] {
            assert_eq!(attach_pid(OsStr::new(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn netnsid_values() {
        assert_eq!(parse_netnsid(OsStr::new("auto")).unwrap(), -1);
        assert_eq!(parse_netnsid(OsStr::new("2147483647")).unwrap(), i32::MAX);
        let e = parse_netnsid(OsStr::new("abc")).unwrap_err();
        assert_eq!(
            e.message(),
            "Error: argument \"abc\" is wrong: Invalid \"netnsid\" value"
        );
        assert_eq!(e.code(), 255);
        assert_eq!(
            parse_netnsid(OsStr::new("-5")).unwrap_err().message(),
            "Error: argument \"-5\" is wrong: \"netnsid\" value should be >= 0"
        );
        assert!(parse_netnsid(OsStr::new("2147483648")).is_err());
        // strtol with base 0, as iproute2 reads them.
        for (text, n) in [
            ("0x10", 16),
            ("0X1f", 31),
            ("010", 8),
            (" 5", 5),
            ("\t+7", 7),
            ("-0", 0),
        ] {
            assert_eq!(parse_netnsid(OsStr::new(text)).unwrap(), n, "{text}");
            assert_eq!(
                parse_nsid_arg(OsStr::new(text), "nsid").unwrap(),
                n,
                "{text}"
            );
        }
        for text in ["0x", "08", "5 ", "", "-", "0x-1", "1e3"] {
            assert!(parse_netnsid(OsStr::new(text)).is_err(), "{text}");
        }
        assert_eq!(
            parse_nsid_arg(OsStr::new("-0x5"), "nsid")
                .unwrap_err()
                .message(),
            "Error: argument \"-0x5\" is wrong: \"nsid\" value should be >= 0"
        );
    }

    #[test]
    fn list_id_numbers() {
        assert_eq!(parse_nsid_arg(OsStr::new("7"), "nsid").unwrap(), 7);
        assert_eq!(
            parse_nsid_arg(OsStr::new("abc"), "target-nsid")
                .unwrap_err()
                .message(),
            "Error: argument \"abc\" is wrong: \"target-nsid\" value is invalid"
        );
    }

    #[test]
    fn usage_names_the_tool() {
        assert!(USAGE.starts_with("Usage:\tnetns list\n"));
        assert!(USAGE.ends_with("NETNSID := auto | POSITIVE-INT\n"));
    }
}
