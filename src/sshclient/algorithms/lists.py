"""Algorithm name-lists a caller gives us: parse, keep what we can run,
order, and refuse (error 1005, saying why for each name we cannot run)."""
from __future__ import annotations

from collections.abc import Collection, Sequence

from ..errors import SSHClientError
from .registry import why_unsupported
from .table import Kind


def split_list(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def restrict(requested: str, accepted: Collection[str]) -> list[str]:
    """Names from `requested` (in its order) that are in `accepted`."""
    accepted_set = set(accepted)
    return [name for name in split_list(requested) if name in accepted_set]


def prefer_strong(names: list[str], weak: Collection[str]) -> list[str]:
    """`names` with the `weak` ones moved after all the others (each group
    keeps its order): how a default list is offered, so that adding a legacy
    algorithm never makes it win over a strong one."""
    weak_set = set(weak)
    return [n for n in names if n not in weak_set] + [n for n in names if n in weak_set]


def check_algorithm_list(kind: Kind, label: str, value: str,
                         accepted: Sequence[str]) -> list[str]:
    """The names in the comma-separated `value` that are `accepted`; error
    1005 (saying why each named one cannot run) if there is none. Never fall
    back to our own defaults: a user who restricted the list meant it."""
    usable = restrict(value, accepted)
    if not usable:
        reasons = "; ".join(f"{name}: {why_unsupported(name, kind)}"
                            for name in split_list(value))
        raise SSHClientError(
            f"none of the {label} algorithms {value!r} is supported ({reasons}); "
            "supported: " + ",".join(accepted),
            code=1005,
        )
    return usable


def check_requested(kind: Kind, names: list[str], accepted: Collection[str]) -> None:
    """An explicit list (the Pythonic API) may name only `accepted` names:
    error 1005 naming each other entry and why."""
    accepted_set = set(accepted)
    bad = [name for name in names if name not in accepted_set]
    if bad:
        raise SSHClientError(
            f"unsupported {kind.label} algorithm(s): "
            + "; ".join(f"{name}: {why_unsupported(name, kind)}" for name in bad),
            code=1005,
        )
