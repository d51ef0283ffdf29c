//! Whether `execve(2)` of a path inside newroot can work, asked before switch_root changes anything: the file
//! is an executable regular file, and so is what the kernel would load with it — the `#!` interpreter of a
//! script, the program interpreter (dynamic loader) of an ELF binary. As PID 1 a failed exec is a kernel panic,
//! and by then the old root is gone; a missing `/bin/sh` or `/lib64/ld-linux-x86-64.so.2` in newroot is the
//! classic way to get there.
//!
//! Every path is resolved with newroot as `/` (`openat2` with `RESOLVE_IN_ROOT`), as it will be after the chroot.

use crate::mounts::Node;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{openat2, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// binfmt_script/binfmt_elf nest at most this deep (the kernel's limit is 4 interpreters plus the file).
const MAX_DEPTH: u32 = 5;

/// Why a path cannot be executed: its own errno, or the interpreter (and that one's errno) it depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotExecutable {
    Itself(Errno),
    Interpreter(OsString, Errno),
}

/// Checks that `path` (inside `newroot`) can be executed. Checks the kernel cannot make here (openat2 or
/// faccessat2 missing on Linux before 5.6/5.8, a file we may execute but not read) are skipped: the exec will tell.
pub fn check(newroot: &OwnedFd, path: &OsStr) -> Result<(), NotExecutable> {
    check_at_depth(newroot, path, 0).map_err(|(interp, errno)| match interp {
        None => NotExecutable::Itself(errno),
        Some(interp) => NotExecutable::Interpreter(interp, errno),
    })
}

type Failure = (Option<OsString>, Errno);

fn check_at_depth(newroot: &OwnedFd, path: &OsStr, depth: u32) -> Result<(), Failure> {
    let own = |errno| (None, errno);
    let fd = match resolve(newroot, path, OFlags::PATH) {
        Ok(fd) => fd,
        Err(Errno::NOSYS) => return Ok(()),
        Err(e) => return Err(own(e)),
    };
    let node = Node::of_fd(&fd).map_err(own)?;
    // execve(2) refuses anything but a regular file with EACCES.
    if node.file_type != FileType::RegularFile {
        return Err(own(Errno::ACCESS));
    }
    // The kernel's own answer (mode bits, ACLs, a noexec mount) for the inode already found.
    match ns_common::sys::faccessat2(
        fd.as_fd(),
        c"",
        libc::X_OK,
        libc::AT_EMPTY_PATH | libc::AT_EACCESS,
    ) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => return Ok(()),
        Err(e) => return Err(own(Errno::from_io_error(&e).unwrap_or(Errno::ACCESS))),
    }
    let Some(interpreter) = interpreter_of(newroot, path, &node) else {
        return Ok(());
    };
    if depth + 1 >= MAX_DEPTH {
        return Err((Some(interpreter), Errno::LOOP));
    }
    check_at_depth(newroot, &interpreter, depth + 1).map_err(|(inner, errno)| {
        // Name the innermost interpreter that is missing: that is the file to put into newroot.
        (Some(inner.unwrap_or(interpreter)), errno)
    })
}

fn resolve(newroot: &OwnedFd, path: &OsStr, mode: OFlags) -> Result<OwnedFd, Errno> {
    openat2(
        newroot,
        path,
        mode | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

/// The interpreter the kernel would load for the file at `path`: `#!` line or ELF `PT_INTERP`. `None` when
/// there is none (a static binary) or the file cannot be read (execute-only: the exec will tell).
fn interpreter_of(newroot: &OwnedFd, path: &OsStr, node: &Node) -> Option<OsString> {
    // O_NONBLOCK: never hang on a FIFO swapped in since the check above; the inode is compared below.
    let file = resolve(
        newroot,
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY,
    )
    .ok()?;
    if !Node::of_fd(&file).is_ok_and(|n| n.same_inode(node)) {
        return None;
    }
    let mut head = [0u8; 256];
    let len = read_at(&file, &mut head, 0)?;
    let head = &head[..len];
    if let Some(line) = head.strip_prefix(b"#!") {
        return shebang_interpreter(line);
    }
    if head.starts_with(b"\x7fELF") {
        return elf_interpreter(&file, head);
    }
    None
}

/// The interpreter path of a `#!` line (what follows `#!`, up to the first blank or the end of the line).
fn shebang_interpreter(line: &[u8]) -> Option<OsString> {
    let line = line.split(|&b| b == b'\n').next()?;
    let path = line
        .split(|&b| b == b' ' || b == b'\t')
        .find(|word| !word.is_empty())?;
    Some(OsStr::from_bytes(path).to_os_string())
}

/// The `PT_INTERP` path of an ELF file (32 or 64 bit, either byte order), from its program headers.
fn elf_interpreter(file: &OwnedFd, head: &[u8]) -> Option<OsString> {
    const PT_INTERP: u64 = 3;
    let class64 = match head.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let big_endian = match head.get(5)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let field = |bytes: &[u8], offset: usize, size: usize| -> Option<u64> {
        let raw = bytes.get(offset..offset + size)?;
        let push = |value: u64, byte: &u8| (value << 8) | u64::from(*byte);
        Some(if big_endian {
            raw.iter().fold(0, push)
        } else {
            raw.iter().rev().fold(0, push)
        })
    };
    // (e_phoff, e_phentsize, e_phnum) and, in a program header, (p_offset, p_filesz).
    let (phoff, phentsize, phnum) = if class64 {
        (
            field(head, 0x20, 8)?,
            field(head, 0x36, 2)?,
            field(head, 0x38, 2)?,
        )
    } else {
        (
            field(head, 0x1c, 4)?,
            field(head, 0x2a, 2)?,
            field(head, 0x2c, 2)?,
        )
    };
    let (offset_field, size_field) = if class64 {
        ((0x08, 8), (0x20, 8))
    } else {
        ((0x04, 4), (0x10, 4))
    };
    let phentsize = usize::try_from(phentsize).ok()?;
    if phentsize < offset_field.0 + offset_field.1 || phentsize < size_field.0 + size_field.1 {
        return None;
    }
    let table_len = phentsize.checked_mul(usize::try_from(phnum).ok()?)?;
    if table_len > 64 * 1024 {
        return None;
    }
    let mut table = vec![0u8; table_len];
    if read_at(file, &mut table, phoff)? != table_len {
        return None;
    }
    for header in table.chunks_exact(phentsize) {
        if field(header, 0, 4)? != PT_INTERP {
            continue;
        }
        let offset = field(header, offset_field.0, offset_field.1)?;
        let size = usize::try_from(field(header, size_field.0, size_field.1)?).ok()?;
        if size == 0 || size > 4096 {
            return None;
        }
        let mut path = vec![0u8; size];
        let got = read_at(file, &mut path, offset)?;
        path.truncate(got);
        let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
        path.truncate(end);
        return (!path.is_empty()).then(|| OsStr::from_bytes(&path).to_os_string());
    }
    None
}

/// `pread` until `buf` is full or the file ends; the number of bytes read.
fn read_at(file: &OwnedFd, buf: &mut [u8], offset: u64) -> Option<usize> {
    let mut done = 0;
    while done < buf.len() {
        match rustix::io::pread(file, &mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(Errno::INTR) => continue,
            Err(_) => return None,
        }
    }
    Some(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> OwnedFd {
        rustix::fs::open(
            "/",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap()
    }

    #[test]
    fn shebang_lines() {
        assert_eq!(shebang_interpreter(b"/bin/sh\n"), Some("/bin/sh".into()));
        assert_eq!(
            shebang_interpreter(b" /usr/bin/env  python3 -u\nrest"),
            Some("/usr/bin/env".into())
        );
        assert_eq!(shebang_interpreter(b"\n/bin/sh"), None);
        assert_eq!(shebang_interpreter(b""), None);
    }

    #[test]
    fn this_machine_binaries() {
        let root = root();
        // /bin/sh is executable here, with its loader (or static).
        assert_eq!(check(&root, OsStr::new("/bin/sh")), Ok(()));
        assert_eq!(
            check(&root, OsStr::new("/nonexistent-nsbox")),
            Err(NotExecutable::Itself(Errno::NOENT))
        );
        assert_eq!(
            check(&root, OsStr::new("/etc")),
            Err(NotExecutable::Itself(Errno::ACCESS))
        );
    }

    #[test]
    fn finds_the_loader_of_a_dynamic_binary() {
        let root = root();
        let exe = std::env::current_exe().unwrap();
        let file = resolve(&root, exe.as_os_str(), OFlags::RDONLY).unwrap();
        let node = Node::of_fd(&file).unwrap();
        let interp = interpreter_of(&root, exe.as_os_str(), &node);
        // Test binaries are dynamically linked on glibc targets, static on musl.
        if cfg!(target_env = "gnu") {
            let interp = interp.expect("PT_INTERP of a glibc test binary");
            assert!(interp.to_string_lossy().contains("ld-linux"), "{interp:?}");
        }
    }
}
