/* SPDX-License-Identifier: MIT */
/* The benchmarks' corpus: see bench_corpus.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_corpus.h"
#include "bench_util.h"

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the regular files of dir but README.md, sorted so the buffer is
 * the same from run to run. */
static int list_corpus(const char *dir, char ***out, size_t *count)
{
	char path[PATH_MAX], **names = NULL, **grown;
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "README.md"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			names = grown ? grown : names;
			break;
		}
		names = grown;
		n++;
	}
	closedir(d);
	if (de) {
		while (n)
			free(names[--n]);
		free(names);
		return -ENOMEM;
	}
	qsort(names, n, sizeof(*names), cmp_name);
	*out = names;
	*count = n;
	return 0;
}

static int append_file(uint8_t **data, size_t *len, const char *path)
{
	struct stat st;
	uint8_t *grown;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
	} else if (!(grown = realloc(*data, *len + (size_t)st.st_size + 1))) {
		/* (+1: an empty first file must not look like a failed realloc) */
		ret = -ENOMEM;
	} else {
		*data = grown;
		if (bench_read_full(fd, *data + *len, (size_t)st.st_size))
			ret = -EIO;
		else
			*len += (size_t)st.st_size;
	}
	close(fd);
	return ret;
}

int bench_load_corpus(const char *dir, uint8_t **data, size_t *len, size_t *nfiles)
{
	char path[PATH_MAX], **names = NULL;
	size_t n = 0, i, before = *len;
	int ret = list_corpus(dir, &names, &n);

	if (ret)
		return ret;
	for (i = 0; i < n && !ret; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ret = append_file(data, len, path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	*nfiles = n;
	if (!ret && *len == before)
		ret = -ENODATA;
	return ret;
}
