# Shared parts of the drover benchmarks: the agent under test, reports, machine facts.
