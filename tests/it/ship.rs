//! The static multicall binary alone in an empty root: no /etc, no libc, no /proc until it mounts one.
//!
//! The root is a tmpfs inside a private mount namespace holding only `nsbox` (and, for the name test, two
//! /etc files). `./build-static.sh` makes the binary; test.sh runs it before the tests.

use crate::harness::*;
use std::path::PathBuf;

fn static_nsbox() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/static/nsbox");
    assert!(
        p.exists(),
        "{} is missing: run ./build-static.sh (test.sh does)",
        p.display()
    );
    p
}

/// Runs `body` with `$D` = a fresh tmpfs holding only the static nsbox (and /etc files when `etc` is set),
/// inside a private mount namespace; the tmpfs and everything mounted under it vanish with the namespace.
fn in_empty_root(etc: bool, body: &str) -> Run {
    let dir = TempDir::new("empty-root");
    let etc_setup = if etc {
        "mkdir \"$D/etc\"\n\
         echo 'alice:x:1234:1234::/:/nsbox' > \"$D/etc/passwd\"\n\
         echo 'crew:x:1234:' > \"$D/etc/group\"\n"
    } else {
        ""
    };
    let script = format!(
        "D={dir}\n\
         mount -t tmpfs -o mode=0755 tmpfs \"$D\"\n\
         cp {nsbox} \"$D/nsbox\"\n\
         mkdir \"$D/proc\"\n\
         {etc_setup}{body}",
        dir = dir.path().display(),
        nsbox = static_nsbox().display(),
    );
    in_private_mount_ns(&script)
}

/// The commands after `pivot_root` run with only what is in the new root: the shell is already loaded, so
/// its builtins still work, but every program must come from /nsbox.
const PIVOT: &str = "cd \"$D\"\nmkdir .old\n/usr/sbin/pivot_root . .old\ncd /\n";

/// The output with every run of blanks made one space (lsns pads its columns).
fn words(run: &Run) -> String {
    run.stdout()
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") + "\n")
        .collect()
}

#[test]
fn static_binary_is_static() {
    let out = std::process::Command::new("file")
        .arg("-L")
        .arg(static_nsbox())
        .output()
        .expect("run file (apt-get install file)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("static-pie linked") || text.contains("statically linked"),
        "{text}"
    );
}

#[test]
fn empty_root_with_numbers_only() {
    if skip_unless_root() {
        return;
    }
    let run = in_empty_root(
        false,
        &format!(
            "# chroot: install the applets with no /proc (the link target is argv[0]), then use them.\n\
             \"$D/nsbox\" unshare -R \"$D\" /nsbox --install -s /\n\
             for a in lsns netns nsenter pivot_root switch_root unshare veth; do\n\
                 [ -L \"$D/$a\" ] || {{ echo \"missing $a\"; exit 1; }}\n\
             done\n\
             echo \"chroot: $(\"$D/nsbox\" unshare -R \"$D\" /unshare --pid --fork --mount-proc -S 1234 -G 1234 \
                 /lsns -n -o TYPE,USER -t pid)\"\n\
             {PIVOT}\
             # A real root (not a chroot) may create user namespaces; /proc comes from --mount-proc.\n\
             echo \"userns: $(/unshare --pid --fork --mount --mount-proc /unshare --user --map-user=1234 \
                 --map-group=1234 /lsns -n -o TYPE,USER -t user)\"\n\
             echo \"root: $(/unshare --pid --fork --mount --mount-proc /unshare -r /lsns -n -o TYPE,USER -t user)\"\n\
             rc=0; /unshare --pid --fork --mount --mount-proc /unshare --user --map-user=alice /lsns 2>&1 || rc=$?\n\
             echo \"name rc=$rc\"\n"
        ),
    );
    run.success();
    let out = words(&run);
    assert!(out.contains("chroot: pid 1234\n"), "{out}");
    assert!(out.contains("userns: user 1234\n"), "{out}");
    assert!(out.contains("root: user 0\n"), "{out}");
    // With no /etc/passwd a name cannot resolve: the tool's message and status 1, never a crash.
    assert!(out.contains("alice"), "{out}");
    assert!(out.contains("name rc=1\n"), "{out}");
}

#[test]
fn empty_root_resolves_names_from_etc_files() {
    if skip_unless_root() {
        return;
    }
    let run = in_empty_root(
        true,
        &format!(
            "echo \"chroot: $(\"$D/nsbox\" unshare -R \"$D\" /nsbox unshare --pid --fork --mount-proc -S 1234 -G 1234 \
                 /nsbox lsns -n -o TYPE,USER -t pid)\"\n\
             {PIVOT}\
             echo \"userns: $(/nsbox unshare --pid --fork --mount --mount-proc /nsbox unshare --user \
                 --map-user=alice --map-group=crew /nsbox lsns -n -o TYPE,USER -t user)\"\n"
        ),
    );
    run.success();
    let out = words(&run);
    assert!(out.contains("chroot: pid alice\n"), "{out}");
    assert!(out.contains("userns: user alice\n"), "{out}");
}
