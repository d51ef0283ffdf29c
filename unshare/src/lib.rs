//! unshare — run a program in new namespaces (a drop-in for util-linux 2.42 unshare(1)).
//!
//! `options` turns the command line into validated [`options::Settings`]; `run` performs the steps in the
//! order the kernel sees them; `helper` holds the processes forked before unshare(2); `persist` the
//! persistence binds and their undo; `mounts` the mounts made in the new mount namespace; `hints` the extra
//! line after a failed unshare(2); `init` the optional PID 1.

mod helper;
mod hints;
mod init;
mod mounts;
pub mod options;
mod persist;
mod run;

pub use options::TOOL;

use ns_common::error::{Error, Result};
use ns_common::{sys, users};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

/// The tool's entry point: `args[0]` is argv[0] as invoked.
pub fn main(args: Vec<OsString>) -> i32 {
    ns_common::opts::run_tool(&TOOL, args, |opts, operands| {
        let euid = rustix::process::geteuid().as_raw();
        let egid = rustix::process::getegid().as_raw();
        // (run_tool has already refused a setuid/setgid run.)
        let settings = options::Settings::from_options(&opts, euid, egid)?;
        // Converted to C strings now, so nothing after the fork needs to allocate for it.
        let command = prepare_command(operands)?;
        run::run(&settings, &command)
    })
}

/// The program to exec: the operands, or with none a login-style shell: `$SHELL` if set and non-empty,
/// else the user's shell from /etc/passwd, else /bin/sh; argv[0] is `-` + its basename (`-bash`), and the
/// shell is run by that path, without a PATH search.
fn prepare_command(mut operands: Vec<OsString>) -> Result<sys::Command> {
    let invalid = |e| Error::os("failed to prepare the command", e);
    if !operands.is_empty() {
        let program = operands.remove(0);
        return sys::Command::new(&program, &operands).map_err(invalid);
    }
    let shell = std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .or_else(|| {
            users::user_by_uid(rustix::process::getuid().as_raw())
                .map(|e| OsString::from_vec(e.shell))
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| OsString::from("/bin/sh"));
    sys::Command::login_shell(&shell).map_err(invalid)
}
