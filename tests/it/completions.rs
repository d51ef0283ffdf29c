//! Completions and man pages: the committed files equal what the tables generate; the bash scripts complete
//! partial command lines in a real bash; the zsh and fish scripts pass their shells' syntax checks; the man
//! pages render without groff warnings.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::Command;

type FileName = fn(&str) -> String;

const SHELLS: &[(&str, FileName)] = &[
    ("bash", |t| t.to_string()),
    ("zsh", |t| format!("_{t}")),
    ("fish", |t| format!("{t}.fish")),
];

/// Every name with a completion file and a man page: the applets and the multicall binary.
fn names() -> Vec<&'static str> {
    TOOLS.iter().copied().chain(["nsbox"]).collect()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_completions_are_current() {
    let root = repo().join("completions");
    for (shell, file) in SHELLS {
        for tool in names() {
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

/// The completion rules keyed by option name (`complete::REFINEMENTS`) and the subcommand tables must name what
/// the tools really have, or a renamed option would silently lose its completion.
#[test]
fn refinements_and_subcommands_match_the_tables() {
    use ns_common::complete::{subcommands, NETNS_SUBCOMMANDS, REFINEMENTS, VETH_SUBCOMMANDS};
    use ns_common::opts::Tool;
    let tools: [&Tool; 7] = [
        &unshare::TOOL,
        &nsenter::TOOL,
        &lsns::TOOL,
        &pivot::PIVOT_ROOT,
        &pivot::SWITCH_ROOT,
        &netns::NETNS,
        &netns::VETH,
    ];
    for (tool, long, _) in REFINEMENTS {
        let table = tools
            .iter()
            .find(|t| t.name == *tool)
            .unwrap_or_else(|| panic!("no tool {tool}"));
        assert!(
            table.all_opts().any(|o| o.long == *long),
            "complete::REFINEMENTS names {tool} --{long}, which its table does not have"
        );
    }
    for (name, _) in NETNS_SUBCOMMANDS {
        assert!(netns::NETNS_SUBCOMMANDS.contains(name), "netns {name}");
    }
    for (name, _) in VETH_SUBCOMMANDS {
        assert!(netns::VETH_SUBCOMMANDS.contains(name), "veth {name}");
    }
    assert!(subcommands(&netns::NETNS).is_some() && subcommands(&unshare::TOOL).is_none());
}

/// Bash fed a command line the way readline does it: `COMP_LINE`/`COMP_POINT`, and `COMP_WORDS` split at
/// whitespace and at `=`/`:` (bash's COMP_WORDBREAKS). A stand-in command `mycmd` has its own completion
/// function, so hand-over is visible: it replies with what it was given.
const DRIVER: &str = r#"
file=$1 func=$2 line=$3
source "$file" || exit 99
_mycmd() { COMPREPLY=("mycmd-cword=$COMP_CWORD" "mycmd-cur=$2" "mycmd-line=$COMP_LINE"); }
complete -F _mycmd mycmd
COMP_LINE=$line
COMP_POINT=${#line}
COMP_WORDS=()
for w in $line; do
    while [[ $w =~ ^([^=:]*)([=:])(.*)$ ]]; do
        [[ -n ${BASH_REMATCH[1]} ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
        COMP_WORDS+=("${BASH_REMATCH[2]}")
        w=${BASH_REMATCH[3]}
    done
    [[ -n $w ]] && COMP_WORDS+=("$w")
done
[[ $line == *' ' ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
"$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;

/// The replies bash's completion of `file` gives for `line` (the cursor at its end), sorted.
fn complete_bash(file: &str, line: &str) -> Vec<String> {
    complete_bash_with(file, line, "")
}

/// As [`complete_bash`], with `prelude` run first (e.g. loading bash-completion).
fn complete_bash_with(file: &str, line: &str, prelude: &str) -> Vec<String> {
    let path = repo().join("completions/bash").join(file);
    let func = format!("_nsbox_{}", file.replace(['-', '.'], "_"));
    let script = format!("{prelude}\n{DRIVER}");
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script, "driver"])
        .arg(&path)
        .args([&func, line])
        .current_dir(repo())
        .output()
        .expect("run bash");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "bash completion of {line:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut words: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    words.sort();
    words.dedup();
    words
}

fn assert_completes(file: &str, line: &str, expected: &[&str]) {
    let got = complete_bash(file, line);
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "completing {line:?}");
}

fn assert_offers(file: &str, line: &str, some: &[&str]) {
    let got = complete_bash(file, line);
    for word in some {
        assert!(
            got.iter().any(|g| g == word),
            "completing {line:?}: {word:?} missing from {got:?}"
        );
    }
}

#[test]
fn bash_unshare() {
    assert_completes("unshare", "unshare --propa", &["--propagation"]);
    assert_completes(
        "unshare",
        "unshare --propagation ",
        &["private", "shared", "slave", "unchanged"],
    );
    assert_completes("unshare", "unshare --setgroups d", &["deny"]);
    assert_completes("unshare", "unshare --kill-child=SIGKI", &["SIGKILL"]);
    assert_completes("unshare", "unshare --map-users=a", &["all", "auto"]);
    // After `=` readline replaces only the value: the replies are paths, not `--mount=/...`.
    assert_completes("unshare", "unshare --mount=/pro", &["/proc"]);
    assert_completes("unshare", "unshare -R /pro", &["/proc"]);
    assert_offers("unshare", "unshare --map-group ", &["root", "0"]);
    assert_offers("unshare", "unshare -S ", &["0"]);
    // The program word completes to commands; after it, the program's own completion takes over.
    assert_offers("unshare", "unshare -r --fork ba", &["bash"]);
    assert_completes(
        "unshare",
        "unshare --map-users=0:100000:10 -r mycmd -x fo",
        &["mycmd-cword=2", "mycmd-cur=fo", "mycmd-line=mycmd -x fo"],
    );
    // `ls` after `-w DIR` is the program, the directory is not.
    assert_completes(
        "unshare",
        "unshare -w /tmp mycmd ",
        &["mycmd-cword=1", "mycmd-cur=", "mycmd-line=mycmd "],
    );
}

/// With the bash-completion package loaded (as in an interactive shell), the wrapped command's completion comes
/// through its `_command_offset`: `ls`'s options after `unshare -r`, `nsenter -t 1 -a`, `netns exec NAME`.
#[test]
fn bash_hand_over_through_bash_completion() {
    let prelude = "source /usr/share/bash-completion/bash_completion || exit 98";
    for (file, line) in [
        ("unshare", "unshare -r --map-users=0:1:1 ls --colo"),
        ("nsenter", "nsenter -t 1 -a ls --colo"),
        ("netns", "netns exec left ls --colo"),
        ("nsbox", "nsbox unshare -r ls --colo"),
    ] {
        let got = complete_bash_with(file, line, prelude);
        assert!(
            got.iter().any(|w| w == "--color"),
            "{line:?}: {got:?} (apt-get install bash-completion)"
        );
    }
}

#[test]
fn bash_nsenter_and_lsns() {
    assert_offers("nsenter", "nsenter -S ", &["follow", "0"]);
    assert_offers("nsenter", "nsenter -G f", &["follow"]);
    assert_offers("nsenter", "nsenter --target 1", &["1"]);
    assert_completes(
        "nsenter",
        "nsenter -t 1 -m mycmd a",
        &["mycmd-cword=1", "mycmd-cur=a", "mycmd-line=mycmd a"],
    );
    assert_completes("lsns", "lsns -t u", &["user", "uts"]);
    assert_completes("lsns", "lsns -o NS,TY", &["NS,TYPE"]);
    // A comma list never offers a column twice.
    let rest = complete_bash("lsns", "lsns --output NS,TYPE,");
    assert_eq!(rest.len(), 11, "{rest:?}");
    assert!(rest.iter().all(|w| w.starts_with("NS,TYPE,")));
    assert!(!rest.contains(&"NS,TYPE,NS".to_string()));
    assert!(rest.contains(&"NS,TYPE,NETNSID".to_string()));
    assert_offers("lsns", "lsns -p ", &["1"]);
    assert_completes("lsns", "lsns --tree=p", &["parent", "process"]);
}

#[test]
fn bash_pivot_root_takes_directories() {
    assert_completes("pivot_root", "pivot_root /pro", &["/proc"]);
    assert_completes("pivot_root", "pivot_root /proc /pro", &["/proc"]);
    assert_completes("switch_root", "switch_root /pro", &["/proc"]);
}

#[test]
fn bash_netns_and_veth() {
    assert_completes("netns", "netns at", &["attach"]);
    // iproute2's single-dash long option takes the next word, which is not the subcommand.
    assert_completes("netns", "netns -netns foo ex", &["exec"]);
    assert_completes("netns", "netns li", &["list", "list-id"]);
    assert_offers("netns", "netns attach x ", &["1"]);
    assert_offers("netns", "netns identify ", &["1"]);
    assert_completes(
        "netns",
        "netns exec left mycmd a b",
        &["mycmd-cword=2", "mycmd-cur=b", "mycmd-line=mycmd a b"],
    );
    assert_completes("veth", "veth ", &["add", "del", "list"]);
    assert_offers("veth", "veth add a b --peer-n", &["--peer-netns"]);
    if is_root() {
        let ns = TempNetns::new();
        assert_offers("netns", "netns delete ", &[&ns.name]);
        assert_offers("netns", "netns exec ", &[&ns.name]);
        assert_offers("netns", "netns -n ", &[&ns.name]);
        assert_offers("veth", "veth add a b --netns ", &[&ns.name]);
        assert_offers("nsbox", "nsbox netns pids ", &[&ns.name]);
    }
}

#[test]
fn bash_nsbox_hands_over_to_the_applet() {
    let mut all: Vec<&str> = TOOLS.to_vec();
    all.extend(["--help", "--install", "--list", "--list-full", "--version"]);
    assert_completes("nsbox", "nsbox ", &all);
    assert_completes("nsbox", "nsbox ns", &["nsenter"]);
    assert_completes("nsbox", "nsbox unshare --propagation p", &["private"]);
    assert_completes("nsbox", "nsbox lsns -o NS,TY", &["NS,TYPE"]);
    assert_completes("nsbox", "nsbox --install -", &["--force", "-s"]);
    assert_completes("nsbox", "nsbox --help un", &["unshare"]);
    assert_completes(
        "nsbox",
        "nsbox unshare -r mycmd x",
        &["mycmd-cword=1", "mycmd-cur=x", "mycmd-line=mycmd x"],
    );
}

#[test]
fn zsh_and_fish_scripts_parse() {
    for tool in names() {
        let zsh = repo().join("completions/zsh").join(format!("_{tool}"));
        let fish = repo().join("completions/fish").join(format!("{tool}.fish"));
        for (shell, args, path) in [("zsh", ["-n"], &zsh), ("fish", ["--no-execute"], &fish)] {
            let out = Command::new(shell)
                .args(args)
                .arg(path)
                .output()
                .unwrap_or_else(|e| {
                    panic!("run {shell} (install it: apt-get install {shell}): {e}")
                });
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{} does not parse: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Types `line` and TAB into an interactive zsh (in a pseudo-terminal, zsh's own zpty) that loaded our
/// completion directory, and returns what the terminal showed once `first` appeared (bounded by a timeout).
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty
dir=$1 line=$2 first=$3
zpty z zsh -f -i
zpty -w z "fpath=($dir \$fpath); autoload -U compinit; compinit -u -D"
zpty -w -n z "$line"$'\t'
local out="" chunk i
zpty -r z out "*$first*"
for i in {1..10}; do
    sleep 0.1
    while zpty -r -t z chunk; do out+=$chunk; done
done
print -r -- "$out"
zpty -d z
"#;

#[test]
fn zsh_completes_in_a_terminal() {
    let dir = repo().join("completions/zsh");
    let cases: &[(&str, &[&str])] = &[
        (
            "unshare --propagation ",
            &["private", "shared", "slave", "unchanged"],
        ),
        ("lsns -t ", &["cgroup", "mnt", "time", "uts"]),
        ("nsenter -S ", &["follow"]),
        ("netns ", &["attach", "identify", "list-id"]),
        ("veth ", &["add", "del", "list"]),
        ("nsbox ", &["lsns", "switch_root", "veth"]),
        ("nsbox lsns -t ", &["cgroup", "time"]),
        ("unshare -r --fork bas", &["bash", "basename"]),
    ];
    for (line, words) in cases {
        let out = Command::new("timeout")
            .args(["30", "zsh", "-f", "-c", ZSH_DRIVER, "zsh"])
            .arg(&dir)
            .args([line, words[0]])
            .output()
            .expect("run zsh (apt-get install zsh)");
        let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
        assert!(out.status.success(), "zsh for {line:?} timed out: {text}");
        for word in *words {
            assert!(
                text.contains(word),
                "zsh {line:?}: {word} missing from {text:?}"
            );
        }
    }
}

/// Loads the fish script and asks fish for completions, as its `complete -C` does for a typed line.
#[test]
fn fish_completes_values() {
    let script = repo().join("completions/fish/unshare.fish");
    let out = Command::new("fish")
        .args(["--no-config", "-c"])
        .arg(format!(
            "source {}; complete -C 'unshare --propagation '",
            script.display()
        ))
        .output()
        .expect("run fish");
    let text = String::from_utf8_lossy(&out.stdout);
    for mode in ["slave", "shared", "private", "unchanged"] {
        // fish prints `value<TAB>description`.
        assert!(
            text.lines().any(|l| l.split('\t').next() == Some(mode)),
            "{mode} missing: {text}"
        );
    }
}

fn man_file(tool: &str) -> PathBuf {
    let section = if ["unshare", "nsenter", "nsbox"].contains(&tool) {
        1
    } else {
        8
    };
    repo().join("man").join(format!("{tool}.{section}"))
}

#[test]
fn committed_man_pages_are_current() {
    for tool in names() {
        let generated = cmd("nsbox").args(["--generate", "man", tool]).run();
        generated.success();
        let path = man_file(tool);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated.stdout(),
            "{} is stale: run `./completions/generate.sh`",
            path.display()
        );
    }
}

#[test]
fn man_pages_render_without_warnings() {
    for tool in names() {
        let path = man_file(tool);
        let out = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&path)
            .output()
            .expect("run groff (apt-get install groff-base)");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        // What a user runs: man renders the page and it names the tool and every option of its table.
        let out = Command::new("man")
            .args(["-l", "-Tutf8"])
            .arg(&path)
            .env("MANWIDTH", "80")
            .output()
            .expect("run man");
        assert!(out.status.success(), "man -l {}", path.display());
        assert!(
            out.stderr.is_empty(),
            "man -l {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = Command::new("groff")
        .args(["-man", "-Tascii", "-P", "-cbou"])
        .arg(man_file("unshare"))
        .output()
        .expect("run groff");
    let text = String::from_utf8_lossy(&text.stdout);
    for needle in ["--propagation", "--map-root-user", "EXAMPLES", "SEE ALSO"] {
        assert!(text.contains(needle), "unshare.1 lacks {needle}");
    }
    assert!(Path::new(&man_file("lsns")).exists());
}
