from click.testing import CliRunner
from handover.cli import cli
from handover.emulator import add_assistant
from tests.handover.conftest import writes

def test_probe(account_env, emulator, project, deployed):
    a = add_assistant(emulator, "Customer care")
    r = CliRunner().invoke(cli, ["--project-dir", str(project), "tool", "register", "--assistant-id", a["id"], "--service-sid", deployed.service_sid], catch_exceptions=False)
    print(r.exit_code); print(r.stdout); print(r.stderr)
    for q in emulator.requests: print(q.method, q.path, q.query, repr(q.body), q.content_type, q.status)
    print(writes(emulator))
    emulator.clear_traffic()
    r = CliRunner().invoke(cli, ["--project-dir", str(project), "tool", "register", "--assistant-id", a["id"], "--service-sid", deployed.service_sid, "--json"], catch_exceptions=False)
    print(r.exit_code); print(r.stdout); print(r.stderr)
    for q in emulator.requests: print(q.method, q.path, q.query, repr(q.body), q.status)
