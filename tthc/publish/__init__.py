"""Publish a month: marts → the province extract package (and delivery)."""
