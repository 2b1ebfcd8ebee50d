"""`twilio-emulator`: start an emulated account for any client, report what the emulator serves, fetch the description.

Data goes to stdout, messages to stderr. `python -m twilio_emulator.cli` runs it too.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import threading
from dataclasses import asdict
from pathlib import Path

import click

from . import spec_directory, spec_files
from .coverage import CoveredOperation, ProductCoverage, coverage_by_product
from .pipeline import Emulator
from .proxy import EmulatorProxy, is_loopback
from .scenario import FlexAccount, new_account, seed_flex_account
from .spec import Spec, SpecNotFound

CONTEXT = {"help_option_names": ["-h", "--help"]}
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

openapi_dir_option = click.option(
    "--openapi-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder of Twilio's twilio_*.json files. Default: $TWILIO_EMULATOR_OPENAPI_DIR, else "
    f"./{spec_files.CACHE_PATH} (where fetch-openapi puts them).",
)


def _spec_folder(openapi_dir: Path | None) -> Path:
    return openapi_dir if openapi_dir is not None else spec_directory(Path.cwd())


@click.group("twilio-emulator", context_settings=CONTEXT)
@click.version_option(package_name="twilio-emulator", message="%(prog)s %(version)s")
def main() -> None:
    """A local stand-in for the Twilio REST API, checked against Twilio's own OpenAPI description."""


# start ---------------------------------------------------------------------------------------------------------


def _loopback_host(ctx: click.Context, param: click.Parameter, host: str) -> str:
    if not is_loopback(host):
        raise click.BadParameter(
            f"{host!r} is not a loopback address: the emulator is a test double for this machine's clients, so it "
            "listens on 127.0.0.1 (or another 127.x.y.z) only.",
            ctx,
            param,
        )
    return host


def _client_environment(proxy: EmulatorProxy, emulator: Emulator) -> dict[str, str]:
    """What an SDK or any HTTP client needs in its environment: the proxy, its CA and the account's credentials.

    Beside the proxy's own (Python's requests, Node): SSL_CERT_FILE for OpenSSL-based clients (Python's ssl and
    urllib, httpx, Go), CURL_CA_BUNDLE for curl.
    """
    ca_file = str(proxy.ca_path)
    return {
        **proxy.client_environment(),
        "SSL_CERT_FILE": ca_file,
        "CURL_CA_BUNDLE": ca_file,
        "TWILIO_ACCOUNT_SID": emulator.account.sid,
        "TWILIO_AUTH_TOKEN": emulator.account.auth_token,
    }


def _shell_lines(environment: dict[str, str], flex: FlexAccount | None) -> list[str]:
    lines = [f"export {name}={shlex.quote(value)}" for name, value in environment.items()]
    if flex is not None:  # a comment: the file stays one to source
        lines.append("# Seeded Flex account: " + " ".join(f"{name}={value}" for name, value in asdict(flex).items()))
    return lines


def _write_private(path: Path, text: str) -> None:
    """`text` in `path`, readable by its owner only (the auth token is in it), whatever mode the file had."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def _summary(emulator: Emulator) -> list[str]:
    lines = [
        f"twilio-emulator: stopped; requests: {len(emulator.requests)}, violations: {len(emulator.violations)}, "
        f"unserved operations (501): {len(emulator.unserved)}"
    ]
    lines += [f"  violation: {violation}" for violation in emulator.violations]
    lines += [f"  not served (501): {unserved}" for unserved in emulator.unserved]
    return lines


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    callback=_loopback_host,
    help="The loopback address to listen on; no other is taken.",
)
@click.option(
    "--port", default=0, show_default=True, type=click.IntRange(0, 65535), help="The port; 0 picks a free one."
)
@click.option(
    "--seed",
    type=click.Choice(["flex", "none"]),
    default="flex",
    show_default=True,
    help="flex: the account as a Flex contact center has it (Flex enabled, a TaskRouter workspace, workflow and "
    "task channels, a Conversations service with a conversation and a user); none: an empty account.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object line instead of `export` lines.")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the `export` lines to this file, readable by you only (mode 0600).",
)
@openapi_dir_option
def start(host: str, port: int, seed: str, as_json: bool, env_file: Path | None, openapi_dir: Path | None) -> None:
    """Start an emulated account for any client, until Ctrl-C.

    A new account, with a random SID and auth token, served behind the emulator's TLS proxy on loopback.
    Prints on stdout what a client needs in its environment, as `export NAME=value` lines (with --json, one
    JSON object line): HTTPS_PROXY and HTTP_PROXY (the proxy), REQUESTS_CA_BUNDLE (Python's requests),
    NODE_EXTRA_CA_CERTS and NODE_OPTIONS (Node, and its default HTTPS agent through the proxy), SSL_CERT_FILE and
    CURL_CA_BUNDLE (other clients, curl), and the account's TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN. That token
    is the emulator's own throwaway credential, made for this run: no real account's. It keeps running in the
    foreground; on SIGINT or SIGTERM it stops, prints a summary on stderr (requests, violations, unserved
    operations) and exits 0.

    Example:

    \b
        twilio-emulator start --env-file emulator.env
        # in another shell:
        . ./emulator.env && python -c 'from twilio.rest import Client; print(Client().taskrouter.v1.workspaces.list())'
    """
    try:
        emulator = Emulator(_spec_folder(openapi_dir), new_account())
    except SpecNotFound as error:
        raise click.ClickException(str(error)) from error
    flex = seed_flex_account(emulator) if seed == "flex" else None
    try:
        proxy = EmulatorProxy(emulator, host, port)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    stop = threading.Event()
    for stop_signal in STOP_SIGNALS:  # before anything is printed: a client may signal as soon as it reads it
        signal.signal(stop_signal, lambda number, frame: stop.set())
    with proxy:
        environment = _client_environment(proxy, emulator)
        if env_file is not None:
            try:
                _write_private(env_file, "\n".join(_shell_lines(environment, flex)) + "\n")
            except OSError as error:
                raise click.ClickException(f"cannot write {env_file}: {error.strerror or error}") from error
        if as_json:
            started = {
                "proxy_url": proxy.url,
                "ca_file": str(proxy.ca_path),
                "environment": environment,
                "flex": asdict(flex) if flex is not None else None,
            }
            click.echo(json.dumps(started))
        else:
            for line in _shell_lines(environment, flex):
                click.echo(line)
        click.echo(f"twilio-emulator: listening on {proxy.url} as account {emulator.account.sid}.", err=True)
        if env_file is not None:
            click.echo(
                f"Its environment is in {env_file}: `. {shlex.quote(str(env_file.resolve()))}` in a shell.", err=True
            )
        click.echo("Ctrl-C (or SIGTERM) to stop.", err=True)
        stop.wait()
    for line in _summary(emulator):
        click.echo(line, err=True)


# coverage ------------------------------------------------------------------------------------------------------


def _operation_json(operation: CoveredOperation) -> dict:
    return {"operation_id": operation.operation_id, "method": operation.method, "path": operation.path}


def _product_json(product: ProductCoverage) -> dict:
    return {
        "product": product.product,
        "host": product.host,
        "used": product.used,
        "counts": {
            "served": len(product.served),
            "not_served": len(product.not_served),
            "assumed": len(product.assumed),
        },
        "served": [_operation_json(operation) for operation in product.served],
        "not_served": [_operation_json(operation) for operation in product.not_served],
        "assumed": [_operation_json(operation) for operation in product.assumed],
    }


def _summary_table(products: list[ProductCoverage]) -> list[str]:
    width = max(len("product"), *(len(product.product) for product in products))
    rows = [(p.product, len(p.served), len(p.not_served), len(p.assumed), "yes" if p.used else "") for p in products]
    rows.append(("total", *(sum(row[column] for row in rows) for column in (1, 2, 3)), ""))
    header = f"{'product':<{width}}  {'served':>6}  {'not served':>10}  {'assumed':>7}  used"
    return [header] + [f"{name:<{width}}  {s:>6}  {n:>10}  {a:>7}  {used}".rstrip() for name, s, n, a, used in rows]


def _operation_lines(title: str, operations: tuple[CoveredOperation, ...]) -> list[str]:
    names = [operation.operation_id or "(assumed)" for operation in operations]
    width = max(map(len, names), default=0)
    return [f"{title}:"] + [
        f"  {name:<{width}}  {operation.method:<6} {operation.path}"
        for name, operation in zip(names, operations, strict=True)
    ]


@main.command("coverage")
@click.option("--product", "product_name", metavar="NAME", help="Only this product (e.g. taskrouter), every operation.")
@click.option("--all", "every_product", is_flag=True, help="List the operations not served of every product.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every operation, served or not.")
@openapi_dir_option
def coverage_command(product_name: str | None, every_product: bool, as_json: bool, openapi_dir: Path | None) -> None:
    """Report what the emulator serves of Twilio's API.

    Which operations of Twilio's OpenAPI description the emulator serves, per product: a Twilio host, named
    by its first label (taskrouter for taskrouter.twilio.com). Prints the served, not served and assumed
    (served though not described) counts of every product, then the operations not served of the products
    the emulator serves any operation of; --all lists them for every product, --product every operation of
    one. The emulator answers an operation it does not serve with a 501.

    Example:

    \b
        twilio-emulator coverage --product taskrouter
    """
    if product_name is not None and every_product:
        raise click.UsageError("--product and --all are exclusive: --product lists one product, --all every one.")
    folder = _spec_folder(openapi_dir)
    try:
        products = every = coverage_by_product(Spec(folder))
    except SpecNotFound as error:
        raise click.ClickException(str(error)) from error
    if product_name is not None:
        products = [product for product in every if product.product == product_name]
        if not products:
            known = ", ".join(product.product for product in every)
            raise click.BadParameter(f"no product {product_name!r}; the products: {known}.", param_hint="--product")
    click.echo(
        f"Operations of Twilio's OpenAPI description in {folder}, by whether the emulator serves them.", err=True
    )
    if as_json:
        totals = {key: sum(len(getattr(p, key)) for p in products) for key in ("served", "not_served", "assumed")}
        click.echo(json.dumps({"products": [_product_json(product) for product in products], "totals": totals}))
        return
    lines = _summary_table(products)
    for product in products:
        described = len(product.served) + len(product.not_served)
        if product_name is not None:
            lines += ["", f"{product.product} ({product.host}): {len(product.served)} of {described} served"]
            lines += _operation_lines("served", product.served) + _operation_lines("not served", product.not_served)
            lines += _operation_lines("assumed (served, not described)", product.assumed)
        elif product.not_served and (every_product or product.used):
            title = f"{product.product}: {len(product.not_served)} of {described} not served"
            lines += [""] + _operation_lines(title, product.not_served)
    for line in lines:
        click.echo(line)


# fetch-openapi -------------------------------------------------------------------------------------------------


@main.command("fetch-openapi")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def fetch_openapi(ctx: click.Context, folder: Path | None) -> None:
    """Fetch Twilio's OpenAPI description, which the other commands read.

    Into FOLDER/.cache/twilio-oai/cli-core-<version>/ (default: the current folder): `npm pack` of the pinned
    @twilio/cli-core (Node.js and npm needed), its integrity checked, its twilio-oai JSON files extracted. A
    complete cache is left alone, with no network.

    Example:

    \b
        twilio-emulator fetch-openapi ~/my-project
    """
    ctx.exit(spec_files.main([str(folder)] if folder is not None else []))


if __name__ == "__main__":
    main(prog_name="twilio-emulator")
