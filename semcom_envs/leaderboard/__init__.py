"""Benchmark leaderboard: protocol, store, statistics, reports."""
