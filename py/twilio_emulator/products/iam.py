"""IAM: the validation of a Flex user's token, as Flex's token validator asks Twilio for it.

**The operation is assumed.** `POST https://iam.twilio.com/v1/Accounts/{AccountSid}/Tokens/validate` is what
twilio-flex-token-validator (1.6.0, the package Twilio's Flex plugins and Function templates use to check the
token a Flex user's browser sends) calls; twilio_iam_v1.json describes no such operation (its tags name
IamV1ValidateToken, its paths do not). The validator sends, with HTTP Basic auth of the account SID and auth token
(or an API key and its secret), the JSON body `{"token": …}`, and reads only the answer's body, whatever its
status: `valid` true resolves to the whole answer (the caller reads `worker_sid`, `roles`, `identity`), anything
else rejects with its `message`. The answers assumed are those the validator's README shows and its users' tests
stub, answered 200:

- a token the emulator issued (`issue_flex_token`) before its expiration, an hour after it was issued on the
  account's clock: `{valid: true, code: 0, message: null, expiration, realm_user_id, identity, roles, worker_sid}`;
- any other token (unknown, or not a string): `{valid: false, code: 20101, message: "Invalid Access Token"}` with
  the other fields null; an expired one the same with Twilio's 20104, "Access Token expired or expiration date
  invalid";
- a path naming another account than the credential's: Twilio's 404, 20404.

The token is opaque: Flex's is a JWE that only Twilio reads; the emulator's is random text, recorded with the
worker and the roles it stands for. Its identity is the agent's identity in Flex (`flex.agent_identity`: the
worker's `contact_uri` without `client:`, else its friendly name); its realm user is the identity.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from ..errors import not_found
from ..formats import iso, parse_iso
from ..routes import Call, assumed_route
from ..state import AccountState, declare_tables
from .flex import agent_identity

TABLES = declare_tables(__name__, "flex_tokens")  # token → what it stands for

TOKEN_TTL_SECONDS = 3600  # a Flex user token's default time to live
INVALID = (20101, "Invalid Access Token")
EXPIRED = (20104, "Access Token expired or expiration date invalid")


def issue_flex_token(emulator: AccountState, worker_sid: str, roles: tuple[str, ...] = ("agent",)) -> str:
    """A Flex token of the worker (one of the account's) with those Flex roles (agent, supervisor, admin), as Flex
    gives a signed-in user's browser; LookupError for an unknown worker, ValueError for no role."""
    roles = tuple(roles)
    if not roles or not all(isinstance(role, str) and role for role in roles):
        raise ValueError(f"a Flex user has one role or more (agent, supervisor, admin), not {roles!r}")
    token = secrets.token_urlsafe(32)
    with emulator.lock:
        worker = emulator.table("workers").get(worker_sid)
        if worker is None:
            raise LookupError(f"no worker {worker_sid}: a Flex token is a worker's")
        identity = agent_identity(worker)
        emulator.table("flex_tokens")[token] = {
            "worker_sid": worker_sid,
            "roles": list(roles),
            "identity": identity,
            "realm_user_id": identity,
            "expiration": iso(emulator.now() + timedelta(seconds=TOKEN_TTL_SECONDS)),
        }
    return token


@assumed_route("iam", "POST", "/v1/Accounts/{AccountSid}/Tokens/validate")
def validate_token(call: Call):
    if call.params["AccountSid"] != call.emulator.account.sid:
        raise not_found(call.path)
    token = call.body.get("token") if isinstance(call.body, dict) else None
    issued = call.emulator.table("flex_tokens").get(token) if isinstance(token, str) else None
    if issued is None:
        return 200, _refused(*INVALID)
    if call.emulator.now() >= parse_iso(issued["expiration"]):
        return 200, _refused(*EXPIRED)
    return 200, {"valid": True, "code": 0, "message": None, **issued}


def _refused(code: int, message: str) -> dict:
    empty = dict.fromkeys(("expiration", "realm_user_id", "identity", "roles", "worker_sid"))
    return {"valid": False, "code": code, "message": message, **empty}
