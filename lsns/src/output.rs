//! Printing rows the way libsmartcols does: aligned table, raw, JSON (pretty, compact, lines), and trees.

use crate::columns::{Column, Rows, Value};
use crate::{Config, TreeKind};
use ns_common::Result;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    Table,
    Raw,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Flat,
    Tree(TreeKind),
}

/// The rows to print, their columns and their nesting.
#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<Column>,
    /// Cells per row, one per shown column.
    pub cells: Vec<Vec<Value>>,
    pub roots: Vec<usize>,
    pub children: Vec<Vec<usize>>,
    /// The shown column that carries the tree glyphs, if the layout is a tree.
    pub tree_column: Option<usize>,
    pub layout: Layout,
}

impl Table {
    /// Picks the shown cells (`shown[i]` indexes `rows.columns`) and nests the rows for `layout`.
    pub fn build(rows: &Rows, columns: &[Column], shown: &[usize], layout: Layout) -> Table {
        let cells: Vec<Vec<Value>> = rows
            .rows
            .iter()
            .map(|r| shown.iter().map(|&i| r.values[i].clone()).collect())
            .collect();
        let tree_column = match layout {
            Layout::Flat => None,
            Layout::Tree(TreeKind::Process) => columns.iter().position(|c| *c == Column::Command),
            Layout::Tree(_) => columns.iter().position(|c| *c == Column::Ns),
        };
        let n = rows.rows.len();
        let mut parent_of: Vec<Option<usize>> = vec![None; n];
        match (layout, tree_column) {
            (Layout::Tree(TreeKind::Process), Some(_)) => {
                // The nearest earlier row whose PID is this row's PPID.
                let mut last_with_pid: HashMap<i32, usize> = HashMap::new();
                for (i, row) in rows.rows.iter().enumerate() {
                    if let Some(ppid) = row.ppid {
                        parent_of[i] = last_with_pid.get(&ppid).copied();
                    }
                    if let Some(pid) = row.pid {
                        last_with_pid.insert(pid, i);
                    }
                }
            }
            (Layout::Tree(kind), Some(_)) => {
                let by_ino: HashMap<u64, usize> = rows
                    .rows
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (r.ino, i))
                    .collect();
                for (i, row) in rows.rows.iter().enumerate() {
                    let up = if kind == TreeKind::Owner {
                        row.owner
                    } else {
                        row.parent
                    };
                    parent_of[i] = by_ino.get(&up).copied().filter(|&p| p != i);
                }
                break_cycles(&mut parent_of);
            }
            _ => {}
        }
        // Without the tree column the owner and parent layouts are flat, but keep the tree's row order.
        let order: Vec<usize> = match (layout, tree_column) {
            (Layout::Tree(TreeKind::Owner | TreeKind::Parent), _) => ancestors_first(rows),
            _ => (0..n).collect(),
        };
        let mut roots = Vec::new();
        let mut children = vec![Vec::new(); n];
        for i in order {
            match parent_of[i] {
                Some(p) => children[p].push(i),
                None => roots.push(i),
            }
        }
        Table {
            columns: columns.to_vec(),
            cells,
            roots,
            children,
            tree_column,
            layout,
        }
    }

    /// Whether shown column `c` carries the tree glyphs: the tree column, and every repeat of it (`-o NS,NS`
    /// in the owner tree draws the tree twice, as util-linux does).
    fn is_tree_column(&self, c: usize) -> bool {
        self.tree_column
            .is_some_and(|t| self.columns.get(c) == self.columns.get(t))
    }

    /// Rows in print order with their depth and, per level, whether that ancestor is the last of its siblings.
    fn walk(&self) -> Vec<(usize, Vec<bool>)> {
        let mut out = Vec::with_capacity(self.cells.len());
        let mut stack: Vec<(usize, Vec<bool>)> = Vec::new();
        // Pushed reversed so they pop in order; "last" flags are recorded below the roots only.
        for &r in self.roots.iter().rev() {
            stack.push((r, Vec::new()));
        }
        while let Some((row, lasts)) = stack.pop() {
            let kids = &self.children[row];
            for (k, &child) in kids.iter().enumerate().rev() {
                let mut l = lasts.clone();
                l.push(k + 1 == kids.len());
                stack.push((child, l));
            }
            out.push((row, lasts));
        }
        out
    }
}

/// The owner and parent trees place a row after the rows of its owner and parent namespaces (whether it
/// nests under them or not): util-linux creates those lines first, and siblings keep creation order.
fn ancestors_first(rows: &Rows) -> Vec<usize> {
    let by_ino: HashMap<u64, usize> = rows
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.ino, i))
        .collect();
    let mut placed = vec![false; rows.rows.len()];
    let mut order = Vec::with_capacity(rows.rows.len());
    for start in 0..rows.rows.len() {
        if rows.rows[start].reached_only {
            continue;
        }
        // Iterative depth-first walk up the owner, then parent, links.
        let mut stack = vec![(start, false)];
        while let Some((i, expanded)) = stack.pop() {
            if placed[i] {
                continue;
            }
            if expanded {
                placed[i] = true;
                order.push(i);
                continue;
            }
            stack.push((i, true));
            let row = &rows.rows[i];
            for up in [row.parent, row.owner] {
                if let Some(&j) = by_ino.get(&up) {
                    if !placed[j] && !stack.iter().any(|&(k, _)| k == j) {
                        stack.push((j, false));
                    }
                }
            }
        }
    }
    order
}

/// A row whose chain of parents loops (impossible for real namespaces) becomes a root.
fn break_cycles(parent_of: &mut [Option<usize>]) {
    for start in 0..parent_of.len() {
        let mut steps = 0;
        let mut at = start;
        while let Some(p) = parent_of[at] {
            steps += 1;
            if steps > parent_of.len() {
                parent_of[start] = None;
                break;
            }
            at = p;
        }
    }
}

/// Whether the locale's character set is UTF-8 (LC_ALL, then LC_CTYPE, then LANG, as setlocale reads them).
pub fn utf8_locale() -> bool {
    for var in ["LC_ALL", "LC_CTYPE", "LANG"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                let v = v.to_ascii_lowercase();
                return v.contains("utf-8") || v.contains("utf8");
            }
        }
    }
    false
}

struct Glyphs {
    branch: &'static str,
    last: &'static str,
    vertical: &'static str,
    blank: &'static str,
}

const UTF8_GLYPHS: Glyphs = Glyphs {
    branch: "├─",
    last: "└─",
    vertical: "│ ",
    blank: "  ",
};

const ASCII_GLYPHS: Glyphs = Glyphs {
    branch: "|-",
    last: "`-",
    vertical: "| ",
    blank: "  ",
};

/// The tree prefix of a row (`lasts` per level below the roots), or of its continuation lines.
fn tree_prefix(lasts: &[bool], glyphs: &Glyphs, continuation: bool) -> String {
    let mut s = String::new();
    let Some((own, ancestors)) = lasts.split_last() else {
        return s;
    };
    for &last in ancestors {
        s.push_str(if last { glyphs.blank } else { glyphs.vertical });
    }
    s.push_str(match (continuation, *own) {
        (false, true) => glyphs.last,
        (false, false) => glyphs.branch,
        (true, true) => glyphs.blank,
        (true, false) => glyphs.vertical,
    });
    s
}

/// Table cell encoding: control characters as `\xHH`; outside a UTF-8 locale, non-ASCII bytes too.
pub fn encode_table(bytes: &[u8], utf8: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    let hex = |out: &mut String, b: u8| {
        let _ = write!(out, "\\x{b:02x}");
    };
    for chunk in bytes.utf8_chunks() {
        for ch in chunk.valid().chars() {
            if ch.is_control() || (!ch.is_ascii() && !utf8) {
                let mut buf = [0u8; 4];
                for &b in ch.encode_utf8(&mut buf).as_bytes() {
                    hex(&mut out, b);
                }
            } else {
                out.push(ch);
            }
        }
        for &b in chunk.invalid() {
            hex(&mut out, b);
        }
    }
    out
}

/// Raw encoding: every byte outside printable ASCII, and space and backslash, as `\xHH`.
pub fn encode_raw(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_graphic() && b != b'\\' {
            out.push(b as char);
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Appends a JSON string literal: `\\`, `\"`, `\n`, `\t`, other control characters as `\u00XX`; every
/// other byte as is (UTF-8, and like util-linux, invalid sequences too).
pub fn json_string_into(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b if b < 0x20 || b == 0x7f => {
                let _ = write!(out, "\\u{b:04x}");
            }
            b => out.push(b),
        }
    }
    out.push(b'"');
}

/// A JSON string literal of UTF-8 text.
pub fn json_string(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len() + 2);
    json_string_into(text.as_bytes(), &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn json_value_into(column: Column, value: &Value, out: &mut Vec<u8>) {
    match value {
        v if v.is_empty() => out.extend_from_slice(b"null"),
        Value::Int(n) if column.is_number() => {
            let _ = write!(out, "{n}");
        }
        other => json_string_into(&other.bytes(), out),
    }
}

fn display_width(s: &str) -> usize {
    s.chars().count()
}

/// Cuts `s` to at most `width` characters.
fn cut(s: &str, width: usize) -> String {
    s.chars().take(width).collect()
}

/// util-linux's width hints, as observed: PID and PPID 5, TYPE 5 except in the owner and parent trees
/// (2.42 dropped it there; 2.38 still pads).
fn width_hint(column: Column, layout: Layout) -> usize {
    match column {
        Column::Pid | Column::Ppid => 5,
        Column::Type if !matches!(layout, Layout::Tree(TreeKind::Owner | TreeKind::Parent)) => 5,
        _ => 0,
    }
}

/// The terminal width when stdout is a terminal.
fn terminal_width() -> Option<usize> {
    let stdout = std::io::stdout();
    if !rustix::termios::isatty(&stdout) {
        return None;
    }
    match rustix::termios::tcgetwinsize(&stdout) {
        Ok(ws) if ws.ws_col > 0 => Some(usize::from(ws.ws_col)),
        _ => std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()),
    }
}

fn render_table(table: &Table, config: &Config) -> String {
    let utf8 = utf8_locale();
    let glyphs = if utf8 { &UTF8_GLYPHS } else { &ASCII_GLYPHS };
    let ncol = table.columns.len();
    // Each printed row: its lines, each a list of cells.
    let mut printed: Vec<Vec<Vec<String>>> = Vec::with_capacity(table.cells.len());
    for (row, lasts) in table.walk() {
        let mut columns_lines: Vec<Vec<String>> = Vec::with_capacity(ncol);
        for (c, value) in table.cells[row].iter().enumerate() {
            let mut lines: Vec<String> = match value {
                Value::Lines(l) if !config.no_wrap => {
                    l.iter().map(|s| encode_table(s.as_bytes(), utf8)).collect()
                }
                v if v.is_empty() => Vec::new(),
                v => vec![encode_table(&v.bytes(), utf8)],
            };
            if table.is_tree_column(c) {
                let first = tree_prefix(&lasts, glyphs, false);
                if lines.is_empty() {
                    lines.push(String::new());
                }
                lines[0] = format!("{first}{}", lines[0]);
            }
            columns_lines.push(lines);
        }
        let height = columns_lines.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut out_lines = Vec::with_capacity(height);
        for k in 0..height {
            let line: Vec<String> = columns_lines
                .iter()
                .enumerate()
                .map(|(c, lines)| match lines.get(k) {
                    Some(s) => s.clone(),
                    None if k > 0 && table.is_tree_column(c) => tree_prefix(&lasts, glyphs, true),
                    None => String::new(),
                })
                .collect();
            out_lines.push(line);
        }
        printed.push(out_lines);
    }
    let headers: Vec<&str> = table.columns.iter().map(|c| c.name()).collect();
    let mut data_widths = vec![0; ncol];
    for lines in &printed {
        for line in lines {
            for (c, cell) in line.iter().enumerate() {
                data_widths[c] = data_widths[c].max(display_width(cell));
            }
        }
    }
    let mut widths: Vec<usize> = headers
        .iter()
        .zip(&data_widths)
        .enumerate()
        .map(|(c, (h, &data))| {
            let header = display_width(h);
            // libsmartcols widens a column to its width hint once the data is as wide as the header
            // (`PID` with 4-digit PIDs is 5 wide, with PID 2 only 3).
            let hint = width_hint(table.columns[c], table.layout);
            if data >= header {
                data.max(hint)
            } else {
                header
            }
        })
        .collect();
    if !config.no_truncate {
        if let (Some(term), Some(cmd)) = (
            terminal_width(),
            table.columns.iter().position(|c| *c == Column::Command),
        ) {
            let total: usize = widths.iter().sum::<usize>() + ncol.saturating_sub(1);
            if total > term {
                let excess = total - term;
                let new = widths[cmd].saturating_sub(excess).max(headers[cmd].len());
                widths[cmd] = new;
                for lines in &mut printed {
                    for line in lines {
                        line[cmd] = cut(&line[cmd], new);
                    }
                }
            }
        }
    }
    let right = |c: usize| !table.is_tree_column(c) && table.columns[c].right_aligned();
    let mut out = String::new();
    let push_line = |cells: &[String], out: &mut String| {
        for (c, cell) in cells.iter().enumerate() {
            if c > 0 {
                out.push(' ');
            }
            let pad = widths[c].saturating_sub(display_width(cell));
            let last = c + 1 == ncol;
            if last && cell.is_empty() {
                continue;
            }
            if right(c) {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if !last {
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        out.push('\n');
    };
    if !config.no_headings {
        let h: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
        push_line(&h, &mut out);
    }
    for lines in &printed {
        for line in lines {
            push_line(line, &mut out);
        }
    }
    out
}

fn render_raw(table: &Table, config: &Config) -> String {
    let mut out = String::new();
    if !config.no_headings {
        let h: Vec<String> = table
            .columns
            .iter()
            .map(|c| encode_raw(c.name().as_bytes()))
            .collect();
        out.push_str(&h.join(" "));
        out.push('\n');
    }
    let glyphs = if utf8_locale() {
        &UTF8_GLYPHS
    } else {
        &ASCII_GLYPHS
    };
    for (row, lasts) in table.walk() {
        let cells: Vec<String> = table.cells[row]
            .iter()
            .enumerate()
            .map(|(c, v)| {
                if table.is_tree_column(c) {
                    // The reference keeps the glyphs in raw output, escaped like any other byte.
                    let mut cell = tree_prefix(&lasts, glyphs, false).into_bytes();
                    cell.extend_from_slice(&v.bytes());
                    encode_raw(&cell)
                } else {
                    encode_raw(&v.bytes())
                }
            })
            .collect();
        out.push_str(&cells.join(" "));
        out.push('\n');
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum JsonStyle {
    Pretty,
    Compact,
    Lines,
}

fn json_style() -> JsonStyle {
    match std::env::var("LIBSMARTCOLS_JSON").as_deref() {
        Ok("compact") => JsonStyle::Compact,
        Ok("lines") => JsonStyle::Lines,
        _ => JsonStyle::Pretty,
    }
}

fn json_object_pretty(table: &Table, row: usize, indent: usize, out: &mut Vec<u8>) {
    let pad = " ".repeat(indent + 3);
    let nested = table.tree_column.is_some() && !table.children[row].is_empty();
    let n = table.columns.len();
    for (c, value) in table.cells[row].iter().enumerate() {
        let key = table.columns[c].name().to_ascii_lowercase();
        out.extend_from_slice(pad.as_bytes());
        json_string_into(key.as_bytes(), out);
        out.extend_from_slice(b": ");
        json_value_into(table.columns[c], value, out);
        if c + 1 < n || nested {
            out.push(b',');
        }
        out.push(b'\n');
    }
    if nested {
        let _ = writeln!(out, "{pad}\"children\": [");
        json_list_pretty(table, &table.children[row], indent + 6, out);
        let _ = writeln!(out, "{pad}]");
    }
}

/// A list of objects at `indent` (the column of their braces), joined by `},{`.
fn json_list_pretty(table: &Table, rows: &[usize], indent: usize, out: &mut Vec<u8>) {
    let pad = " ".repeat(indent);
    for (k, &row) in rows.iter().enumerate() {
        if k == 0 {
            let _ = writeln!(out, "{pad}{{");
        }
        json_object_pretty(table, row, indent, out);
        if k + 1 < rows.len() {
            let _ = writeln!(out, "{pad}}},{{");
        } else {
            let _ = writeln!(out, "{pad}}}");
        }
    }
}

fn json_object_compact(table: &Table, row: usize, out: &mut Vec<u8>) {
    out.push(b'{');
    for (c, value) in table.cells[row].iter().enumerate() {
        if c > 0 {
            out.push(b',');
        }
        let key = table.columns[c].name().to_ascii_lowercase();
        json_string_into(key.as_bytes(), out);
        out.push(b':');
        json_value_into(table.columns[c], value, out);
    }
    if table.tree_column.is_some() && !table.children[row].is_empty() {
        out.extend_from_slice(b",\"children\":[");
        for (k, &child) in table.children[row].iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            json_object_compact(table, child, out);
        }
        out.push(b']');
    }
    out.push(b'}');
}

fn render_json(table: &Table, key: &str) -> Vec<u8> {
    let flat: Vec<usize>;
    let top: &[usize] = if table.tree_column.is_some() {
        &table.roots
    } else {
        flat = table.walk().into_iter().map(|(r, _)| r).collect();
        &flat
    };
    let mut out = Vec::new();
    match json_style() {
        JsonStyle::Pretty => {
            let _ = writeln!(out, "{{\n   {}: [", json_string(key));
            if top.is_empty() {
                out.push(b'\n');
            }
            json_list_pretty(table, top, 6, &mut out);
            out.extend_from_slice(b"   ]\n}\n");
        }
        JsonStyle::Compact => {
            let _ = write!(out, "{{{}:[", json_string(key));
            for (k, &row) in top.iter().enumerate() {
                out.extend_from_slice(if k > 0 { b",\n" } else { b"\n" });
                json_object_compact(table, row, &mut out);
            }
            out.extend_from_slice(b"\n]}\n");
        }
        JsonStyle::Lines => {
            for &row in top {
                json_object_compact(table, row, &mut out);
                out.push(b'\n');
            }
        }
    }
    out
}

/// Writes `bytes` to stdout; a closed pipe is not an error (`lsns | head -1`).
fn print_bytes(bytes: &[u8]) -> Result<i32> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(ns_common::Error::os("write error", e)),
    }
}

/// Prints the table in the requested mode; nothing at all when there are no rows (except JSON's empty list).
pub fn print(table: &Table, config: &Config) -> Result<i32> {
    let bytes = match config.mode {
        OutputMode::Json => render_json(table, "namespaces"),
        _ if table.cells.is_empty() => Vec::new(),
        OutputMode::Raw => render_raw(table, config).into_bytes(),
        OutputMode::Table => render_table(table, config).into_bytes(),
    };
    print_bytes(&bytes)
}

/// `-H`: the columns with their types and descriptions.
pub fn print_column_list(mode: OutputMode) -> Result<i32> {
    let kind = |c: Column| {
        if c.is_number() {
            "<integer>"
        } else {
            "<string>"
        }
    };
    let mut out = String::new();
    match mode {
        OutputMode::Table => {
            for c in Column::ALL {
                let _ = writeln!(out, "{:>7} {:<9} {}", c.name(), kind(c), c.description());
            }
        }
        OutputMode::Raw => {
            for c in Column::ALL {
                let _ = writeln!(
                    out,
                    "{} {} {}",
                    encode_raw(c.name().as_bytes()),
                    encode_raw(kind(c).as_bytes()),
                    encode_raw(c.description().as_bytes())
                );
            }
        }
        OutputMode::Json => {
            out.push_str("{\n   \"lsns-columns\": [\n");
            for (k, c) in Column::ALL.iter().enumerate() {
                out.push_str(if k == 0 { "      {\n" } else { "      },{\n" });
                let _ = writeln!(out, "         \"holder\": {},", json_string(c.name()));
                let _ = writeln!(out, "         \"type\": {},", json_string(kind(*c)));
                let _ = writeln!(
                    out,
                    "         \"description\": {}",
                    json_string(c.description())
                );
            }
            out.push_str("      }\n   ]\n}\n");
        }
    }
    ns_common::opts::print_stdout(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(
            encode_raw("sh -c \\x\"é".as_bytes()),
            "sh\\x20-c\\x20\\x5cx\"\\xc3\\xa9"
        );
        assert_eq!(encode_table(b"a\nb\tc\\\"", true), "a\\x0ab\\x09c\\\"");
        assert_eq!(encode_table("é".as_bytes(), false), "\\xc3\\xa9");
        assert_eq!(encode_table("é".as_bytes(), true), "é");
        // Invalid UTF-8 and C1 controls byte by byte, as util-linux does.
        assert_eq!(encode_table(b"x\xff\xfe y", true), "x\\xff\\xfe y");
        assert_eq!(encode_table("\u{85}".as_bytes(), true), "\\xc2\\x85");
        assert_eq!(
            json_string("a\"b\\c\nd\te\u{1}é"),
            "\"a\\\"b\\\\c\\nd\\te\\u0001é\""
        );
        let mut out = Vec::new();
        json_string_into(b"x\xff\x01", &mut out);
        assert_eq!(out, b"\"x\xff\\u0001\"");
    }

    #[test]
    fn prefixes() {
        assert_eq!(tree_prefix(&[], &UTF8_GLYPHS, false), "");
        assert_eq!(tree_prefix(&[false], &UTF8_GLYPHS, false), "├─");
        assert_eq!(tree_prefix(&[true, true], &UTF8_GLYPHS, false), "  └─");
        assert_eq!(tree_prefix(&[false, false], &ASCII_GLYPHS, false), "| |-");
    }
}
