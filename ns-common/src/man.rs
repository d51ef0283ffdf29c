//! Man pages generated from the option tables plus the descriptions and examples below.
//!
//! The text lives here, keyed by tool name, so the tables stay the only source of options and tool crates need
//! no man-page fields. The committed files in `man/` are the output of [`page`] (`nsbox --generate man TOOL`);
//! a test checks they are current and that groff renders them without warnings.

use crate::opts::{ArgKind, Opt, Tool};

/// The hand-written part of one page.
pub struct ManText {
    pub tool: &'static str,
    /// 1 for user commands, 8 for system administration (util-linux's and iproute2's sections).
    pub section: u8,
    /// The NAME line after `tool \-`.
    pub summary: &'static str,
    /// DESCRIPTION paragraphs; blank lines separate paragraphs.
    pub description: &'static str,
    /// (what it does, command lines).
    pub examples: &'static [(&'static str, &'static str)],
    /// Extra sections: (title, paragraphs).
    pub notes: &'static [(&'static str, &'static str)],
    pub see_also: &'static [&'static str],
}

const COMMON_NOTES: (&str, &str) = (
    "NSBOX",
    "This program is one applet of nsbox, a set of Linux namespace tools built as one static multicall binary. \
     It needs no shared libraries, locale files or NSS modules: user and group names are read from /etc/passwd \
     and /etc/group directly, and numbers always work, even with no /etc at all. Users that exist only in LDAP \
     or SSSD must be given by number.",
);

pub const PAGES: &[ManText] = &[
    ManText {
        tool: "unshare",
        section: 1,
        summary: "run a program in new namespaces",
        description: "Creates the namespaces selected by the options and runs program in them (default: ${SHELL}, \
            else /bin/sh). With a file argument a namespace is made persistent by bind-mounting it onto that file.\n\n\
            A new user namespace is created first, so that an unprivileged user can create every other kind of \
            namespace inside it; the uid and gid maps are written before anything else that needs privileges. \
            The PID and time namespaces apply to children only, so --pid and --time are normally used with --fork.\n\n\
            The options are compatible with util-linux unshare(1).",
        examples: &[
            ("A root shell in new user and mount namespaces, as an ordinary user:", "unshare --map-root-user --mount sh"),
            ("A new PID namespace with its own /proc:", "unshare --pid --fork --mount-proc ps ax"),
            ("Keep a network namespace after the program exits:", "touch /run/mynet\nunshare --net=/run/mynet true\nnsenter --net=/run/mynet ip link"),
            ("A time namespace whose boot clock is one day ahead:", "unshare --user --map-root-user --time --fork --boottime 86400 cat /proc/uptime"),
        ],
        notes: &[],
        see_also: &["nsenter(1)", "lsns(8)", "unshare(2)", "namespaces(7)", "user_namespaces(7)"],
    },
    ManText {
        tool: "nsenter",
        section: 1,
        summary: "run a program in the namespaces of another process",
        description: "Enters the namespaces of the target process (--target) or the namespace files given to the \
            options, then runs program (default: ${SHELL}, else /bin/sh). Entering a PID namespace affects children \
            only, so nsenter forks unless --no-fork is given.\n\n\
            No auxiliary process is ever re-executed from /proc/self/exe after a namespace has been joined.\n\n\
            The options are compatible with util-linux nsenter(1).",
        examples: &[
            ("A shell in every namespace of process 1234:", "nsenter --target 1234 --all"),
            ("Run a command in a persistent network namespace:", "nsenter --net=/run/netns/left ip addr"),
            ("Enter a container's user and mount namespaces, keeping the caller's credentials:", "nsenter -t 1234 -U -m --preserve-credentials ls /"),
        ],
        notes: &[],
        see_also: &["unshare(1)", "lsns(8)", "setns(2)", "namespaces(7)"],
    },
    ManText {
        tool: "lsns",
        section: 8,
        summary: "list namespaces",
        description: "Lists the namespaces reachable from /proc: those of every process, and those kept alive by \
            a bind mount or an open file descriptor. Output formats are a table (default), --list, --raw, \
            --pairs and --json; --output selects the columns.\n\n\
            The options and the output are compatible with util-linux lsns(8).",
        examples: &[
            ("All namespaces:", "lsns"),
            ("Network namespaces, with their nsfs mount points and ids:", "lsns -t net -o NS,NETNSID,NSFS,PID,COMMAND"),
            ("The namespaces of one process, as JSON:", "lsns -J -p 1234"),
        ],
        notes: &[(
            "COLUMNS",
            "NS, TYPE, PATH, NPROCS, PID, PPID, COMMAND, UID, USER, NETNSID, NSFS, PNS, ONS. Use --help for their \
             descriptions.",
        )],
        see_also: &["unshare(1)", "nsenter(1)", "namespaces(7)"],
    },
    ManText {
        tool: "pivot_root",
        section: 8,
        summary: "change the root filesystem",
        description: "Moves the root mount of the calling process's mount namespace to put_old and makes new_root \
            the new root mount. new_root must be a mount point, put_old must be at or under new_root, and none of \
            the mounts involved may have shared propagation.\n\n\
            Run it inside a new mount namespace (unshare -m) unless you mean to change the whole system's root.",
        examples: &[(
            "Switch a private mount namespace to a new root and drop the old one:",
            "unshare -m sh -c 'mount --make-rprivate /; mount --bind /new /new; cd /new;\n  pivot_root . old; exec chroot . sh -c \"umount -l /old; exec sh\"'",
        )],
        notes: &[],
        see_also: &["switch_root(8)", "unshare(1)", "pivot_root(2)", "mount_namespaces(7)"],
    },
    ManText {
        tool: "switch_root",
        section: 8,
        summary: "switch to another filesystem as the root of the mount tree",
        description: "The last step of an initramfs: moves /dev, /proc, /sys and /run into newroot, makes newroot \
            the root, deletes everything on the old initramfs root (never crossing into other filesystems), and \
            executes init in the new root.\n\n\
            newroot must be a mount point. The old root is deleted only when it is an initramfs (ramfs or tmpfs).",
        examples: &[(
            "At the end of an initramfs /init script:",
            "mount /dev/sda1 /newroot\nexec switch_root /newroot /sbin/init",
        )],
        notes: &[],
        see_also: &["pivot_root(8)", "chroot(2)", "init(1)"],
    },
    ManText {
        tool: "netns",
        section: 8,
        summary: "manage network namespaces",
        description: "The ip netns command of iproute2 as its own program: named network namespaces are bind \
            mounts under /run/netns, and per-namespace configuration files are taken from /etc/netns/NAME.\n\n\
            Subcommands: list, add NAME, attach NAME PID, set NAME NETNSID, delete NAME, identify [PID], pids NAME, \
            exec NAME command..., monitor, list-id. They may be abbreviated as in iproute2. Messages and exit \
            codes are those of ip netns.",
        examples: &[
            ("Two namespaces joined by a veth pair:", "netns add left\nnetns add right\nveth add veth0 veth1 --netns left --peer-netns right \\\n  --addr 192.168.0.1/24 --peer-addr 192.168.0.2/24 --up\nnetns exec left ping -c1 192.168.0.2"),
            ("Remove them:", "netns delete left; netns delete right"),
        ],
        notes: &[],
        see_also: &["veth(8)", "ip-netns(8)", "network_namespaces(7)"],
    },
    ManText {
        tool: "veth",
        section: 8,
        summary: "create, address and raise veth pairs",
        description: "Creates a pair of virtual ethernet devices with each end directly in its target network \
            namespace, adds addresses and sets both ends up, in one process over rtnetlink. del removes a pair; \
            list shows the veth devices of a namespace.\n\n\
            NS is a name under /run/netns, a PID, or the path of a network namespace file. Exit status: 0 on \
            success, 1 for usage and local errors, 2 when the kernel refused a request.",
        examples: &[
            ("A pair between two named namespaces:", "veth add veth0 veth1 --netns left --peer-netns right --up"),
            ("The pairs of a namespace, as JSON:", "veth list --netns left -J"),
        ],
        notes: &[],
        see_also: &["netns(8)", "ip-link(8)", "veth(4)"],
    },
];

fn text_for(tool: &str) -> Option<&'static ManText> {
    PAGES.iter().find(|p| p.tool == tool)
}

/// The section a tool's page belongs to (1 when there is no text for it).
pub fn section(tool: &str) -> u8 {
    text_for(tool).map(|t| t.section).unwrap_or(1)
}

/// Escapes plain text for roff: backslashes, hyphens, and a leading `.` or `'` that would start a request.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// Paragraphs of already escaped roff text (blank lines separate them), as filled text.
fn paragraphs(text: &str) -> String {
    let mut out = String::new();
    for (i, para) in text.split("\n\n").enumerate() {
        if i > 0 {
            out.push_str(".PP\n");
        }
        let joined: Vec<&str> = para.split_whitespace().collect();
        out.push_str(&fill(&joined.join(" ")));
        out.push('\n');
    }
    out
}

/// One sentence per line is what roff likes; breaking after `. ` keeps the two spaces roff puts there.
fn fill(text: &str) -> String {
    text.replace(". ", ".\n")
}

/// `[=<file>]` → `[=\fIfile\fR]`.
fn value(v: &str) -> String {
    let mut out = String::new();
    let mut in_name = false;
    for c in v.chars() {
        match c {
            '<' => {
                out.push_str("\\fI");
                in_name = true;
            }
            '>' if in_name => {
                out.push_str("\\fR");
                in_name = false;
            }
            '-' => out.push_str("\\-"),
            '\\' => out.push_str("\\e"),
            c => out.push(c),
        }
    }
    out
}

fn option_head(opt: &Opt) -> String {
    let long = format!("\\fB\\-\\-{}\\fR", opt.long.replace('-', "\\-"));
    let v = value(opt.value);
    match (opt.short, opt.arg) {
        (Some(c), ArgKind::None) => format!("\\fB\\-{c}\\fR, {long}"),
        (Some(c), _) => format!("\\fB\\-{c}\\fR, {long}{v}"),
        (None, _) => format!("{long}{v}"),
    }
}

fn options_section(tool: &Tool) -> String {
    let mut out = String::from(".SH OPTIONS\n");
    for opt in tool.all_opts().filter(|o| !o.hidden) {
        let help: Vec<&str> = opt.help.split_whitespace().collect();
        out.push_str(&format!(
            ".TP\n{}\n{}\n",
            option_head(opt),
            fill(&roff(&help.join(" ")))
        ));
    }
    out
}

fn header(name: &str, section: u8, summary: &str) -> String {
    format!(
        ".\\\" Generated by nsbox (nsbox --generate man {name}); do not edit.\n\
         .TH {upper} {section} \"\" \"nsbox {version}\" \"nsbox\"\n\
         .SH NAME\n{name} \\- {summary}\n",
        upper = name.to_uppercase().replace('-', "\\-"),
        name = name.replace('-', "\\-"),
        version = crate::VERSION,
    )
}

fn examples_section(examples: &[(&str, &str)]) -> String {
    if examples.is_empty() {
        return String::new();
    }
    let mut out = String::from(".SH EXAMPLES\n");
    for (what, commands) in examples {
        out.push_str(&format!(
            ".PP\n{}\n.PP\n.RS 4\n.EX\n{}\n.EE\n.RE\n",
            fill(&roff(what)),
            commands.lines().map(roff).collect::<Vec<_>>().join("\n")
        ));
    }
    out
}

fn see_also_section(refs: &[&str]) -> String {
    if refs.is_empty() {
        return String::new();
    }
    let items: Vec<String> = refs
        .iter()
        .map(|r| match r.split_once('(') {
            Some((name, rest)) => format!(".BR {} ({rest}", roff(name)),
            None => format!(".B {}", roff(r)),
        })
        .collect();
    // Every item but the last ends in a comma.
    let mut out = String::from(".SH SEE ALSO\n");
    for (i, item) in items.iter().enumerate() {
        out.push_str(item);
        if i + 1 < items.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out
}

/// The man page of `tool`.
pub fn page(tool: &Tool) -> String {
    let text = text_for(tool.name);
    let section = text.map(|t| t.section).unwrap_or(1);
    let summary = text.map(|t| t.summary).unwrap_or(tool.about);
    let mut out = header(tool.name, section, &roff(summary));
    out.push_str(".SH SYNOPSIS\n");
    for (i, line) in tool.usage.iter().enumerate() {
        if i > 0 {
            out.push_str(".br\n");
        }
        let (name, rest) = line.split_once(' ').unwrap_or((line, ""));
        out.push_str(&format!(".B {}\n{}\n", roff(name), roff(rest)));
    }
    out.push_str(".SH DESCRIPTION\n");
    let about: Vec<&str> = tool.about.lines().collect();
    match text {
        Some(t) => out.push_str(&paragraphs(&roff(t.description))),
        None => out.push_str(&paragraphs(&roff(&about.join(" ")))),
    }
    out.push_str(&options_section(tool));
    if !tool.footer.is_empty() {
        let lines: Vec<&str> = tool
            .footer
            .lines()
            .filter(|l| !l.starts_with("For more details see"))
            .collect();
        if !lines.is_empty() {
            out.push_str(&format!(
                ".PP\n{}\n",
                roff(&lines.join("\n")).replace('\n', "\n.br\n")
            ));
        }
    }
    if let Some(t) = text {
        for (title, body) in t.notes.iter().chain([&COMMON_NOTES]) {
            out.push_str(&format!(".SH {title}\n{}", paragraphs(&roff(body))));
        }
        out.push_str(&examples_section(t.examples));
        out.push_str(&see_also_section(t.see_also));
    }
    out
}

/// The page of the multicall binary itself.
pub fn multicall_page(applets: &[&Tool]) -> String {
    let mut out = header("nsbox", 1, "Linux namespace tools in one binary");
    out.push_str(
        ".SH SYNOPSIS\n.B nsbox\n\\fIapplet\\fR [\\fIargument\\fR...]\n.br\n.B nsbox\n\\-\\-list | \\-\\-list\\-full\n\
         .br\n.B nsbox\n\\-\\-install [\\-s] [\\-\\-force] \\fIdirectory\\fR\n.br\n.B nsbox\n\\-\\-help [\\fIapplet\\fR] | \\-\\-version\n",
    );
    out.push_str(".SH DESCRIPTION\n");
    out.push_str(&paragraphs(
        "nsbox is a multicall binary: run by the name of an applet (through a link, or as \
         \\fBnsbox\\fR \\fIapplet\\fR) it behaves as that program. It is built to be copied alone into an initramfs \
         or a minimal image: it is statically linked and reads users and groups from the /etc files itself.",
    ));
    out.push_str(".PP\nApplets:\n");
    for (i, tool) in applets.iter().enumerate() {
        let sep = if i + 1 < applets.len() { "," } else { "." };
        out.push_str(&format!(
            ".BR {} ({}){sep}\n",
            roff(tool.name),
            section(tool.name)
        ));
    }
    out.push_str(
        ".SH OPTIONS\n\
         .TP\n\\fB\\-\\-list\\fR\nPrint the applet names, one per line.\n\
         .TP\n\\fB\\-\\-list\\-full\\fR\nPrint the install path of every applet.\n\
         .TP\n\\fB\\-\\-install\\fR [\\fB\\-s\\fR] [\\fB\\-\\-force\\fR] \\fIdirectory\\fR\n\
         Create \\fIdirectory\\fR/\\fIapplet\\fR for every applet: a hard link to this binary, or a symbolic link with \\fB\\-s\\fR.\n\
         Existing files are replaced only with \\fB\\-\\-force\\fR.\n\
         .TP\n\\fB\\-\\-help\\fR [\\fIapplet\\fR]\nThis usage, or the applet's help.\n\
         .TP\n\\fB\\-\\-version\\fR\nPrint the version.\n",
    );
    out.push_str(&examples_section(&[
        (
            "Make the applets available in an initramfs:",
            "/nsbox --install -s /bin",
        ),
        ("Run an applet without links:", "nsbox unshare -r id"),
    ]));
    out.push_str(&see_also_section(&[
        "unshare(1)",
        "nsenter(1)",
        "lsns(8)",
        "pivot_root(8)",
        "switch_root(8)",
        "netns(8)",
        "veth(8)",
    ]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_escapes() {
        assert_eq!(roff(".x -y \\z"), "\\&.x \\-y \\ez");
        assert_eq!(value("[=<file>]"), "[=\\fIfile\\fR]");
    }

    #[test]
    fn every_page_has_a_known_section() {
        for p in PAGES {
            assert!(p.section == 1 || p.section == 8, "{}", p.tool);
        }
    }
}
