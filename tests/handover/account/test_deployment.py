"""Finding the deployed service and environment, in the Serverless
Toolkit's order, through `handover env set --dry-run`."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from handover.account import deployment
from handover.account.credentials import Credentials
from handover.cli import cli
from tests.handover.conftest import API_KEY_SECRET
from twilio_emulator import Fault
from twilio_emulator.products import serverless

MISSING_SERVICE = "ZS" + "0" * 32
BUILD = "ZB" + "b" * 32
OTHER_ACCOUNT = "AC" + "e" * 32
DEPLOY_HINT = "Deploy with `twilio serverless:deploy` (or `npm run deploy`), or pass --service-sid ZS…."
_decoys = itertools.count(1)


@pytest.fixture
def env_set(twilio, project):
    """`handover env set` with the Flex SIDs, unverified: the tests here are about where it writes."""
    runner = CliRunner()

    def run(*args: str):
        account = twilio.account
        result = runner.invoke(
            cli,
            [
                "--project-dir",
                str(project),
                "env",
                "set",
                "--workspace-sid",
                account.workspace_sid,
                "--workflow-sid",
                account.workflow_sid,
                "--no-verify",
                *args,
            ],
            catch_exceptions=False,
        )
        assert twilio.emulator.account.auth_token not in result.output
        return result

    return run


@pytest.fixture
def decoy(twilio):
    """Another deployed service with a dev environment: what the sources that lose name. (unique name, SID)"""
    emulator = twilio.emulator
    with emulator.lock:
        service = serverless.add_service(emulator, f"decoy-{next(_decoys)}")
        serverless.add_environment(emulator, service["sid"])
    return service["unique_name"], service["sid"]


@pytest.fixture
def stage(twilio, deployed) -> dict:
    """A second environment of the deployed service, with the domain suffix stage."""
    with twilio.emulator.lock:
        return serverless.add_environment(twilio.emulator, deployed.service_sid, "stage")


def unique_name(emulator, service_sid: str) -> str:
    return emulator.table("serverless_services")[service_sid]["unique_name"]


def write_rc(project: Path, **fields) -> None:
    """The .twilioserverlessrc as JSON5, the way the Toolkit reads it: comments and a trailing comma."""
    body = "".join(f"  {json.dumps(key)}: {json.dumps(value)},\n" for key, value in fields.items())
    (project / ".twilioserverlessrc").write_text(
        f'{{\n  // written by the test\n  "runtime": "node22",\n{body}}}\n', encoding="utf-8"
    )


def write_deploy_info(project: Path, entries: dict[str, object]) -> None:
    (project / ".twiliodeployinfo").write_text(json.dumps(entries, indent="\t"), encoding="utf-8")


def deploy_info_entry(service_sid: str) -> dict:
    return {"serviceSid": service_sid, "latestBuild": BUILD}


def write_package_json(project: Path, name: str) -> None:
    (project / "package.json").write_text(
        json.dumps({"name": name, "version": "0.1.0", "private": True}), encoding="utf-8"
    )


def service_note(result) -> str:
    return result.stderr.splitlines()[1]


def listed_paths(emulator) -> list[str]:
    return [r.path for r in emulator.requests]


# The service: each source, and the ones it beats --------------------------------------------------------

SOURCES = ("--service-sid", "rc serviceSid", ".twiliodeployinfo", "rc serviceName", "package.json name")


def name_the_service(
    project: Path, source: str, service: tuple[str, str], rc: dict, deploy_info: dict, account_sid: str
) -> list[str]:
    """Make `source` name `service` (unique name, SID); returns the options to add."""
    name, sid = service
    if source == "--service-sid":
        return ["--service-sid", sid]
    if source == "rc serviceSid":
        rc["serviceSid"] = sid
    elif source == ".twiliodeployinfo":
        deploy_info[f"{account_sid}:us1"] = deploy_info_entry(sid)
    elif source == "rc serviceName":
        rc["serviceName"] = name
    else:
        write_package_json(project, name)
    return []


@pytest.mark.parametrize("winner", SOURCES)
def test_each_source_beats_the_ones_after_it(env_set, emulator, account_env, project, deployed, decoy, winner):
    name, account_sid = unique_name(emulator, deployed.service_sid), emulator.account.sid
    rc, deploy_info, options = {}, {}, []
    for source in SOURCES[SOURCES.index(winner) :]:
        options += name_the_service(
            project, source, (name, deployed.service_sid) if source == winner else decoy, rc, deploy_info, account_sid
        )
    write_rc(project, **rc)
    if deploy_info:
        write_deploy_info(project, deploy_info)
    result = env_set("--dry-run", *options)
    assert result.exit_code == 0, result.output
    found_by = {
        "--service-sid": "--service-sid",
        "rc serviceSid": "serviceSid in .twilioserverlessrc",
        ".twiliodeployinfo": f".twiliodeployinfo ({account_sid}:us1)",
        "rc serviceName": f"unique name {name!r} (serviceName in .twilioserverlessrc)",
        "package.json name": f"unique name {name!r} (name in package.json)",
    }[winner]
    assert result.stderr.splitlines() == [
        f"Using account {account_sid} (auth token, from the environment).",
        f"Using service {deployed.service_sid} (found by {found_by}).",
        f"Using environment {deployed.environment_sid} at https://{deployed.domain_name}.",
        "Dry run: nothing was written.",
    ]
    by_name = ["/v1/Services/" + name] if winner in ("rc serviceName", "package.json name") else []
    assert listed_paths(emulator) == [
        *by_name,
        f"/v1/Services/{deployed.service_sid}/Environments",
        f"/v1/Services/{deployed.service_sid}/Environments/{deployed.environment_sid}/Variables",
        "/v1/Services/default/Maps",  # the Sync claim Maps env set makes sure of
    ]


def test_deploy_info_of_an_api_key_beats_the_accounts(env_set, emulator, api_key, project, deployed, decoy):
    write_deploy_info(
        project,
        {
            f"{emulator.account.sid}:us1": deploy_info_entry(decoy[1]),
            f"{api_key}:us1": deploy_info_entry(deployed.service_sid),
        },
    )
    result = env_set("--dry-run")
    assert result.exit_code == 0, result.output
    assert service_note(result) == f"Using service {deployed.service_sid} (found by .twiliodeployinfo ({api_key}:us1))."
    assert API_KEY_SECRET not in result.output


def test_deploy_info_of_the_account_serves_an_api_key_too(env_set, emulator, api_key, project, deployed):
    write_deploy_info(project, {f"{emulator.account.sid}:us1": deploy_info_entry(deployed.service_sid)})
    result = env_set("--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        service_note(result)
        == f"Using service {deployed.service_sid} (found by .twiliodeployinfo ({emulator.account.sid}:us1))."
    )


def test_deploy_info_of_an_old_toolkit_keyed_without_region(env_set, emulator, account_env, project, deployed):
    write_deploy_info(project, {emulator.account.sid: deploy_info_entry(deployed.service_sid)})
    result = env_set("--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        service_note(result)
        == f"Using service {deployed.service_sid} (found by .twiliodeployinfo ({emulator.account.sid}))."
    )


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(
            lambda account, decoy_sid: {f"{OTHER_ACCOUNT}:us1": deploy_info_entry(decoy_sid)}, id="another account"
        ),
        pytest.param(lambda account, decoy_sid: {f"{account}:au1": deploy_info_entry(decoy_sid)}, id="another region"),
        pytest.param(
            lambda account, decoy_sid: {f"{account}:us1": {"serviceSid": "flex-handover", "latestBuild": BUILD}},
            id="not a service SID",
        ),
        pytest.param(lambda account, decoy_sid: {f"{account}:us1": decoy_sid}, id="not an object"),
    ],
)
def test_deploy_info_that_does_not_fit_is_passed_over(env_set, emulator, account_env, project, deployed, decoy, entry):
    write_deploy_info(project, entry(emulator.account.sid, decoy[1]))
    write_package_json(project, unique_name(emulator, deployed.service_sid))
    result = env_set("--dry-run")
    assert result.exit_code == 0, result.output
    assert service_note(result) == (
        f"Using service {deployed.service_sid} (found by unique name "
        f"{unique_name(emulator, deployed.service_sid)!r} (name in package.json))."
    )


ACCOUNT = "AC" + "a" * 32


@pytest.mark.parametrize(
    ("region", "key"), [(None, f"{ACCOUNT}:us1"), ("au1", f"{ACCOUNT}:au1"), ("ie1", f"{ACCOUNT}:ie1")]
)
def test_deploy_info_is_read_for_the_region_of_twilio_region(tmp_path, monkeypatch, region, key):
    """TWILIO_REGION also moves the SDK to another host, which the emulator does not serve: no client here."""
    if region:
        monkeypatch.setenv("TWILIO_REGION", region)
    else:
        monkeypatch.delenv("TWILIO_REGION", raising=False)
    services = {region_name: "ZS" + digit * 32 for region_name, digit in (("us1", "1"), ("au1", "2"), ("ie1", "3"))}
    write_deploy_info(tmp_path, {f"{ACCOUNT}:{name}": deploy_info_entry(sid) for name, sid in services.items()})
    found = deployment.find_service(None, tmp_path, Credentials(ACCOUNT, ACCOUNT, "token", "the environment"), None)
    assert found == (services[region or "us1"], f".twiliodeployinfo ({key})")


def test_no_service_anywhere_says_to_deploy(env_set, emulator, account_env, project):
    result = env_set()
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "Error: No deployed service found: no serviceSid in .twilioserverlessrc, "
        f"no .twiliodeployinfo, no service name. {DEPLOY_HINT}"
    )
    assert emulator.requests == []
    assert not (project / ".env").exists()


def test_a_service_name_that_is_not_deployed_says_to_deploy(env_set, emulator, account_env, project):
    write_package_json(project, "never-deployed")
    result = env_set()
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: No service named 'never-deployed' in account {emulator.account.sid}, and no serviceSid in "
        f".twilioserverlessrc or .twiliodeployinfo for it. {DEPLOY_HINT}"
    )
    assert listed_paths(emulator) == ["/v1/Services/never-deployed"]
    assert not (project / ".env").exists()


def test_a_service_sid_that_does_not_exist_says_to_deploy(env_set, emulator, account_env, project):
    result = env_set("--service-sid", MISSING_SERVICE)
    assert result.exit_code == 1
    assert (
        result.stderr.splitlines()[-1]
        == f"Error: Service {MISSING_SERVICE} does not exist in this account. {DEPLOY_HINT}"
    )
    assert listed_paths(emulator) == [f"/v1/Services/{MISSING_SERVICE}/Environments"]
    assert not (project / ".env").exists()


def test_a_refused_service_lookup_is_an_error_not_a_missing_service(env_set, emulator, account_env, project):
    write_package_json(project, "flex-handover-refused")
    emulator.inject(Fault("GET", "/v1/Services/flex-handover-refused", status=403, code=20403))
    result = env_set()
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: Twilio answered GET /Services/flex-handover-refused with HTTP 403, error 20403: Unable to fetch "
        "record: Injected fault 403"
    )


# The environment -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["suffix", "unique name", "SID"])
def test_environment_by_suffix_unique_name_or_sid(env_set, emulator, account_env, deployed, stage, given):
    value = {"suffix": "stage", "unique name": "stage-environment", "SID": stage["sid"]}[given]
    result = env_set("--dry-run", "--service-sid", deployed.service_sid, "--environment", value)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[2] == f"Using environment {stage['sid']} at https://{stage['domain_name']}."
    assert listed_paths(emulator)[-2:] == [
        f"/v1/Services/{deployed.service_sid}/Environments/{stage['sid']}/Variables",
        "/v1/Services/default/Maps",
    ]
    assert result.stdout.splitlines()[0].endswith(f"environment {stage['domain_name']}: to create")


def test_dev_is_the_default_environment(env_set, account_env, deployed, stage):
    result = env_set("--dry-run", "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert (
        result.stderr.splitlines()[2]
        == f"Using environment {deployed.environment_sid} at https://{deployed.domain_name}."
    )


def test_the_rc_environment_is_the_default(env_set, account_env, project, deployed, stage):
    write_rc(project, environment="stage")
    result = env_set("--dry-run", "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[2] == f"Using environment {stage['sid']} at https://{stage['domain_name']}."


def test_environment_option_beats_the_rc(env_set, account_env, project, deployed, stage):
    write_rc(project, environment="stage")
    result = env_set("--dry-run", "--service-sid", deployed.service_sid, "--environment", "dev")
    assert result.exit_code == 0, result.output
    assert (
        result.stderr.splitlines()[2]
        == f"Using environment {deployed.environment_sid} at https://{deployed.domain_name}."
    )


def test_an_unknown_environment_lists_the_suffixes(env_set, emulator, account_env, project, deployed, stage):
    result = env_set("--service-sid", deployed.service_sid, "--environment", "prod")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"Error: Service {deployed.service_sid} has no environment 'prod' (domain suffixes: 'dev', 'stage'). "
        "Pass --environment with one of them, or deploy to it with `twilio serverless:deploy --environment prod`."
    )
    assert [r.method for r in emulator.requests] == ["GET"]
    assert not (project / ".env").exists()


# Project files that do not parse -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            ".twilioserverlessrc",
            '{"serviceSid": ',
            ".twilioserverlessrc is not valid: <string>:1 Unexpected end of input at column 16. Fix or remove it.",
        ),
        (".twilioserverlessrc", "[]", ".twilioserverlessrc must hold a JSON object. Fix or remove it."),
        (
            ".twiliodeployinfo",
            '{"AC": ',
            ".twiliodeployinfo is not valid: Expecting value: line 1 column 8 (char 7). Fix or remove it.",
        ),
        (".twiliodeployinfo", '"ZS"', ".twiliodeployinfo must hold a JSON object. Fix or remove it."),
        (
            "package.json",
            "{name: 1}",
            "package.json is not valid: Expecting property name enclosed "
            "in double quotes: line 1 column 2 (char 1). Fix or remove it.",
        ),
    ],
)
def test_a_project_file_that_does_not_parse_is_a_clear_error(
    env_set, emulator, account_env, project, name, text, message
):
    (project / name).write_text(text, encoding="utf-8")
    result = env_set()
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"Error: {message}"
    assert emulator.requests == []
    assert not (project / ".env").exists()
