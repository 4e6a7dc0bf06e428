# adapters/testecho: a module for the tests only (never installed), with options of
# every kind; the module and conformance tests load it.
check_LTLIBRARIES += %reldir%/testecho.la
%canon_reldir%_testecho_la_SOURCES = %reldir%/testecho.c
%canon_reldir%_testecho_la_LDFLAGS = $(TB_TEST_MODULE_LDFLAGS)
%canon_reldir%_testecho_la_LIBADD = libtradebridge.la
