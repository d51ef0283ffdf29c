//! Shell completion scripts (bash, zsh, fish) generated from a tool's option table.
//!
//! The committed files in `completions/` are the output of these functions (`nsbox --generate …`);
//! a test checks they are current.

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

    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }
}

/// The completion script for `tool` in `shell`.
pub fn script(tool: &Tool, shell: Shell) -> String {
    match shell {
        Shell::Bash => bash(tool),
        Shell::Zsh => zsh(tool),
        Shell::Fish => fish(tool),
    }
}

fn ident(name: &str) -> String {
    name.replace(['-', '.'], "_")
}

/// A bash expression that prints candidate words for `what` (one per line or space-separated).
fn bash_words(what: Complete) -> String {
    match what {
        Complete::Nothing | Complete::Command => String::new(),
        Complete::File => "compgen -f -- \"$cur\"".into(),
        Complete::Dir => "compgen -d -- \"$cur\"".into(),
        Complete::Pid => "compgen -W \"$(cd /proc 2>/dev/null && echo [0-9]*)\" -- \"$cur\"".into(),
        Complete::User => {
            "compgen -W \"$(cut -d: -f1,3 /etc/passwd 2>/dev/null | tr ':' ' ')\" -- \"$cur\"".into()
        }
        Complete::Group => {
            "compgen -W \"$(cut -d: -f1,3 /etc/group 2>/dev/null | tr ':' ' ')\" -- \"$cur\"".into()
        }
        Complete::Signal => format!(
            "compgen -W \"{}\" -- \"$cur\"",
            crate::signals::completion_names().join(" ")
        ),
        Complete::Netns => "compgen -W \"$(ls -A /run/netns 2>/dev/null)\" -- \"$cur\"".into(),
        Complete::Link => "compgen -W \"$(ls /sys/class/net 2>/dev/null)\" -- \"$cur\"".into(),
        Complete::Values(v) => format!("compgen -W \"{}\" -- \"$cur\"", v.join(" ")),
        Complete::CommaList(v) => format!(
            "local pre=\"${{cur%\"${{cur##*,}}\"}}\"; compgen -P \"$pre\" -W \"{}\" -- \"${{cur##*,}}\"",
            v.join(" ")
        ),
    }
}

fn bash(tool: &Tool) -> String {
    let f = format!("_nsbox_{}", ident(tool.name));
    let opts: Vec<&Opt> = tool.all_opts().collect();
    let mut long_words = Vec::new();
    for o in &opts {
        match o.arg {
            ArgKind::None => long_words.push(format!("--{}", o.long)),
            ArgKind::Required => long_words.push(format!("--{}", o.long)),
            ArgKind::Optional | ArgKind::OptionalLongOnly => {
                long_words.push(format!("--{}", o.long));
                long_words.push(format!("--{}=", o.long));
            }
        }
    }
    let mut short_words: Vec<String> = opts
        .iter()
        .filter_map(|o| o.short.map(|c| format!("-{c}")))
        .collect();
    short_words.sort();
    let mut required_cases = String::new();
    let mut glued_cases = String::new();
    for o in &opts {
        let words = bash_words(o.complete);
        match o.arg {
            ArgKind::Required => {
                let mut pats = vec![format!("--{}", o.long)];
                if let Some(c) = o.short {
                    pats.push(format!("-{c}"));
                }
                let body = if words.is_empty() {
                    "return 0".to_string()
                } else {
                    format!("COMPREPLY=( $({words}) ); return 0")
                };
                required_cases.push_str(&format!(
                    "        {})\n            {body} ;;\n",
                    pats.join("|")
                ));
            }
            ArgKind::Optional | ArgKind::OptionalLongOnly if !words.is_empty() => {
                glued_cases.push_str(&format!(
                    "        --{}=*)\n            local cur=\"${{cur#*=}}\"; COMPREPLY=( $({words}) ); return 0 ;;\n",
                    o.long
                ));
            }
            _ => {}
        }
    }
    let operand = tool.operands.first().copied().unwrap_or(Complete::Nothing);
    let operand_body = match operand {
        Complete::Command => "if declare -F _command_offset >/dev/null; then _command_offset $i; else COMPREPLY=( $(compgen -c -- \"$cur\") ); fi; return 0".to_string(),
        other => {
            let w = bash_words(other);
            if w.is_empty() { "return 0".into() } else { format!("COMPREPLY=( $({w}) ); return 0") }
        }
    };
    let required_names: Vec<String> = opts
        .iter()
        .filter(|o| o.arg == ArgKind::Required)
        .flat_map(|o| {
            let mut v = vec![format!("--{}", o.long)];
            if let Some(c) = o.short {
                v.push(format!("-{c}"));
            }
            v
        })
        .collect();
    format!(
        r#"# bash completion for {name}, generated by nsbox from its option table; do not edit.
{f}()
{{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}" i
    # The first word that is not an option (or an option's argument) starts the operands.
    for (( i=1; i < COMP_CWORD; i++ )); do
        case "${{COMP_WORDS[i]}}" in
            --) (( i++ )); break ;;
            {required_pat}) (( i++ )) ;;
            -*) ;;
            *) break ;;
        esac
    done
    if (( i < COMP_CWORD )); then
        local cur="${{COMP_WORDS[COMP_CWORD]}}"
        {operand_body}
    fi
    case "$prev" in
{required_cases}    esac
    case "$cur" in
{glued_cases}        --*)
            compopt -o nospace 2>/dev/null
            COMPREPLY=( $(compgen -W "{long}" -- "$cur") )
            [[ ${{#COMPREPLY[@]}} -eq 1 && ${{COMPREPLY[0]}} != *= ]] && compopt +o nospace 2>/dev/null
            return 0 ;;
        -*)
            COMPREPLY=( $(compgen -W "{short}" -- "$cur") ); return 0 ;;
    esac
    {operand_body}
}}
complete -F {f} {name}
"#,
        name = tool.name,
        required_pat = if required_names.is_empty() {
            "--@@none@@".to_string()
        } else {
            required_names.join("|")
        },
        long = long_words.join(" "),
        short = short_words.join(" "),
    )
}

fn zsh_action(what: Complete) -> String {
    match what {
        Complete::Nothing => " ".into(),
        Complete::Command => "_command_names -e".into(),
        Complete::File => "_files".into(),
        Complete::Dir => "_files -/".into(),
        Complete::Pid => "_pids".into(),
        Complete::User => "_users".into(),
        Complete::Group => "_groups".into(),
        Complete::Signal => format!("({})", crate::signals::completion_names().join(" ")),
        Complete::Netns => "_files -W /run/netns".into(),
        Complete::Link => "_net_interfaces".into(),
        Complete::Values(v) => format!("({})", v.join(" ")),
        Complete::CommaList(v) => format!("_sequence compadd - {}", v.join(" ")),
    }
}

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

fn zsh(tool: &Tool) -> String {
    let mut specs = Vec::new();
    for o in tool.all_opts() {
        let help = zsh_escape(o.help);
        let action = zsh_action(o.complete);
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
    let operand = tool.operands.first().copied().unwrap_or(Complete::Nothing);
    match operand {
        Complete::Command => {
            specs.push("'(-)1:command:_command_names -e'".into());
            specs.push("'*::arguments:_normal'".into());
        }
        Complete::Nothing => {}
        other => specs.push(format!("'*:operand:{}'", zsh_action(other))),
    }
    let stop = if tool.stop_at_operand { "-S " } else { "" };
    format!(
        "#compdef {name}\n# zsh completion for {name}, generated by nsbox from its option table; do not edit.\n\n_arguments -s {stop}\\\n  {}\n",
        specs.join(" \\\n  "),
        name = tool.name,
    )
}

fn fish_args(what: Complete) -> String {
    let quoted = |cmd: &str| format!(" -f -a \"({cmd})\"");
    match what {
        Complete::Nothing => " -f".into(),
        Complete::Command => " -f -a \"(__fish_complete_command)\"".into(),
        Complete::File => " -F".into(),
        Complete::Dir => " -f -a \"(__fish_complete_directories)\"".into(),
        Complete::Pid => quoted("__fish_complete_pids"),
        Complete::User => quoted("__fish_complete_users"),
        Complete::Group => quoted("__fish_complete_groups"),
        Complete::Signal => format!(
            " -f -a \"{}\"",
            crate::signals::completion_names().join(" ")
        ),
        Complete::Netns => quoted("ls -A /run/netns 2>/dev/null"),
        Complete::Link => quoted("ls /sys/class/net 2>/dev/null"),
        Complete::Values(v) => format!(" -f -a \"{}\"", v.join(" ")),
        Complete::CommaList(v) => format!(" -f -a \"(__fish_append , {})\"", v.join(" ")),
    }
}

fn fish(tool: &Tool) -> String {
    let mut out = format!(
        "# fish completion for {name}, generated by nsbox from its option table; do not edit.\ncomplete -c {name} -e\n",
        name = tool.name
    );
    for o in tool.all_opts() {
        let mut line = format!("complete -c {}", tool.name);
        if let Some(c) = o.short {
            line.push_str(&format!(" -s {c}"));
        }
        line.push_str(&format!(" -l {}", o.long));
        match o.arg {
            ArgKind::None => line.push_str(" -f"),
            ArgKind::Required => {
                line.push_str(" -r");
                line.push_str(&fish_args(o.complete));
            }
            ArgKind::Optional | ArgKind::OptionalLongOnly => line.push_str(&fish_args(o.complete)),
        }
        let help = o.help.lines().next().unwrap_or("").replace('\'', "\\'");
        line.push_str(&format!(" -d '{help}'\n"));
        out.push_str(&line);
    }
    if let Some(&operand) = tool.operands.first() {
        if operand != Complete::Nothing {
            out.push_str(&format!(
                "complete -c {} -n '__fish_is_first_arg; or not string match -q -- \"-*\" (commandline -ct)'{}\n",
                tool.name,
                fish_args(operand)
            ));
        }
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
}
