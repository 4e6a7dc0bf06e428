# adapters/tradetrust: the TradeTrust / OpenAttestation adapter (installed), the
# OpenAttestation code it owns (oa.c), and their tests. The tests link the sources
# directly (they reach the adapter's internals through its tt_*.h headers).
TT_SOURCES = %reldir%/tradetrust.c %reldir%/tt_ctx.c %reldir%/tt_ctx.h \
	%reldir%/tt_chain.c %reldir%/tt_chain.h %reldir%/tt_identity.c %reldir%/tt_identity.h \
	%reldir%/tt_poll.c %reldir%/tt_poll.h %reldir%/oa.c %reldir%/oa.h
adapter_LTLIBRARIES += %reldir%/tradetrust.la
%canon_reldir%_tradetrust_la_SOURCES = $(TT_SOURCES)
%canon_reldir%_tradetrust_la_LDFLAGS = $(TB_ADAPTER_LDFLAGS)
%canon_reldir%_tradetrust_la_LIBADD = libtradebridge.la

check_PROGRAMS += %reldir%/tradetrust_test
%canon_reldir%_tradetrust_test_SOURCES = %reldir%/tradetrust_test.c \
	%reldir%/tt_chain_test.c %reldir%/tt_mapping_test.c %reldir%/tt_test.h $(TT_SOURCES) \
	tests/unit/dnsmasq_peer.c tests/unit/dnsmasq_peer.h $(TB_GANACHE_SOURCES)
%canon_reldir%_tradetrust_test_CFLAGS = $(TB_PEER_CFLAGS) -I$(top_srcdir)/tests/unit
%canon_reldir%_tradetrust_test_LDADD = $(TEST_LIBS)
TESTS += %reldir%/tradetrust_test

check_PROGRAMS += %reldir%/oa_test %reldir%/oa_diff_test
%canon_reldir%_oa_test_SOURCES = %reldir%/oa_test.c %reldir%/oa.c %reldir%/oa.h
%canon_reldir%_oa_test_CFLAGS = $(TEST_CFLAGS)
%canon_reldir%_oa_test_LDADD = $(TEST_LIBS)
%canon_reldir%_oa_diff_test_SOURCES = %reldir%/oa_diff_test.c %reldir%/oa.c %reldir%/oa.h
%canon_reldir%_oa_diff_test_CFLAGS = $(TEST_CFLAGS)
%canon_reldir%_oa_diff_test_LDADD = $(TEST_LIBS)
TESTS += %reldir%/oa_test %reldir%/oa_diff_test

if FUZZING
noinst_PROGRAMS += tests/fuzz/oa_fuzz
else
check_PROGRAMS += tests/fuzz/oa_fuzz
TESTS += tests/fuzz/oa_fuzz
endif
tests_fuzz_oa_fuzz_SOURCES = tests/fuzz/oa_fuzz.c $(TT_SOURCES) $(TB_FUZZ_MAIN)
tests_fuzz_oa_fuzz_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/%reldir%
tests_fuzz_oa_fuzz_LDFLAGS = $(AM_LDFLAGS) $(TB_FUZZ_LINK)
tests_fuzz_oa_fuzz_LDADD = $(TB_CORE) $(TB_LIBS)

# Node scripts the tests run against the reference library, samples, docs.
EXTRA_DIST += %reldir%/README.md %reldir%/oa_corpus.js %reldir%/corpus_random.js \
	%reldir%/oa3_corpus.js %reldir%/oa_chain.js %reldir%/oa_wrap.js %reldir%/samples
