"""Port forwarding, written once for every front end.

The pieces here move bytes between local sockets and SSH channels without
ever waiting: a driver tells them when a socket they watch is ready
(`Watcher.watch`) and calls `Forwarding.on_round()` after each round of
SSH input, when channel windows, data, EOFs and closes may have changed.
The blocking driver does that from its selector (a service thread pumps
while forwards exist); the asyncio driver from the event loop's readers
and writers. Neither holds any forwarding logic.

    LocalForward   a listener (TCP or Unix socket) whose connections become
                   direct-tcpip / direct-streamlocal channels (ssh -L)
    RemoteForward  a listener on the server whose connections come to a
                   local target (ssh -R)
    Splice         one local socket joined to one channel
    Forwarding     a connection's listeners and splices, and the round hook
"""
from .local import LocalForward
from .remote import RemoteForward
from .service import Forwarding
from .splice import Splice
from .watcher import OnReady, RoundListener, Watcher

__all__ = ["Forwarding", "LocalForward", "OnReady", "RemoteForward", "RoundListener", "Splice",
           "Watcher"]
