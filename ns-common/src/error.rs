//! The one error type of every tool, and the one place it is printed.
//!
//! Tools return `Result<i32>` from their `run`; `ns_common::error::finish` turns it into an exit code and prints
//! the message once, as `tool: message`, with util-linux's `Try 'tool --help'` line where the user mistyped.

use std::fmt;
use std::io;

/// Exit code for a generic failure.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code when the program was found but could not be executed.
pub const EXIT_CANNOT_EXECUTE: i32 = 126;
/// Exit code when the program was not found.
pub const EXIT_NOT_FOUND: i32 = 127;

/// A failure that ends the tool: its message, exit code and whether the usage hint follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    code: i32,
    usage: bool,
    /// getopt-style errors are prefixed with argv[0] exactly as invoked, not the tool name.
    prefix: Option<String>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A failure with exit code 1.
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            code: EXIT_FAILURE,
            usage: false,
            prefix: None,
        }
    }

    /// A failure of a system call: `context: strerror(errno)`.
    pub fn os(context: impl fmt::Display, err: impl Into<io::Error>) -> Self {
        Error::new(format!("{context}: {}", strerror_of(&err.into())))
    }

    /// A usage mistake: the message is followed by `Try 'tool --help' for more information.`
    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            usage: true,
            ..Error::new(message)
        }
    }

    /// Same error, another exit code.
    pub fn with_code(mut self, code: i32) -> Self {
        self.code = code;
        self
    }

    /// Same error, printed with `prefix` (argv[0] as typed) in place of the tool name.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Same error, with usage hint.
    pub fn with_usage(mut self) -> Self {
        self.usage = true;
        self
    }

    /// Prepends context: `context: previous message`.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    pub fn code(&self) -> i32 {
        self.code
    }

    pub fn is_usage(&self) -> bool {
        self.usage
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The lines this error prints on stderr for `tool`.
    pub fn render(&self, tool: &str) -> String {
        let prefix = self.prefix.as_deref().unwrap_or(tool);
        let mut text = format!("{prefix}: {}\n", self.message);
        if self.usage {
            text.push_str(&format!("Try '{tool} --help' for more information.\n"));
        }
        text
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<rustix::io::Errno> for Error {
    fn from(errno: rustix::io::Errno) -> Self {
        Error::new(strerror(errno.raw_os_error()))
    }
}

/// `strerror(errno)` as glibc spells it, without Rust's ` (os error N)` suffix.
pub fn strerror(errno: i32) -> String {
    crate::sys::strerror(errno)
}

/// The strerror text of an `io::Error`, or its own text when it carries no errno.
pub fn strerror_of(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(errno) => strerror(errno),
        None => err.to_string(),
    }
}

/// Context for `Result<T, io::Error>` and `Result<T, Errno>`: `open(..).or_ctx(|| format!("cannot open {p}"))`.
pub trait Context<T> {
    fn or_ctx<D: fmt::Display>(self, context: impl FnOnce() -> D) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, io::Error> {
    fn or_ctx<D: fmt::Display>(self, context: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| Error::os(context(), e))
    }
}

impl<T> Context<T> for std::result::Result<T, rustix::io::Errno> {
    fn or_ctx<D: fmt::Display>(self, context: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| Error::os(context(), io::Error::from_raw_os_error(e.raw_os_error())))
    }
}

/// Runs a tool body and turns its outcome into the exit code, printing the error (if any) exactly once.
pub fn finish(tool: &str, outcome: Result<i32>) -> i32 {
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprint_quiet(&err.render(tool));
            err.code()
        }
    }
}

/// Writes to stderr, ignoring failure: there is nowhere left to report it.
pub fn eprint_quiet(text: &str) {
    use std::io::Write;
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// Prints a non-fatal warning as `tool: message`.
pub fn warn(tool: &str, message: impl fmt::Display) {
    eprint_quiet(&format!("{tool}: {message}\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_usage_hint_with_tool_name() {
        let e = Error::usage("unrecognized option '--frob'").with_prefix("./unshare");
        assert_eq!(
            e.render("unshare"),
            "./unshare: unrecognized option '--frob'\nTry 'unshare --help' for more information.\n"
        );
        assert_eq!(e.code(), 1);
    }

    #[test]
    fn os_error_has_no_rust_suffix() {
        let e = Error::os("cannot open /x", io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(e.message(), "cannot open /x: No such file or directory");
    }

    #[test]
    fn finish_returns_code() {
        assert_eq!(finish("t", Ok(3)), 3);
        assert_eq!(finish("t", Err(Error::new("x").with_code(127))), 127);
    }
}
