//! Shared code of the nsbox tools: the option-table parser, the error type, namespace kinds and files,
//! users and id maps from the /etc files, signals, time offsets and the few raw syscalls rustix lacks.

pub mod complete;
pub mod error;
pub mod idmap;
pub mod man;
pub mod nlattr;
pub mod nsfile;
pub mod nskind;
pub mod opts;
pub mod signals;
pub mod sys;
pub mod timens;
pub mod users;

pub use error::{Error, Result};
pub use nskind::NsKind;

/// The nsbox version every tool reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
