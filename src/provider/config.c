/* SPDX-License-Identifier: MIT */
/*
 * Settings of one provider instance: its openssl.cnf section first (read
 * through the core's get_params, which hands over every key of the
 * section), then the environment, which wins (wd-provider(7) lists both):
 *
 *   section key   environment                 meaning
 *   device        WD_PROV_DEVICE, WD_DEVICE   the device ("" or auto: the best)
 *   threshold     WD_PROV_THRESHOLD           smaller operations: default provider
 *   fallback      WD_PROV_FALLBACK            device trouble: default provider (yes)
 *   algorithms    WD_PROV_ALGS                what is offered (all)
 *   stats         WD_PROV_STATS               1: line on stderr at exit; a path
 *   explicit      WD_PROV_EXPLICIT            bounce buffers even on an SVA device
 *   async         WD_PROV_ASYNC               inside an ASYNC_JOB: submit and pause
 *                                             (auto: unless the device is in-process)
 *
 * A value that makes no sense stops the provider from loading, with the
 * reason on OpenSSL's error stack: guessing would be silent.
 */
#define _GNU_SOURCE /* secure_getenv */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/params.h>

#include "wdp.h"

/*
 * Default thresholds: the smallest operation that goes to a queue, per
 * mode and direction ([mode][encrypt]), measured on the in-process
 * software device (soft0) with `wd bench provider` (README, wd-provider(7)):
 * from these sizes on, every run through a soft0 queue stayed at or above
 * 0.95x of OpenSSL's default provider (five runs, each the median of nine);
 * under them the provider hands the work to the default provider directly.
 * A request on soft0 costs a fixed amount (about 0.1 us: the provider's
 * and the library's request path, the engine setting the request's IV),
 * so the fast modes (CTR, XTS, CBC decryption: 7-11 GB/s) cross over
 * later than serial CBC encryption (1.4 GB/s).  XTS is at 0.944-0.951 at
 * 16 KiB, CTR 0.93, CBC decryption 0.92.  A real accelerator crosses over
 * much lower (uadk uses 192 bytes, QAT_Engine 2 KiB): set "threshold" for
 * it.
 */
static const size_t threshold_default[WDP_MODE__COUNT][2] = {
	[WDP_CBC] = { 65536, 4096 },
	[WDP_CTR] = { 65536, 65536 },
	[WDP_XTS] = { 65536, 65536 },
	[WDP_GCM] = { 65536, 65536 },
};

static int parse_bool(const char *s, int *out)
{
	if (!strcasecmp(s, "1") || !strcasecmp(s, "yes") || !strcasecmp(s, "true") ||
	    !strcasecmp(s, "on"))
		*out = 1;
	else if (!strcasecmp(s, "0") || !strcasecmp(s, "no") || !strcasecmp(s, "false") ||
		 !strcasecmp(s, "off"))
		*out = 0;
	else
		return -EINVAL;
	return 0;
}

/* "4096", "4k", "4KiB", "1m" */
static int parse_size(const char *s, size_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (!strcasecmp(end, "ib") || !strcasecmp(end, "b"))
		end += strlen(end);
	if (*end || v > WD_CIPHER_LEN_MAX + 1ull)
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

/*
 * "4096" (every mode and direction), or a list of "MODE[-enc|-dec]=SIZE"
 * items ("cbc-enc=16k,ctr=64k"); what a list does not name keeps its
 * value.
 */
static int parse_threshold(const char *s, size_t th[WDP_MODE__COUNT][2])
{
	char item[48], *eq;
	size_t n, v, m, len;
	int dir;

	if (!parse_size(s, &v)) {
		for (m = 0; m < WDP_MODE__COUNT; m++)
			th[m][0] = th[m][1] = v;
		return 0;
	}
	while (*s) {
		n = strcspn(s, ", ");
		if (n >= sizeof(item))
			return -EINVAL;
		memcpy(item, s, n);
		item[n] = '\0';
		eq = strchr(item, '=');
		if (!eq || parse_size(eq + 1, &v))
			return -EINVAL;
		*eq = '\0';
		len = strlen(item);
		dir = -1;
		if (len > 4 && !strcmp(item + len - 4, "-enc"))
			dir = 1, item[len - 4] = '\0';
		else if (len > 4 && !strcmp(item + len - 4, "-dec"))
			dir = 0, item[len - 4] = '\0';
		for (m = 0; m < WDP_MODE__COUNT; m++)
			if (!strcasecmp(item, wdp_mode_names[m]))
				break;
		if (m == WDP_MODE__COUNT)
			return -EINVAL;
		if (dir != 0)
			th[m][1] = v;
		if (dir != 1)
			th[m][0] = v;
		s += n;
		s += strspn(s, ", ");
	}
	return 0;
}

size_t wdp_cfg_format_threshold(const struct wdp_cfg *cfg, char *buf, size_t len)
{
	size_t n = 0, m;
	int w;

	if (len)
		buf[0] = '\0';
	for (m = 0; m < WDP_MODE__COUNT; m++) {
		if (cfg->threshold[m][0] == cfg->threshold[m][1])
			w = snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, "%s%s=%zu",
				     n ? "," : "", wdp_mode_names[m], cfg->threshold[m][0]);
		else
			w = snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0,
				     "%s%s-enc=%zu,%s-dec=%zu", n ? "," : "", wdp_mode_names[m],
				     cfg->threshold[m][1], wdp_mode_names[m], cfg->threshold[m][0]);
		n += w < 0 ? 0 : (size_t)w;
	}
	return n;
}

/* One item of the algorithm list: "all", a mode ("cbc"), or a name. */
static int alg_item(const char *item, uint32_t *mask)
{
	unsigned i;

	if (!strcasecmp(item, "all")) {
		*mask |= (1u << WDP_NALGS) - 1;
		return 0;
	}
	for (i = 0; i < WDP_MODE__COUNT; i++)
		if (!strcasecmp(item, wdp_mode_names[i])) {
			unsigned j;

			for (j = 0; j < WDP_NALGS; j++)
				if (wdp_algs[j].mode == i)
					*mask |= 1u << j;
			return 0;
		}
	for (i = 0; i < WDP_NALGS; i++)
		if (!strcasecmp(item, wdp_algs[i].name)) {
			*mask |= 1u << i;
			return 0;
		}
	return -EINVAL;
}

static int parse_algs(const char *s, uint32_t *out)
{
	char item[32];
	uint32_t mask = 0;
	size_t n;

	while (*s) {
		n = strcspn(s, ", :");
		if (n && n < sizeof(item)) {
			memcpy(item, s, n);
			item[n] = '\0';
			if (alg_item(item, &mask))
				return -EINVAL;
		} else if (n) {
			return -EINVAL;
		}
		s += n;
		s += strspn(s, ", :");
	}
	if (!mask)
		return -EINVAL;
	*out = mask;
	return 0;
}

/* Apply one setting; where names the source for the error text. */
static int apply(struct wdp_cfg *cfg, const char *key, const char *val, const char *where,
		 char *err, size_t errlen)
{
	int ret = 0;

	if (!strcmp(key, "device")) {
		if (strlen(val) >= sizeof(cfg->device))
			ret = -EINVAL;
		else if (!*val || !strcasecmp(val, "auto"))
			cfg->device[0] = '\0', cfg->device_named = 0;
		else
			strcpy(cfg->device, val), cfg->device_named = 1;
	} else if (!strcmp(key, "threshold")) {
		ret = parse_threshold(val, cfg->threshold);
	} else if (!strcmp(key, "fallback")) {
		ret = parse_bool(val, &cfg->fallback);
	} else if (!strcmp(key, "algorithms")) {
		ret = parse_algs(val, &cfg->algs);
	} else if (!strcmp(key, "explicit")) {
		ret = parse_bool(val, &cfg->explicit_mem);
	} else if (!strcmp(key, "async")) {
		if (!strcasecmp(val, "auto"))
			cfg->async = WDP_ASYNC_AUTO;
		else
			ret = parse_bool(val, &cfg->async); /* WDP_ASYNC_NO or _YES */
	} else if (!strcmp(key, "stats")) {
		if (strlen(val) >= sizeof(cfg->stats_to))
			ret = -EINVAL;
		else
			strcpy(cfg->stats_to, strcmp(val, "0") ? val : "");
	}
	if (ret)
		snprintf(err, errlen, "bad %s value \"%s\" (%s)", key, val, where);
	if (ret && !strcmp(key, "algorithms"))
		snprintf(err, errlen, "bad algorithms value \"%s\" (%s): unknown or empty; offered: "
			 "all, cbc, ctr, xts, gcm or names such as aes-128-cbc", val, where);
	return ret;
}

static const char *const keys[] = { "device", "threshold", "fallback", "algorithms",
				     "explicit", "async", "stats" };
static const char *const envs[][2] = {
	{ "device", "WD_DEVICE" },      /* the library's own; WD_PROV_DEVICE wins */
	{ "device", "WD_PROV_DEVICE" },
	{ "threshold", "WD_PROV_THRESHOLD" },
	{ "fallback", "WD_PROV_FALLBACK" },
	{ "algorithms", "WD_PROV_ALGS" },
	{ "explicit", "WD_PROV_EXPLICIT" },
	{ "async", "WD_PROV_ASYNC" },
	{ "stats", "WD_PROV_STATS" },
};

int wdp_cfg_load(struct wdp_cfg *cfg, const OSSL_CORE_HANDLE *handle,
		 OSSL_FUNC_core_get_params_fn *get_params, char *err, size_t errlen)
{
	const char *vals[WDP_ARRAY_SIZE(keys)] = { NULL };
	OSSL_PARAM params[WDP_ARRAY_SIZE(keys) + 1];
	unsigned i;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->threshold, threshold_default, sizeof(cfg->threshold));
	cfg->fallback = 1;
	cfg->async = WDP_ASYNC_AUTO;
	cfg->algs = (1u << WDP_NALGS) - 1;
	for (i = 0; i < WDP_ARRAY_SIZE(keys); i++)
		params[i] = OSSL_PARAM_construct_utf8_ptr(keys[i], (char **)&vals[i], 0);
	params[i] = OSSL_PARAM_construct_end();
	if (get_params && !get_params(handle, params)) {
		snprintf(err, errlen, "cannot read the provider's configuration");
		return -EINVAL;
	}
	for (i = 0; i < WDP_ARRAY_SIZE(keys); i++) {
		if (!vals[i])
			continue;
		ret = apply(cfg, keys[i], vals[i], "openssl.cnf", err, errlen);
		if (ret)
			return ret;
	}
	for (i = 0; i < WDP_ARRAY_SIZE(envs); i++) {
		/* none in a set-uid program: only its openssl.cnf (like
		 * OpenSSL's own OPENSSL_CONF and OPENSSL_MODULES) */
		const char *v = secure_getenv(envs[i][1]);

		if (!v || !*v)
			continue; /* set but empty: as if unset */
		ret = apply(cfg, envs[i][0], v, envs[i][1], err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

size_t wdp_cfg_format_algs(const struct wdp_cfg *cfg, char *buf, size_t len)
{
	size_t n = 0;
	unsigned i;
	int w;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < WDP_NALGS; i++) {
		if (!(cfg->algs & (1u << i)))
			continue;
		w = snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, "%s%s", n ? "," : "",
			     wdp_algs[i].name);
		n += w < 0 ? 0 : (size_t)w;
	}
	return n;
}
