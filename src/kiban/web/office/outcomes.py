"""What an official's action does, in words: asked before it is taken (the confirmation page)
and said after it was taken (the message on the next page). Officials read who leaves or joins
the register, not the name of a state.

The moving procedures say whom the register change touches: the movers of a moving-out or
moving-within notice (the applicant and the household members they chose, read as a procedure
read) or the people whose moving-out data a moving-in received. Every other action is said
with its label, the procedure and the applicant.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from kiban.blocks import procedures, residents
from kiban.life_events import moving
from kiban.platform import i18n
from kiban.platform.authority import Principal

__all__ = ["claimed", "consequence", "names_of", "outcome"]

_REGISTER_ACTIONS = {
    (moving.MOVE_OUT, "approve"),
    (moving.MOVE_IN, "complete"),
    (moving.MOVE_WITHIN, "complete"),
}


def names_of(
    session: Session,
    principal: Principal,
    app: procedures.ApplicationRead,
    action: str,
    *,
    route: str,
) -> list[str]:
    """The people an action changes in the register (the applicant alone for other actions)."""
    if (app.code, action) not in _REGISTER_ACTIONS:
        ids = [app.applicant_id]
    elif app.code == moving.MOVE_IN:
        names = [str(p.get("name")) for p in app.outputs.get("packets", []) if p.get("name")]
        if names:
            return names
        ids = [app.applicant_id]
    else:
        ids = moving.mover_ids(session, app)
    found = residents.access_names_by_person_ids(
        session, principal, ids, purpose=residents.ReadPurpose.PROCEDURE, route=route
    )
    return [found.get(person_id, str(person_id)) for person_id in ids]


def _names(lang: i18n.Language, names: Sequence[str]) -> str:
    # Japanese names each take さん (山田 太郎さん、山田 花子さん); English lists them.
    if lang == "ja":
        return "、".join(f"{name}さん" for name in names)
    return ", ".join(names)


def _title(lang: i18n.Language, app: procedures.ApplicationRead) -> str:
    return app.title_ja if lang == "ja" else app.title_en


def consequence(
    lang: i18n.Language,
    app: procedures.ApplicationRead,
    action: procedures.ActionDef,
    names: Sequence[str],
) -> str:
    """What the action will do, asked on the confirmation page."""
    _ = i18n.translations(lang).gettext
    who = _names(lang, names)
    key = (app.code, action.name)
    if key == (moving.MOVE_OUT, "approve"):
        return _(
            "Accepting removes %(names)s from the resident register (moved out) and sends "
            "their moving-out data to the new office through the mesh."
        ) % {"names": who}
    if key == (moving.MOVE_IN, "complete"):
        return _(
            "Completing adds %(names)s to the resident register at %(address)s (moved in), "
            "from the day the resident states."
        ) % {"names": who, "address": app.outputs.get("destination") or "—"}
    if key == (moving.MOVE_WITHIN, "complete"):
        return _(
            "Completing changes the address of %(names)s in the resident register to %(address)s."
        ) % {"names": who, "address": app.values.get("destination") or "—"}
    if action.needs_reason:
        return _(
            "The application goes back to %(names)s with your reason, which they read in "
            "their inbox."
        ) % {"names": who}
    return _("%(action)s: %(title)s of %(names)s.") % {
        "action": action.label_en if lang == "en" else action.label_ja,
        "title": _title(lang, app),
        "names": who,
    }


def outcome(
    lang: i18n.Language,
    app: procedures.ApplicationRead,
    action: procedures.ActionDef,
    names: Sequence[str],
) -> str:
    """What the action did, said once on the next page."""
    _ = i18n.translations(lang).gettext
    who = _names(lang, names)
    key = (app.code, action.name)
    if key == (moving.MOVE_OUT, "approve"):
        return _(
            "Removed from the resident register (moved out): %(names)s. Their moving-out "
            "data was sent to the new office."
        ) % {"names": who}
    if key == (moving.MOVE_IN, "complete"):
        return _("Added to the resident register (moved in): %(names)s.") % {"names": who}
    if key == (moving.MOVE_WITHIN, "complete"):
        return _("Address changed in the resident register (moved within): %(names)s.") % {
            "names": who
        }
    if action.needs_reason:
        return _("Sent back to %(names)s with your reason.") % {"names": who}
    return _("Done: %(action)s (%(title)s of %(names)s).") % {
        "action": action.label_en if lang == "en" else action.label_ja,
        "title": _title(lang, app),
        "names": who,
    }


def claimed(
    lang: i18n.Language, app: procedures.ApplicationRead, applicant: str, *, released: bool
) -> str:
    """What claiming or releasing a task did."""
    _ = i18n.translations(lang).gettext
    params = {"title": _title(lang, app), "names": _names(lang, [applicant])}
    if released:
        return _("Released: %(title)s of %(names)s is back in the task queue.") % params
    return _("You now handle %(title)s of %(names)s.") % params
