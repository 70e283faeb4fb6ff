"""sshcore: the compiled hot path of sshclient (buffers, wire types, packets, channels).

Nothing in here does I/O: it is fed bytes and hands back bytes and events.
"""
