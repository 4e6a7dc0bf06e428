#!/bin/sh
# make check: the relay end to end on two ganache chains (contrib/demo/run.sh --check):
# AEO certify/suspend/cancel on A reach B through `tradebridge run` with a config file,
# across an outage of B (restarted on the same port and state); receipts verify; a
# partner without an MRA receives nothing; a dropped field never leaves the relay.
exec "${TB_SRCDIR:-.}/contrib/demo/run.sh" --check
