"""Entry points: the benchmark, the online recommendation loop, throughput measurements."""
