"""SSH sessions to devices: the only package that imports Netmiko and paramiko.

TCP sockets, host keys, session limits, privilege, failures mapped to typed errors, and
the contained adjustments to Netmiko (with a contract test of the private names they use).
"""
