"""Runs inside cibuildwheel against each built wheel: no servers, no network."""
from __future__ import annotations


def test_extensions_import_and_round_trip():
    from sshcore import crypto
    from sshcore.packet import PacketEngine
    from sshcore.wire import Reader, Writer

    assert "aes128-gcm@openssh.com" in crypto.CIPHER_NAMES
    payload = Writer().byte(94).uint32(0).string(b"hello").getvalue()
    sender, receiver = PacketEngine(), PacketEngine()
    key, iv = bytes(range(16)), bytes(range(12))
    sender.set_outgoing("aes128-gcm@openssh.com", key, iv, None, None)
    receiver.set_incoming("aes128-gcm@openssh.com", key, iv, None, None)
    sender.send_packet(payload)
    receiver.feed(sender.take_output())
    msg_type, got = receiver.next_packet()
    assert msg_type == 94 and got == payload
    assert Reader(got[1:]).uint32() == 0


def test_spec_class_constructs():
    from sshclient import SSHClient

    client = SSHClient()
    assert client.ssh_port == 22
    assert client.timeout == 60
    assert not client.connected


def test_type_information_is_installed():
    """py.typed and the stubs of the table-made SSHClient surface ship in the wheel:
    without them a type checker rejects client.ssh_user = ..."""
    from pathlib import Path

    import sshclient.eventclient

    package = Path(sshclient.eventclient.__file__).parent
    assert (package.parent / "py.typed").is_file()
    assert (package / "accessors.pyi").is_file() and (package / "params.pyi").is_file()
