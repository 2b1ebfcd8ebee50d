"""The 2010-04-01 API: the account the credentials belong to."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

from ..errors import not_found
from ..routes import Call, route
from ..state import AccountState, declare_tables

TABLES = declare_tables(__name__, "accounts")

SUBRESOURCES = {
    "available_phone_numbers": "AvailablePhoneNumbers",
    "calls": "Calls",
    "conferences": "Conferences",
    "incoming_phone_numbers": "IncomingPhoneNumbers",
    "notifications": "Notifications",
    "outgoing_caller_ids": "OutgoingCallerIds",
    "recordings": "Recordings",
    "transcriptions": "Transcriptions",
    "addresses": "Addresses",
    "signing_keys": "SigningKeys",
    "connect_apps": "ConnectApps",
    "sip": "SIP",
    "authorized_connect_apps": "AuthorizedConnectApps",
    "usage": "Usage",
    "keys": "Keys",
    "applications": "Applications",
    "short_codes": "SMS/ShortCodes",
    "queues": "Queues",
    "messages": "Messages",
    "balance": "Balance",
}


def _own_account(emulator: AccountState) -> dict:
    """The emulated account, made when first asked for, so its dates hold until a reset."""
    sid, accounts = emulator.account.sid, emulator.table("accounts")
    if sid not in accounts:
        created = format_datetime(datetime.now(UTC))  # the 2010 API's dates are RFC 2822
        uri = f"/2010-04-01/Accounts/{sid}"
        # Twilio's answer also carries the auth token; the emulator records responses and never a secret.
        accounts[sid] = {
            "date_created": created,
            "date_updated": created,
            "friendly_name": "My first Twilio account",
            "owner_account_sid": sid,
            "sid": sid,
            "status": "active",
            "subresource_uris": {name: f"{uri}/{path}.json" for name, path in SUBRESOURCES.items()},
            "type": "Full",
            "uri": f"{uri}.json",
        }
    return accounts[sid]


@route("api", "GET", "/2010-04-01/Accounts/{Sid}.json")
def fetch_account(call: Call):
    """Only the emulator's own account exists; any other SID is Twilio's 404."""
    if call.params["Sid"] != call.emulator.account.sid:
        raise not_found(call.path)
    return 200, _own_account(call.emulator)
