"""The asyncio API seen through the blocking API's eyes, so that one test body
drives every front end.

`SyncProxy(target, loop)` stands for an object of sshclient.aio: whatever a
call returns that can be awaited (a coroutine method's coroutine, or the
awaitable `aio.connect()` gives) is run to its end with
`loop.run_until_complete()`; `async with` becomes `with` and `async for`
becomes `for`; attributes are read and set on the target. Results that are
themselves asynchronous objects come back proxied too; plain values
(bytes, ExecResult, ...) come back as they are. Nothing here names a method
of the API: a method added to AsyncChannel is covered as it is.

`front_end(kind)` gives the module to call connect() on plus a way to end
it: "blocking" is `sshclient` itself; "asyncio" and "uvloop" are
`sshclient.aio` behind a SyncProxy on that kind of event loop.

`front_end(kind, background=True)` runs the event loop in a thread of its
own instead, and every call on the proxy (awaited or not) runs on that
thread: for what the loop must serve while the test does blocking I/O of
its own (a forwarding listener the test connects to), as an application's
loop would.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

import sshclient
from sshclient import aio


def _is_async_object(value: object) -> bool:
    """An object a caller would have to await or `async with`/`async for`."""
    if isinstance(value, ModuleType):
        return True  # the module itself: its connect() returns an awaitable
    kind = type(value)
    if hasattr(kind, "__aenter__") or hasattr(kind, "__aiter__"):
        return True
    return any(inspect.iscoroutinefunction(getattr(kind, name, None)) for name in dir(kind))


def _has_lifecycle(value: object) -> bool:
    """An object of the API that can be closed (a listener): in background
    mode its plain methods must run on the loop's thread too."""
    return callable(getattr(type(value), "close", None)) and not isinstance(value, ModuleType)


def _unwrapped(value: Any) -> Any:
    """What a proxy stands for (a connection passed as an argument: jump=)."""
    if isinstance(value, SyncProxy):
        return object.__getattribute__(value, "_target")
    return value


class SyncProxy:
    """See the module docstring."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop,
                 background: bool = False) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_loop", loop)
        object.__setattr__(self, "_background", background)

    def _settle(self) -> None:
        """Let the loop run what a plain call scheduled (a transport's close
        happens in a callback), as an application's running loop would."""
        if not self._background:
            self._loop.run_until_complete(asyncio.sleep(0))

    def _wrap(self, value: Any) -> Any:
        if _is_async_object(value) or (self._background and _has_lifecycle(value)):
            return SyncProxy(value, self._loop, self._background)
        return value

    def _run(self, awaitable: Any) -> Any:
        if not self._background:
            return self._loop.run_until_complete(awaitable)

        async def awaiting() -> Any:
            return await awaitable
        return asyncio.run_coroutine_threadsafe(awaiting(), self._loop).result()

    def _on_loop(self, call: Callable[[], Any]) -> Any:
        """`call()` on the loop's thread (in background mode), its result here."""
        if not self._background:
            return call()
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(call())
            except BaseException as exc:
                done.set_exception(exc)
        self._loop.call_soon_threadsafe(run)
        return done.result()

    def _outcome(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            value = self._run(value)
        else:
            self._settle()
        return self._wrap(value)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if isinstance(value, type):
            return value  # a class (aio.ExecResult): as it is
        if callable(value):
            # a coroutine method, or a plain one that may hand back an
            # awaitable (aio.connect) or an asynchronous object
            def call(*args: Any, **kwargs: Any) -> Any:
                args = tuple(_unwrapped(arg) for arg in args)
                kwargs = {name: _unwrapped(arg) for name, arg in kwargs.items()}
                return self._outcome(self._on_loop(lambda: value(*args, **kwargs)))
            return call
        return self._wrap(value)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)

    def __enter__(self) -> Any:
        target = self._target
        if hasattr(type(target), "__aenter__"):
            entered = self._run(type(target).__aenter__(target))
            return self if entered is target else self._wrap(entered)
        return type(target).__enter__(target)

    def __exit__(self, *exc: Any) -> Any:
        target = self._target
        if hasattr(type(target), "__aexit__"):
            suppress = self._run(type(target).__aexit__(target, *exc))
            self._settle()  # e.g. the transport's close, done in a callback
            return suppress
        return type(target).__exit__(target, *exc)

    def __iter__(self) -> Iterator[Any]:
        target = self._target
        if not hasattr(type(target), "__aiter__"):
            return iter(target)
        agen = type(target).__aiter__(target)

        def items() -> Iterator[Any]:
            try:
                while True:
                    try:
                        item = self._run(agen.__anext__())
                    except StopAsyncIteration:
                        return
                    yield self._wrap(item)
            finally:
                aclose = getattr(agen, "aclose", None)
                if aclose is not None:
                    self._run(aclose())
        return items()

    def __repr__(self) -> str:
        return f"SyncProxy({self._target!r})"


FRONT_ENDS = ["blocking", "asyncio", "uvloop"]


def front_end(kind: str, background: bool = False) -> tuple[Any, Callable[[], None]]:
    """(the API to call connect() on, what ends it after the test)."""
    if kind == "blocking":
        return sshclient, lambda: None
    if kind == "uvloop":
        loop = aio.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    if not background:
        return SyncProxy(aio, loop), lambda: aio._close_loop(loop)
    thread = threading.Thread(target=loop.run_forever, name=f"{kind} loop", daemon=True)
    thread.start()

    def end() -> None:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        aio._close_loop(loop)
    return SyncProxy(aio, loop, background=True), end


# ------------------------------------------------- for the test bodies
@pytest.fixture(params=FRONT_ENDS, name="api")
def api_fixture(request: Any) -> Iterator[Any]:
    """The module to call connect() on, in the blocking API's shape. A test
    module that sets LOOP_IN_THREAD = True gets the loop in a thread."""
    if request.param == "uvloop":
        pytest.importorskip("uvloop", reason="uvloop is not installed (pip install uvloop)")
    module, end = front_end(request.param, getattr(request.module, "LOOP_IN_THREAD", False))
    yield module
    end()


@pytest.fixture(params=["sshd", "dropbear"], name="server")
def server_fixture(request: Any) -> Any:
    """Each test against sshd and against dropbear."""
    return request.getfixturevalue(request.param)


def login(api: Any, server: Any, user: Any, **kw: Any) -> Any:
    """connect() to a test server as the test user, any host key accepted."""
    kw.setdefault("timeout", 30)
    return api.connect(server.host, server.port, username=user.name, password=user.password,
                       accept_any_host_key=True, **kw)
