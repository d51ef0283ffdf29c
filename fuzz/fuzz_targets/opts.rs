//! Arbitrary argv for the option table of every tool: `Tool::parse` must return `Ok` or `Err`, never panic.
//!
//! Input layout: the first byte picks the tool, the rest is argv[1..] split at NUL bytes (so any byte string,
//! including invalid UTF-8, reaches the parser as an argument).

#![no_main]

use libfuzzer_sys::fuzz_target;
use ns_common::opts::{Parsed, Tool};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fn tools() -> [&'static Tool; 7] {
    [
        &unshare::TOOL,
        &nsenter::TOOL,
        &lsns::TOOL,
        &pivot::PIVOT_ROOT,
        &pivot::SWITCH_ROOT,
        &netns::NETNS,
        &netns::VETH,
    ]
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let tools = tools();
    let tool = tools[usize::from(pick) % tools.len()];
    let mut argv = vec![OsString::from(tool.name)];
    if !rest.is_empty() {
        argv.extend(
            rest.split(|&b| b == 0)
                .map(|a| OsString::from_vec(a.to_vec())),
        );
    }
    match tool.parse(argv) {
        Ok(Parsed::Run { opts, operands }) => {
            for m in &opts {
                let _ = m.value_str();
            }
            // The second step of the tools that expose it: raw options to validated settings.
            if std::ptr::eq(tool, &unshare::TOOL) {
                let _ = unshare::options::Settings::from_options(&opts, 1000, 1000);
            } else if std::ptr::eq(tool, &lsns::TOOL) {
                let _ = lsns::parse_config(&opts, &operands);
            }
        }
        Ok(Parsed::Help) => {
            let _ = tool.help();
        }
        Ok(Parsed::Version) => {
            let _ = tool.version();
        }
        Err(e) => {
            let _ = e.render(tool.name);
        }
    }
});
