/* SPDX-License-Identifier: MIT */
/* Sub-commands of the wd tool.  Each returns the process exit status:
 * 0 success, 1 failure, 2 usage error. */
#ifndef WD_CLI_H
#define WD_CLI_H

int wd_cmd_devices(int argc, char **argv);
int wd_cmd_demo(int argc, char **argv);
int wd_cmd_bench(int argc, char **argv);
int wd_cmd_gzip(int argc, char **argv);    /* also gunzip, by argv[0] */
int wd_cmd_stat(int argc, char **argv);
int wd_cmd_run(int argc, char **argv);     /* tools/wd_run.c */
int wd_bench_comp(int argc, char **argv);  /* bench/bench_comp.c */
int wd_bench_mem(int argc, char **argv);   /* bench/bench_mem.c */
int wd_bench_wdd(int argc, char **argv);   /* bench/bench_wdd.c */
int wd_bench_crypto(int argc, char **argv); /* bench/bench_crypto.c */
int wd_bench_sync(int argc, char **argv);   /* bench/bench_sync.c */
int wd_bench_zlib(int argc, char **argv);   /* bench/bench_zlib.c */
int wd_bench_provider(int argc, char **argv); /* bench/bench_provider.c */
/* The zlib layer's path ($WD_ZLIB_LIB, beside wd, the build tree, the
 * prefix): 0, or -ENOENT. */
int wd_cli_find_layer(char *out, size_t len);

/* Print "wd: what: error text" to stderr; returns 1. */
int wd_cli_fail(const char *what, int err);

struct wd_queue;
/* One line on stderr when q's device failed or refused requests and the
 * built-in engine completed them (tools/wd_stat.c); nothing otherwise. */
void wd_cli_queue_report(struct wd_queue *q);

/* The corpus directory to use when none is named with -d: the first of
 * WD_CLI_CORPUS_DIRS that can be opened, or NULL. */
const char *wd_cli_corpus_dir(void);
#ifndef WD_SOURCE_CORPUS /* set by the build: <source tree>/corpus */
#define WD_SOURCE_CORPUS "corpus"
#endif
/* "corpus" (a checkout's top directory, where `make demo` runs), then the
 * corpus of the source tree the tool was built from. */
#define WD_CLI_CORPUS_DIRS { "corpus", WD_SOURCE_CORPUS }
#define WD_CLI_CORPUS_HELP "corpus, " WD_SOURCE_CORPUS

#endif
