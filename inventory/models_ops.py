"""Stock operations models: import jobs, transfers, counts and low-stock thresholds."""
