// SPDX-License-Identifier: MIT
/*
 * Attaches the TLS entry and return programs to the functions of one
 * library file, for every process (pid -1 / 0). With uprobe_multi (kernel
 * 6.6 and later) a file costs two links whatever the number of functions;
 * otherwise each function is a perf event, whose release waits for an
 * RCU grace period (0.1 s each at the end of a recording).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "recorder/tls.h"

#define MAX_FUNCS 16
#define UPROBE_MULTI_RETURN 1u

/* BPF_LINK_CREATE's attributes for uprobe_multi, as in the kernel's uapi
 * since 6.6 (the installed headers may predate it). */
struct uprobe_multi_create {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__aligned_u64 path;
	__aligned_u64 offsets;
	__aligned_u64 ref_ctr_offsets;
	__aligned_u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
};

/* Returns a link fd or a negative errno. */
static int uprobe_multi_create(int prog_fd, const char *path,
			       const uint64_t *offsets, const uint64_t *cookies,
			       uint32_t cnt, bool retprobe)
{
	struct uprobe_multi_create attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = prog_fd;
	attr.attach_type = DT_ATTACH_UPROBE_MULTI;
	attr.path = (uintptr_t)path;
	attr.offsets = (uintptr_t)offsets;
	attr.cookies = (uintptr_t)cookies;
	attr.cnt = cnt;
	attr.multi_flags = retprobe ? UPROBE_MULTI_RETURN : 0;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

/* A kernel with uprobe_multi looks the path up (ENOENT); one without
 * rejects the attach type first (EINVAL). */
bool dt_tls_uprobe_multi_works(const struct bpf_program *prog)
{
	uint64_t offset = 0;
	int fd = uprobe_multi_create(bpf_program__fd(prog),
				     "/nonexistent/deetune-probe", &offset,
				     NULL, 1, false);

	if (fd >= 0)
		close(fd);
	return fd == -ENOENT;
}

static int link_fd_keep(struct dt_tls_links *l, int fd)
{
	if (l->nfds == l->capfds) {
		size_t cap = l->capfds ? 2 * l->capfds : 8;
		int *v = realloc(l->fds, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->fds = v;
		l->capfds = cap;
	}
	l->fds[l->nfds++] = fd;
	return 0;
}

static int link_keep(struct dt_tls_links *l, struct bpf_link *link)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct bpf_link **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = link;
	return 0;
}

/* File offset of a virtual address, through the loadable segments. */
static uint64_t vaddr_to_offset(Elf *e, uint64_t vaddr)
{
	size_t n;

	if (elf_getphdrnum(e, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_memsz)
			return vaddr - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

/* Offsets of the probes' functions in the dynamic symbols of e (0 for
 * those it does not define). */
static void find_funcs(Elf *e, const struct dt_tls_probe *probes, size_t n,
		       uint64_t *offsets)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM ||
		    !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t s = 0; data && s < sh.sh_size / sh.sh_entsize;
		     s++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, s, &sym) ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(e, sh.sh_link, sym.st_name);
			for (size_t i = 0; name && i < n; i++)
				if (!strcmp(name, probes[i].func))
					offsets[i] = vaddr_to_offset(e,
								     sym.st_value);
		}
	}
}

static int func_offsets(const char *path, const struct dt_tls_probe *probes,
			size_t n, uint64_t *offsets)
{
	int fd, ret = 0;
	Elf *e;

	memset(offsets, 0, n * sizeof(*offsets));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e)
		find_funcs(e, probes, n, offsets);
	else
		ret = -EINVAL;
	elf_end(e);
	close(fd);
	for (size_t i = 0; !ret && i < n; i++)
		if (probes[i].required && !offsets[i])
			ret = -ENOENT;
	return ret;
}

/* Two links for the file: the entry program on every function found,
 * the return program on those with retprobe. */
static int attach_multi(struct dt_tls_links *l, const struct dt_tls_progs *p,
			const struct dt_tls_probe *probes, size_t n,
			const char *path)
{
	uint64_t found[MAX_FUNCS], offs[MAX_FUNCS], cookies[MAX_FUNCS];
	int ret, fd;

	ret = func_offsets(path, probes, n, found);
	for (int retprobe = 0; !ret && retprobe < 2; retprobe++) {
		uint32_t cnt = 0;

		for (size_t i = 0; i < n; i++) {
			if (!found[i] || (retprobe && !probes[i].retprobe))
				continue;
			offs[cnt] = found[i];
			cookies[cnt++] = probes[i].cookie;
		}
		fd = uprobe_multi_create(bpf_program__fd(retprobe ? p->ret :
								    p->entry),
					 path, offs, cookies, cnt, retprobe);
		ret = fd < 0 ? fd : link_fd_keep(l, fd);
		if (ret && fd >= 0)
			close(fd);
	}
	return ret;
}

/* A perf event per function and direction; the cookie rides along. */
static int attach_perf(struct dt_tls_links *l, const struct dt_tls_progs *p,
		       const struct dt_tls_probe *probes, size_t n,
		       const char *path)
{
	int ret = 0;

	for (size_t i = 0; i < 2 * n && !ret; i++) {
		const struct dt_tls_probe *pr = &probes[i / 2];
		bool retprobe = i % 2;
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = pr->func,
			    .retprobe = retprobe, .bpf_cookie = pr->cookie);
		struct bpf_link *link;

		if (retprobe && !pr->retprobe)
			continue;
		link = bpf_program__attach_uprobe_opts(retprobe ? p->ret :
								  p->entry,
						       -1, path, 0, &opts);
		if (!link) {
			/* an older OpenSSL without the _ex calls */
			if (pr->required)
				ret = errno ? -errno : -ENOENT;
			continue;
		}
		ret = link_keep(l, link);
		if (ret)
			bpf_link__destroy(link);
	}
	return ret;
}

int dt_tls_uprobe_attach(struct dt_tls_links *l,
			 const struct dt_tls_progs *progs,
			 const struct dt_tls_probe *probes, size_t n,
			 const char *path)
{
	size_t first = l->n, first_fd = l->nfds;
	int ret;

	if (n > MAX_FUNCS)
		return -E2BIG;
	ret = progs->multi ? attach_multi(l, progs, probes, n, path) :
			     attach_perf(l, progs, probes, n, path);
	if (!ret)
		return 0;
	/* all or nothing: a file half probed would lose returns */
	while (l->n > first)
		bpf_link__destroy(l->v[--l->n]);
	while (l->nfds > first_fd)
		close(l->fds[--l->nfds]);
	return ret;
}

void dt_tls_links_release(struct dt_tls_links *l)
{
	for (size_t i = 0; i < l->n; i++)
		bpf_link__destroy(l->v[i]);
	for (size_t i = 0; i < l->nfds; i++)
		close(l->fds[i]);
	free(l->v);
	free(l->fds);
	memset(l, 0, sizeof(*l));
}
