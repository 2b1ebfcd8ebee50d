"""`handover plugin build` and `handover plugin deploy`: the agent's Flex UI plugin, built and released."""

from __future__ import annotations

import json

import click

from .base import (
    CONTEXT,
    credentials_and_client,
    deployment_options,
    dry_run_option,
    echo_note,
    find_deployment,
    find_project,
    group,
    json_option,
)

_PLUGIN_DIR_HELP = "The Flex plugin's folder, holding its package.json (default: plugin-ai-handover/ in the project)."


def _package(ctx: click.Context, plugin_dir: str | None):
    from ..plugin import bundle

    return bundle.read_package(bundle.plugin_folder(find_project(ctx), plugin_dir))


@group(short_help="Build and deploy the agent's Flex UI plugin.")
def plugin() -> None:
    """The Flex UI plugin that shows agents why the AI handed off: built with its own tooling, deployed and
    released through the Flex Plugins API.

    Example: handover plugin build && handover plugin deploy
    """


@plugin.command("build", context_settings=CONTEXT, short_help="Build the plugin's production bundle (npm).")
@click.option("--plugin-dir", metavar="DIR", help=_PLUGIN_DIR_HELP)
@click.option(
    "--install/--no-install",
    default=None,
    help="Run `npm ci` first (default: only when node_modules is missing or older than package-lock.json).",
)
@json_option()
@click.pass_context
def build(ctx, plugin_dir, install, as_json) -> None:
    """Install the plugin's dependencies when needed (npm ci), then `npm run build`, which writes
    build/<name>.js. npm's output goes to stderr.

    Example: handover plugin build --plugin-dir plugin-ai-handover
    """
    from .. import printers
    from ..plugin import build as building

    result = building.build(_package(ctx, plugin_dir), install)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        click.echo(printers.plugin_build_line(result))


@plugin.command("deploy", context_settings=CONTEXT, short_help="Upload the bundle and release it in Flex.")
@click.option("--plugin-dir", metavar="DIR", help=_PLUGIN_DIR_HELP)
@click.option(
    "--build/--no-build",
    default=None,
    help="Build the plugin first, as `plugin build` does (default: only when it has no build yet).",
)
@deployment_options
@dry_run_option("Print every request it would make; write nothing.")
@json_option()
@click.pass_context
def deploy(ctx, plugin_dir, build, service_sid, environment, dry_run, as_json) -> None:
    """Upload the built bundle to Twilio Assets as the Flex plugins tooling does, then create the plugin, its
    version, a configuration of the active release's plugins with this version, and a release of it. Only what
    is missing is written: a second deploy of the same build writes nothing. The kit's deployed Functions
    environment (found as every command finds it) goes into the Flex configuration's ui_attributes.handoverBaseUrl,
    where Return to AI sends the agent's hand-back.

    The version deployed is package.json's; a version already deployed with another bundle is refused (raise it).
    A plugin not built yet is built first (npm ci when needed, then npm run build), as the Flex Plugins CLI's deploy
    builds.

    Example: handover plugin deploy --dry-run
    """
    from .. import printers
    from ..plugin import build as building
    from ..plugin import bundle, deploy

    # The credentials first: a build takes a while, and the deploy cannot go on without them.
    project_dir = find_project(ctx)
    found_credentials, client = credentials_and_client(project_dir)
    package = _package(ctx, plugin_dir)
    if build or (build is None and not package.bundle_path.is_file()):
        echo_note(f"Building {package.name} {package.version} first (as `handover plugin build` does).")
        building.build(package, None)
    built = bundle.read_bundle(package)
    functions = find_deployment(client, project_dir, found_credentials, service_sid, environment, required=False)
    if functions is None:
        echo_note(
            "No deployment of the kit's functions was found, so Return to AI stays disabled: run "
            "`twilio serverless:deploy`, then this command again (it sets ui_attributes.handoverBaseUrl)."
        )
    base_url = functions.url("") if functions else None
    result = deploy.deploy(client, built, dry_run=dry_run, handover_base_url=base_url)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        for line in printers.plugin_deploy_lines(result):
            click.echo(line)
    for note in printers.plugin_deploy_notes(result):
        echo_note(note)
