"""Thin Starlette handlers: parse, call a service, reply."""
