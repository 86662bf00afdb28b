/* SPDX-License-Identifier: MIT */
/*
 * The real zlib, found by handle rather than by RTLD_NEXT: a program may
 * load zlib only later, and privately (Python's extension modules are
 * dlopen'ed RTLD_LOCAL), where RTLD_NEXT would not see it.  dlsym on
 * libz's own handle searches libz and its dependencies, never this layer.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "wz.h"

static struct wz_real real;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void *must(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (!p) {
		fprintf(stderr, "libwd-zlib: libz.so.1 has no %s: %s\n", name, dlerror());
		abort();
	}
	return p;
}

#define LOAD(name) (*(void **)&real.name = must(h, #name))

static void real_load(void)
{
	void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_NOLOAD);

	if (!h)
		h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "libwd-zlib: cannot load libz.so.1: %s\n", dlerror());
		abort();
	}
	LOAD(deflateInit2_);
	LOAD(deflate);
	LOAD(deflateEnd);
	LOAD(deflateReset);
	LOAD(deflateResetKeep);
	LOAD(deflateParams);
	LOAD(deflateSetDictionary);
	LOAD(deflateGetDictionary);
	LOAD(deflateCopy);
	LOAD(deflateSetHeader);
	LOAD(deflatePrime);
	LOAD(deflatePending);
	LOAD(deflateTune);
	LOAD(deflateBound);
	LOAD(inflateInit2_);
	LOAD(inflate);
	LOAD(inflateEnd);
	LOAD(inflateReset);
	LOAD(inflateReset2);
	LOAD(inflateResetKeep);
	LOAD(inflateSetDictionary);
	LOAD(inflateGetDictionary);
	LOAD(inflateSync);
	LOAD(inflateSyncPoint);
	LOAD(inflateCopy);
	LOAD(inflatePrime);
	LOAD(inflateMark);
	LOAD(inflateGetHeader);
	LOAD(inflateUndermine);
	LOAD(inflateValidate);
	LOAD(inflateCodesUsed);
	LOAD(inflateBackInit_);
	LOAD(inflateBack);
	LOAD(inflateBackEnd);
	LOAD(compress2);
	LOAD(uncompress2);
	LOAD(compressBound);
}

const struct wz_real *wz_real(void)
{
	pthread_once(&real_once, real_load);
	return &real;
}
