"""HTTP API of the address registry: ``/api/v1/address``. Thin: it calls the facade.

The normalizer is public (no sign-in): it reads only the public registry, and every form that
takes an address (in kiban or in a relying party's system) may call it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import StringConstraints

from kiban.blocks import address
from kiban.blocks.address.errors import BatchTooLarge
from kiban.blocks.address.schemas import BATCH_EXAMPLE, MAX_BATCH, MAX_TEXT, NORMALIZE_EXAMPLE
from kiban.platform.webkit import DbSession, public

ERRORS: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "The registry has not been loaded yet (`address.registry_empty`): run"
        " `kiban address load`"
    },
    422: {
        "description": "Invalid input, `error.field` names it: `kiban.invalid` (a missing or"
        f" too long `q`, an item longer than {MAX_TEXT} characters) or"
        f" `address.batch_too_large` (more than {MAX_BATCH} addresses, field `body`)"
    },
}

router = APIRouter(
    prefix="/api/v1/address",
    tags=["address"],
    responses=ERRORS,
    dependencies=[Depends(public)],
)


@router.get(
    "/normalize",
    summary="Normalize one address (住所の正規化)",
    responses={200: {"content": {"application/json": {"example": NORMALIZE_EXAMPLE}}}},
)
def normalize_one(
    session: DbSession,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_TEXT,
            description="The address as a person wrote it, in any common form: full-width or"
            " half-width, kanji or digits, with or without prefecture, postal code, building.",
            examples=["〒100-0013 東京都千代田区霞が関1-3-1 合同庁舎4号館"],
        ),
    ],
) -> address.NormalizeResult:
    """The address read against the Address Base Registry, with abr-geocoder v3 field names.

    `match_level` says how far the input could be read (`unknown`, `pref`, `city`,
    `machiaza`, `machiaza_detail`, …) and never more than the input supports; `score` is 1 for
    an exact reading and lower for fuzzy ones; `unmatched_address` is the rest (building,
    room, anything not understood). Text that cannot be read at all still gets a result, with
    `match_level: unknown` and the reason in `error`. Towns are spelled as the registry spells
    them (the postal spelling is read as an alias). An input that fits several places equally
    (府中市; a ward name alone; a town several municipalities have) is never settled by a
    guess: `match_level` covers only what they share and `candidates` lists them. A
    municipality written by a former name (篠山市; 今市市, merged into 日光市) reads as
    today's with `former_name` set and a lower score; one now split among several
    municipalities answers `candidates`.
    """
    return address.normalize(q, session=session)


@router.post(
    "/normalize",
    summary="Normalize many addresses",
    responses={200: {"content": {"application/json": {"example": [NORMALIZE_EXAMPLE]}}}},
)
def normalize_batch(
    session: DbSession,
    body: Annotated[
        list[Annotated[str, StringConstraints(max_length=MAX_TEXT)]],
        Body(
            description=f"A JSON array of up to {MAX_BATCH} address texts.",
            examples=[BATCH_EXAMPLE],
            json_schema_extra={"maxItems": MAX_BATCH},
        ),
    ],
) -> list[address.NormalizeResult]:
    """One result per address, in the order given. A line that cannot be read gets
    `match_level: unknown` and the reason in `error`; the batch never stops on it.

    More than the limit is refused as a whole with 422 `address.batch_too_large` (field
    `body`); split the list.
    """
    if len(body) > MAX_BATCH:
        raise BatchTooLarge(
            f"一度に送れる住所は{MAX_BATCH}件までです（{len(body)}件ありました）",
            f"At most {MAX_BATCH} addresses per request ({len(body)} were sent)",
            field="body",
        )
    return list(address.normalize_many(body, session=session))
