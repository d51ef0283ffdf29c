/*
 * The floor for `unshare -Ur --pid --fork true`: the same kernel work in the least code we can write,
 * so the benchmark can tell how much of unshare's time is its own (startup, parsing, allocation)
 * rather than the kernel's (user + pid namespace, fork, id maps, exec of `true`).
 *
 * Syscalls, in the order unshare makes them (unshare.md §3 and its observed trace):
 *   unshare(CLONE_NEWUSER|CLONE_NEWPID); block SIGINT+SIGTERM; fork;
 *   child:  restore the signal mask; setgroups "deny"; uid_map "0 <euid> 1"; gid_map "0 <egid> 1";
 *           execvp("true") through PATH, as unshare does;
 *   parent: wait for the child; exit with its status (or die of its signal).
 *
 * `floor --mount-proc` is the floor of `unshare --user --map-root-user --mount --pid --fork --mount-proc true`:
 * CLONE_NEWNS as well, and in the child, after the maps, / made recursively private and a new proc
 * mounted on /proc.
 *
 * C rather than Rust on purpose: no language runtime runs before main(), so this is a true lower
 * bound for any implementation, and gcc builds it in well under a second on a fresh machine without
 * touching the cargo workspace. Not part of nsbox; MIT OR Apache-2.0 like the rest of the tree.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) < 0) {
		perror(path);
		_exit(1);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	int mount_proc = argc > 1 && strcmp(argv[1], "--mount-proc") == 0;
	/* Read before unshare(2): afterwards the ids show as the overflow id until the maps exist. */
	unsigned uid = geteuid(), gid = getegid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWPID | (mount_proc ? CLONE_NEWNS : 0)) < 0) {
		perror("unshare");
		return 1;
	}
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);

	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		char map[64];
		sigprocmask(SIG_SETMASK, &old, NULL);
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof map, "0 %u 1", uid);
		write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof map, "0 %u 1", gid);
		write_file("/proc/self/gid_map", map);
		if (mount_proc && (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
				   mount("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL) < 0)) {
			perror("mount");
			_exit(1);
		}
		char *argv[] = { "true", NULL };
		execvp(argv[0], argv);
		perror("execvp");
		_exit(127);
	}
	int status;
	while (waitpid(child, &status, 0) < 0)
		;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	signal(WTERMSIG(status), SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	kill(getpid(), WTERMSIG(status));
	return 1;
}
