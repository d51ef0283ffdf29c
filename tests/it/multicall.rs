//! The nsbox multicall binary: dispatch, --list, --install, errors.

use crate::harness::*;

#[test]
fn list_names_every_applet() {
    cmd("nsbox")
        .arg("--list")
        .run()
        .success()
        .stdout_is("lsns\nnetns\nnsenter\npivot_root\nswitch_root\nunshare\nveth\n");
}

#[test]
fn list_full_gives_install_paths() {
    cmd("nsbox").arg("--list-full").run().success().stdout_is(
        "usr/bin/lsns\nusr/sbin/netns\nusr/bin/nsenter\nusr/sbin/pivot_root\nusr/sbin/switch_root\nusr/bin/unshare\nusr/sbin/veth\n",
    );
}

#[test]
fn unknown_applet_is_127() {
    cmd("nsbox")
        .arg("frobnicate")
        .run()
        .code_is(127)
        .stderr_is("nsbox: applet not found: frobnicate\n");
}

#[test]
fn unknown_option_is_usage_error() {
    cmd("nsbox").arg("--bogus").run().code_is(1).stderr_is(
        "nsbox: unrecognized option '--bogus'\nTry 'nsbox --help' for more information.\n",
    );
}

#[test]
fn bare_nsbox_prints_usage() {
    cmd("nsbox")
        .run()
        .success()
        .stdout_contains("Usage: nsbox APPLET [ARGS...]")
        .stdout_contains("lsns, netns, nsenter, pivot_root, switch_root, unshare, veth");
}

#[test]
fn version_lines() {
    let v = env!("CARGO_PKG_VERSION");
    cmd("nsbox")
        .arg("--version")
        .run()
        .success()
        .stdout_is(&format!("nsbox {v}\n"));
    for tool in TOOLS {
        cmd(tool)
            .arg("--version")
            .run()
            .success()
            .stdout_is(&format!("{tool} from nsbox {v}\n"));
        cmd(tool)
            .arg("--version")
            .via_nsbox()
            .run()
            .success()
            .stdout_is(&format!("{tool} from nsbox {v}\n"));
    }
}

#[test]
fn help_through_nsbox_matches_applet_help() {
    for tool in TOOLS {
        let direct = cmd(tool).arg("--help").run();
        direct.success();
        cmd("nsbox")
            .args(["--help", tool])
            .run()
            .success()
            .stdout_is(&direct.stdout());
    }
}

#[test]
fn install_symlinks_dispatch_and_refuse_overwrite() {
    for variant in variants() {
        let dir = TempDir::new("install");
        set_mode(dir.path(), 0o777);
        let bin_dir = dir.path().join("bin");
        let nsbox = public_bin_dir().join("nsbox");
        Cmd::new(&nsbox)
            .variant(variant)
            .args(["--install", "-s"])
            .arg(&bin_dir)
            .run()
            .success()
            .stderr_empty();
        for tool in TOOLS {
            let link = bin_dir.join(tool);
            assert!(std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink());
            Cmd::new(&link)
                .variant(variant)
                .arg("--version")
                .run()
                .success()
                .stdout_contains(&format!("{tool} from nsbox"));
        }
        // A second install refuses to replace what is there.
        let again = Cmd::new(&nsbox)
            .variant(variant)
            .args(["--install", "-s"])
            .arg(&bin_dir)
            .run();
        again
            .code_is(1)
            .stderr_contains("exists, not replaced (use --force)");
        Cmd::new(&nsbox)
            .variant(variant)
            .args(["--install", "-s", "--force"])
            .arg(&bin_dir)
            .run()
            .success()
            .stderr_empty();
    }
}

#[test]
fn install_hard_links() {
    let dir = TempDir::new("hardlink");
    let nsbox = public_bin_dir().join("nsbox");
    Cmd::new(&nsbox)
        .arg("--install")
        .arg(dir.path())
        .run()
        .success();
    let link = dir.path().join("unshare");
    assert!(!std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    Cmd::new(&link)
        .arg("--version")
        .run()
        .success()
        .stdout_contains("unshare from nsbox");
}

#[test]
fn symlink_chain_resolves_to_applet() {
    let dir = TempDir::new("chain");
    let unshare = dir.path().join("unshare");
    std::os::unix::fs::symlink(bin("nsbox"), &unshare).unwrap();
    let mine = dir.path().join("my-unshare");
    std::os::unix::fs::symlink("unshare", &mine).unwrap();
    Cmd::new(&mine)
        .arg("--version")
        .run()
        .success()
        .stdout_contains("unshare from nsbox");
}

#[test]
fn applet_by_path_word() {
    cmd("nsbox")
        .args(["/usr/bin/unshare", "--version"])
        .run()
        .success()
        .stdout_contains("unshare from nsbox");
}

/// The multicall is `no_main`; the applets whose own binaries keep std's `main` (and nsbox's own options) still
/// start as std starts them: a closed stdout is reopened on /dev/null, and a closed pipe is an EPIPE that
/// ends the listing quietly with status 0, not death by SIGPIPE.
#[test]
fn std_main_applets_start_as_their_own_binaries() {
    let script = r#"
"$0" --list >&-; echo "list closed: $?"
"$0" lsns --version >&-; echo "lsns closed: $?"
(sleep 0.3; "$0" --list; echo "list pipe: $?" >&2) | true
(sleep 0.3; "$0" lsns; echo "lsns pipe: $?" >&2) | true
"#;
    Cmd::new("/bin/sh")
        .args(["-c", script])
        .arg(bin("nsbox"))
        .run()
        .success()
        .stdout_is("list closed: 0\nlsns closed: 0\n")
        .stderr_is("list pipe: 0\nlsns pipe: 0\n");
}
