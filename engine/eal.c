/* eal.c — the EAL argument vector, EAL start-up and full teardown.
 *
 * Defaults run without hugepages (--no-huge -m 256 --no-pci) with a
 * per-process --file-prefix, so two scans never share EAL state; the runtime
 * directory EAL leaves under /var/run/dpdk is removed at exit. The lcore map
 * puts lcore 0 (main: progress) and the RX lcore on the first CPU and spreads
 * the TX lcores over the CPUs starting with the second, so on 2 CPUs one TX
 * lcore owns a CPU and the mostly-idle RX and main lcores share the other. */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "base/safety.h"
#include "engine/engine.h"
#include "engine/runtime.h"

#define EAL_AF_PACKET_FRAMES 4096 /* per af_packet ring (see engine_eal_args) */

__attribute__((format(printf, 2, 3))) static int push(struct engine_eal_args *a, const char *fmt,
						      ...)
{
	size_t room = sizeof(a->store) - a->used;
	va_list ap;
	int n;

	if (a->argc >= ENGINE_EAL_MAX_ARGS)
		return -E2BIG;
	va_start(ap, fmt);
	n = vsnprintf(a->store + a->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -E2BIG;
	a->argv[a->argc++] = a->store + a->used;
	a->argv[a->argc] = NULL;
	a->used += (size_t)n + 1;
	return 0;
}

/* True when the passthrough words name one of the given options. */
static bool passes(int npass, char **pass, const char *const *names)
{
	for (int i = 0; i < npass; i++)
		for (const char *const *n = names; *n != NULL; n++) {
			size_t len = strlen(*n);
			if (strncmp(pass[i], *n, len) == 0 &&
			    (pass[i][len] == '\0' || pass[i][len] == '='))
				return true;
		}
	return false;
}

static int lcore_map(struct engine_eal_args *a, uint32_t tx_queues)
{
	cpu_set_t set;
	int cpus[CPU_SETSIZE], ncpu = 0;
	char map[512];
	size_t off = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -errno;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpus[ncpu++] = c;
	if (ncpu == 0)
		return -ENODEV;
	/* lcore 0 main, 1..q TX, q+1 RX. With 3+ CPUs RX gets CPU 1 and the TX
	 * lcores CPUs 2..; with 2, main and RX share CPU 0 and TX starts on 1. */
	off += (size_t)snprintf(map, sizeof(map), "0@%d,%u@%d", cpus[0], tx_queues + 1,
				cpus[ncpu > 2 ? 1 : 0]);
	for (uint32_t q = 0; q < tx_queues && off < sizeof(map); q++) {
		int c = ncpu > 2 ? 2 + (int)(q % (uint32_t)(ncpu - 2))
				 : (int)((1 + q) % (uint32_t)ncpu);
		off += (size_t)snprintf(map + off, sizeof(map) - off, ",%u@%d", q + 1, cpus[c]);
	}
	if (off >= sizeof(map))
		return -E2BIG;
	return push(a, "--lcores=%s", map);
}

static int defaults(struct engine_eal_args *a, uint32_t tx_queues, bool verbose, int npass,
		    char **pass)
{
	static const char *const lcores[] = {"-l", "-c", "--lcores", NULL};
	static const char *const huge[] = {"--socket-mem", "--huge-dir", "-m", NULL};
	static const char *const prefix[] = {"--file-prefix", NULL};
	static const char *const pci[] = {"-a", "--allow", "-b", "--block", NULL};
	static const char *const loglevel[] = {"--log-level", NULL};
	int rc = push(a, "mailcensus");

	if (rc == 0 && !passes(npass, pass, huge))
		rc = push(a, "--no-huge");
	if (rc == 0 && !passes(npass, pass, huge))
		rc = push(a, "-m") == 0 ? push(a, "256") : -E2BIG;
	if (rc == 0 && !passes(npass, pass, pci))
		rc = push(a, "--no-pci");
	if (rc == 0 && !passes(npass, pass, prefix))
		rc = push(a, "--file-prefix=mc%u", (unsigned)getpid());
	if (rc == 0)
		rc = push(a, "--no-telemetry");
	if (rc == 0 && !passes(npass, pass, loglevel))
		rc = push(a, "--log-level=%s", verbose ? "info" : "warning");
	if (rc == 0 && !passes(npass, pass, lcores))
		rc = lcore_map(a, tx_queues);
	return rc;
}

/* Are we inside a named network namespace (one of /run/netns/, made by
 * `ip netns add`, as the test network's are)? PID 1's namespace cannot be
 * read in every container, so this is the test instead of "not the root". */
bool eng_in_named_netns(void)
{
	struct stat self, ns;
	struct dirent *e;
	char path[PATH_MAX];
	bool found = false;
	DIR *d;

	if (stat("/proc/self/ns/net", &self) != 0 || (d = opendir("/run/netns")) == NULL)
		return false;
	while (!found && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "/run/netns/%s", e->d_name) >= (int)sizeof(path))
			continue;
		found =
		    stat(path, &ns) == 0 && ns.st_ino == self.st_ino && ns.st_dev == self.st_dev;
	}
	closedir(d);
	return found;
}

/* While the safe range is set (tests, scripts), no device may reach a real
 * network: a kernel interface (af_packet's or pcap's iface=, from --iface or
 * after --) only inside a named network namespace, and no PCI device at all.
 * Checked on the whole EAL argument vector; NULL when allowed, else the word
 * that is refused. */
static const char *unsafe_device(int argc, char **argv)
{
	if (getenv(MC_SAFE_RANGE_ENV) == NULL)
		return NULL;
	for (int i = 1; i < argc; i++) {
		/* iface= (af_packet, pcap), or a device that makes a kernel
		 * interface of its own (net_tap, net_tun, virtio_user on
		 * vhost-kernel) even without iface= */
		bool kernel_if =
		    strstr(argv[i], "iface=") != NULL || strstr(argv[i], "net_tap") != NULL ||
		    strstr(argv[i], "net_tun") != NULL || strstr(argv[i], "virtio_user") != NULL;
		if (kernel_if && !eng_in_named_netns())
			return argv[i];
		/* -a ADDR, -aADDR, --allow ADDR, --allow=ADDR: a PCI device */
		if (strncmp(argv[i], "-a", 2) == 0 || strncmp(argv[i], "--allow", 7) == 0)
			return argv[i];
	}
	return NULL;
}

int engine_eal_args(struct engine_eal_args *a, const char *iface, const char *pcap_path,
		    uint32_t tx_queues, bool verbose, int npass, char **pass, char *err,
		    size_t errlen)
{
	static const char *const vdev[] = {"--vdev", NULL};
	int rc;

	memset(a, 0, sizeof(*a));
	if (iface != NULL && (pcap_path != NULL || passes(npass, pass, vdev))) {
		snprintf(err, errlen, "--iface overlaps with %s: give one device",
			 pcap_path != NULL ? "--dry-run" : "-- --vdev");
		return -EINVAL;
	}
	if (iface != NULL && if_nametoindex(iface) == 0) {
		snprintf(err, errlen,
			 "unknown interface '%s' (run inside its namespace: ip netns exec NS ...)",
			 iface);
		return -ENODEV;
	}
	rc = defaults(a, tx_queues, verbose, npass, pass);
	/* one more queue pair than TX lcores: the RX lcore answers ARP on it.
	 * framecnt: the socket's ring holds what arrives while the RX lcore is
	 * not running (at start, or descheduled on a busy machine); the PMD's
	 * 512 frames are 34 ms at 15 kpps, and af_packet drops beyond them
	 * silently (no rx_dropped on the interface). 4096 frames of 2 KiB: 8 MiB
	 * of kernel ring per queue and direction, 270 ms at 15 kpps. */
	if (rc == 0 && iface != NULL)
		rc = push(a, "--vdev=net_af_packet0,iface=%s,qpairs=%u,framecnt=%u", iface,
			  tx_queues + 1, EAL_AF_PACKET_FRAMES);
	if (rc == 0 && pcap_path != NULL)
		rc = push(a, "--vdev=net_pcap0,tx_pcap=%s", pcap_path);
	for (int i = 0; rc == 0 && i < npass; i++)
		rc = push(a, "%s", pass[i]);
	if (rc != 0) {
		snprintf(err, errlen, "too many or too long EAL arguments after --");
		return rc;
	}
	const char *bad = unsafe_device(a->argc, a->argv);
	if (bad != NULL) {
		snprintf(err, errlen,
			 "refusing EAL device '%s' while %s is set: a kernel interface only inside "
			 "a named network namespace (run inside the test network: ip netns exec NS "
			 "...), no PCI device",
			 bad, MC_SAFE_RANGE_ENV);
		return -EPERM;
	}
	return 0;
}

/* The last non-empty line of EAL's captured log, without its "EAL: " tag. */
static void last_line(const char *log, char *out, size_t outlen)
{
	const char *end = log + strlen(log), *start;

	while (end > log && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > log && start[-1] != '\n')
		start--;
	if (strncmp(start, "EAL: ", 5) == 0)
		start += 5;
	snprintf(out, outlen, "%.*s", (int)(end - start), start);
}

/* Run fn with stderr (EAL's log and its "EAL: FATAL" alerts) going to a
 * memfd; the captured text is returned in buf (NUL-terminated, truncated). */
static int eal_init_captured(int argc, char **argv, char *buf, size_t buflen)
{
	int fd = memfd_create("mc-eal-log", 0), null = open("/dev/null", O_WRONLY);
	int saved_err = dup(STDERR_FILENO), saved_out = dup(STDOUT_FILENO), rc;
	ssize_t n = 0;

	buf[0] = '\0';
	if (fd < 0 || null < 0 || saved_err < 0 || saved_out < 0) {
		rc = rte_eal_init(argc, argv);
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	dup2(null, STDOUT_FILENO); /* EAL prints its usage on stdout */
	rc = rte_eal_init(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_err, STDERR_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	if (lseek(fd, 0, SEEK_SET) == 0)
		n = read(fd, buf, buflen - 1);
	buf[n > 0 ? n : 0] = '\0';
out:
	for (int i = 0, fds[] = {fd, null, saved_err, saved_out}; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

int eng_eal_init(const struct engine_config *cfg, char *rundir, size_t rundirlen, char *log,
		 size_t loglen, char *err, size_t errlen)
{
	char *argv[ENGINE_EAL_MAX_ARGS + 1], why[200] = "";
	int argc = cfg->eal_argc;

	if (argc <= 0 || argc > ENGINE_EAL_MAX_ARGS) {
		snprintf(err, errlen, "no EAL arguments");
		return -EINVAL;
	}
	/* rte_eal_init permutes its argv: hand it a copy */
	memcpy(argv, cfg->eal_argv, sizeof(argv[0]) * (size_t)argc);
	argv[argc] = NULL;
	if (eal_init_captured(argc, argv, log, loglen) < 0) {
		last_line(log, why, sizeof(why));
		snprintf(err, errlen, "DPDK EAL init failed: %s (check the EAL options after --)",
			 why[0] != '\0' ? why : rte_strerror(rte_errno));
		return -ENODEV;
	}
	snprintf(rundir, rundirlen, "%s", rte_eal_get_runtime_dir());
	return 0;
}

/* rte_eal_cleanup() leaves the runtime directory (config, fbarrays, the mp
 * socket) behind; it is flat, so unlink its entries and remove it. */
void eng_eal_cleanup(const char *rundir)
{
	DIR *d;
	struct dirent *e;
	char path[PATH_MAX];

	rte_eal_cleanup();
	if (rundir[0] == '\0' || (d = opendir(rundir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", rundir, e->d_name) < (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	rmdir(rundir);
}
