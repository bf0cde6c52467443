"""I/O adapters: the Redis live store, the SQLite ledger and the embedded Redis launcher."""
