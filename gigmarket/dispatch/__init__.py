"""The round loop per market: lease, snapshot, solve in a worker process, publish."""
