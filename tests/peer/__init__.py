"""A scripted SSH server peer for hostile and rare cases (tests only).

    from peer import HostilePeer, ExecSpec

    def flood_then_bad_mac(s, ch, command):
        s.send_data(ch, b"x" * 1000)
        s.send_bad_mac(b"\\x02" + bytes(8))      # an IGNORE whose MAC is wrong

    with HostilePeer(script={"exec": flood_then_bad_mac}) as peer:
        ... connect a client to peer.host, peer.port (user "tester", password "secret")
        session = peer.finished()               # the server side, for assertions
        assert session.client_disconnect[0] == 5

The peer speaks curve25519-sha256 + ssh-ed25519 and any cipher suite of
sshcore; see PeerConfig for what it can be told, and Session for what a
script can do.
"""
from .kex import HOST_KEY, HOST_KEY_BLOB
from .server import HostilePeer, PeerConfig
from .session import ClientGone, ExecSpec, PeerChannel, PeerError, PeerStopped, Session

__all__ = ["HOST_KEY", "HOST_KEY_BLOB", "ClientGone", "ExecSpec", "HostilePeer", "PeerChannel",
           "PeerConfig", "PeerError", "PeerStopped", "Session"]
