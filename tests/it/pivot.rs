//! Integration tests for pivot_root and switch_root (issue #6).
//!
//! Machine safety: everything that pivots, moves, unmounts or deletes runs in a fresh private mount namespace
//! (and for switch_root, on a tmpfs that has become the root after the machine's root was detached with
//! `umount -l`), so neither tool can reach the machine's own files. Rootless runs use `unshare -Urm`.

use crate::harness::*;
use std::path::Path;

const UNSHARE: &str = "/usr/bin/unshare";
const BUSYBOX: &str = "/usr/bin/busybox";

/// How the throw-away root is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RootFs {
    /// A tmpfs: what an initramfs looks like to switch_root.
    Tmpfs,
    /// A bind mount of a directory on the machine's disk: switch_root must not delete anything there.
    BindOfDir,
    /// A loop-mounted ext4 image made in the sandbox directory.
    Ext4Image,
}

/// A root for one test: the directory holding it, and how to run a script inside it.
struct Sandbox {
    dir: TempDir,
    rootfs: RootFs,
    rootless: bool,
    /// Run as PID 1 of a new pid namespace.
    pid1: bool,
    /// Make the root with our pivot_root instead of util-linux's.
    our_pivot: bool,
}

/// Sets up the root, pivots into it and detaches the machine's root, then runs /script with busybox sh.
/// `$1` is the sandbox dir; `$NSBOX_BIN` holds our binaries.
const PRELUDE: &str = r#"
D=$1
R=$D/root
case $ROOTFS in
    tmpfs) mount -t tmpfs nsbox-initramfs "$R" ;;
    bind) mount --bind "$D/diskroot" "$R" ;;
    ext4) truncate -s 512M "$D/disk.img"; mkfs.ext4 -q "$D/disk.img"; mount -o loop "$D/disk.img" "$R" ;;
esac
mkdir -p "$R/bin" "$R/nsbox" "$R/proc" "$R/dev" "$R/sys" "$R/run" "$R/old" "$R/hostbind"
cp "$BUSYBOX" "$R/bin/busybox"
for applet in $("$R/bin/busybox" --list); do
    [ -e "$R/bin/$applet" ] || ln -s busybox "$R/bin/$applet"
done
for tool in pivot_root switch_root nsbox; do cp "$NSBOX_BIN/$tool" "$R/nsbox/$tool"; done
cp /usr/sbin/switch_root "$R/nsbox/reference_switch_root"
strace=$(command -v strace || true)
[ -z "$strace" ] || cp "$strace" "$R/nsbox/strace"
# The debug build links glibc dynamically: bring the libraries along at their own paths.
for lib in $(ldd "$NSBOX_BIN/nsbox" "$NSBOX_BIN/switch_root" /usr/sbin/switch_root $strace | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u); do
    mkdir -p "$R$(dirname "$lib")"
    cp -L "$lib" "$R$lib"
done
cp "$D/script" "$R/script"
mount --bind "$D/hostdir" "$R/hostbind"
mount -t proc proc "$R/proc"
mount -t tmpfs nsbox-dev "$R/dev"
mkdir "$R/dev/pts"
mount -t devpts -o newinstance devpts "$R/dev/pts"
mount -t sysfs sysfs "$R/sys"
mount -t tmpfs nsbox-run "$R/run"
cd "$R"
$PIVOT . old
exec /bin/busybox sh -c 'umount -l /old && rmdir /old && exec /bin/sh -eu /script'
"#;

impl Sandbox {
    fn new(rootfs: RootFs) -> Sandbox {
        let dir = TempDir::new("pivot");
        for sub in ["root", "hostdir", "diskroot"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        // Every user may enter it: the rootless variant runs as nobody.
        for sub in ["", "root", "diskroot"] {
            set_mode(&dir.path().join(sub), 0o755);
        }
        std::fs::write(dir.path().join("hostdir/marker"), "host\n").unwrap();
        Sandbox {
            dir,
            rootfs,
            rootless: false,
            pid1: false,
            our_pivot: false,
        }
    }

    fn path(&self, sub: &str) -> std::path::PathBuf {
        self.dir.path().join(sub)
    }

    /// Runs `script` as /script inside the new root.
    fn run(&self, script: &str) -> Run {
        assert!(is_root(), "sandboxes need root");
        std::fs::write(self.path("script"), script).unwrap();
        let mut unshare = vec!["--mount", "--propagation", "private"];
        if self.rootless {
            // A user namespace of its own, with pid and net namespaces it owns so that it may mount proc
            // and sysfs.
            unshare.extend(["--user", "--map-root-user", "--net", "--pid", "--fork"]);
        } else if self.pid1 {
            unshare.extend(["--pid", "--fork"]);
        }
        let bin = if self.rootless {
            public_bin_dir().to_path_buf()
        } else {
            bin_dir()
        };
        let pivot = if self.our_pivot {
            bin.join("pivot_root").display().to_string()
        } else {
            "/usr/sbin/pivot_root".to_string()
        };
        let mut c = reference(UNSHARE)
            .args(unshare)
            .args(["--", "sh", "-euc", PRELUDE, "sh"])
            .arg(self.dir.path())
            .env("NSBOX_BIN", &bin)
            .env("BUSYBOX", BUSYBOX)
            .env("PIVOT", pivot)
            .env(
                "ROOTFS",
                match self.rootfs {
                    RootFs::Tmpfs => "tmpfs",
                    RootFs::BindOfDir => "bind",
                    RootFs::Ext4Image => "ext4",
                },
            );
        if self.rootless {
            c = c.rootless();
        }
        c.run()
    }
}

fn have_busybox() -> bool {
    if Path::new(BUSYBOX).exists() {
        return true;
    }
    eprintln!("skipped: {BUSYBOX} is missing (apt-get install busybox-static)");
    false
}

// ---------------------------------------------------------------------------------------------------------
// pivot_root

#[test]
fn pivot_root_help_and_version() {
    for v in variants() {
        cmd("pivot_root")
            .arg("--help")
            .variant(v)
            .run()
            .success()
            .stdout_is(
                "\nUsage:\n pivot_root [options] new_root put_old\n\nChange the root filesystem.\n\nOptions:\n \
                 -h, --help     display this help\n -V, --version  display version\n\n\
                 For more details see pivot_root(8).\n",
            );
        cmd("pivot_root")
            .arg("-V")
            .variant(v)
            .run()
            .success()
            .stdout_contains("pivot_root from nsbox");
    }
    let ours = cmd("pivot_root").arg("-h").run();
    let theirs = reference("/usr/sbin/pivot_root").arg("-h").run();
    same_outcome(&ours, &theirs);
}

#[test]
fn pivot_root_bad_usage() {
    let usage = "pivot_root: bad usage\nTry 'pivot_root --help' for more information.\n";
    let cases: &[&[&str]] = &[&[], &["a"], &["a", "b", "c"], &["--", "a"]];
    for v in variants() {
        for args in cases {
            let ours = cmd("pivot_root").args(*args).variant(v).run();
            ours.code_is(1).stdout_is("").stderr_is(usage);
            // util-linux takes `--` as an operand; we end the options there (nsbox deviation).
            if v == Variant::Root && !args.contains(&"--") {
                let theirs = reference("/usr/sbin/pivot_root").args(*args).run();
                same_outcome(&ours, &theirs);
                assert_eq!(ours.stderr(), theirs.stderr());
            }
        }
        let bin = bin_dir().join("pivot_root");
        let run = cmd("pivot_root").arg("-x").variant(v).run();
        let argv0 = if v == Variant::Root {
            bin.display().to_string()
        } else {
            public_bin_dir().join("pivot_root").display().to_string()
        };
        run.code_is(1).stderr_is(&format!(
            "{argv0}: invalid option -- 'x'\nTry 'pivot_root --help' for more information.\n"
        ));
    }
}

#[test]
fn pivot_root_unprivileged_is_eperm() {
    if skip_unless_root() {
        return;
    }
    let ours = cmd("pivot_root").args(["/tmp", "/tmp"]).rootless().run();
    ours.code_is(1).stderr_is(
        "pivot_root: failed to change root from `/tmp' to `/tmp': Operation not permitted\n",
    );
    let theirs = reference("/usr/sbin/pivot_root")
        .args(["/tmp", "/tmp"])
        .rootless()
        .run();
    same_outcome(&ours, &theirs);
    assert_eq!(ours.stderr(), theirs.stderr());
}

/// `--` ends the options (nsbox deviation: util-linux counts it as an operand and says "bad usage").
#[test]
fn pivot_root_double_dash_ends_options() {
    if skip_unless_root() {
        return;
    }
    let run = in_private_mount_ns(
        r#""$NSBOX_BIN/pivot_root" -- /nonexistent-nsbox /nonexistent-nsbox/old 2>&1 || echo "rc=$?""#,
    );
    run.success().stdout_is(
        "pivot_root: failed to change root from `/nonexistent-nsbox' to `/nonexistent-nsbox/old': \
         No such file or directory\nrc=1\n",
    );
}

/// Each kernel refusal: the util-linux message (compared with the reference), then our hint for EINVAL.
#[test]
fn pivot_root_errors_and_hints() {
    if skip_unless_root() {
        return;
    }
    let dir = TempDir::new("pivot-err");
    let d = dir.path().display().to_string();
    // (setup, new_root, put_old, errno text, hint)
    let cases: &[(&str, &str, &str, &str, Option<&str>)] = &[
        // (On the root's own mount the kernel says EBUSY instead: new_root must be on another mount.)
        (
            "mkdir t && mount -t tmpfs t t && mkdir -p t/plain/old",
            "t/plain",
            "t/plain/old",
            "Invalid argument",
            Some("t/plain is not a mount point (mount --bind t/plain t/plain)"),
        ),
        (
            // (put_old on the root's own mount would be EBUSY instead.)
            "mkdir -p new t && mount -t tmpfs t new && mount -t tmpfs t t && mkdir t/other",
            "new",
            "t/other",
            "Invalid argument",
            Some("t/other is not under new"),
        ),
        (
            "mkdir -p new && mount -t tmpfs t new && mkdir new/old && mount --make-shared new",
            "new",
            "new/old",
            "Invalid argument",
            Some("a mount involved has shared propagation (mount --make-rprivate /)"),
        ),
        (
            "mkdir -p new && mount -t tmpfs t new",
            "new",
            "new/missing",
            "No such file or directory",
            None,
        ),
        (
            "mkdir -p new && mount -t tmpfs t new && touch new/file",
            "new",
            "new/file",
            "Not a directory",
            None,
        ),
        ("true", "/", "/tmp", "Device or resource busy", None),
    ];
    for (setup, new_root, put_old, err, hint) in cases {
        let mut expected =
            format!("pivot_root: failed to change root from `{new_root}' to `{put_old}': {err}\n");
        if let Some(hint) = hint {
            expected.push_str(&format!("pivot_root: hint: {hint}\n"));
        }
        for tool in ["$NSBOX_BIN/pivot_root", "/usr/sbin/pivot_root"] {
            let script = format!(
                r#"cd {d}; {setup}
                rc=0; {tool} {new_root} {put_old} 2>err || rc=$?
                echo "rc=$rc"; cat err
                grep -c . /proc/self/mountinfo >count; rm -f err"#
            );
            let run = in_private_mount_ns(&script);
            run.success();
            let out = run.stdout();
            if tool.starts_with('$') {
                assert_eq!(
                    out,
                    format!("rc=1\n{expected}"),
                    "case {setup}; {new_root} {put_old}"
                );
            } else {
                // util-linux prints the same first line, without our hint.
                let first = expected.lines().next().unwrap();
                assert_eq!(out, format!("rc=1\n{first}\n"), "reference, case {setup}");
            }
            let _ = std::process::Command::new("sh")
                .args(["-c", &format!("cd {d} && rm -rf ./* 2>/dev/null")])
                .status();
        }
    }
}

/// Inside a chroot (the root is not a mount point) the kernel says EINVAL too; the hint says why.
#[test]
fn pivot_root_hint_inside_chroot() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let sandbox = Sandbox::new(RootFs::Tmpfs);
    let script = r#"
        mkdir /jail
        for d in /bin /nsbox /lib /lib64; do cp -a $d /jail/; done
        mkdir /jail/new && mount -t tmpfs new /jail/new && mkdir /jail/new/old
        rc=0; chroot /jail /nsbox/pivot_root /new /new/old 2>/err || rc=$?
        echo "rc=$rc"; cat /err
    "#;
    sandbox.run(script).success().stdout_is(
        "rc=1\npivot_root: failed to change root from `/new' to `/new/old': Invalid argument\n\
         pivot_root: hint: the current root is not a mount point (inside a chroot?)\n",
    );
}

/// Our pivot_root into a tmpfs holding busybox and our binaries; after `umount -l` of put_old the machine's
/// root (and a marker file on it) is gone from the namespace.
#[test]
fn pivot_root_into_tmpfs_then_old_root_is_gone() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let mut sandbox = Sandbox::new(RootFs::Tmpfs);
    sandbox.our_pivot = true;
    let marker = sandbox.path("hostdir/marker");
    let script = format!(
        r#"
        test "$(stat -f -c %T /)" = tmpfs && echo root-is-tmpfs
        test -e /bin/busybox && test -x /nsbox/pivot_root && echo tools-present
        test ! -e "{marker}" && test -z "$(ls -A /old 2>/dev/null)" && echo old-root-gone
        cat /hostbind/marker
        grep -c ' / / ' /proc/self/mountinfo
        "#,
        marker = marker.display()
    );
    sandbox
        .run(&script)
        .success()
        .stdout_is("root-is-tmpfs\ntools-present\nold-root-gone\nhost\n1\n");
}

/// Inside the sandbox, our pivot_root (run from the new root) moves the root again, and the stacking idiom
/// `pivot_root . .` followed by `umount -l .` works.
#[test]
fn pivot_root_inside_sandbox_and_dot_dot() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let sandbox = Sandbox::new(RootFs::Tmpfs);
    let script = r#"
        mkdir /next && mount -t tmpfs next /next && mkdir /next/put_old
        for d in /bin /nsbox /lib /lib64; do cp -a $d /next/; done
        echo next > /next/marker
        cd /next
        /nsbox/pivot_root . put_old && echo pivoted
        cat /marker
        test -e /put_old/script && echo old-root-under-put_old
        umount -l /put_old && test ! -e /put_old/script && echo put_old-detached

        mkdir /stack && mount -t tmpfs stack /stack && echo stacked > /stack/marker
        for d in /bin /nsbox /lib /lib64; do cp -a $d /stack/; done
        cd /stack
        /nsbox/pivot_root . . && echo dot-dot-ok
        umount -l . && echo detached
        cd /
        cat /marker
        test ! -e /put_old && echo previous-root-gone
    "#;
    sandbox.run(script).success().stdout_is(
        "pivoted\nnext\nold-root-under-put_old\nput_old-detached\ndot-dot-ok\ndetached\nstacked\nprevious-root-gone\n",
    );
}

/// The nsbox multicall applet pivots the same way.
#[test]
fn pivot_root_via_nsbox() {
    if skip_unless_root() {
        return;
    }
    let dir = TempDir::new("pivot-nsbox");
    // After the pivot only shell builtins are used: the machine's /usr/bin is no longer at /usr/bin.
    let run = in_private_mount_ns(&format!(
        r#"D={}
        mount -t tmpfs t "$D"; mkdir "$D/old"; echo new > "$D/marker"
        cd "$D"; "$NSBOX_BIN/nsbox" pivot_root . old
        cd /; read -r line < /marker; echo "$line"; [ -d /old/proc ] && echo old-visible"#,
        dir.path().display()
    ));
    run.success().stdout_is("new\nold-visible\n");
}

/// Rootless: in a user namespace of its own, pivot_root works (and without one it is EPERM, tested above).
#[test]
fn pivot_root_rootless_user_namespace() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let mut sandbox = Sandbox::new(RootFs::Tmpfs);
    sandbox.rootless = true;
    sandbox.our_pivot = true;
    sandbox
        .run("test \"$(stat -f -c %T /)\" = tmpfs && id -u && cat /hostbind/marker\n")
        .success()
        .stdout_is("0\nhost\n");
}

// ---------------------------------------------------------------------------------------------------------
// switch_root

#[test]
fn switch_root_help_version_and_usage() {
    for v in variants() {
        cmd("switch_root")
            .arg("--help")
            .variant(v)
            .run()
            .success()
            .stdout_is(
                "\nUsage:\n switch_root [options] <newrootdir> <init> <args to init>\n\n\
                 Switch to another filesystem as the root of the mount tree.\n\nOptions:\n \
                 -h, --help     display this help\n -V, --version  display version\n\n\
                 For more details see switch_root(8).\n",
            );
        cmd("switch_root")
            .arg("--version")
            .variant(v)
            .run()
            .success()
            .stdout_contains("switch_root from nsbox");
        for args in [&[][..], &["/newroot"][..], &["--", "/newroot"][..]] {
            let ours = cmd("switch_root").args(args).variant(v).run();
            ours.code_is(1).stderr_is(
                "switch_root: not enough arguments\nTry 'switch_root --help' for more information.\n",
            );
            if v == Variant::Root && args.first() != Some(&"--") {
                let theirs = reference("/usr/sbin/switch_root").args(args).run();
                same_outcome(&ours, &theirs);
                assert_eq!(ours.stderr(), theirs.stderr());
            }
        }
    }
    let ours = cmd("switch_root").arg("-h").run();
    let theirs = reference("/usr/sbin/switch_root").arg("-h").run();
    same_outcome(&ours, &theirs);
}

/// The prepared new root every switch test uses: a tmpfs at /newroot with busybox, an /init script that
/// reports what it sees, and markers on the old root (plus a separate tmpfs at /keep and the host bind at
/// /hostbind, which must survive). fd 9 stays open on the old root so init can look at what is left of it.
const MAKE_NEWROOT: &str = r#"
mkdir -p /junkdir/sub/deeper /keep /newroot
echo 1 > /junk1; echo 2 > /junkdir/sub/deeper/f; ln -s /keep /link-to-keep; ln -s /newroot/bin /link-into-newroot
mkfifo /fifo
touch "$(printf '/not-utf8-\377')"
deep=/deep; for i in $(seq 200); do deep=$deep/x; done; mkdir -p $deep; echo bottom > $deep/f
mount -t tmpfs keep /keep; echo kept > /keep/file
mount -t tmpfs nsbox-newroot /newroot
mkdir -p /newroot/bin /newroot/proc /newroot/dev /newroot/sys /newroot/sbin /newroot/lib
cp /bin/busybox /newroot/bin/busybox
for a in sh cat ls grep echo stat readlink tr; do ln -s busybox /newroot/bin/$a; done
cat > /newroot/lib/init-real <<'EOF'
#!/bin/sh
echo "INIT argv: $0 $*"
echo "pid=$$"
echo "root: $(ls /)"
grep -q ' / / .* - tmpfs nsbox-newroot ' /proc/self/mountinfo && echo root-is-newroot
for m in /proc /dev /dev/pts /sys; do grep -q " $m .* - " /proc/self/mountinfo && echo "mounted $m"; done
grep -q ' /run ' /proc/self/mountinfo || echo "run detached"
echo "old root: $(ls -A /proc/self/fd/9/)"
cat /proc/self/fd/9/keep/file
if [ -e /proc/self/fd/9/hostbind/marker ]; then cat /proc/self/fd/9/hostbind/marker; fi
# Only fd 9 (ours) may be a directory: switch_root's own fds are close-on-exec.
echo "dir fds:" $(for f in /proc/$$/fd/*; do if [ -d "$f" ]; then echo "${f##*/}"; fi; done)
EOF
chmod 755 /newroot/lib/init-real
ln -s /lib/init-real /newroot/sbin/init
exec 9</
"#;

fn switch_script(tool: &str, init_and_args: &str) -> String {
    format!("{MAKE_NEWROOT}\nexec {tool} /newroot {init_and_args}\n")
}

/// The whole initramfs story: markers deleted, the second filesystem and the host bind untouched, /proc,
/// /dev (with /dev/pts) and /sys moved, /run (missing in newroot) detached, init run with its arguments.
fn switch_root_full(sandbox: &Sandbox, tool: &str, expect_pid: &str) {
    let run = sandbox.run(&switch_script(tool, "/sbin/init a1 'two words'"));
    run.success();
    let expected = format!(
        "INIT argv: /sbin/init a1 two words\npid={expect_pid}\nroot: bin\ndev\nlib\nproc\nsbin\nsys\n\
         root-is-newroot\nmounted /proc\nmounted /dev\nmounted /dev/pts\nmounted /sys\nrun detached\n\
         old root: hostbind\nkeep\nkept\nhost\ndir fds: 9\n"
    );
    if run.stdout() != expected {
        panic!(
            "unexpected init output\nexpected:\n{expected}\ngot:\n{}\nstderr:\n{}",
            run.stdout(),
            run.stderr()
        );
    }
    assert!(sandbox.path("hostdir/marker").exists(), "host bind emptied");
}

#[test]
fn switch_root_from_tmpfs_initramfs() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let sandbox = Sandbox::new(RootFs::Tmpfs);
    // As an ordinary process init keeps switch_root's pid, which we do not know: accept any number.
    let run = sandbox.run(&switch_script(
        "/nsbox/switch_root",
        "/sbin/init a1 'two words'",
    ));
    run.success();
    let out = run.stdout();
    let pid_line = out.lines().nth(1).unwrap_or_default();
    assert!(pid_line.starts_with("pid=") && pid_line != "pid=1", "{out}");
    let expected = format!(
        "INIT argv: /sbin/init a1 two words\n{pid_line}\nroot: bin\ndev\nlib\nproc\nsbin\nsys\n\
         root-is-newroot\nmounted /proc\nmounted /dev\nmounted /dev/pts\nmounted /sys\nrun detached\n\
         old root: hostbind\nkeep\nkept\nhost\ndir fds: 9\n"
    );
    assert_eq!(out, expected, "stderr: {}", run.stderr());
    assert_eq!(run.stderr(), "");
}

#[test]
fn switch_root_as_pid1() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let mut sandbox = Sandbox::new(RootFs::Tmpfs);
    sandbox.pid1 = true;
    switch_root_full(&sandbox, "/nsbox/switch_root", "1");
}

#[test]
fn switch_root_via_nsbox_as_pid1() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let mut sandbox = Sandbox::new(RootFs::Tmpfs);
    sandbox.pid1 = true;
    switch_root_full(&sandbox, "/nsbox/nsbox switch_root", "1");
}

#[test]
fn switch_root_rootless_user_namespace() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let mut sandbox = Sandbox::new(RootFs::Tmpfs);
    sandbox.rootless = true;
    switch_root_full(&sandbox, "/nsbox/switch_root", "1");
}

/// Differential: util-linux's switch_root on the same initramfs moves, detaches and execs the same way (it
/// deletes the old root in a forked child, concurrently with init, so the old root's listing is not compared).
#[test]
fn switch_root_matches_reference() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let until_old_root = |run: &Run| -> String {
        run.stdout()
            .lines()
            .take_while(|l| !l.starts_with("old root"))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let mut outputs = Vec::new();
    for tool in ["/nsbox/switch_root", "/nsbox/reference_switch_root"] {
        let mut sandbox = Sandbox::new(RootFs::Tmpfs);
        sandbox.pid1 = true;
        let run = sandbox.run(&switch_script(tool, "/sbin/init a1 'two words'"));
        run.success();
        outputs.push(until_old_root(&run));
    }
    assert!(outputs[0].contains("mounted /dev/pts"), "{}", outputs[0]);
    assert_eq!(outputs[0], outputs[1]);
}

/// Differential: init gets the SIGPIPE disposition switch_root was given (here SIG_IGN), as from util-linux,
/// from the single binary and the multicall alike.
#[test]
fn switch_root_keeps_callers_ignored_sigpipe() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let mut outputs = Vec::new();
    for tool in [
        "/nsbox/reference_switch_root",
        "/nsbox/switch_root",
        "/nsbox/nsbox switch_root",
    ] {
        let mut sandbox = Sandbox::new(RootFs::Tmpfs);
        sandbox.pid1 = true;
        let script = format!(
            "{MAKE_NEWROOT}\ntrap '' PIPE\nexec {tool} /newroot /bin/grep ^SigIgn /proc/self/status\n"
        );
        let run = sandbox.run(&script);
        run.success();
        outputs.push(run.stdout());
    }
    assert!(sigign_has_sigpipe(&outputs[0]), "{}", outputs[0]);
    assert_eq!(outputs[1], outputs[0], "switch_root");
    assert_eq!(outputs[2], outputs[0], "nsbox switch_root");
}

/// An old root that is not tmpfs/ramfs (a bind mount of a directory on disk): a warning, nothing deleted,
/// init still runs.
#[test]
fn switch_root_keeps_old_root_that_is_not_tmpfs() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let sandbox = Sandbox::new(RootFs::BindOfDir);
    let run = sandbox.run(&switch_script("/nsbox/switch_root", "/sbin/init"));
    run.success()
        .stderr_is("switch_root: old root filesystem is not an initramfs\n")
        .stdout_contains("INIT argv: /sbin/init \n");
    let disk = sandbox.path("diskroot");
    for marker in [
        "junk1",
        "junkdir/sub/deeper/f",
        "script",
        "bin/busybox",
        "nsbox/switch_root",
    ] {
        assert!(disk.join(marker).exists(), "{marker} was deleted");
    }
    assert!(disk.join("link-to-keep").symlink_metadata().is_ok());
}

/// The same with a loop-mounted ext4 image as the old root; init lists the old root through fd 9.
#[test]
fn switch_root_keeps_old_root_on_ext4() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    if !Path::new("/dev/loop-control").exists() || !Path::new("/usr/sbin/mkfs.ext4").exists() {
        eprintln!("skipped: needs loop devices and mkfs.ext4 (e2fsprogs)");
        return;
    }
    let mut sandbox = Sandbox::new(RootFs::Ext4Image);
    sandbox.pid1 = true;
    let script = format!(
        "{MAKE_NEWROOT}\necho 'ls -A /proc/self/fd/9/ | tr \"\\n\" \" \"; echo' >> /newroot/lib/init-real\n\
         exec /nsbox/switch_root /newroot /sbin/init\n"
    );
    let run = sandbox.run(&script);
    run.success()
        .stderr_is("switch_root: old root filesystem is not an initramfs\n");
    let last = run.stdout().lines().last().unwrap_or_default().to_string();
    for name in [
        "junk1",
        "junkdir",
        "link-to-keep",
        "fifo",
        "script",
        "bin",
        "nsbox",
        "lost+found",
    ] {
        assert!(
            last.split(' ').any(|n| n == name),
            "{name} missing from the old root: {last}\n{}",
            run.stdout()
        );
    }
}

/// Symlinks in newroot where the API filesystems go are not followed (they could point anywhere on the old
/// root): those mounts are detached instead, as for a missing directory.
#[test]
fn switch_root_does_not_follow_symlinks_for_api_filesystems() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let mut sandbox = Sandbox::new(RootFs::Tmpfs);
    sandbox.pid1 = true;
    let script = format!(
        "{MAKE_NEWROOT}\nmkdir /outside\nrmdir /newroot/dev /newroot/sys\n\
         ln -s /outside /newroot/dev\nln -s ../../../outside /newroot/sys\n\
         exec /nsbox/switch_root /newroot /sbin/init\n"
    );
    let run = sandbox.run(&script);
    run.success().stderr_is("");
    let out = run.stdout();
    assert!(out.contains("mounted /proc\n"), "{out}");
    for gone in [
        "mounted /dev\n",
        "mounted /dev/pts\n",
        "mounted /sys\n",
        "outside",
    ] {
        assert!(!out.contains(gone), "{gone:?} in {out}");
    }
}

/// newroot made with `mount --bind DIR DIR` on the initramfs itself shares the old root's device: the sweep
/// must not empty it.
#[test]
fn switch_root_never_deletes_newroot_bound_from_the_initramfs() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let mut sandbox = Sandbox::new(RootFs::Tmpfs);
    sandbox.pid1 = true;
    let script = r#"
        mkdir -p /sysroot/bin /sysroot/proc /sysroot/dev /sysroot/sys
        cp /bin/busybox /sysroot/bin/; ln -s busybox /sysroot/bin/sh; ln -s busybox /sysroot/bin/ls
        echo precious > /sysroot/precious
        printf '#!/bin/sh\necho "init: $*"; ls /; cat /precious\nls -A /proc/self/fd/9/\n' > /sysroot/init
        chmod +x /sysroot/init
        echo junk > /junk
        mount --bind /sysroot /sysroot
        exec 9</
        exec /nsbox/switch_root /sysroot /init go
    "#;
    let run = sandbox.run(script);
    run.success()
        .stdout_is("init: go\nbin\ndev\ninit\nprecious\nproc\nsys\nprecious\nhostbind\nsysroot\n");
}

/// Bad input: one message, exit 1, and nothing moved or deleted (mountinfo and the file tree are unchanged).
#[test]
fn switch_root_bad_input_changes_nothing() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    // (extra setup, arguments, expected stderr)
    let cases: &[(&str, &str, &str)] = &[
        (
            "",
            "/nonexistent /sbin/init",
            "switch_root: stat of /nonexistent failed: No such file or directory\n",
        ),
        (
            "",
            "/junk1 /sbin/init",
            "switch_root: /junk1 is not a directory\n",
        ),
        (
            "mkdir /plain",
            "/plain /sbin/init",
            "switch_root: /plain is not a mount point (mount --bind /plain /plain)\n",
        ),
        ("", "/ /sbin/init", "switch_root: / is the current root\n"),
        (
            "",
            "/newroot /nope",
            "switch_root: cannot access /nope in /newroot: No such file or directory\n",
        ),
        (
            "echo x > /newroot/noexec",
            "/newroot /noexec",
            "switch_root: cannot access /noexec in /newroot: Permission denied\n",
        ),
        (
            "",
            "/newroot /bin",
            "switch_root: cannot access /bin in /newroot: Permission denied\n",
        ),
        // An absolute symlink is resolved inside newroot, never on the old root.
        (
            "cp /bin/busybox /outside-init; ln -sf /outside-init /newroot/sbin/escape",
            "/newroot /sbin/escape",
            "switch_root: cannot access /sbin/escape in /newroot: No such file or directory\n",
        ),
        (
            "ln -sf ../../../../outside-init /newroot/sbin/dots; cp /bin/busybox /outside-init",
            "/newroot sbin/dots",
            "switch_root: cannot access sbin/dots in /newroot: No such file or directory\n",
        ),
        // What the kernel would load along with init must be in newroot too.
        (
            "printf '#!/bin/bash\\necho hi\\n' > /newroot/noshell; chmod 755 /newroot/noshell",
            "/newroot /noshell",
            "switch_root: cannot access /noshell in /newroot: its interpreter /bin/bash: No such file or directory\n",
        ),
        (
            "cp /nsbox/switch_root /newroot/dynamic",
            "/newroot /dynamic",
            "switch_root: cannot access /dynamic in /newroot: its interpreter /lib64/ld-linux-x86-64.so.2: \
             No such file or directory\n",
        ),
        (
            "mount --make-shared /",
            "/newroot /sbin/init",
            "switch_root: cannot move mounts out of a mount with shared propagation (mount --make-rprivate /)\n",
        ),
        (
            "",
            "-x /newroot /sbin/init",
            "/nsbox/switch_root: invalid option -- 'x'\nTry 'switch_root --help' for more information.\n",
        ),
    ];
    for (setup, args, expected) in cases {
        let sandbox = Sandbox::new(RootFs::Tmpfs);
        let script = format!(
            r#"{MAKE_NEWROOT}
            {setup}
            snapshot() {{ cat /proc/self/mountinfo; find / -xdev | sort; find /keep /newroot /dev /run | sort; }}
            snapshot > /tmp-before 2>&1
            rc=0; /nsbox/switch_root {args} 2>/tmp-err || rc=$?
            echo "rc=$rc"; cat /tmp-err
            snapshot > /tmp-after 2>&1
            sed -i '/tmp-/d' /tmp-before /tmp-after
            cmp -s /tmp-before /tmp-after && echo unchanged || diff /tmp-before /tmp-after
            "#
        );
        let run = sandbox.run(&script);
        run.success();
        assert_eq!(
            run.stdout(),
            format!("rc=1\n{expected}unchanged\n"),
            "case {args:?}; stderr: {}",
            run.stderr()
        );
    }
}

/// When newroot cannot be moved onto `/` after all (the mount(2) call fails, injected with strace), the API
/// filesystems that had already moved go back: the mount table is as before, nothing is deleted.
#[test]
fn switch_root_failed_switch_moves_everything_back() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    if !Path::new("/usr/bin/strace").exists() {
        eprintln!("skipped: needs strace");
        return;
    }
    let sandbox = Sandbox::new(RootFs::Tmpfs);
    // The API filesystems move with move_mount(2); only the final MS_MOVE is a mount(2) call.
    let script = format!(
        r#"{MAKE_NEWROOT}
        snapshot() {{ sed 's/^[0-9]* [0-9]* //' /proc/self/mountinfo | sort; find / -xdev | sort; }}
        snapshot > /tmp-before 2>&1
        rc=0
        /nsbox/strace -f -o /dev/null -e trace=mount -e inject=mount:error=EINVAL \
            /nsbox/switch_root /newroot /sbin/init 2>/tmp-err || rc=$?
        echo "rc=$rc"; cat /tmp-err
        snapshot > /tmp-after 2>&1
        sed -i '/tmp-/d' /tmp-before /tmp-after
        cmp -s /tmp-before /tmp-after && echo unchanged || diff /tmp-before /tmp-after
        "#
    );
    let run = sandbox.run(&script);
    run.success().stdout_is(
        "rc=1\nswitch_root: failed to mount moving /newroot to /: Invalid argument\n\
         switch_root: failed. Sorry.\nunchanged\n",
    );
}

/// An init the kernel cannot load after all (no `#!`, not ELF: ENOEXEC, which binfmt_misc could have handled, so
/// it is not refused up front) fails at the exec, after the switch, with util-linux's message and exit code 126.
#[test]
fn switch_root_exec_failure_is_126() {
    if skip_unless_root() || !have_busybox() {
        return;
    }
    let sandbox = Sandbox::new(RootFs::Tmpfs);
    let script = format!(
        "{MAKE_NEWROOT}\necho garbage > /newroot/garbage; chmod 755 /newroot/garbage\n\
         exec /nsbox/switch_root /newroot /garbage\n"
    );
    sandbox
        .run(&script)
        .code_is(126)
        .stdout_is("")
        .stderr_is("switch_root: failed to execute /garbage: Exec format error\n");
}

/// Bad input as an unprivileged user: the same messages, before anything could be tried.
#[test]
fn switch_root_bad_input_rootless() {
    if skip_unless_root() {
        return;
    }
    let dir = TempDir::new("switch-rootless");
    set_mode(dir.path(), 0o755);
    let plain = dir.path().display().to_string();
    let cases = [
        (
            vec!["/nonexistent-nsbox", "/sbin/init"],
            "switch_root: stat of /nonexistent-nsbox failed: No such file or directory\n"
                .to_string(),
        ),
        (
            vec![plain.as_str(), "/sbin/init"],
            format!("switch_root: {plain} is not a mount point (mount --bind {plain} {plain})\n"),
        ),
        (
            vec!["/", "/sbin/init"],
            "switch_root: / is the current root\n".to_string(),
        ),
        (
            vec!["/proc", "/nope"],
            "switch_root: cannot access /nope in /proc: No such file or directory\n".to_string(),
        ),
    ];
    for (args, expected) in &cases {
        cmd("switch_root")
            .args(args)
            .rootless()
            .run()
            .code_is(1)
            .stdout_is("")
            .stderr_is(expected);
    }
}
