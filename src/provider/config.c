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
 *
 * A value that makes no sense stops the provider from loading, with the
 * reason on OpenSSL's error stack: guessing would be silent.
 */
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
 * mode, measured on the in-process software device (soft0) with
 * `wd bench provider`: from these sizes on every run of the provider
 * through soft0 stayed at or above 0.95x of OpenSSL's default provider
 * (below them it hands the work to the default provider, at 0.95-1.0x).
 * A real accelerator crosses over lower (uadk uses 192 bytes, QAT_Engine
 * 2 KiB): set "threshold" for it.
 */
static const size_t threshold_default[WDP_MODE__COUNT] = {
	[WDP_CBC] = 16384,
	[WDP_CTR] = 16384,
	[WDP_XTS] = 16384,
	[WDP_GCM] = 16384,
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
	size_t th;
	unsigned i;

	if (!strcmp(key, "device")) {
		if (strlen(val) >= sizeof(cfg->device))
			ret = -EINVAL;
		else if (!*val || !strcasecmp(val, "auto"))
			cfg->device[0] = '\0', cfg->device_named = 0;
		else
			strcpy(cfg->device, val), cfg->device_named = 1;
	} else if (!strcmp(key, "threshold")) {
		ret = parse_size(val, &th);
		for (i = 0; !ret && i < WDP_MODE__COUNT; i++)
			cfg->threshold[i] = th;
		cfg->threshold_set |= !ret;
	} else if (!strcmp(key, "fallback")) {
		ret = parse_bool(val, &cfg->fallback);
	} else if (!strcmp(key, "algorithms")) {
		ret = parse_algs(val, &cfg->algs);
	} else if (!strcmp(key, "explicit")) {
		ret = parse_bool(val, &cfg->explicit_mem);
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
				     "explicit", "stats" };
static const char *const envs[][2] = {
	{ "device", "WD_DEVICE" },      /* the library's own; WD_PROV_DEVICE wins */
	{ "device", "WD_PROV_DEVICE" },
	{ "threshold", "WD_PROV_THRESHOLD" },
	{ "fallback", "WD_PROV_FALLBACK" },
	{ "algorithms", "WD_PROV_ALGS" },
	{ "explicit", "WD_PROV_EXPLICIT" },
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
		const char *v = getenv(envs[i][1]);

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
