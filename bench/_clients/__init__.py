"""One small module per Python client for bench/compare.py.

Each ``client_*.py`` module exposes::

    NAME: str                      # label in the tables
    version() -> str               # library version for the report header
    download(cfg, nbytes) -> int   # exec `head -c N /dev/zero`, returns bytes received
    upload(cfg, nbytes) -> int     # exec `cat > /dev/null`, returns bytes sent
    tunnel(cfg, nbytes) -> int     # direct-tcpip to cfg["target"], returns bytes received
    handshake(cfg) -> None         # connect + kex + publickey auth + exec `true` + close
    fanout(cfg, count) -> int      # optional (bench/fanout.py): `count` handshakes,
                                   # cfg["concurrency"] at once; returns count

and is only ever imported inside a child process started by ``runner.py``,
so that the parent can read that client's own CPU time with ``os.wait4``.
``cfg`` is the JSON dict compare.py passes: host, port, user, key, cipher,
mac, kex (or None for the client's default), target ([host, port]) and
chunk (upload write size).
"""
