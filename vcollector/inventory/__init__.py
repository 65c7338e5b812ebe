"""Devices from a VelocityCMDB assets.db: records, filters, the query and the Nornir plugin."""
