"""The SSHClient class against the spec's own text: every property, method,
event and setting it lists exists with the spec's names and signatures."""
from __future__ import annotations

import inspect
import os

import pytest

import spec_text
from sshclient import SSHClient, SSHClientError
from sshclient.errors import MESSAGES
from sshclient.eventclient import params as P

if spec_text.spec_dir() is None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise RuntimeError("shared/spec is missing: the surface tests cannot run")
    pytest.skip("shared/spec not found beside the repository", allow_module_level=True)

SPEC = spec_text.load()


def test_counts_match_the_issue():
    assert (len(SPEC.properties), len(SPEC.methods), len(SPEC.events),
            len(SPEC.settings)) == (82, 23, 17, 69)


@pytest.mark.parametrize("name", SPEC.properties)
def test_property_accessors(name):
    getter = "get_" + name
    assert getter in SPEC.functions, f"spec gives no getter for {name}"
    assert callable(getattr(SSHClient, getter, None)), f"SSHClient.{getter} missing"
    setter = "set_" + name
    if setter in SPEC.functions:
        assert callable(getattr(SSHClient, setter, None)), f"SSHClient.{setter} missing"
    if name in SPEC.property_lines:
        attr = inspect.getattr_static(SSHClient, name)
        assert isinstance(attr, property), f"{name} is not a property"
        assert (attr.fset is not None) == (SPEC.property_lines[name][1] != "None"), \
            f"{name}: settable does not match the spec"


@pytest.mark.parametrize("name", sorted(SPEC.functions))
def test_signatures(name):
    spec_sig = SPEC.functions[name]
    ours = getattr(SSHClient, name, None)
    assert ours is not None, f"SSHClient.{name} missing"
    params = [p for p in inspect.signature(ours).parameters if p != "self"]
    assert params == spec_sig.params, f"{name}{tuple(params)} != spec {tuple(spec_sig.params)}"


@pytest.mark.parametrize("name", SPEC.events)
def test_event_hooks(name):
    client = SSHClient()
    assert getattr(client, name) is None
    calls = []
    setattr(client, name, calls.append)
    getattr(client, name)("x")
    assert calls == ["x"]


@pytest.mark.parametrize("cls_name", sorted(SPEC.event_fields))
def test_event_params_classes(cls_name):
    cls = getattr(P, cls_name)
    fields = SPEC.event_fields[cls_name]
    values = {f: f"v-{f}" for f in fields}
    obj = cls(**values)
    for f in fields:
        assert getattr(obj, f) == f"v-{f}"
    for f in fields:
        settable = f in SPEC.settable_fields[cls_name]
        if settable:
            setattr(obj, f, "new")
            assert getattr(obj, f) == "new"
        else:
            with pytest.raises(AttributeError):
                setattr(obj, f, "new")


@pytest.mark.parametrize("setting", SPEC.settings)
def test_every_setting_is_known(setting):
    client = SSHClient()
    name = setting.split("[")[0]
    if "[" in setting:
        # indexed by channel: needs a channel; unknown id is a clear 1021
        with pytest.raises(SSHClientError) as info:
            client.config(f"{name}[12345]")
        assert info.value.code == 1021
        return
    if name == "SSHKeyRenegotiate":  # querying it re-keys: needs a connection
        with pytest.raises(SSHClientError) as info:
            client.config(name)
        assert info.value.code == 1117
        return
    value = client.config(name)  # readable, no exception
    assert isinstance(value, str)


def test_defaults_follow_the_spec():
    client = SSHClient()
    assert client.ssh_port == 22 and client.timeout == 60 and client.ssh_auth_mode == 2
    assert client.ssh_cert_store == b"MY" and client.ssh_cert_store_type == 0
    assert client.ssh_compression_algorithms == "none,zlib"
    assert client.ssh_encryption_algorithms.startswith("aes256-ctr,aes192-ctr,aes128-ctr")
    assert client.ssh_key_exchange_algorithms.startswith("curve25519-sha256,")
    assert client.ssh_public_key_algorithms.startswith("ssh-ed25519,")
    assert client.ssh_mac_algorithms.startswith("hmac-sha2-256,hmac-sha2-512,")
    assert client.config("KeyRenegotiationThreshold") == str(1 << 30)
    assert client.config("SSHVersionPattern") == "*SSH-1.99-*,*SSH-2.0-*"
    assert client.config("UseStrictKeyExchange") == "1"
    assert client.config("SSHKeepAliveCountMax") == "5"
    assert client.config("WaitForChannelClose") == "True"
    assert client.config("MaxLineLength") == "2048"
    assert client.config("SSHFingerprintHashAlgorithm") == "SHA256"
    assert client.firewall_type == 0 and client.ssh_channel_count == 0
    assert not client.connected


def test_firewall_type_sets_the_port():
    client = SSHClient()
    for kind, port in [(1, 80), (2, 1080), (3, 1080), (10, 1080), (0, 0)]:
        client.firewall_type = kind
        assert client.firewall_port == port


def test_error_codes_have_the_spec_messages():
    for code, message in SPEC.errors.items():
        assert MESSAGES.get(code) == message, code
