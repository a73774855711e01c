"""Office pages for managing staff (職員の管理): the officials and service accounts of the
signed-in administrator's organisation, one account with its history, adding an official (a
person of the register: their own card is their sign-in), giving and ending roles (optionally
in one department), suspending, reinstating and closing accounts, service accounts' API keys,
and emergency access (break-glass).

Every page asks the one policy function for ``staff.manage`` (``staff.keys.manage`` for keys) in
the official's own organisation; accounts that never belonged to it answer 404. Reading needs no
fresh card; every change does (step-up, as the API): a change asked with a card presented more
than five minutes ago sends the official to present it again and back to the page. Every form
carries the session's CSRF token; ending a role, suspending, closing and revoking a key ask for
confirmation first; a change answers with a message naming who and what; a refused change shows
the page again with the field at fault, nothing written.
"""

from fastapi import APIRouter

from kiban.web.office.staff import account, adding, emergency, listing

router = APIRouter()
# The fixed paths (``/new``, ``/emergency``) come before ``/{account_id}``, which would take them.
for part in (listing, adding, emergency, account):
    router.include_router(part.router)
