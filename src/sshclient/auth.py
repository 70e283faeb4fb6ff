"""User authentication (RFC 4252, RFC 4256), sans-IO.

Methods: none, password, publickey (RFC 8332 rsa-sha2-* picked from
server-sig-algs), keyboard-interactive, and a caller-driven "custom" mode.
Partial success chains (sshd `AuthenticationMethods a,b`) are followed.
"""
from __future__ import annotations

import fnmatch
from typing import Any, Callable

from sshcore.wire import Reader, Writer

from . import constants as c
from .errors import AuthenticationError, RemoteProtocolError, UsageError, timed_user_call
from .events import (
    AuthBanner,
    AuthCompleted,
    CustomAuthStep,
    Event,
    LogMessage,
    PromptsReceived,
    SignatureRequested,
)
from .hostkeys import CERT_SUFFIX
from .options import (
    AUTH_CUSTOM,
    AUTH_GSSAPI_KEYEX,
    AUTH_GSSAPI_WITH_MIC,
    AUTH_KEYBOARD_INTERACTIVE,
    AUTH_MULTIFACTOR,
    AUTH_NONE,
    AUTH_PASSWORD,
    AUTH_PUBLICKEY,
    ClientOptions,
)
from .secret import reveal

SERVICE_CONNECTION = b"ssh-connection"
MAX_PROMPTS = 64

_MODE_METHOD = {
    AUTH_PASSWORD: "password",
    AUTH_PUBLICKEY: "publickey",
    AUTH_KEYBOARD_INTERACTIVE: "keyboard-interactive",
}


MAX_ATTEMPTS = 32  # authentication requests per connection

# (message, method in flight; None: any) -> the Authenticator method for it.
# In custom mode whatever else comes goes to the custom handler; otherwise
# a message not here is a protocol error.
_USERAUTH_INFO = 60  # also PK_OK and PASSWD_CHANGEREQ: the method says which
_HANDLERS: dict[tuple[int, str | None], str] = {
    (c.MSG_USERAUTH_BANNER, None): "_on_banner",
    (c.MSG_USERAUTH_SUCCESS, None): "_on_success",
    (c.MSG_USERAUTH_FAILURE, None): "_on_failure_message",
    (c.MSG_USERAUTH_FAILURE, "custom"): "_custom_message",  # the handler decides
    (_USERAUTH_INFO, "keyboard-interactive"): "_on_info_request",
    (_USERAUTH_INFO, "password"): "_on_password_change",
    (_USERAUTH_INFO, "publickey"): "_on_pk_ok",
}


def prompt_matches(pattern: str, prompt: str) -> bool:
    """PasswordPrompt matching: ? * and [ranges], as the spec describes."""
    if not pattern:
        return False
    return fnmatch.fnmatchcase(prompt.strip(), pattern.strip()) or fnmatch.fnmatchcase(
        prompt, pattern)


class Authenticator:
    """Runs the ssh-userauth service until success or a definite failure."""

    def __init__(self, options: ClientOptions, session_id: bytes,
                 send: Callable[[bytes], None], emit: Callable[[Event], None],
                 server_sig_algs: Callable[[], list[str] | None]) -> None:
        self.options = options
        self.session_id = session_id
        self._send = send
        self._emit = emit
        self._server_sig_algs = server_sig_algs
        self.done = False
        self.method: str | None = None  # method currently in flight
        self.tried: list[str] = []
        self.completed: list[str] = []
        self.last_failure_methods: list[str] = []
        self.server_methods: list[str] | None = None
        self._kbd_rounds = 0
        # The question asked of the front end (an event), and what to do
        # with its answer; no packet is handled until it comes.
        self.question: type[Event] | None = None
        self._resume: Callable[[Any], None] | None = None

    def _ask(self, event: Event, resume: Callable[[Any], None]) -> None:
        self.question, self._resume = type(event), resume
        self._emit(event)

    def answer(self, kind: type[Event], value: Any) -> None:
        """The front end's answer to the question of type `kind`."""
        if self.question is not kind or self._resume is None:
            raise UsageError(f"no {kind.__name__} is waiting for an answer", code=211)
        resume = self._resume
        self.question = self._resume = None
        resume(value)

    # ------------------------------------------------------------ start
    def start(self) -> None:
        mode = self.options.auth_mode
        if mode in (AUTH_GSSAPI_WITH_MIC, AUTH_GSSAPI_KEYEX):
            raise AuthenticationError(
                "GSSAPI/Kerberos authentication is not available in this release", code=1032)
        if mode == AUTH_CUSTOM:
            self._custom_step(b"")
            return
        # "none" first: it either succeeds or tells us which methods may continue.
        self._send_request("none")

    def _request_header(self, method: str) -> Writer:
        return (Writer().byte(c.MSG_USERAUTH_REQUEST).string(self.options.username.encode())
                .string(SERVICE_CONNECTION).string(method.encode()))

    def _send_request(self, method: str) -> None:
        if len(self.tried) >= MAX_ATTEMPTS:
            # Repeating methods (DoNotRepeatAuthMethods=False) must not let a
            # server that answers "partial success" forever keep us here.
            raise AuthenticationError(f"gave up after {MAX_ATTEMPTS} authentication attempts",
                                      code=1032)
        self.method = method
        self.tried.append(method)
        self._log(1, f"Trying {method} authentication")
        if method == "none":
            self._send(self._request_header("none").getvalue())
        elif method == "password":
            self._send(self._request_header("password").boolean(False)
                       .string(reveal(self.options.password).encode()).getvalue())
        elif method == "publickey":
            self._send_publickey()
        elif method == "keyboard-interactive":
            self._kbd_rounds = 0
            self._send(self._request_header("keyboard-interactive").string(b"").string(b"")
                       .getvalue())
        else:  # pragma: no cover - guarded by _next_method
            raise AuthenticationError(f"unsupported method {method}")

    def _send_publickey(self) -> None:
        key = self.options.private_key
        assert key is not None
        blob = key.public_blob
        cert = self.options.signed_certificate
        if cert:
            try:
                cert_type = Reader(cert).string().decode("ascii")
            except (ValueError, UnicodeDecodeError):
                raise AuthenticationError("SignedSSHCert is not an OpenSSH certificate",
                                          code=1032) from None
            if cert_type != key.key_type + CERT_SUFFIX:
                raise AuthenticationError(
                    f"SignedSSHCert is a {cert_type} certificate but the private key is "
                    f"{key.key_type}", code=1032)
            blob = cert
        algorithm = self._pubkey_algorithm()
        to_sign = (
            Writer().string(self.session_id).byte(c.MSG_USERAUTH_REQUEST)
            .string(self.options.username.encode()).string(SERVICE_CONNECTION)
            .string(b"publickey").boolean(True).string(algorithm.encode()).string(blob)
            .getvalue()
        )
        def send(signature: bytes | None) -> None:
            if not signature:
                raise AuthenticationError("the key's holder refused to sign", code=1032)
            self._send(self._request_header("publickey").boolean(True)
                       .string(algorithm.encode()).string(blob).string(signature).getvalue())
        self._ask(SignatureRequested(key.public_blob, algorithm.replace(CERT_SUFFIX, ""),
                                     to_sign), send)

    def _pubkey_algorithm(self) -> str:
        """The publickey algorithm name: the key's signature algorithm (RSA: the first of
        SSHPubKeyAuthSigAlgorithms' SHA-2 choices the server lists in server-sig-algs,
        else ssh-rsa), as a *-cert-v01@openssh.com name when a certificate is used."""
        key = self.options.private_key
        assert key is not None
        suffix = CERT_SUFFIX if self.options.signed_certificate else ""
        candidates = key.signature_algorithms()
        allowed = self.options.pubkey_signature_algorithms
        if allowed:
            candidates = [a for a in candidates if a in allowed] or candidates
        server = self._server_sig_algs()
        if key.key_type == "ssh-rsa":
            # RFC 8332: prefer SHA-2 when the server says it accepts it, else ssh-rsa.
            if server:
                for alg in candidates:
                    if alg in server:
                        return alg + suffix
            return ("ssh-rsa" if "ssh-rsa" in candidates else candidates[-1]) + suffix
        return candidates[0] + suffix

    # ------------------------------------------------------------ receive
    def handle_packet(self, msg_type: int, payload: bytes) -> None:
        r = Reader(payload)
        r.byte()
        name = (_HANDLERS.get((msg_type, self.method)) or _HANDLERS.get((msg_type, None))
                or ("_custom_message" if self.method == "custom" else None))
        if name is None:
            raise RemoteProtocolError(f"unexpected message {msg_type} during authentication",
                                      code=1036)
        getattr(self, name)(r, payload)

    def _on_banner(self, r: Reader, payload: bytes) -> None:
        # sshd sends its Banner file as it is, often not UTF-8: show, do not fail.
        message = r.text(errors="replace")
        self._emit(AuthBanner(message))
        self._log(1, f"Banner: {message}")

    def _on_success(self, r: Reader, payload: bytes) -> None:
        self._succeed()

    def _on_failure_message(self, r: Reader, payload: bytes) -> None:
        methods = r.name_list()
        self._on_failure(methods, r.boolean())

    def _on_password_change(self, r: Reader, payload: bytes) -> None:
        raise AuthenticationError(f"the server requires a password change: {r.text()}")

    def _on_pk_ok(self, r: Reader, payload: bytes) -> None:
        pass  # we always send signed requests: nothing to do

    def _custom_message(self, r: Reader, payload: bytes) -> None:
        self._custom_step(payload)  # the handler reads the server's packet itself

    def _succeed(self) -> None:
        if self.method:
            self.completed.append(self.method)
        self.done = True
        self._log(1, f"Authentication succeeded ({self.method})")
        self._emit(AuthCompleted(self.method or "none"))

    def _on_failure(self, methods: list[str], partial: bool) -> None:
        self.server_methods = methods
        if partial and self.method:
            self.completed.append(self.method)
            self._log(1, f"Partial success with {self.method}; server continues with "
                         f"{','.join(methods)}")
        elif self.method and self.method != "none":
            self._log(1, f"{self.method} authentication failed")
        nxt = self._next_method(methods, partial)
        if nxt is None:
            failed = self.method
            if failed == "none" and self.options.auth_mode == AUTH_NONE:
                detail = "the server requires authentication"
            elif failed and failed != "none":
                # Name every method that failed: with a password, connect()
                # tries keyboard-interactive after "password" was refused.
                refused = [m for m in dict.fromkeys(self.tried)
                           if m != "none" and m not in self.completed]
                detail = (f"{' and '.join(refused)} authentication "
                          f"{'were' if len(refused) > 1 else 'was'} rejected")
            else:
                detail = "no usable authentication method"
            raise AuthenticationError(
                f"{detail} (server allows: {','.join(methods) or 'nothing'})", code=1032)
        self._send_request(nxt)

    def _have_credentials(self, method: str) -> bool:
        o = self.options
        if method == "password":
            return bool(o.password)
        if method == "publickey":
            return o.private_key is not None
        if method == "keyboard-interactive":
            return o.kbd_interactive_handler is not None or bool(o.password)
        return False

    def _next_method(self, server_methods: list[str], partial: bool) -> str | None:
        o = self.options
        mode = o.auth_mode
        if mode == AUTH_NONE:
            return None
        order: list[str]
        if mode == AUTH_MULTIFACTOR or o.try_all_auth_methods:
            preferred = _MODE_METHOD.get(mode)
            order = ["publickey", "keyboard-interactive", "password"]
            if preferred:
                order.remove(preferred)
                order.insert(0, preferred)
        else:
            order = [_MODE_METHOD[mode]]
            if partial:
                # A partial success means the server wants more: use what we have.
                order += [m for m in ("publickey", "keyboard-interactive", "password")
                          if m not in order]
        for method in order:
            if method not in server_methods or not self._have_credentials(method):
                continue
            if method in self.completed and o.do_not_repeat_auth_methods:
                continue
            if method in self.tried and not partial and method not in self.completed:
                continue  # already failed once
            return method
        return None

    # ----------------------------------------------- keyboard-interactive
    def _on_info_request(self, r: Reader, payload: bytes) -> None:
        self._kbd_rounds += 1
        if self._kbd_rounds > 32:
            raise AuthenticationError("too many keyboard-interactive rounds")
        name = r.text()
        instructions = r.text()
        r.string()  # language tag
        count = r.uint32()
        if count > MAX_PROMPTS:
            raise RemoteProtocolError("keyboard-interactive request with too many prompts",
                                      code=1036)
        prompts = [(r.text(), r.boolean()) for _ in range(count)]

        def send(responses: list[str]) -> None:
            if len(responses) != len(prompts):
                raise AuthenticationError(
                    f"{len(responses)} keyboard-interactive answers to {len(prompts)} prompts")
            w = Writer().byte(c.MSG_USERAUTH_INFO_RESPONSE).uint32(len(responses))
            for answer in responses:
                w.string(answer.encode("utf-8"))
            self._send(w.getvalue())
        if not prompts:
            send([])  # nothing to ask (sshd sends these between rounds)
        else:
            self._ask(PromptsReceived(name, instructions, prompts), send)

    # ------------------------------------------------------------ custom
    def _custom_step(self, payload: bytes) -> None:
        self.method = "custom"

        def send(packet: bytes) -> None:
            if not packet:
                raise AuthenticationError("custom authentication was abandoned by the handler")
            self._send(packet)
        self._ask(CustomAuthStep(payload), send)

    def _log(self, level: int, message: str) -> None:
        if level <= self.options.log_level:  # 0: nobody reads them (see Transport._logs)
            self._emit(LogMessage(level, message))


# ------------------------------------------------------------------ answers
# What the options answer the questions with when the user gave options
# rather than answering the events themselves (operations.answer_question
# and the spec adapter). Each returns the callback's answer as it came (an
# awaitable from an `async def` handler, which only the asyncio API awaits);
# the front end turns it into the protocol's answer. The callbacks' time is
# not the login's (timed_user_call).
def ask_signature(options: ClientOptions, event: SignatureRequested) -> Any:
    key = options.private_key
    if key is None or key.public_blob != event.public_blob:
        raise AuthenticationError("no private key to sign with", code=1032)
    return timed_user_call(key.sign, event.data, event.algorithm)


def ask_prompts(options: ClientOptions, event: PromptsReceived) -> Any:
    """The prompt handler's answers; without one, the password for prompts
    that ask for it (PasswordPrompt, or "password" in the prompt), else ""."""
    if options.kbd_interactive_handler is not None:
        return timed_user_call(options.kbd_interactive_handler, event.name,
                               event.instructions, event.prompts)
    password = options.password
    return [reveal(password) if password and (
        prompt_matches(options.password_prompt_pattern, prompt)
        or "password" in prompt.lower()) else "" for prompt, _echo in event.prompts]


def ask_custom_auth(options: ClientOptions, event: CustomAuthStep) -> Any:
    handler = options.custom_auth_handler
    if handler is None:
        raise AuthenticationError("amCustom selected but no on_ssh_custom_auth handler")
    return timed_user_call(handler, event.payload)
