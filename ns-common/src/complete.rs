//! Shell completion scripts (bash, zsh, fish) generated from a tool's option table.
//!
//! The committed files in `completions/` are the output of these functions (`nsbox --generate …`);
//! a test checks they are current.
//!
//! What a word completes to comes from the table's [`Complete`] values, refined by [`REFINEMENTS`] where the
//! spec (multicall.md §5) asks for more than a table says (`nsenter -S` offers `follow` as well as uids), and by
//! [`subcommands`] for the tools whose first operand is a subcommand (`netns`, `veth`).

use crate::opts::{ArgKind, Complete, Opt, Tool};

/// Which shell a script is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    pub const ALL: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

    pub fn from_name(name: &str) -> Option<Shell> {
        match name {
            "bash" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            _ => None,
        }
    }

    /// The file a tool's script is installed as, relative to `completions/<shell>/`.
    pub fn file_name(self, tool: &str) -> String {
        match self {
            Shell::Bash => tool.to_string(),
            Shell::Zsh => format!("_{tool}"),
            Shell::Fish => format!("{tool}.fish"),
        }
    }

    /// Where distributions install the file (spec multicall.md §5).
    pub fn install_dir(self) -> &'static str {
        match self {
            Shell::Bash => "/usr/share/bash-completion/completions",
            Shell::Zsh => "/usr/share/zsh/vendor-completions",
            Shell::Fish => "/usr/share/fish/vendor_completions.d",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }
}

/// `nsenter -S`/`-G` take a number or the word `follow`.
const FOLLOW_OR_UID: Complete = Complete::WithWords(&["follow"], &Complete::Uid);
const FOLLOW_OR_GID: Complete = Complete::WithWords(&["follow"], &Complete::Gid);

/// Completions the spec asks for, whatever the option table says: (tool, long option, completion).
pub const REFINEMENTS: &[(&str, &str, Complete)] = &[
    ("unshare", "setuid", Complete::Uid),
    ("unshare", "setgid", Complete::Gid),
    ("unshare", "kill-child", Complete::Signal),
    (
        "unshare",
        "propagation",
        Complete::Values(&["slave", "shared", "private", "unchanged"]),
    ),
    ("unshare", "setgroups", Complete::Values(&["allow", "deny"])),
    (
        "unshare",
        "map-users",
        Complete::Values(&["auto", "subids", "all"]),
    ),
    (
        "unshare",
        "map-groups",
        Complete::Values(&["auto", "subids", "all"]),
    ),
    ("unshare", "map-user", Complete::User),
    ("unshare", "map-group", Complete::Group),
    ("nsenter", "target", Complete::Pid),
    ("nsenter", "setuid", FOLLOW_OR_UID),
    ("nsenter", "setgid", FOLLOW_OR_GID),
    ("nsenter", "root", Complete::Dir),
    ("nsenter", "wd", Complete::Dir),
    ("nsenter", "wdns", Complete::Dir),
    ("lsns", "task", Complete::Pid),
    ("lsns", "type", Complete::Values(crate::nskind::TYPE_NAMES)),
    ("lsns", "output", Complete::CommaList(LSNS_COLUMNS)),
    (
        "lsns",
        "tree",
        Complete::Values(&["owner", "parent", "process"]),
    ),
    ("netns", "netns", Complete::Netns),
    ("veth", "netns", Complete::Netns),
    ("veth", "peer-netns", Complete::Netns),
];

/// Tools that also take iproute2's single-dash long options (`netns -netns NAME`, `-all`).
const SINGLE_DASH_LONG: &[&str] = &["netns"];

/// lsns's 13 output columns (spec lsns.md).
pub const LSNS_COLUMNS: &[&str] = &[
    "NS", "TYPE", "PATH", "NPROCS", "PID", "PPID", "COMMAND", "UID", "USER", "NETNSID", "NSFS",
    "PNS", "ONS",
];

/// `ip netns` subcommands (with `attach`) and what their arguments are, in iproute2's matching order.
pub const NETNS_SUBCOMMANDS: &[(&str, &[Complete])] = &[
    ("list", &[]),
    ("show", &[]),
    ("list-id", &[Complete::Values(&["target-nsid", "nsid"])]),
    ("help", &[]),
    ("add", &[Complete::Nothing]),
    ("set", &[Complete::Netns, Complete::Values(&["auto"])]),
    ("delete", &[Complete::Netns]),
    ("identify", &[Complete::Pid]),
    ("pids", &[Complete::Netns]),
    ("exec", &[Complete::Netns, Complete::Command]),
    ("monitor", &[]),
    ("attach", &[Complete::Nothing, Complete::Pid]),
];

/// `veth` subcommands and their arguments.
pub const VETH_SUBCOMMANDS: &[(&str, &[Complete])] = &[
    ("add", &[Complete::Nothing, Complete::Nothing]),
    ("del", &[Complete::Veth]),
    ("list", &[]),
];

/// The subcommand table of `tool`: its own `Complete::Subcommands` operand, else the built-in one for netns/veth.
pub fn subcommands(tool: &Tool) -> Option<&'static [(&'static str, &'static [Complete])]> {
    if let Some(Complete::Subcommands(s)) = tool.operands.first() {
        return Some(s);
    }
    match tool.name {
        "netns" => Some(NETNS_SUBCOMMANDS),
        "veth" => Some(VETH_SUBCOMMANDS),
        _ => None,
    }
}

/// What an option's argument completes to, after [`REFINEMENTS`].
pub fn option_completion(tool: &Tool, opt: &Opt) -> Complete {
    REFINEMENTS
        .iter()
        .find(|(t, long, _)| *t == tool.name && *long == opt.long)
        .map(|(.., c)| *c)
        .unwrap_or(opt.complete)
}

/// The completion script for `tool` in `shell`.
pub fn script(tool: &Tool, shell: Shell) -> String {
    match shell {
        Shell::Bash => bash(tool),
        Shell::Zsh => zsh(tool),
        Shell::Fish => fish(tool),
    }
}

/// The completion script of the multicall binary `nsbox`: applet names, then the applet's own completion.
pub fn multicall_script(applets: &[&Tool], shell: Shell) -> String {
    match shell {
        Shell::Bash => bash_multicall(applets),
        Shell::Zsh => zsh_multicall(applets),
        Shell::Fish => fish_multicall(applets),
    }
}

/// The multiplexer's own options (src/multicall.rs).
const NSBOX_OPTIONS: &[(&str, &str)] = &[
    ("--list", "list the applets"),
    ("--list-full", "list the applets with their install paths"),
    ("--install", "link every applet into a directory"),
    ("--help", "show usage, or the help of an applet"),
    ("--version", "show the version"),
];

fn ident(name: &str) -> String {
    name.replace(['-', '.'], "_")
}

// ---------------------------------------------------------------------------------------------------------
// bash

/// A completion as the bash engine's spec word: `file`, `words:a b`, `list:a b`, `words:follow;uid`, ...
fn bash_spec(what: Complete) -> String {
    match what {
        Complete::Nothing => "none".into(),
        Complete::File => "file".into(),
        Complete::Dir => "dir".into(),
        Complete::Pid => "pid".into(),
        Complete::User => "user".into(),
        Complete::Group => "group".into(),
        Complete::Uid => "uid".into(),
        Complete::Gid => "gid".into(),
        Complete::Signal => format!("words:{}", crate::signals::completion_names().join(" ")),
        Complete::Netns => "netns".into(),
        Complete::Link => "link".into(),
        Complete::Veth => "veth".into(),
        Complete::Values(v) => format!("words:{}", v.join(" ")),
        Complete::CommaList(v) => format!("list:{}", v.join(" ")),
        Complete::Command => "cmd".into(),
        Complete::WithWords(words, rest) => {
            format!("words:{};{}", words.join(" "), bash_spec(*rest))
        }
        Complete::Subcommands(_) => "sub".into(),
    }
}

/// The shared bash engine, identical in every file (each file must work alone, and the `nsbox` file calls the
/// applets' functions). It works on whitespace-separated words taken from `COMP_LINE` rather than `COMP_WORDS`,
/// which bash also splits at `=` and `:` (`--map-users=0:1:1` would look like five words).
const BASH_ENGINE: &str = r#"# --- nsbox completion engine (shared by every nsbox completion file) ---
# Sets _nsbox_w (words up to the cursor, split at unquoted-or-not whitespace) and _nsbox_cw (the current word).
_nsbox_prepare()
{
    local line="${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}"
    read -ra _nsbox_w <<< "$line"
    [[ -z $line || $line == *[[:space:]] ]] && _nsbox_w+=("")
    _nsbox_cw=$(( ${#_nsbox_w[@]} - 1 ))
    _nsbox_raw=0
    COMPREPLY=()
}

# Readline replaces only the text after the last word-break character: drop that much from every reply.
_nsbox_finish()
{
    (( _nsbox_raw )) && return 0
    local cur="${_nsbox_w[_nsbox_cw]}" wb=$COMP_WORDBREAKS i strip=0
    [[ ${COMP_WORDBREAKS+set} ]] || wb=\"\'\>\<=\;\|\&\(:
    for (( i = ${#cur} - 1; i >= 0; i-- )); do
        if [[ $wb == *"${cur:i:1}"* ]]; then strip=$(( i + 1 )); break; fi
    done
    if (( strip )); then
        local -a out=()
        for i in "${COMPREPLY[@]}"; do out+=("${i:strip}"); done
        COMPREPLY=("${out[@]}")
    fi
    return 0
}

_nsbox_add() # PREFIX VALUE WORD...: reply PREFIX+WORD for every WORD starting with VALUE
{
    local prefix="$1" value="$2" word
    shift 2
    for word in "$@"; do
        [[ $word == "$value"* ]] && COMPREPLY+=("$prefix$word")
    done
}

# _nsbox_gen SPEC PREFIX VALUE: complete VALUE (the text after PREFIX in the current word) as SPEC says.
_nsbox_gen()
{
    local spec="$1" prefix="$2" value="$3" part name x uid rest f
    local -a words
    local IFS=';'
    local -a parts=($spec)
    IFS=$' \t\n'
    for part in "${parts[@]}"; do
        case $part in
            none) ;;
            file)
                compopt -o filenames 2>/dev/null
                while IFS= read -r f; do COMPREPLY+=("$prefix$f"); done < <(compgen -f -- "$value") ;;
            dir)
                compopt -o filenames 2>/dev/null
                while IFS= read -r f; do COMPREPLY+=("$prefix$f"); done < <(compgen -d -- "$value") ;;
            pid)
                words=()
                for f in /proc/[0-9]*; do words+=("${f#/proc/}"); done
                _nsbox_add "$prefix" "$value" "${words[@]}" ;;
            user|uid|group|gid)
                words=()
                f=/etc/passwd; [[ $part == g* ]] && f=/etc/group
                if [[ -r $f ]]; then
                    while IFS=: read -r name x uid rest; do
                        [[ -z $name || $name == [#+-]* ]] && continue
                        [[ $part == user || $part == group ]] && words+=("$name")
                        words+=("$uid")
                    done < "$f"
                fi
                _nsbox_add "$prefix" "$value" "${words[@]}" ;;
            netns)
                words=()
                for f in /run/netns/*; do [[ -e $f ]] && words+=("${f#/run/netns/}"); done
                _nsbox_add "$prefix" "$value" "${words[@]}" ;;
            link|veth)
                words=()
                for f in /sys/class/net/*; do
                    [[ -e $f ]] || continue
                    # A veth's iflink is its peer's ifindex; other devices point at themselves.
                    if [[ $part == veth ]]; then
                        [[ -r $f/iflink && -r $f/ifindex && $(< "$f/iflink") != "$(< "$f/ifindex")" ]] || continue
                    fi
                    words+=("${f#/sys/class/net/}")
                done
                _nsbox_add "$prefix" "$value" "${words[@]}" ;;
            cmd)
                while IFS= read -r f; do COMPREPLY+=("$prefix$f"); done < <(compgen -c -- "$value") ;;
            words:*)
                words=(${part#words:})
                _nsbox_add "$prefix" "$value" "${words[@]}" ;;
            list:*)
                # A comma list: complete the last element, never repeating one already given.
                local done="${value%"${value##*,}"}" last="${value##*,}" w
                words=()
                for w in ${part#list:}; do
                    [[ ,$done, == *",$w,"* ]] || words+=("$w")
                done
                _nsbox_add "$prefix$done" "$last" "${words[@]}"
                compopt -o nospace 2>/dev/null ;;
        esac
    done
}

# Hands the words from index $1 on to that command's own completion (bash-completion's _command_offset when
# loaded, else the command's `complete -F` function, else file names).
_nsbox_handover()
{
    local at=$1 cur="${_nsbox_w[_nsbox_cw]}"
    if (( at == _nsbox_cw )); then
        _nsbox_gen cmd "" "$cur"
        return
    fi
    # COMP_WORDS is split more finely than our words: find the index of the command word there.
    local j=0 k acc
    for (( k = 0; k < at; k++ )); do
        acc=""
        while [[ $acc != "${_nsbox_w[k]}" ]] && (( j < ${#COMP_WORDS[@]} )); do
            acc+="${COMP_WORDS[j]}"
            (( j++ ))
        done
    done
    local cmd="${_nsbox_w[at]}"
    if declare -F _command_offset >/dev/null; then
        _nsbox_raw=1
        _command_offset "$j"
        return
    fi
    local spec func
    spec=$(complete -p "$cmd" 2>/dev/null || complete -p "${cmd##*/}" 2>/dev/null)
    if [[ $spec == *" -F "* ]]; then
        func=${spec#* -F }
        func=${func%% *}
        _nsbox_raw=1
        COMP_WORDS=("${COMP_WORDS[@]:j}")
        (( COMP_CWORD -= j ))
        local skip="${COMP_LINE%%"$cmd"*}"
        COMP_LINE="${COMP_LINE:${#skip}}"
        (( COMP_POINT -= ${#skip} ))
        "$func" "$cmd" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        return
    fi
    _nsbox_gen file "" "$cur"
}

# _nsbox_resolve ID WORD: the option table entry of WORD (`-x`, `--long`, or a unique prefix of a long name) in
# _nsbox_o ("KIND SPEC", KIND = none|req|opt|optlong) and its full spelling in _nsbox_name.
_nsbox_resolve()
{
    local id=$1 word=$2 l match=""
    if [[ $word == --* ]]; then
        local -n longs="_nsbox_${id}_longs"
        for l in "${longs[@]}"; do
            [[ $l == "$word" ]] && { match=$l; break; }
            if [[ $l == "$word"* ]]; then
                [[ -n $match ]] && return 1
                match=$l
            fi
        done
        [[ -n $match ]] || return 1
        word=$match
    fi
    _nsbox_name=$word
    "_nsbox_${id}_opt" "$word"
}

# Whether option word $2 of tool $1 consumes the next word as its argument (spec of it in _nsbox_o).
_nsbox_takes_next()
{
    local id=$1 word=$2 i
    if [[ $word == --* ]]; then
        [[ $word == *=* ]] && return 1
        _nsbox_resolve "$id" "$word" || return 1
        [[ $_nsbox_o == req\ * ]]
        return
    fi
    # iproute2's single-dash long options (`-netns NAME`) are table entries of their own.
    if (( ${#word} > 2 )) && "_nsbox_${id}_opt" "$word"; then
        [[ $_nsbox_o == req\ * ]]
        return
    fi
    for (( i = 1; i < ${#word}; i++ )); do
        _nsbox_resolve "$id" "-${word:i:1}" || return 1
        case $_nsbox_o in
            req\ *) (( i == ${#word} - 1 )); return ;;
            opt\ *) return 1 ;;
        esac
    done
    return 1
}

# _nsbox_tool ID OFFSET: complete the current word for the tool whose name is word OFFSET.
_nsbox_tool()
{
    local id=$1 off=$2 cw=$_nsbox_cw i w
    local cur="${_nsbox_w[cw]}" stop="_nsbox_${id}_stop"
    local -n ops="_nsbox_${id}_operands"
    local -a operands=()
    local endopts=0
    for (( i = off + 1; i < cw; i++ )); do
        w="${_nsbox_w[i]}"
        if (( endopts )) || [[ $w != -?* ]]; then
            operands+=("$i")
            (( ${!stop} )) && endopts=1
            continue
        fi
        if [[ $w == -- ]]; then endopts=1; continue; fi
        if _nsbox_takes_next "$id" "$w"; then
            if (( i + 1 == cw )); then
                _nsbox_gen "${_nsbox_o#* }" "" "$cur"
                return
            fi
            (( i++ ))
        fi
    done
    if (( ! endopts )) && [[ $cur == -* ]]; then
        if [[ $cur == --*=* ]]; then
            _nsbox_resolve "$id" "${cur%%=*}" && [[ $_nsbox_o != none* ]] &&
                _nsbox_gen "${_nsbox_o#* }" "$_nsbox_name=" "${cur#*=}"
            return
        fi
        local -n shorts="_nsbox_${id}_shorts" longs="_nsbox_${id}_longs"
        local -a all=("${longs[@]}")
        [[ $cur == --* ]] || all=("${shorts[@]}" "${longs[@]}")
        _nsbox_add "" "$cur" "${all[@]}"
        # An option that takes a glued argument is offered with its `=`: no space after it.
        for w in "${COMPREPLY[@]}"; do
            _nsbox_resolve "$id" "$w" && [[ $_nsbox_o == opt* && ${#COMPREPLY[@]} -gt 1 ]] &&
                compopt -o nospace 2>/dev/null
        done
        [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
        return
    fi
    # The current word is operand number n; its spec is the n-th (the last one repeats).
    local n=${#operands[@]} first=${operands[0]:-$cw} k spec
    if (( ${!stop} )) && (( ${#operands[@]} )); then n=$(( cw - first )); fi
    for (( k = 0; k <= n; k++ )); do
        spec="${ops[k < ${#ops[@]} ? k : ${#ops[@]} - 1]}"
        case $spec in
            cmd)
                # Everything from this operand on belongs to the wrapped command.
                local at=$cw
                if (( k < n )); then
                    if (( ${!stop} )); then at=$(( first + k )); else at=${operands[k]}; fi
                fi
                _nsbox_handover "$at"
                return ;;
            sub)
                if (( k == n )); then
                    local -n subs="_nsbox_${id}_subcommands"
                    _nsbox_add "" "$cur" "${subs[@]}"
                    return
                fi
                local subword="${_nsbox_w[${!stop:+$(( first ))}]}"
                (( ${!stop} )) || subword="${_nsbox_w[operands[0]]}"
                local -a subops=()
                "_nsbox_${id}_sub" "$subword"
                local m=$(( n - k - 1 )) q
                for (( q = 0; q <= m && ${#subops[@]}; q++ )); do
                    spec="${subops[q < ${#subops[@]} ? q : ${#subops[@]} - 1]}"
                    if [[ $spec == cmd ]]; then
                        local at=$cw
                        if (( q < m )); then
                            if (( ${!stop} )); then at=$(( first + k + 1 + q )); else at=${operands[k + 1 + q]}; fi
                        fi
                        _nsbox_handover "$at"
                        return
                    fi
                done
                (( ${#subops[@]} )) || return
                (( m < ${#subops[@]} )) || return
                _nsbox_gen "${subops[m]}" "" "$cur"
                return ;;
        esac
    done
    _nsbox_gen "$spec" "" "$cur"
}
# --- end of the engine ---
"#;

/// The tool-specific part of a bash file: its option table and operand specs as bash data.
fn bash_tool_data(tool: &Tool) -> String {
    let id = ident(tool.name);
    let opts: Vec<&Opt> = tool.all_opts().collect();
    let mut cases = String::new();
    let mut longs = Vec::new();
    let mut shorts = Vec::new();
    for o in &opts {
        let kind = match o.arg {
            ArgKind::None => "none",
            ArgKind::Required => "req",
            ArgKind::Optional => "opt",
            ArgKind::OptionalLongOnly => "optlong",
        };
        let spec = bash_spec(option_completion(tool, o));
        let mut pats = vec![format!("--{}", o.long)];
        if SINGLE_DASH_LONG.contains(&tool.name) && o.long.len() > 1 {
            pats.push(format!("-{}", o.long));
        }
        longs.push(format!("--{}", o.long));
        if o.takes_arg() && o.arg != ArgKind::Required {
            longs.push(format!("--{}=", o.long));
        }
        if let Some(c) = o.short {
            shorts.push(format!("-{c}"));
            // The letter of an option whose argument is long-only takes no argument.
            if o.arg == ArgKind::OptionalLongOnly {
                cases.push_str(&format!("        -{c}) _nsbox_o=\"none none\" ;;\n"));
            } else {
                pats.push(format!("-{c}"));
            }
        }
        cases.push_str(&format!(
            "        {}) _nsbox_o={} ;;\n",
            pats.join("|"),
            bash_quote(&format!("{kind} {spec}"))
        ));
    }
    shorts.sort();
    let subs = subcommands(tool);
    let operands: Vec<String> = match subs {
        Some(_) => vec!["sub".into()],
        None if tool.operands.is_empty() => vec!["none".into()],
        None => tool.operands.iter().map(|c| bash_spec(*c)).collect(),
    };
    let mut out = format!(
        "_nsbox_{id}_longs=({})\n_nsbox_{id}_shorts=({})\n_nsbox_{id}_stop={}\n_nsbox_{id}_operands=({})\n",
        longs.join(" "),
        shorts.join(" "),
        u8::from(tool.stop_at_operand),
        operands
            .iter()
            .map(|s| bash_quote(s))
            .collect::<Vec<_>>()
            .join(" "),
    );
    out.push_str(&format!(
        "_nsbox_{id}_opt()\n{{\n    case $1 in\n{cases}        *) return 1 ;;\n    esac\n}}\n"
    ));
    if let Some(subs) = subs {
        let names: Vec<&str> = subs.iter().map(|(n, _)| *n).collect();
        let mut sub_cases = String::new();
        for (name, args) in subs {
            let specs: Vec<String> = args.iter().map(|c| bash_quote(&bash_spec(*c))).collect();
            sub_cases.push_str(&format!(
                "        {name}) subops=({}) ;;\n",
                specs.join(" ")
            ));
        }
        // Subcommands match by prefix, first in table order wins (as iproute2 matches them).
        let prefix_loop = format!(
            "    local s\n    for s in \"${{_nsbox_{id}_subcommands[@]}}\"; do\n        [[ -n $1 && $s == \"$1\"* ]] && break\n    done\n"
        );
        out.push_str(&format!(
            "_nsbox_{id}_subcommands=({})\n_nsbox_{id}_sub()\n{{\n{prefix_loop}    case $s in\n{sub_cases}    esac\n}}\n",
            names.join(" ")
        ));
    }
    out.push_str(&format!(
        "_nsbox_{id}_from() {{ _nsbox_tool {id} \"$1\"; }}\n"
    ));
    out
}

fn bash_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn bash(tool: &Tool) -> String {
    let id = ident(tool.name);
    format!(
        "# bash completion for {name}, generated by nsbox from its option table; do not edit.\n\
         # Install as {dir}/{name}\n\
         {BASH_ENGINE}\n{data}\n\
         _nsbox_{id}()\n{{\n    _nsbox_prepare\n    _nsbox_{id}_from 0\n    _nsbox_finish\n}}\n\
         complete -F _nsbox_{id} {name}\n",
        name = tool.name,
        dir = Shell::Bash.install_dir(),
        data = bash_tool_data(tool),
    )
}

fn bash_multicall(applets: &[&Tool]) -> String {
    let mut data = String::new();
    for tool in applets {
        data.push_str(&bash_tool_data(tool));
        data.push('\n');
    }
    let names: Vec<&str> = applets.iter().map(|t| t.name).collect();
    let options: Vec<&str> = NSBOX_OPTIONS.iter().map(|(o, _)| *o).collect();
    format!(
        r#"# bash completion for nsbox (the multicall binary), generated by nsbox; do not edit.
# Install as {dir}/nsbox
{BASH_ENGINE}
{data}_nsbox_applets=({names})
_nsbox_nsbox()
{{
    _nsbox_prepare
    local cur="${{_nsbox_w[_nsbox_cw]}}" first="${{_nsbox_w[1]}}"
    if (( _nsbox_cw == 1 )); then
        _nsbox_add "" "$cur" "${{_nsbox_applets[@]}}" {options}
    else
        case $first in
            --install)
                if [[ $cur == -* ]]; then _nsbox_add "" "$cur" -s --force; else _nsbox_gen dir "" "$cur"; fi ;;
            --help|-h)
                (( _nsbox_cw == 2 )) && _nsbox_add "" "$cur" "${{_nsbox_applets[@]}}" ;;
            -*) ;;
            *)
                # `nsbox APPLET ARGS`: the applet's own completion, with the applet word as its command word.
                local applet="${{first##*/}}"
                declare -F "_nsbox_${{applet}}_from" >/dev/null && "_nsbox_${{applet}}_from" 1 ;;
        esac
    fi
    _nsbox_finish
}}
complete -F _nsbox_nsbox nsbox
"#,
        dir = Shell::Bash.install_dir(),
        names = names.join(" "),
        options = options.join(" "),
    )
}

// ---------------------------------------------------------------------------------------------------------
// zsh

fn zsh_action(what: Complete) -> String {
    match what {
        Complete::Nothing => " ".into(),
        Complete::Command => "_command_names -e".into(),
        Complete::File => "_files".into(),
        Complete::Dir => "_files -/".into(),
        Complete::Pid => "_pids".into(),
        Complete::User => "_users".into(),
        Complete::Group => "_groups".into(),
        Complete::Uid => "{_nsbox_ids /etc/passwd}".into(),
        Complete::Gid => "{_nsbox_ids /etc/group}".into(),
        Complete::Signal => format!("({})", crate::signals::completion_names().join(" ")),
        Complete::Netns => "{_nsbox_netns}".into(),
        Complete::Link | Complete::Veth => "_net_interfaces".into(),
        Complete::Values(v) => format!("({})", v.join(" ")),
        Complete::CommaList(v) => format!("_sequence compadd - {}", v.join(" ")),
        Complete::WithWords(words, rest) => {
            format!("{{compadd - {}; {}}}", words.join(" "), zsh_call(*rest))
        }
        Complete::Subcommands(_) => " ".into(),
    }
}

/// An action usable inside `{...}` (a command, not an `(a b)` list).
fn zsh_call(what: Complete) -> String {
    match what {
        Complete::Values(v) => format!("compadd - {}", v.join(" ")),
        Complete::Uid => "_nsbox_ids /etc/passwd".into(),
        Complete::Gid => "_nsbox_ids /etc/group".into(),
        Complete::Netns => "_nsbox_netns".into(),
        other => zsh_action(other).trim_matches(['{', '}']).to_string(),
    }
}

/// Helpers every zsh file defines (numbers from the files, netns names).
const ZSH_HELPERS: &str = r#"(( $+functions[_nsbox_ids] )) || _nsbox_ids() {
  local -a ids
  [[ -r $1 ]] && ids=(${${(f)"$(<$1)"}[@]/(#b)([^:]#):[^:]#:([^:]#)*/$match[2]})
  compadd -a ids
}
(( $+functions[_nsbox_netns] )) || _nsbox_netns() {
  local -a names
  names=(/run/netns/*(N:t))
  compadd -a names
}
"#;

fn zsh_escape(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .replace('\\', "\\\\")
        .replace('\'', "'\\''")
        .replace('[', "\\[")
        .replace(']', "\\]")
        .replace(':', "\\:")
}

fn zsh_specs(tool: &Tool) -> Vec<String> {
    let mut specs = Vec::new();
    for o in tool.all_opts() {
        let help = zsh_escape(o.help);
        let action = zsh_action(option_completion(tool, o)).replace('\'', "'\\''");
        let value = o
            .value
            .trim_start_matches(['[', '=', ' '])
            .trim_end_matches(']');
        let value = zsh_escape(if value.is_empty() { "value" } else { value });
        match o.arg {
            ArgKind::None => {
                if let Some(c) = o.short {
                    specs.push(format!(
                        "'(-{c} --{l})'{{-{c},--{l}}}'[{help}]'",
                        l = o.long
                    ));
                } else {
                    specs.push(format!("'--{}[{help}]'", o.long));
                }
            }
            ArgKind::Required => {
                if let Some(c) = o.short {
                    specs.push(format!(
                        "'(-{c} --{l})'{{-{c}+,--{l}=}}'[{help}]:{value}:{action}'",
                        l = o.long
                    ));
                } else {
                    specs.push(format!("'--{}=[{help}]:{value}:{action}'", o.long));
                }
            }
            ArgKind::Optional => {
                if let Some(c) = o.short {
                    specs.push(format!(
                        "'(-{c} --{l})'{{-{c}-,--{l}=-}}'[{help}]::{value}:{action}'",
                        l = o.long
                    ));
                } else {
                    specs.push(format!("'--{}=-[{help}]::{value}:{action}'", o.long));
                }
            }
            ArgKind::OptionalLongOnly => {
                if let Some(c) = o.short {
                    specs.push(format!("'-{c}[{help}]'"));
                }
                specs.push(format!("'--{}=-[{help}]::{value}:{action}'", o.long));
            }
        }
    }
    specs
}

/// The body of the `_TOOL` function (without the `#compdef` line), so `nsbox` can reuse it.
fn zsh_function(tool: &Tool) -> String {
    let id = ident(tool.name);
    let mut specs = zsh_specs(tool);
    let mut states = String::new();
    if let Some(subs) = subcommands(tool) {
        let names: Vec<&str> = subs.iter().map(|(n, _)| *n).collect();
        specs.push(format!("'1:subcommand:({})'", names.join(" ")));
        specs.push("'*::argument:->subargs'".into());
        let mut cases = String::new();
        for (name, args) in subs {
            let mut lines = Vec::new();
            for (i, c) in args.iter().enumerate() {
                if *c == Complete::Command {
                    lines.push(format!("'{}:command:_command_names -e'", i + 1));
                    lines.push("'*::arguments:_normal'".into());
                    break;
                }
                lines.push(format!(
                    "'{}:argument:{}'",
                    i + 1,
                    zsh_action(*c).replace('\'', "'\\''")
                ));
            }
            if lines.is_empty() {
                cases.push_str(&format!("        {name}) ;;\n"));
            } else {
                cases.push_str(&format!(
                    "        {name}) _arguments \\\n            {} ;;\n",
                    lines.join(" \\\n            ")
                ));
            }
        }
        states = format!(
            "  case $state in\n    subargs)\n      case $words[1] in\n{cases}      esac ;;\n  esac\n"
        );
    } else {
        let operand = tool.operands.first().copied().unwrap_or(Complete::Nothing);
        match operand {
            Complete::Command => {
                specs.push("'(-)1:command:_command_names -e'".into());
                specs.push("'*::arguments:_normal'".into());
            }
            Complete::Nothing => {}
            _ => {
                for (i, c) in tool.operands.iter().enumerate() {
                    let action = zsh_action(*c).replace('\'', "'\\''");
                    if i + 1 == tool.operands.len() {
                        specs.push(format!("'*:operand:{action}'"));
                    } else {
                        specs.push(format!("'{}:operand:{action}'", i + 1));
                    }
                }
            }
        }
    }
    let stop = if tool.stop_at_operand { "-S " } else { "" };
    format!(
        "_nsbox_{id}() {{\n  local curcontext=\"$curcontext\" state line ret=1\n  _arguments -s {stop}-C \\\n    {} && ret=0\n{states}  return ret\n}}\n",
        specs.join(" \\\n    "),
    )
}

fn zsh(tool: &Tool) -> String {
    let id = ident(tool.name);
    format!(
        "#compdef {name}\n# zsh completion for {name}, generated by nsbox from its option table; do not edit.\n\
         # Install as {dir}/_{name}\n\n{ZSH_HELPERS}\n{}\n_nsbox_{id} \"$@\"\n",
        zsh_function(tool),
        name = tool.name,
        dir = Shell::Zsh.install_dir(),
    )
}

fn zsh_multicall(applets: &[&Tool]) -> String {
    let mut functions = String::new();
    let mut cases = String::new();
    for tool in applets {
        functions.push_str(&zsh_function(tool));
        cases.push_str(&format!(
            "        {}) _nsbox_{} ;;\n",
            tool.name,
            ident(tool.name)
        ));
    }
    let names: Vec<&str> = applets.iter().map(|t| t.name).collect();
    format!(
        r#"#compdef nsbox
# zsh completion for nsbox (the multicall binary), generated by nsbox; do not edit.
# Install as {dir}/_nsbox

{ZSH_HELPERS}
{functions}
_nsbox() {{
  local curcontext="$curcontext" state line ret=1
  _arguments -C \
    '1:applet:->first' \
    '*::argument:->rest' && ret=0
  case $state in
    first)
      _alternative 'applets:applet:({names})' 'options:option:(({options}))' && ret=0 ;;
    rest)
      case ${{words[1]:t}} in
{cases}        --install) _arguments '-s[symbolic links]' '--force[replace existing files]' '1:directory:_files -/' ;;
        --help) _arguments '1:applet:({names})' ;;
      esac ;;
  esac
  return ret
}}

_nsbox "$@"
"#,
        dir = Shell::Zsh.install_dir(),
        names = names.join(" "),
        options = NSBOX_OPTIONS
            .iter()
            .map(|(o, h)| format!("{o}\\:{}", zsh_escape(h).replace(' ', "\\ ")))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

// ---------------------------------------------------------------------------------------------------------
// fish

fn fish_args(what: Complete) -> String {
    let quoted = |cmd: &str| format!(" -f -a \"({cmd})\"");
    match what {
        Complete::Nothing | Complete::Subcommands(_) => " -f".into(),
        Complete::Command => " -f -a \"(__fish_complete_command)\"".into(),
        Complete::File => " -F".into(),
        Complete::Dir => " -f -a \"(__fish_complete_directories)\"".into(),
        Complete::Pid => quoted("__fish_complete_pids"),
        Complete::User => quoted("__fish_complete_users"),
        Complete::Group => quoted("__fish_complete_groups"),
        Complete::Uid => quoted("string split -f3 : < /etc/passwd 2>/dev/null"),
        Complete::Gid => quoted("string split -f3 : < /etc/group 2>/dev/null"),
        Complete::Signal => format!(
            " -f -a \"{}\"",
            crate::signals::completion_names().join(" ")
        ),
        Complete::Netns => quoted("path basename /run/netns/* 2>/dev/null"),
        Complete::Link => quoted("path basename /sys/class/net/* 2>/dev/null"),
        Complete::Veth => quoted("__nsbox_veth"),
        Complete::Values(v) => format!(" -f -a \"{}\"", v.join(" ")),
        Complete::CommaList(v) => format!(" -f -a \"(__fish_append , {})\"", v.join(" ")),
        Complete::WithWords(words, rest) => {
            let inner = fish_args(*rest);
            let inner = inner
                .trim_start_matches(" -f -a \"")
                .trim_start_matches(" -F")
                .trim_end_matches('"');
            format!(" -f -a \"{} {inner}\"", words.join(" "))
        }
    }
}

const FISH_HELPERS: &str = r#"function __nsbox_veth --description 'veth interfaces: iflink is the peer, not the device itself'
    for dev in /sys/class/net/*
        test (cat $dev/iflink 2>/dev/null) != (cat $dev/ifindex 2>/dev/null); and path basename $dev
    end
end
"#;

/// `complete` lines for `tool`, attached to command `cmd` with an extra condition `cond` (for `nsbox APPLET`).
fn fish_lines(tool: &Tool, cmd: &str, cond: &str) -> String {
    let mut out = String::new();
    let with = |extra: &str| -> String {
        match (cond.is_empty(), extra.is_empty()) {
            (true, true) => String::new(),
            (true, false) => format!(" -n '{extra}'"),
            (false, true) => format!(" -n '{cond}'"),
            (false, false) => format!(" -n '{cond}; and {extra}'"),
        }
    };
    for o in tool.all_opts() {
        let mut line = format!("complete -c {cmd}{}", with(""));
        if let Some(c) = o.short {
            line.push_str(&format!(" -s {c}"));
        }
        line.push_str(&format!(" -l {}", o.long));
        match o.arg {
            ArgKind::None => line.push_str(" -f"),
            ArgKind::Required => {
                line.push_str(" -r");
                line.push_str(&fish_args(option_completion(tool, o)));
            }
            ArgKind::Optional | ArgKind::OptionalLongOnly => {
                line.push_str(&fish_args(option_completion(tool, o)))
            }
        }
        let help = o.help.lines().next().unwrap_or("").replace('\'', "\\'");
        line.push_str(&format!(" -d '{help}'\n"));
        out.push_str(&line);
    }
    if let Some(subs) = subcommands(tool) {
        let names: Vec<&str> = subs.iter().map(|(n, _)| *n).collect();
        out.push_str(&format!(
            "complete -c {cmd}{} -f -a '{}'\n",
            with(&format!(
                "not __fish_seen_subcommand_from {}",
                names.join(" ")
            )),
            names.join(" ")
        ));
        for (name, args) in subs {
            let Some(first) = args.first() else { continue };
            if *first == Complete::Nothing && args.len() == 1 {
                continue;
            }
            let seen = format!("__fish_seen_subcommand_from {name}");
            out.push_str(&format!(
                "complete -c {cmd}{}{}\n",
                with(&seen),
                fish_args(*first)
            ));
            if args.contains(&Complete::Command) {
                out.push_str(&format!(
                    "complete -c {cmd}{} -f -a '(__fish_complete_subcommand --fcs-skip=3)'\n",
                    with(&seen)
                ));
            }
        }
    } else if let Some(&operand) = tool.operands.first() {
        if operand == Complete::Command {
            out.push_str(&format!(
                "complete -c {cmd}{} -f -a '(__fish_complete_subcommand)'\n",
                with("")
            ));
        } else if operand != Complete::Nothing {
            out.push_str(&format!(
                "complete -c {cmd}{}{}\n",
                with("not string match -q -- \"-*\" (commandline -ct)"),
                fish_args(operand)
            ));
        }
    }
    out
}

fn fish(tool: &Tool) -> String {
    format!(
        "# fish completion for {name}, generated by nsbox from its option table; do not edit.\n\
         # Install as {dir}/{name}.fish\n{FISH_HELPERS}complete -c {name} -e\n{}",
        fish_lines(tool, tool.name, ""),
        name = tool.name,
        dir = Shell::Fish.install_dir(),
    )
}

fn fish_multicall(applets: &[&Tool]) -> String {
    let names: Vec<&str> = applets.iter().map(|t| t.name).collect();
    let mut out = format!(
        "# fish completion for nsbox (the multicall binary), generated by nsbox; do not edit.\n\
         # Install as {dir}/nsbox.fish\n{FISH_HELPERS}complete -c nsbox -e\n\
         complete -c nsbox -n '__fish_is_first_token' -f -a '{}'\n",
        names.join(" "),
        dir = Shell::Fish.install_dir(),
    );
    for (o, h) in NSBOX_OPTIONS {
        out.push_str(&format!(
            "complete -c nsbox -n '__fish_is_first_token' -f -l {} -d '{}'\n",
            o.trim_start_matches('-'),
            h.replace('\'', "\\'")
        ));
    }
    for tool in applets {
        out.push_str(&fish_lines(
            tool,
            "nsbox",
            &format!("__fish_seen_subcommand_from {}", tool.name),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opts::{ArgKind, Complete, Opt, Tool};

    static T: Tool = Tool {
        name: "t",
        usage: &["t"],
        about: "x",
        opts: &[
            Opt::flag(Some('f'), "fork", "fork"),
            Opt::with_arg(
                None,
                "propagation",
                ArgKind::Required,
                " <mode>",
                Complete::Values(&["slave", "private"]),
                "modify",
            ),
            Opt::with_arg(
                Some('n'),
                "net",
                ArgKind::OptionalLongOnly,
                "[=<file>]",
                Complete::File,
                "net",
            ),
        ],
        help_version: true,
        help_column: 27,
        footer: "",
        stop_at_operand: true,
        operands: &[Complete::Command],
    };

    #[test]
    fn every_option_appears_in_every_shell() {
        for shell in Shell::ALL {
            let s = script(&T, shell);
            for o in T.all_opts() {
                assert!(s.contains(o.long), "{shell:?} lacks --{}", o.long);
            }
        }
        assert!(script(&T, Shell::Bash).contains("slave private"));
        assert!(script(&T, Shell::Bash).contains("--net="));
    }

    #[test]
    fn refinements_win_over_the_table() {
        static NSENTER: Tool = Tool {
            name: "nsenter",
            opts: &[Opt::with_arg(
                Some('S'),
                "setuid",
                ArgKind::Required,
                " <uid>",
                Complete::User,
                "set uid",
            )],
            ..T
        };
        let opt = &NSENTER.opts[0];
        assert_eq!(option_completion(&NSENTER, opt), FOLLOW_OR_UID);
        assert!(script(&NSENTER, Shell::Bash).contains("words:follow;uid"));
    }

    #[test]
    fn netns_has_subcommands_with_attach() {
        static NETNS: Tool = Tool {
            name: "netns",
            operands: &[Complete::Values(&["list"])],
            ..T
        };
        let subs = subcommands(&NETNS).unwrap();
        assert!(subs.iter().any(|(n, _)| *n == "attach"));
        assert!(script(&NETNS, Shell::Bash).contains("exec) subops=('netns' 'cmd')"));
        assert_eq!(LSNS_COLUMNS.len(), 13);
    }
}
