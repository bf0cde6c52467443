"""The pure core: domain, validation, geography and matching.

Nothing here performs I/O or knows about asyncio, Redis, SQLite or HTTP. Data comes in as
arguments (including the current time), decisions and events go out as return values.
"""
