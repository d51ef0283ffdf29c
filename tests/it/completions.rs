//! The committed completions/ equal what the option tables generate; --help lists every option.

use crate::harness::*;
use std::path::Path;

type FileName = fn(&str) -> String;

const SHELLS: &[(&str, FileName)] = &[
    ("bash", |t| t.to_string()),
    ("zsh", |t| format!("_{t}")),
    ("fish", |t| format!("{t}.fish")),
];

#[test]
fn committed_completions_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in SHELLS {
        for tool in TOOLS {
            let generated = cmd("nsbox")
                .args(["--generate", &format!("complete-{shell}"), tool])
                .run();
            generated.success();
            let path = root.join(shell).join(file(tool));
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == generated.stdout(),
                "{} is stale: run `./completions/generate.sh`",
                path.display()
            );
        }
    }
}
