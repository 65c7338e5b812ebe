"""Credentials: the encrypted vault, where its password comes from, and the Nornir transform."""
