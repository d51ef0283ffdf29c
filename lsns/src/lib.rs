//! lsns — list namespaces, a drop-in for util-linux 2.42 lsns(8).
//!
//! The work is split by concern: [`discovery`] finds namespaces (processes, fds, sockets, bind mounts) in one
//! pass over /proc, [`columns`] turns them into typed cells, [`filter`] implements `-Q`, and [`output`] prints
//! the table, raw, JSON and tree layouts the way libsmartcols does.

pub mod columns;
pub mod discovery;
pub mod filter;
pub mod netnsid;
pub mod output;

use columns::{Column, Value};
use discovery::ScanRequest;
use ns_common::opts::{ArgKind, Complete, Matched, Opt, Parsed, Tool};
use ns_common::{Error, NsKind, Result};
use output::{Layout, OutputMode, Table};
use std::ffi::OsString;

pub use filter::{parse_filter, Expr, FilterError};

static OPTS: &[Opt] = &[
    Opt::flag(Some('J'), "json", "use JSON output format"),
    Opt::flag(Some('l'), "list", "use list format output"),
    Opt::flag(Some('n'), "noheadings", "don't print headings"),
    Opt::with_arg(
        Some('o'),
        "output",
        ArgKind::Required,
        " <list>",
        Complete::CommaList(columns::COLUMN_NAMES),
        "define which output columns to use",
    ),
    Opt::flag(None, "output-all", "output all columns"),
    Opt::flag(Some('P'), "persistent", "namespaces without processes"),
    Opt::with_arg(
        Some('p'),
        "task",
        ArgKind::Required,
        " <pid>",
        Complete::Pid,
        "print process namespaces",
    ),
    Opt::with_arg(
        Some('Q'),
        "filter",
        ArgKind::Required,
        " <expr>",
        Complete::Nothing,
        "apply display filter",
    ),
    Opt::flag(Some('r'), "raw", "use the raw output format"),
    Opt::flag(Some('u'), "notruncate", "don't truncate text in columns"),
    Opt::flag(Some('W'), "nowrap", "don't use multi-line representation"),
    Opt::with_arg(
        Some('t'),
        "type",
        ArgKind::Required,
        " <name>",
        Complete::Values(ns_common::nskind::TYPE_NAMES),
        "namespace type (mnt, net, ipc, user, pid, uts, cgroup, time)",
    ),
    Opt::with_arg(
        Some('T'),
        "tree",
        ArgKind::Optional,
        " <rel>",
        Complete::Values(&["parent", "owner", "process"]),
        "use tree format (parent, owner, or process)",
    ),
    Opt::flag(Some('H'), "list-columns", "list the available columns").group(),
];

pub static TOOL: Tool = Tool {
    name: "lsns",
    usage: &["lsns [options] [<namespace>]"],
    about: "List system namespaces.",
    opts: OPTS,
    help_version: true,
    help_column: 24,
    footer: "For more details see lsns(8).",
    stop_at_operand: false,
    operands: &[Complete::Nothing],
};

/// util-linux's help text: long-only options are indented past the short-option slot and `-H` shares the
/// group of `-h`/`-V`, which the generic layout of [`Tool::help`] does not do.
const HELP: &str = "
Usage:
 lsns [options] [<namespace>]

List system namespaces.

Options:
 -J, --json             use JSON output format
 -l, --list             use list format output
 -n, --noheadings       don't print headings
 -o, --output <list>    define which output columns to use
     --output-all       output all columns
 -P, --persistent       namespaces without processes
 -p, --task <pid>       print process namespaces
 -Q, --filter <expr>    apply display filter
 -r, --raw              use the raw output format
 -u, --notruncate       don't truncate text in columns
 -W, --nowrap           don't use multi-line representation
 -t, --type <name>      namespace type (mnt, net, ipc, user, pid, uts, cgroup, time)
 -T, --tree <rel>       use tree format (parent, owner, or process)

 -H, --list-columns     list the available columns
 -h, --help             display this help
 -V, --version          display version

For more details see lsns(8).
";

/// The `-T` relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeKind {
    Process,
    Owner,
    Parent,
}

/// What the command line asked for, validated.
#[derive(Debug)]
pub struct Config {
    pub mode: OutputMode,
    pub no_headings: bool,
    pub no_truncate: bool,
    pub no_wrap: bool,
    pub list: bool,
    pub tree: Option<TreeKind>,
    pub persistent: bool,
    pub task: Option<i32>,
    pub types: Vec<NsKind>,
    pub columns: Vec<Column>,
    pub filter: Option<filter::Expr>,
    pub namespace: Option<u64>,
    pub list_columns: bool,
}

pub fn main(args: Vec<OsString>) -> i32 {
    // Not through run_tool (lsns has its own help text), so the setuid refusal is called here.
    let outcome = ns_common::opts::refuse_setuid().and_then(|()| match TOOL.parse(args) {
        Ok(Parsed::Help) => ns_common::opts::print_stdout(HELP),
        Ok(Parsed::Version) => ns_common::opts::print_stdout(&TOOL.version()),
        Ok(Parsed::Run { opts, operands }) => parse_config(&opts, &operands).and_then(|c| run(&c)),
        Err(e) => Err(e),
    });
    ns_common::error::finish(TOOL.name, outcome)
}

fn parse_tree_kind(value: Option<&str>) -> Result<TreeKind> {
    match value {
        None | Some("owner") => Ok(TreeKind::Owner),
        Some("parent") => Ok(TreeKind::Parent),
        Some("process") => Ok(TreeKind::Process),
        Some(other) => Err(Error::new(format!("unknown tree type: {other}"))),
    }
}

/// A decimal number as util-linux's `strtoxx_or_err` takes it: `what: 'TEXT'`, with `: Numerical result out
/// of range` when it is a number too large for the type.
fn parse_number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::new(format!("{what}: '{text}'")));
    }
    digits.parse().map_err(|_| {
        Error::new(format!(
            "{what}: '{text}': {}",
            ns_common::error::strerror(libc::ERANGE)
        ))
    })
}

/// `-p PID`: strict decimal, as every number nsenter and lsns take (README: `lsns -p -1` is refused); 0 means
/// no task, as in util-linux (everything is listed, and a positional namespace is no conflict).
fn parse_task(text: &str) -> Result<Option<i32>> {
    let pid: i32 = parse_number(text, "invalid PID argument")?;
    Ok((pid != 0).then_some(pid))
}

/// Parses the arguments into a [`Config`], checking what util-linux checks, in its order.
pub fn parse_config(opts: &[Matched], operands: &[OsString]) -> Result<Config> {
    let mut json = false;
    let mut raw = false;
    let mut config = Config {
        mode: OutputMode::Table,
        no_headings: false,
        no_truncate: false,
        no_wrap: false,
        list: false,
        tree: None,
        persistent: false,
        task: None,
        types: Vec::new(),
        columns: Vec::new(),
        filter: None,
        namespace: None,
        list_columns: false,
    };
    let mut output: Option<String> = None;
    let mut output_all = false;
    let mut filter_text: Option<String> = None;
    let mut task_given = false;
    for m in opts {
        match m.name() {
            "json" => json = true,
            "list" => config.list = true,
            "noheadings" => config.no_headings = true,
            "output" => output = Some(m.value_str()),
            "output-all" => output_all = true,
            "persistent" => config.persistent = true,
            "task" => {
                let text = m.value_str();
                task_given = true;
                config.task = parse_task(&text)?;
            }
            "filter" => filter_text = Some(m.value_str()),
            "raw" => raw = true,
            "notruncate" => config.no_truncate = true,
            "nowrap" => config.no_wrap = true,
            "type" => {
                let text = m.value_str();
                let kind = NsKind::from_name(&text)
                    .ok_or_else(|| Error::new(format!("unknown namespace type: {text}")))?;
                if !config.types.contains(&kind) {
                    config.types.push(kind);
                }
            }
            "tree" => {
                let value = m.value.as_ref().map(|_| m.value_str());
                config.tree = Some(parse_tree_kind(value.as_deref())?);
            }
            "list-columns" => config.list_columns = true,
            _ => {}
        }
    }
    if json && raw {
        return Err(Error::new("options --json and --raw cannot be combined"));
    }
    if config.persistent && task_given {
        return Err(Error::new(
            "options --persistent and --task cannot be combined",
        ));
    }
    config.mode = if json {
        OutputMode::Json
    } else if raw {
        OutputMode::Raw
    } else {
        OutputMode::Table
    };
    if let Some(word) = operands.first() {
        let text = word.to_string_lossy();
        config.namespace = Some(parse_number(&text, "invalid namespace argument")?);
    }
    if config.task.is_some() && config.namespace.is_some() {
        return Err(Error::new("--task is mutually exclusive with <namespace>"));
    }
    let net_selected = config.types.contains(&NsKind::Net);
    if config.types.is_empty() {
        config.types = NsKind::ALL.to_vec();
    }
    let defaults = if config.namespace.is_some() {
        columns::DEFAULT_NAMESPACE_MODE.to_vec()
    } else if net_selected {
        columns::DEFAULT_NET.to_vec()
    } else {
        columns::DEFAULT.to_vec()
    };
    config.columns = if output_all {
        Column::ALL.to_vec()
    } else {
        defaults
    };
    if let Some(list) = output {
        if let Some(rest) = list.strip_prefix('+') {
            config.columns.extend(columns::parse_list(rest)?);
        } else {
            config.columns = columns::parse_list(&list)?;
        }
    }
    if let Some(text) = filter_text {
        let expr = filter::parse_filter(&text).map_err(|e| match e {
            FilterError::UnknownColumn(name) => Error::new(format!(
                "unknown column: {name}\nlsns: failed to initialize filter"
            )),
            other => Error::new(format!("failed to parse \"{text}\": {other}")),
        })?;
        config.filter = Some(expr);
    }
    Ok(config)
}

/// The columns whose values must be computed: shown ones and those the filter reads.
fn needed_columns(config: &Config) -> Vec<Column> {
    let mut needed = config.columns.clone();
    if let Some(f) = &config.filter {
        f.columns(&mut needed);
    }
    needed
}

fn run(config: &Config) -> Result<i32> {
    if config.list_columns {
        return output::print_column_list(config.mode);
    }
    let needed = needed_columns(config);
    let tree = effective_tree(config);
    let request = ScanRequest {
        types: config.types.clone(),
        need_command: needed.contains(&Column::Command),
        need_relatives: needed.contains(&Column::Pns)
            || needed.contains(&Column::Ons)
            || matches!(tree, Some(TreeKind::Owner | TreeKind::Parent)),
        need_netnsid: needed.contains(&Column::Netnsid),
        add_ancestors: matches!(tree, Some(TreeKind::Owner | TreeKind::Parent)),
        scan_fds: config.task.is_none(),
        namespace: config.namespace,
        task: config.task,
    };
    let scan = discovery::scan(&request);
    let mut table = if let Some(ino) = config.namespace {
        match columns::namespace_process_rows(&scan, ino, &needed)? {
            Some(t) => t,
            None => return Ok(scan.exit_code()),
        }
    } else {
        columns::namespace_rows(&scan, config, &needed)
    };
    if let Some(expr) = &config.filter {
        let mut keep = Vec::with_capacity(table.rows.len());
        for row in &table.rows {
            let lookup = |c: Column| -> Option<&Value> {
                needed.iter().position(|n| *n == c).map(|i| &row.values[i])
            };
            keep.push(
                expr.eval(&lookup)
                    .map_err(|_| Error::new("failed to apply filter: Invalid argument"))?,
            );
        }
        let mut flags = keep.into_iter();
        table.rows.retain(|_| flags.next().unwrap_or(false));
    }
    let layout = if config.namespace.is_some() {
        // The owner and parent trees put their tree on NS; the process rows of one namespace have no owner
        // or parent rows, so those layouts come out flat.
        match tree {
            Some(kind) => Layout::Tree(kind),
            None => Layout::Flat,
        }
    } else {
        match tree {
            Some(kind) => Layout::Tree(kind),
            None => Layout::Flat,
        }
    };
    let shown: Vec<usize> = config
        .columns
        .iter()
        .map(|c| needed.iter().position(|n| n == c).unwrap_or(0))
        .collect();
    let printable = Table::build(&table, &config.columns, &shown, layout);
    output::print(&printable, config)?;
    Ok(scan.exit_code())
}

/// `-l` is overridden by `-T`; without either the process tree is the default.
fn effective_tree(config: &Config) -> Option<TreeKind> {
    match (config.tree, config.list) {
        (Some(kind), _) => Some(kind),
        (None, true) => None,
        (None, false) => Some(TreeKind::Process),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<Config> {
        let argv: Vec<OsString> = std::iter::once("lsns")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        match TOOL.parse(argv)? {
            Parsed::Run { opts, operands } => parse_config(&opts, &operands),
            other => panic!("{other:?}"),
        }
    }

    fn err(args: &[&str]) -> String {
        config(args).unwrap_err().message().to_string()
    }

    #[test]
    fn tree_argument_forms() {
        assert_eq!(config(&["-Tparent"]).unwrap().tree, Some(TreeKind::Parent));
        assert_eq!(config(&["-T=parent"]).unwrap().tree, Some(TreeKind::Parent));
        assert_eq!(
            config(&["--tree=process"]).unwrap().tree,
            Some(TreeKind::Process)
        );
        assert_eq!(config(&["-T"]).unwrap().tree, Some(TreeKind::Owner));
        assert_eq!(
            err(&["-T", "parent"]),
            "invalid namespace argument: 'parent'"
        );
        assert_eq!(err(&["-Tfoo"]), "unknown tree type: foo");
        assert_eq!(err(&["-T==owner"]), "unknown tree type: =owner");
    }

    #[test]
    fn exclusive_options() {
        assert_eq!(
            err(&["-J", "-r"]),
            "options --json and --raw cannot be combined"
        );
        assert_eq!(
            err(&["-P", "-p", "1"]),
            "options --persistent and --task cannot be combined"
        );
        assert_eq!(
            err(&["-p", "1", "4026531836"]),
            "--task is mutually exclusive with <namespace>"
        );
        assert_eq!(err(&["-t", "foo"]), "unknown namespace type: foo");
        assert_eq!(err(&["abc"]), "invalid namespace argument: 'abc'");
        assert_eq!(
            err(&["-p", "99999999999"]),
            "invalid PID argument: '99999999999': Numerical result out of range"
        );
        assert_eq!(err(&["-p", "x1"]), "invalid PID argument: 'x1'");
        assert_eq!(err(&["-p", ""]), "invalid PID argument: ''");
        assert_eq!(
            err(&["-P", "-p", "0"]),
            "options --persistent and --task cannot be combined"
        );
    }

    #[test]
    fn task_zero_is_no_task_and_other_pids_are_strict() {
        assert_eq!(config(&["-p", "0"]).unwrap().task, None);
        assert_eq!(
            config(&["-p", "0", "4026531836"]).unwrap().namespace,
            Some(4026531836)
        );
        assert_eq!(config(&["-p", "+5"]).unwrap().task, Some(5));
        assert_eq!(err(&["-p", "-1"]), "invalid PID argument: '-1'");
        assert_eq!(err(&["-p", " 5"]), "invalid PID argument: ' 5'");
    }

    #[test]
    fn default_columns() {
        let names = |args: &[&str]| -> Vec<&str> {
            config(args)
                .unwrap()
                .columns
                .iter()
                .map(|c| c.name())
                .collect()
        };
        assert_eq!(
            names(&[]),
            ["NS", "TYPE", "NPROCS", "PID", "USER", "COMMAND"]
        );
        assert_eq!(
            names(&["-t", "net"]),
            ["NS", "TYPE", "NPROCS", "PID", "USER", "NETNSID", "NSFS", "COMMAND"]
        );
        assert_eq!(names(&["-o", "+PATH", "-t", "uts"]).last(), Some(&"PATH"));
        assert_eq!(names(&["1234"]), ["PID", "PPID", "USER", "COMMAND"]);
        assert_eq!(names(&["--output-all"]).len(), 13);
        assert_eq!(names(&["-o", "ns,NS"]), ["NS", "NS"]);
        assert_eq!(err(&["-o", "BOGUS"]), "unknown column: BOGUS");
        assert_eq!(err(&["-o", ""]), "unknown column: ''");
        assert_eq!(err(&["-o", "NS,"]), "unknown column: ''");
    }

    #[test]
    fn operands_are_permuted() {
        let c = config(&["4026531836", "-l"]).unwrap();
        assert_eq!(c.namespace, Some(4026531836));
        assert!(c.list);
    }
}
