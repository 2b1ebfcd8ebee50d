"""Measurements inside a fresh Node process: what loading the function costs (its cold start), and what
one Twilio request costs the twilio client outside Twilio.

The scripts run with `node -e`, twilio resolved from the project's node_modules as the runtime does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from twilio_emulator import Emulator, EmulatorProxy, FlexAccount

from ..errors import HandoverError
from . import stats

FUNCTION = "functions/tools/flex-handover.js"
# The private assets the function requires, by how Runtime.getAssets() names them.
ASSETS = {
    "/tools/contract.js": "assets/tools/contract.private.js",
    "/tools/handover.js": "assets/tools/handover.private.js",
    "/tools/handoff.js": "assets/tools/handoff.private.js",
}
NODE_TIMEOUT = 60.0
LARGEST_PACKAGES = 5

# Times each step of loading the function in this fresh process, as @twilio/runtime-handler does it for
# a call in forked mode: twilio (the runtime puts it in the global scope), the function's module, the
# assets it requires (the contract, the helpers made from it, the shared handoff), and the twilio client's
# first use (the API domains it loads lazily on first access).
COLD_START_SCRIPT = r"""
const path = require('path');
const fs = require('fs');
const { createRequire } = require('module');
const { performance } = require('perf_hooks');
const [projectDir, functionFile, assetsJson] = process.argv.slice(1);
const assets = JSON.parse(assetsJson);
const fromProject = createRequire(path.join(projectDir, 'package.json'));
const since = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const phases = {};
let start = process.hrtime.bigint();
const twilio = fromProject('twilio');
phases.twilio = since(start);
global.Twilio = twilio;
global.Runtime = {
  getAssets: () => Object.fromEntries(Object.entries(assets).map(([key, file]) => [key, { path: file }])),
};
start = process.hrtime.bigint();
const fn = require(functionFile);
phases.function = since(start);
start = process.hrtime.bigint();
const loaded = Runtime.getAssets();
require(loaded['/tools/handover.js'].path)(require(loaded['/tools/contract.js'].path));
require(loaded['/tools/handoff.js'].path);
phases.asset = since(start);
const sinceProcessStart = performance.now();
const modulesLoaded = Object.keys(require.cache).length;
start = process.hrtime.bigint();
const client = twilio('AC' + '0'.repeat(32), '0'.repeat(32));
void client.httpClient, void client.sync.v1, void client.flexApi.v1, void client.conversations.v1;
phases.firstClientUse = since(start);
const packages = {};
for (const file of Object.keys(require.cache)) {
  const parts = file.split(path.sep);
  const at = parts.lastIndexOf('node_modules');
  const scoped = at >= 0 && parts[at + 1].startsWith('@');
  const name = at < 0 ? '(the project)' : scoped ? parts.slice(at + 1, at + 3).join('/') : parts[at + 1];
  const entry = (packages[name] = packages[name] || { name, modules: 0, bytes: 0 });
  entry.modules += 1;
  entry.bytes += fs.statSync(file).size;
}
process.stdout.write(JSON.stringify({
  handler: typeof fn.handler,
  phases,
  sinceProcessStart,
  modulesLoaded,
  modulesAfterFirstClientUse: Object.keys(require.cache).length,
  packages: Object.values(packages),
}));
"""

# Times sequential requests through the emulator's proxy, after one that loads the API domain: first of one
# twilio client (as context.getTwilioClient() makes), then bare https requests for the same resource through
# the same proxy agent the client uses. Durations only: the emulator times its side.
CLIENT_SCRIPT = r"""
const https = require('https');
const { createRequire } = require('module');
const [projectDir, accountSid, authToken, workspaceSid, count] = process.argv.slice(1);
const fromTwilio = createRequire(require.resolve('twilio', { paths: [projectDir] }));
const twilio = fromTwilio('twilio');
const proxyAgent = fromTwilio('https-proxy-agent');
const url = `https://taskrouter.twilio.com/v1/Workspaces/${workspaceSid}`;
const bare = () => new Promise((resolve, reject) => {
  const options = { agent: proxyAgent(process.env.HTTP_PROXY), auth: `${accountSid}:${authToken}` };
  https.get(url, options, (response) => response.resume().on('end', resolve)).on('error', reject);
});
async function timed(request) {
  const milliseconds = [];
  for (let i = 0; i < Number(count); i++) {
    const start = process.hrtime.bigint();
    await request();
    milliseconds.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return milliseconds;
}
(async () => {
  const client = twilio(accountSid, authToken);
  const fetch = () => client.taskrouter.v1.workspaces(workspaceSid).fetch();
  await fetch();
  const twilioClient = await timed(fetch);
  process.stdout.write(JSON.stringify({ twilioClient, bareHttps: await timed(bare) }));
})().catch((error) => { console.error(String(error)); process.exit(1); });
"""


class NodeFailed(HandoverError):
    """A measuring script did not run; the message has its error output."""


def _node(script: str, args: list[str], env: dict[str, str] | None = None) -> object:
    node = shutil.which("node")
    if node is None:
        raise NodeFailed("node is not on PATH: install Node.js 20 or later.")
    done = subprocess.run([node, "-e", script, *args], capture_output=True, text=True, timeout=NODE_TIMEOUT, env=env)
    if done.returncode != 0:
        raise NodeFailed(f"a measuring Node script exited with {done.returncode}: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def cold_start(project_dir: Path, runs: int) -> dict:
    """`runs` fresh processes loading the function: each step's time (median), and what was loaded."""
    assets = {key: str(project_dir / path) for key, path in ASSETS.items()}
    args = [str(project_dir), str(project_dir / FUNCTION), json.dumps(assets)]
    measured, process_ms = [], []
    for _ in range(runs):
        started = time.monotonic()
        measured.append(_node(COLD_START_SCRIPT, args))
        process_ms.append((time.monotonic() - started) * 1000)
    last = measured[-1]
    phases = {name: stats.summary([run["phases"][name] for run in measured])["p50"] for name in last["phases"]}
    largest = sorted(last["packages"], key=lambda package: package["bytes"], reverse=True)[:LARGEST_PACKAGES]
    return {
        "runs": runs,
        "exports_handler": last["handler"] == "function",
        "load_ms": round(phases["twilio"] + phases["function"] + phases["asset"], 2),
        "phases_ms": phases,
        "node_start_to_loaded_ms": stats.summary([run["sinceProcessStart"] for run in measured])["p50"],
        "process_wall_ms": stats.summary(process_ms)["p50"],
        "modules_loaded": last["modulesLoaded"],
        "modules_after_first_client_use": last["modulesAfterFirstClientUse"],
        "bytes_loaded": sum(package["bytes"] for package in last["packages"]),
        "largest_packages": largest,
    }


def client_request_cost(
    project_dir: Path, emulator: Emulator, proxy: EmulatorProxy, account: FlexAccount, count: int
) -> dict:
    """What one sequential request costs beyond the time the emulator took for it: through the twilio
    client, and as a bare https request through the same proxy agent (the tunnel, TLS and HTTP alone)."""
    client_env = proxy.client_environment()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HTTP_PROXY": client_env["HTTP_PROXY"],
        "NODE_EXTRA_CA_CERTS": client_env["NODE_EXTRA_CA_CERTS"],
    }
    before = len(emulator.requests)
    args = [str(project_dir), emulator.account.sid, emulator.account.auth_token, account.workspace_sid, str(count)]
    measured = _node(CLIENT_SCRIPT, args, env)
    served = iter(emulator.requests[before + 1 :])  # after the first, which loaded the API domain

    def outside(milliseconds: list[float]) -> dict:
        return stats.summary(
            [
                wall - (request.finished - request.started) * 1000
                for wall, request in zip(milliseconds, served, strict=False)
            ]
        )

    return {
        "requests": count,
        "twilio_client_ms": outside(measured["twilioClient"]),
        "bare_https_ms": outside(measured["bareHttps"]),
    }
