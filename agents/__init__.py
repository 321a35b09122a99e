"""Agents: random, greedy/popularity, oracle, PPO and the GFlowNet slate policies."""
