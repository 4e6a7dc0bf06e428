# adapters/cadena: the CADENA-style AEO registry adapter (installed) and its test,
# which runs against ganache (tests/peers).
adapter_LTLIBRARIES += %reldir%/cadena.la
%canon_reldir%_cadena_la_SOURCES = %reldir%/cadena.c
%canon_reldir%_cadena_la_LDFLAGS = $(TB_ADAPTER_LDFLAGS)
%canon_reldir%_cadena_la_LIBADD = libtradebridge.la

check_PROGRAMS += %reldir%/cadena_test
%canon_reldir%_cadena_test_SOURCES = %reldir%/cadena_test.c $(TB_GANACHE_SOURCES)
%canon_reldir%_cadena_test_CFLAGS = $(TB_PEER_CFLAGS)
%canon_reldir%_cadena_test_LDADD = $(TEST_LIBS) -lpthread
TESTS += %reldir%/cadena_test

EXTRA_DIST += %reldir%/README.md
