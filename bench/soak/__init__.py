"""`make soak`: an hour of mixed traffic with faults injected, then proof that nothing was lost
and nothing was left open (bench/run_soak.py runs it; docs/RELIABILITY.md says what it checks)."""
