//! The multicall dispatcher: argv[0] → applet, or `nsbox APPLET ARGS...`, `--list`, `--install`.

use ns_common::complete::{self, Shell};
use ns_common::error::{finish, Context, Error, Result};
use ns_common::man;
use ns_common::opts::{print_stdout, Tool};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

type AppletMain = fn(Vec<OsString>) -> i32;

/// The applets: name, entry point, option table, install path (util-linux/Debian locations).
pub const APPLETS: &[(&str, AppletMain, &Tool, &str)] = &[
    ("lsns", lsns::main, &lsns::TOOL, "usr/bin/lsns"),
    ("netns", netns::netns_main, &netns::NETNS, "usr/sbin/netns"),
    ("nsenter", nsenter::main, &nsenter::TOOL, "usr/bin/nsenter"),
    (
        "pivot_root",
        pivot::pivot_root_main,
        &pivot::PIVOT_ROOT,
        "usr/sbin/pivot_root",
    ),
    (
        "switch_root",
        pivot::switch_root_main,
        &pivot::SWITCH_ROOT,
        "usr/sbin/switch_root",
    ),
    ("unshare", unshare::main, &unshare::TOOL, "usr/bin/unshare"),
    ("veth", netns::veth_main, &netns::VETH, "usr/sbin/veth"),
];

/// The applets that start with the caller's state as it is (they exec a program, which must get the caller's
/// signal dispositions as it would from util-linux). The others get std's start-up work first, as their own
/// binaries do (netns's `no_main` binary calls it itself, to remember the caller's SIGPIPE).
const NO_MAIN_APPLETS: &[&str] = &["nsenter", "switch_root", "unshare"];

/// An applet by name: its name and entry point.
type Applet = (&'static str, AppletMain);

fn find(name: &[u8]) -> Option<Applet> {
    APPLETS
        .iter()
        .find(|(n, ..)| n.as_bytes() == name)
        .map(|(n, f, ..)| (*n, *f))
}

/// Runs an applet as its own binary would start.
fn start((name, f): Applet, args: Vec<OsString>) -> i32 {
    if !NO_MAIN_APPLETS.contains(&name) {
        ns_common::sys::std_runtime_start();
    }
    f(args)
}

fn basename(word: &OsStr) -> &[u8] {
    let bytes = word.as_bytes();
    let bytes = bytes.strip_prefix(b"-").unwrap_or(bytes);
    match bytes.iter().rposition(|&b| b == b'/') {
        Some(i) => &bytes[i + 1..],
        None => bytes,
    }
}

enum Dispatch {
    Applet(Applet),
    Multiplexer,
    NotFound,
}

fn classify(name: &[u8]) -> Option<Dispatch> {
    if let Some(f) = find(name) {
        return Some(Dispatch::Applet(f));
    }
    if name.starts_with(b"nsbox") {
        return Some(Dispatch::Multiplexer);
    }
    None
}

/// Resolves argv[0] as the spec says: the basename, then (for a path naming a symlink) each link target's.
fn dispatch(argv0: &OsStr) -> Dispatch {
    if let Some(d) = classify(basename(argv0)) {
        return d;
    }
    let raw = argv0.as_bytes();
    let raw = raw.strip_prefix(b"-").unwrap_or(raw);
    if raw.contains(&b'/') {
        let mut path = PathBuf::from(OsStr::from_bytes(raw));
        for _ in 0..10 {
            let Ok(target) = std::fs::read_link(&path) else {
                break;
            };
            let next = match path.parent() {
                Some(dir) if target.is_relative() => dir.join(&target),
                _ => target,
            };
            if let Some(d) = classify(basename(next.as_os_str())) {
                return d;
            }
            path = next;
        }
    }
    Dispatch::NotFound
}

pub fn main(args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| OsString::from("nsbox"));
    match dispatch(&argv0) {
        Dispatch::Applet(applet) => start(applet, args),
        Dispatch::Multiplexer => multiplexer(args),
        Dispatch::NotFound => not_found(&argv0),
    }
}

fn not_found(word: &OsStr) -> i32 {
    finish(
        "nsbox",
        Err(Error::new(format!(
            "applet not found: {}",
            String::from_utf8_lossy(basename(word))
        ))
        .with_code(ns_common::error::EXIT_NOT_FOUND)),
    )
}

fn usage() -> String {
    let names: Vec<&str> = APPLETS.iter().map(|(n, ..)| *n).collect();
    format!(
        "nsbox {}: Linux namespace tools in one binary.\n\
         Usage: nsbox APPLET [ARGS...]\n\
         \x20  or: nsbox --list | --list-full\n\
         \x20  or: nsbox --install [-s] [--force] DIR\n\
         \x20  or: nsbox --help [APPLET] | --version\n\
         \n\
         Applets: {}\n",
        ns_common::VERSION,
        names.join(", ")
    )
}

fn multiplexer(args: Vec<OsString>) -> i32 {
    let Some(first) = args.get(1) else {
        return finish("nsbox", print_stdout(&usage()));
    };
    let word = first.as_bytes();
    if !word.starts_with(b"-") {
        return match find(basename(first)) {
            Some(applet) => {
                // The applet sees its own name (not the path typed) as argv[0] for its messages.
                let mut shifted = args[1..].to_vec();
                shifted[0] = OsStr::from_bytes(basename(first)).to_os_string();
                start(applet, shifted)
            }
            None => not_found(first),
        };
    }
    // The applets refuse a setuid run themselves; the multiplexer's own options must too (`--install`
    // would write symlinks into any directory).
    if let Err(e) = ns_common::opts::refuse_setuid() {
        return finish("nsbox", Err(e));
    }
    // nsbox's own options print like the std-`main` tools (a closed pipe is not an error).
    ns_common::sys::std_runtime_start();
    let rest = &args[2..];
    let outcome = match word {
        b"--list" => print_stdout(
            &APPLETS
                .iter()
                .map(|(n, ..)| format!("{n}\n"))
                .collect::<String>(),
        ),
        b"--list-full" => print_stdout(
            &APPLETS
                .iter()
                .map(|(.., p)| format!("{p}\n"))
                .collect::<String>(),
        ),
        b"--help" | b"-h" => match rest.first() {
            Some(applet) => match find(basename(applet)) {
                Some((_, f)) => return f(vec![applet.clone(), OsString::from("--help")]),
                None => return not_found(applet),
            },
            None => print_stdout(&usage()),
        },
        b"--version" | b"-V" => print_stdout(&format!("nsbox {}\n", ns_common::VERSION)),
        b"--install" => install(&args[0], rest),
        b"--generate" => generate(rest),
        _ => Err(Error::usage(format!(
            "unrecognized option '{}'",
            first.to_string_lossy()
        ))),
    };
    finish("nsbox", outcome)
}

/// `nsbox --generate complete-bash|complete-zsh|complete-fish TOOL` — a completion script (TOOL may be `nsbox`);
/// `nsbox --generate man TOOL` — a man page. Hidden: used to regenerate `completions/` and `man/`.
fn generate(rest: &[OsString]) -> Result<i32> {
    let what = rest
        .first()
        .map(|w| w.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = rest
        .get(1)
        .map(|w| w.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tools: Vec<&Tool> = APPLETS.iter().map(|(.., t, _)| *t).collect();
    if what == "man" {
        let page = if name == "nsbox" {
            man::multicall_page(&tools)
        } else {
            man::page(find_tool(&name)?)
        };
        return print_stdout(&page);
    }
    let shell = what
        .strip_prefix("complete-")
        .and_then(Shell::from_name)
        .ok_or_else(|| Error::usage(format!("unknown generator '{what}'")))?;
    if name == "nsbox" {
        return print_stdout(&complete::multicall_script(&tools, shell));
    }
    print_stdout(&complete::script(find_tool(&name)?, shell))
}

fn find_tool(name: &str) -> Result<&'static Tool> {
    APPLETS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(.., t, _)| *t)
        .ok_or_else(|| Error::usage(format!("applet not found: {name}")))
}

/// The absolute path links should point at: /proc/self/exe, else an absolute argv[0].
fn own_path(argv0: &OsStr) -> Result<PathBuf> {
    if let Ok(p) = std::fs::read_link("/proc/self/exe") {
        return Ok(p);
    }
    let p = Path::new(argv0);
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    Err(Error::new(format!(
        "cannot find own path: '{}' is not an absolute path (mount /proc or run nsbox by its full path)",
        argv0.to_string_lossy()
    )))
}

fn install(argv0: &OsStr, rest: &[OsString]) -> Result<i32> {
    let mut symbolic = false;
    let mut force = false;
    let mut dir = None;
    for word in rest {
        match word.as_bytes() {
            b"-s" => symbolic = true,
            b"--force" | b"-f" => force = true,
            w if w.starts_with(b"-") && w.len() > 1 => {
                return Err(Error::usage(format!(
                    "unrecognized option '{}'",
                    word.to_string_lossy()
                )))
            }
            _ if dir.is_some() => return Err(Error::usage("--install takes one directory")),
            _ => dir = Some(PathBuf::from(word)),
        }
    }
    let dir = dir.ok_or_else(|| Error::usage("--install needs a directory"))?;
    let target = own_path(argv0)?;
    std::fs::create_dir_all(&dir).or_ctx(|| format!("cannot create {}", dir.display()))?;
    let mut code = 0;
    for (name, ..) in APPLETS {
        let link = dir.join(name);
        if let Err(e) = install_one(&target, &link, symbolic, force) {
            ns_common::error::warn("nsbox", &e);
            code = 1;
        }
    }
    Ok(code)
}

fn install_one(target: &Path, link: &Path, symbolic: bool, force: bool) -> Result<()> {
    let make = |at: &Path| -> std::io::Result<()> {
        if symbolic {
            std::os::unix::fs::symlink(target, at)
        } else {
            std::fs::hard_link(target, at)
        }
    };
    let exists = std::fs::symlink_metadata(link).is_ok();
    if exists && !force {
        return Err(Error::new(format!(
            "{} exists, not replaced (use --force)",
            link.display()
        )));
    }
    let hint = |e: std::io::Error| {
        let err = Error::os(format!("cannot link {}", link.display()), e);
        if symbolic || !err.message().ends_with("Invalid cross-device link") {
            return err;
        }
        Error::new(format!(
            "{} (hard links cannot cross filesystems: use -s)",
            err.message()
        ))
    };
    if exists {
        // Replace atomically: make the new link under a temporary name, then rename it over the old one.
        let tmp = link.with_file_name(format!(
            ".{}.nsbox-tmp",
            link.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        let _ = std::fs::remove_file(&tmp);
        make(&tmp).map_err(hint)?;
        if let Err(e) = std::fs::rename(&tmp, link) {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::os(format!("cannot replace {}", link.display()), e));
        }
        Ok(())
    } else {
        make(link).map_err(hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basenames() {
        assert_eq!(basename(OsStr::new("/usr/bin/unshare")), b"unshare");
        assert_eq!(basename(OsStr::new("-unshare")), b"unshare");
        assert_eq!(basename(OsStr::new("nsbox")), b"nsbox");
    }

    #[test]
    fn classification() {
        assert!(matches!(
            dispatch(OsStr::new("./unshare")),
            Dispatch::Applet(_)
        ));
        assert!(matches!(
            dispatch(OsStr::new("nsbox.static")),
            Dispatch::Multiplexer
        ));
        assert!(matches!(
            dispatch(OsStr::new("nsbox-unshare")),
            Dispatch::Multiplexer
        ));
        assert!(matches!(dispatch(OsStr::new("frob")), Dispatch::NotFound));
    }

    #[test]
    fn applets_sorted_and_complete() {
        let names: Vec<&str> = APPLETS.iter().map(|(n, ..)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), 7);
        for (name, _, tool, _) in APPLETS {
            assert_eq!(*name, tool.name);
        }
    }
}
