"""The pure parts of bench/tunnel.py, bench/forwards.py, bench/endpoint.py
and bench/relay.py: size and option parsing, the forward clients' argv,
the SOCKS5 handshake, stream splits, /proc parsing, the report's tables,
the relay's release schedule. No timing is asserted."""
from __future__ import annotations

import os
import socket
import sys
from types import SimpleNamespace

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))

from endpoint import (  # noqa: E402
    SocksError,
    check_method_reply,
    connect_reply_rest,
    socks5_connect,
    socks5_connect_request,
    socks5_greeting,
    stream_sizes,
)
from forwards import (  # noqa: E402
    CLOCK_TICKS,
    cli_forward_argv,
    forward_args,
    listening_ports,
    proc_cpu_seconds,
    ssh_forward_argv,
)
from harness import Cell  # noqa: E402
from relay import release_time  # noqa: E402
from sshclient.cli.args import parse as parse_cli  # noqa: E402
from sshclient.cli.forwards import Tcp  # noqa: E402
from sshclient.cli.settings import settle  # noqa: E402
from tunnel import (  # noqa: E402
    Run,
    cell_table,
    parse_args,
    parse_choices,
    parse_size,
    size_text,
)

CIPHER, MAC, KEX = "aes128-gcm@openssh.com", "hmac-sha2-256-etm@openssh.com", "curve25519-sha256"


@pytest.mark.parametrize("text, expected", [
    ("1G", 1 << 30), ("256M", 256 << 20), ("64K", 64 << 10), ("1GiB", 1 << 30),
    ("0.5G", 1 << 29), ("12345", 12345), ("2m", 2 << 20)])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("nbytes, text", [(1 << 30, "1 GiB"), (3 << 29, "1.5 GiB"),
                                          (64 << 20, "64 MiB"), (1 << 19, "0.5 MiB")])
def test_size_text(nbytes, text):
    assert size_text(nbytes) == text


@pytest.mark.parametrize("nbytes, streams", [(1 << 30, 1), (1 << 30, 8), (10, 3), (7, 8)])
def test_stream_sizes_add_up_and_differ_by_at_most_one(nbytes, streams):
    sizes = stream_sizes(nbytes, streams)
    assert len(sizes) == streams
    assert sum(sizes) == nbytes
    assert max(sizes) - min(sizes) <= 1


PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 0100007F:1F91 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1
"""


def test_listening_ports_only_listeners_on_loopback():
    # 8080 listens on 127.0.0.1; 22 on 0.0.0.0 (not ours); 8081 is an
    # established connection, not a listener
    assert listening_ports(PROC_NET_TCP) == [8080]


def test_proc_cpu_seconds_counts_from_the_name_parenthesis():
    fields = ["S"] + ["0"] * 10 + [str(3 * CLOCK_TICKS), str(CLOCK_TICKS)] + ["0"] * 30
    line = "1234 (odd) name) " + " ".join(fields)
    assert proc_cpu_seconds(line) == pytest.approx(4.0)


def test_proc_cpu_seconds_of_this_process_is_a_number():
    with open(f"/proc/{os.getpid()}/stat") as f:
        assert proc_cpu_seconds(f.read()) >= 0


def test_release_time_without_a_cap_is_the_due_time():
    assert release_time(5.0, 9.0, 1 << 20, None) == (5.0, 5.0)


def test_release_time_with_a_cap_spaces_chunks_by_their_size():
    leave, free = release_time(1.0, 0.0, 1_000_000, 1e6)  # 1 MB at 1 MB/s
    assert (leave, free) == (1.0, 2.0)
    leave, free = release_time(1.5, free, 500_000, 1e6)  # due while the link is busy
    assert (leave, free) == (2.0, 2.5)


# --------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------

def test_parse_choices_keeps_the_canonical_order():
    assert parse_choices("aio, ssh", ["ssh", "cli", "blocking", "aio"], "--clients") == [
        "ssh", "aio"]


@pytest.mark.parametrize("text", ["", " , ", "ssh,nope"])
def test_parse_choices_refuses_unknown_or_nothing(text):
    with pytest.raises(ValueError, match="--kinds: .*choose among L,D"):
        parse_choices(text, ["L", "D"], "--kinds")


def test_parse_args_defaults_are_both_kinds_and_every_client():
    args, clients = parse_args([])
    assert args.kind_list == ["L", "D"]
    assert [c.key for c in clients] == ["ssh", "cli", "blocking", "aio"]
    assert args.size_bytes == 1 << 30


def test_parse_args_a_subset():
    args, clients = parse_args(["--kinds", "D", "--clients", "cli,ssh", "--size", "64M"])
    assert args.kind_list == ["D"]
    assert [c.key for c in clients] == ["ssh", "cli"]
    assert args.size_bytes == 64 << 20


@pytest.mark.parametrize("argv, message", [
    (["--kinds", "X"], "--kinds: X given; choose among L,D"),
    (["--clients", "cli,aio"], "--clients must include ssh"),
    (["--clients", "ssh,paramiko"], "--clients: paramiko given; choose among ssh,cli,")])
def test_parse_args_refuses(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_labels_name_the_option_or_the_call():
    _, clients = parse_args([])
    assert [c.label_for("D") for c in clients] == [
        "OpenSSH ssh -N -D", "sshclient -N -D (our CLI)", "sshclient blocking forward_socks",
        "sshclient asyncio forward_socks (uvloop)"]
    assert clients[2].label_for("L") == "sshclient blocking forward_local_port"


# --------------------------------------------------------------------------
# Forward clients' argv
# --------------------------------------------------------------------------

def test_forward_args():
    assert forward_args("L", 5000, ("127.0.0.1", 6000)) == ["-L", "127.0.0.1:5000:127.0.0.1:6000"]
    assert forward_args("D", 5000, ("127.0.0.1", 6000)) == ["-D", "127.0.0.1:5000"]


@pytest.mark.parametrize("kind", ["L", "D"])
def test_cli_argv_is_what_our_cli_accepts_and_means_what_ssh_gets(kind):
    forward = forward_args(kind, 5000, ("127.0.0.1", 6000))
    argv = cli_forward_argv(("127.0.0.1", 2222), "bench-user", "/tmp/key", forward,
                            CIPHER, MAC, KEX)
    assert argv[:3] == [sys.executable, "-m", "sshclient"]
    inv = parse_cli(argv[3:])  # our CLI's own parser: an unknown option would raise
    settings = settle(inv)
    assert inv.no_command and not inv.command
    assert (settings.host, settings.port, settings.user) == ("127.0.0.1", 2222, "bench-user")
    assert settings.identities == ["/tmp/key"]
    assert settings.algorithms == {"ciphers": [CIPHER], "macs": [MAC], "kex_algorithms": [KEX]}
    assert settings.strict == "no" and settings.known_hosts == ["/dev/null"]
    assert settings.batch_mode and settings.exit_on_forward_failure
    (parsed,) = settings.forwards
    assert parsed.option == f"-{kind}" and parsed.listen == Tcp("127.0.0.1", 5000)
    assert parsed.target == (Tcp("127.0.0.1", 6000) if kind == "L" else None)

    ssh = ssh_forward_argv(SimpleNamespace(host="127.0.0.1", port=2222), "/tmp/key", forward,
                           CIPHER, MAC, KEX)
    for pair in (["-c", CIPHER], ["-m", MAC], ["-o", f"KexAlgorithms={KEX}"],
                 ["-o", "ExitOnForwardFailure=yes"], ["-o", "StrictHostKeyChecking=no"],
                 ["-o", "UserKnownHostsFile=/dev/null"], forward):
        for args in (argv, ssh):
            assert any(args[i:i + 2] == pair for i in range(len(args))), (pair, args)
    assert "-N" in ssh and ssh[-1] == argv[-1] == "127.0.0.1"


# --------------------------------------------------------------------------
# SOCKS5
# --------------------------------------------------------------------------

def test_socks5_greeting_offers_no_authentication_only():
    assert socks5_greeting() == b"\x05\x01\x00"


def test_socks5_connect_request_by_ipv4_address():
    assert socks5_connect_request("127.0.0.1", 8080) == (
        b"\x05\x01\x00\x01" + b"\x7f\x00\x00\x01" + b"\x1f\x90")


def test_check_method_reply():
    check_method_reply(b"\x05\x00")
    with pytest.raises(SocksError, match="accepts no method"):
        check_method_reply(b"\x05\xff")
    with pytest.raises(SocksError, match="chose method 2"):
        check_method_reply(b"\x05\x02")
    with pytest.raises(SocksError, match="version 4"):
        check_method_reply(b"\x04\x00")


@pytest.mark.parametrize("head, rest", [
    (b"\x05\x00\x00\x01\x7f", 3 + 2), (b"\x05\x00\x00\x04\x00", 15 + 2),
    (b"\x05\x00\x00\x03\x09", 9 + 2)])
def test_connect_reply_rest_by_address_type(head, rest):
    assert connect_reply_rest(head, "t") == rest


@pytest.mark.parametrize("head, message", [
    (b"\x05\x05\x00\x01\x00", "CONNECT to 127.0.0.1:9 failed: connection refused \\(5\\)"),
    (b"\x05\x01\x00\x01\x00", "general SOCKS server failure"),
    (b"\x05\x63\x00\x01\x00", "unknown reply code \\(99\\)"),
    (b"\x00\x5a\x00\x01\x00", "version 0"),
    (b"\x05\x00\x00\x07\x00", "address type 7")])
def test_connect_reply_errors_say_what_went_wrong(head, message):
    with pytest.raises(SocksError, match=message):
        connect_reply_rest(head, "127.0.0.1:9")


@pytest.mark.parametrize("bound", [b"\x01\x7f\x00\x00\x01\x04\xd2",
                                   b"\x03\x09localhost\x04\xd2",
                                   b"\x04" + bytes(16) + b"\x04\xd2"])
def test_socks5_connect_reads_exactly_the_replies(bound):
    ours, server = socket.socketpair()
    with ours, server:
        server.sendall(b"\x05\x00" + b"\x05\x00\x00" + bound + b"first data")
        socks5_connect(ours, "127.0.0.1", 6000)
        assert ours.recv(100) == b"first data"  # the reply is consumed, nothing more
        assert server.recv(100) == socks5_greeting() + socks5_connect_request("127.0.0.1", 6000)


def test_socks5_connect_when_the_server_hangs_up():
    ours, server = socket.socketpair()
    with ours, server:
        server.sendall(b"\x05\x00\x05")
        server.shutdown(socket.SHUT_WR)  # says no more; still takes what we send
        with pytest.raises(SocksError, match="closed the connection after 1 of the 5 bytes "
                                             "of the CONNECT reply"):
            socks5_connect(ours, "127.0.0.1", 6000)


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

def test_cell_tables_of_both_kinds_have_the_same_columns():
    _, clients = parse_args(["--clients", "ssh,cli"])
    tables = {}
    for kind in ("L", "D"):
        cells = {(kind, "download", 8, "ssh"): Cell([Run(True, mb_s=200.0, cpu_per_gb=1.0,
                                                         maxrss_mb=10.0)]),
                 (kind, "download", 8, "cli"): Cell([Run(True, mb_s=100.0, cpu_per_gb=2.0,
                                                         maxrss_mb=40.0)])}
        direct = Cell([Run(True, mb_s=900.0, endpoint_cpu_per_gb=1.0)])
        tables[kind] = cell_table((kind, "download", 8), clients, cells, direct)
    assert tables["L"][2:4] == tables["D"][2:4]  # header and alignment rows
    assert "MB/s" in tables["D"][2] and "paired" in tables["D"][2]
    assert tables["D"][0] == "## `-D` SOCKS forward: download (target -> client), 8 streams"
    cli_row = tables["D"][5]
    assert cli_row.startswith("| sshclient -N -D (our CLI) | 100 (0.50×) | 2.00 (2.00×) | 0.50×")
    assert "no SOCKS" in tables["D"][-2] and "no SOCKS" not in tables["L"][-2]
