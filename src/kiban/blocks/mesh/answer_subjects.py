"""The other people an answer discloses: the provider's ``subjects`` claim, checked and turned
into people by the provider's own codes, so that each finds the exchange in their records."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from kiban.blocks.mesh import codes
from kiban.blocks.mesh.errors import MeshRefusal
from kiban.blocks.mesh.own_sessions import _end, _read_engine, _standalone
from kiban.blocks.mesh.provider import MAX_SUBJECT_ITEMS, MAX_SUBJECT_TEXT, MAX_SUBJECTS
from kiban.blocks.mesh.service import engine_of
from kiban.platform.db import session_factory

if TYPE_CHECKING:
    from kiban.blocks.mesh.gateway import _Exchange


def _subject_list(declared: object) -> list[tuple[str, list[str]]]:
    """The (code, items) pairs of a ``subjects`` claim; ``Server.ServerProxy.ServiceFailed``
    if it is not a bounded list of codes, each with a list of item names."""
    if not isinstance(declared, list) or len(declared) > MAX_SUBJECTS:
        raise MeshRefusal("Server.ServerProxy.ServiceFailed", "subjects")
    pairs = []
    for entry in declared:
        code = entry.get("code") if isinstance(entry, dict) else None
        items = entry.get("items") if isinstance(entry, dict) else None
        if (
            not isinstance(code, str)
            or not 0 < len(code) <= MAX_SUBJECT_TEXT
            or not isinstance(items, list)
            or not 0 < len(items) <= MAX_SUBJECT_ITEMS
            or not all(isinstance(i, str) and 0 < len(i) <= MAX_SUBJECT_TEXT for i in items)
        ):
            raise MeshRefusal("Server.ServerProxy.ServiceFailed", "subjects")
        pairs.append((code, [str(i) for i in items]))
    return pairs


def _subjects(
    session: Session, state: _Exchange, provider: str, declared: object, group_commit: bool
) -> list[tuple[uuid.UUID, list[str], str]]:
    """The people an answer's ``subjects`` claim names, by the provider's own codes. A code the
    provider does not hold refuses the answer: data about someone the mesh cannot show it to
    is not released. The person the request was about is recorded already and is left out."""
    pairs = _subject_list(declared)
    found: dict[uuid.UUID, tuple[list[str], str]] = {}
    # As in _admitted: beside an idle caller, read through the gateway's own read-only session
    # so that the caller's session stays idle for the group commit.
    own = (
        session_factory(_read_engine(engine_of(session)))()
        if group_commit and _standalone(session)
        else None
    )
    reader = session if own is None else own
    try:
        for code, items in pairs:
            person = codes.person_for(reader, provider, code, committed=own is not None)
            if person is None:
                raise MeshRefusal("Server.ServerProxy.ServiceFailed", "subjects: unknown code")
            if person == state.person_id:
                continue
            held = found.setdefault(person, ([], code))[0]
            held.extend(i for i in items if i not in held)
        if own is not None:
            _end(own)
    finally:
        if own is not None:
            own.close()
    return [(person, items, code) for person, (items, code) in found.items()]
