/*
 * procfarm N READYFILE: add N sleeping processes to the machine, spread over four groups that live in
 * different sets of new namespaces (so lsns has several namespaces of each type to attribute), then
 * create READYFILE and wait until killed.
 *
 * Cleanup does not depend on the caller being careful: the farm makes itself a process-group leader
 * (kill -KILL -- -PID ends everything), and every descendant asks for SIGKILL when its parent dies
 * (PR_SET_PDEATHSIG), so killing the farm alone also ends all N processes. Needs root (new namespaces).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Group 0 stays in the caller's namespaces, like most processes on a machine. */
static const int group_flags[4] = {
	0,
	CLONE_NEWUTS | CLONE_NEWIPC,
	CLONE_NEWNET | CLONE_NEWNS,
	CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP,
};

/* Die with the parent; if the parent is already gone, die now. */
static void tie_to_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: procfarm N READYFILE\n");
		return 2;
	}
	long total = strtol(argv[1], NULL, 10);
	setpgid(0, 0);
	pid_t farm = getpid();
	int ready[2];
	if (pipe(ready) < 0) {
		perror("pipe");
		return 1;
	}
	for (int g = 0; g < 4; g++) {
		/* The leader counts as one of its group's processes. */
		long members = total / 4 + (g < total % 4);
		if (members == 0)
			continue;
		pid_t leader = fork();
		if (leader < 0) {
			perror("fork");
			return 1;
		}
		if (leader > 0)
			continue;
		tie_to_parent(farm);
		close(ready[0]);
		if (group_flags[g] && unshare(group_flags[g]) < 0) {
			perror("unshare");
			_exit(1);
		}
		pid_t self = getpid();
		for (long i = 1; i < members; i++) {
			pid_t child = fork();
			if (child < 0) {
				perror("fork");
				_exit(1);
			}
			if (child == 0) {
				tie_to_parent(self);
				close(ready[1]);
				for (;;)
					pause();
			}
		}
		/* Everyone of this group exists now; tell the farm, then wait to be killed. */
		if (write(ready[1], "x", 1) < 0)
			_exit(1);
		close(ready[1]);
		for (;;)
			pause();
	}
	close(ready[1]);
	char c;
	int groups = 0;
	while (read(ready[0], &c, 1) == 1)
		groups++;
	/* A pipe without writers reads EOF: every leader either reported or died. */
	if (groups < (total < 4 ? total : 4)) {
		fprintf(stderr, "procfarm: only %d of the groups came up\n", groups);
		kill(0, SIGKILL);
		return 1;
	}
	int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(argv[2]);
		kill(0, SIGKILL);
		return 1;
	}
	close(fd);
	for (;;)
		pause();
}
