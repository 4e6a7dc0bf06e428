#!/bin/sh
# make check: the chaos run (tests/relay/chaos.js) with a small parameter set, a
# few minutes long: the real `tradebridge run` between two ganache chains under a
# fast stream of AEO changes and the faults each enabled scenario brings; the
# oracle (tests/relay/chaos_oracle.js) judges from the chains and the receipt log.
# `make soak` runs the long version. CHAOS_ARGS adds or overrides arguments
# (e.g. CHAOS_ARGS=--seed=1234 to repeat a run's random choices).
# Scenarios the relay does not pass yet are listed as NOT YET ENABLED, with why;
# enable one by adding it to "enabled" below once the feature it needs has landed.
enabled=kills,fault-window,outage,remove-network,broken-sighup,reorg
not_enabled=
exec node "${TB_SRCDIR:-.}/tests/relay/chaos.js" --certs=20 --rate=5 --stream=20 --kills=4 --kill-gap=1500-3500 \
	--outage=10 --reorg-depth=3 --calm=20 --drain=120 --stall=8 \
	--scenarios="$enabled" --not-enabled="$not_enabled" $CHAOS_ARGS
