# adapters/ethereum: the ethereum adapter module (installed) and its test. The EVM
# code it shares with cadena and tradetrust is src/evm, in libtradebridge.
adapter_LTLIBRARIES += %reldir%/ethereum.la
%canon_reldir%_ethereum_la_SOURCES = %reldir%/ethereum.c
%canon_reldir%_ethereum_la_LDFLAGS = $(TB_ADAPTER_LDFLAGS)
%canon_reldir%_ethereum_la_LIBADD = libtradebridge.la

check_PROGRAMS += %reldir%/ethereum_test
%canon_reldir%_ethereum_test_SOURCES = %reldir%/ethereum_test.c
%canon_reldir%_ethereum_test_CFLAGS = $(TEST_CFLAGS)
%canon_reldir%_ethereum_test_LDADD = $(TEST_LIBS) -lpthread
TESTS += %reldir%/ethereum_test

EXTRA_DIST += %reldir%/README.md
