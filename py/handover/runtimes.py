"""The Node.js runtimes of Twilio Functions: which ones Twilio builds on, which it retired or announced it retires, and
the one the project deploys on. `validate` reads the configured one (.twilioserverlessrc), `doctor` the deployed
build's. The emulator, a distribution of its own, keeps its own list (products/serverless.py RUNTIMES); a test holds
the two in step.

What Twilio said, as checked in December 2026:

- node16 and earlier: retired; node16 on 2024-02-01 (Twilio's "Functions and Assets Node.js v18 Upgrade").
- node18: retired on 2025-11-10: "Deployments using Node.js v18 after this date will fail"; what is deployed on it
  keeps running until it is changed (Twilio changelog, 2025-05-29, "Node.js v18 Support Ending for Twilio Functions
  and Assets").
- node20: Node.js 20's own end of life was 2026-04-30. Twilio published no date of its own that we found; the
  Serverless Toolkit's maintainers say Twilio no longer takes new builds on it (twilio-labs/serverless-toolkit pull
  request #565, September 2026, which drops node20 from the toolkit). Assumed retired on 2026-04-30.
- node22: the default for a service not yet built ("Node.js v22 remains the current default", Twilio changelog,
  2026-07-08), and what twilio-run 5.0.1, the latest on npm, writes into a new .twilioserverlessrc. No retirement
  announced (Node.js 22's own end of life is 2027-04-30).
- node24: available since 2026-07-08 (Twilio changelog, "Node.js v24 is now available for Twilio Functions"); it
  needs @twilio/runtime-handler 2.1.2 or later. No retirement announced.

A runtime whose retirement is announced for a later day is warned about until that day; from that day, a build on
it fails with Twilio's 82007 (Unsupported Runtime).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True)
class Runtime:
    name: str
    retires: date | None  # from this day Twilio builds nothing on it; None: no retirement announced
    source: str  # where Twilio (or, for node20, the toolkit's maintainers) said so


RUNTIMES = (
    Runtime("node16", date(2024, 2, 1), "Twilio's Node.js v18 upgrade guide"),
    Runtime("node18", date(2025, 11, 10), "Twilio's changelog of 2025-05-29"),
    Runtime("node20", date(2026, 4, 30), "Node.js 20's end of life; serverless-toolkit pull request #565"),
    Runtime("node22", None, "Twilio's changelog of 2026-07-08: the current default"),
    Runtime("node24", None, "Twilio's changelog of 2026-07-08"),
)
# What the project deploys on (.twilioserverlessrc).
DEPLOY_ON = "node22"


def fix(runtime: str) -> str:
    return (
        f'Set "runtime": "{runtime}" in .twilioserverlessrc, then deploy again (`twilio serverless:deploy`): Twilio '
        "builds on the runtime a deploy names."
    )


def today() -> date:
    return datetime.now(UTC).date()


def accepted(on: date) -> tuple[str, ...]:
    """The runtimes Twilio builds on that day."""
    return tuple(r.name for r in RUNTIMES if r.retires is None or r.retires > on)


def lasting() -> str:
    """The runtime to move to: DEPLOY_ON while no retirement of it is announced, else the newest such one."""
    names = [r.name for r in RUNTIMES if r.retires is None]
    return DEPLOY_ON if DEPLOY_ON in names else names[-1]


@dataclass(frozen=True)
class RuntimeProblem:
    runtime: str
    retired: bool  # Twilio builds nothing on it any more (else: its retirement is announced for a later day)
    message: str
    fix: str


def problem(name: str, on: date) -> RuntimeProblem | None:
    """What is wrong with building on this runtime that day; None when nothing is."""
    known = next((r for r in RUNTIMES if r.name == name), None)
    to = fix(lasting())
    if known is None:
        return RuntimeProblem(
            name,
            True,
            f"{name!r} is not a runtime Twilio Functions builds on (it takes {', '.join(accepted(on))})",
            to,
        )
    if known.retires is None:
        return None
    if known.retires <= on:
        return RuntimeProblem(
            name,
            True,
            f"Twilio retired {name} on {known.retires.isoformat()} ({known.source}): a deploy on it fails with 82007 "
            "(Unsupported Runtime); what is deployed on it runs until it is changed",
            to,
        )
    return RuntimeProblem(
        name,
        False,
        f"Twilio retires {name} on {known.retires.isoformat()} ({known.source}): from then a deploy on it fails",
        to,
    )
