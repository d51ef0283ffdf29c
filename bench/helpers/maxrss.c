/*
 * maxrss PROGRAM [ARGS...]: run PROGRAM with stdout discarded and print its peak resident set size in
 * KiB (getrusage of the waited-for child, ru_maxrss). Exit status: the program's.
 * A tiny stand-in for `/usr/bin/time -f %M`, which is not installed everywhere.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: maxrss PROGRAM [ARGS...]\n");
		return 2;
	}
	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	int status;
	struct rusage usage;
	if (wait4(child, &status, 0, &usage) < 0) {
		perror("wait4");
		return 1;
	}
	printf("%ld\n", usage.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
