"""validate.check() on a copy of the project: parse, load, export and template checks; and
validate.deployment_problems(): what `twilio serverless:deploy` would serve, against what the project means to."""

from __future__ import annotations

from pathlib import Path

import pytest

from handover import contract
from handover.errors import HandoverError
from handover.functions import validate
from handover.functions.validate import Problem

REPO = Path(__file__).resolve().parents[3]
FUNCTION = "functions/tools/flex-handover.js"
ASSET = "assets/tools/handover.private.js"
CONTRACT = "assets/tools/contract.private.js"
DIFFERS = "differs from its template: run `handover generate` (edit the template, not the generated file)"
HANDLER = "exports.handler = function (context, event, callback) { return callback(null, 'ok'); };\n"


def add_function(project: Path, relative: str, source: str) -> Path:
    path = project / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


def test_a_clean_copy_has_no_problems(project):
    assert validate.check(project) == []


def test_the_real_project_has_no_problems():
    assert validate.check(REPO) == []


def test_problem_prints_as_path_and_message():
    assert (
        str(Problem("functions/x/y.js", "does not parse: SyntaxError"))
        == "functions/x/y.js: does not parse: SyntaxError"
    )


def test_a_syntax_error_in_a_function_is_one_problem(project):
    add_function(
        project,
        "functions/x/broken.js",
        "exports.handler = function (context, event, callback) {\n  return callback(null, 'ok';\n};\n",
    )
    problems = validate.check(project)
    assert len(problems) == 1
    assert problems[0].path == "functions/x/broken.js"
    assert problems[0].message.startswith("does not parse: SyntaxError")
    assert str(problems[0]).startswith("functions/x/broken.js: does not parse: ")


def test_a_syntax_error_in_an_asset_is_reported(project):
    add_function(project, "assets/x/helper.private.js", "module.exports = {\n")
    problems = validate.check(project)
    assert [problem.path for problem in problems] == ["assets/x/helper.private.js"]
    assert problems[0].message.startswith("does not parse: ")


def test_a_function_without_a_handler_is_reported(project):
    add_function(project, "functions/x/y.js", "exports.handle = function () {};\n")
    assert validate.check(project) == [
        Problem(
            "functions/x/y.js",
            "does not export a handler function (exports.handler = async (context, event, callback) => …)",
        )
    ]


def test_a_handler_that_is_not_a_function_is_reported(project):
    add_function(project, "functions/x/y.js", "exports.handler = 'not a function';\n")
    assert [(p.path, p.message.split(" (")[0]) for p in validate.check(project)] == [
        ("functions/x/y.js", "does not export a handler function")
    ]


def test_a_private_function_needs_no_handler(project):
    add_function(project, "functions/x/helpers.private.js", "module.exports = { helper() {} };\n")
    assert validate.check(project) == []


def test_a_function_with_a_handler_passes(project):
    add_function(project, "functions/x/y.js", HANDLER)
    assert validate.check(project) == []


def test_a_function_that_throws_on_require_cannot_be_loaded(project):
    add_function(project, "functions/x/boom.js", "throw new Error('boom on require');\n" + HANDLER)
    assert validate.check(project) == [Problem("functions/x/boom.js", "cannot be loaded: boom on require")]


def test_a_function_requiring_a_missing_module_cannot_be_loaded(project):
    add_function(project, "functions/x/needs.js", "require('./no-such-module');\n" + HANDLER)
    problems = validate.check(project)
    assert [problem.path for problem in problems] == ["functions/x/needs.js"]
    assert problems[0].message.startswith("cannot be loaded: Cannot find module './no-such-module'")
    assert "\n" not in problems[0].message


def test_the_functions_and_helpers_are_source_that_may_be_edited(project):
    for source in (FUNCTION, ASSET):
        path = project / source
        path.write_text(path.read_text(encoding="utf-8") + "// an edit\n", encoding="utf-8")
    assert validate.check(project) == []


def test_a_hand_edited_contract_differs_from_its_template(project):
    path = project / CONTRACT
    path.write_text(path.read_text(encoding="utf-8").replace("CLAIM_SHARDS: 16,", "CLAIM_SHARDS: 8,"), encoding="utf-8")
    assert validate.check(project) == [Problem(CONTRACT, DIFFERS)]


def test_a_contract_out_of_date_with_contract_py_differs_from_its_template(project, monkeypatch):
    monkeypatch.setattr(contract, "MAX_REASON_LENGTH", 600)
    assert validate.check(project) == [Problem(CONTRACT, DIFFERS)]


def test_a_missing_contract_differs_from_its_template(project):
    (project / CONTRACT).unlink()
    assert validate.check(project) == [Problem(CONTRACT, DIFFERS)]


def test_a_source_function_that_no_longer_parses_is_reported(project):
    path = project / FUNCTION
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("exports.handler = async function", "exports.handler = async function ("), encoding="utf-8"
    )
    problems = validate.check(project)
    assert [problem.path for problem in problems] == [FUNCTION]
    assert problems[0].message.startswith("does not parse: SyntaxError")


def test_a_source_function_that_no_longer_exports_its_handler_is_reported(project):
    path = project / FUNCTION
    path.write_text(path.read_text(encoding="utf-8").replace("exports.handler =", "exports.handle ="), encoding="utf-8")
    problems = [(p.path, p.message.split(" (")[0]) for p in validate.check(project)]
    assert problems == [(FUNCTION, "does not export a handler function")]


def test_a_source_function_that_no_longer_loads_is_reported(project):
    path = project / FUNCTION
    path.write_text("Runtime.getAssets();\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert validate.check(project) == [Problem(FUNCTION, "cannot be loaded: Runtime is not defined")]


def test_helpers_that_no_longer_load_in_plain_node_are_reported(project):
    path = project / ASSET
    text = path.read_text(encoding="utf-8")
    at_load = "const crypto = require(Runtime.getAssets()['/x.js'].path);"
    path.write_text(text.replace("const crypto = require('crypto');", at_load), encoding="utf-8")
    assert validate.check(project) == [Problem(ASSET, "cannot be loaded: Runtime is not defined")]


def test_a_private_asset_that_throws_on_require_is_reported(project):
    add_function(project, "assets/x/boom.private.js", "throw new Error('boom on require');\n")
    assert validate.check(project) == [Problem("assets/x/boom.private.js", "cannot be loaded: boom on require")]


def test_a_public_asset_is_only_parsed(project):
    add_function(project, "assets/x/page.js", "document.title = 'a browser script';\n")
    assert validate.check(project) == []


def test_every_problem_is_reported_together(project):
    add_function(project, "functions/a/broken.js", "exports.handler = (;\n")
    add_function(project, "functions/b/nohandler.js", "module.exports = {};\n")
    add_function(project, "functions/c/boom.js", "throw new Error('boom');\n")
    (project / CONTRACT).write_text((project / CONTRACT).read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert [(p.path, p.message.split(":")[0].split(" (")[0]) for p in validate.check(project)] == [
        ("functions/a/broken.js", "does not parse"),
        ("functions/b/nohandler.js", "does not export a handler function"),
        ("functions/c/boom.js", "cannot be loaded"),
        (CONTRACT, "differs from its template"),
    ]


def test_without_node_check_raises_file_not_found(project, monkeypatch):
    monkeypatch.setattr(validate.shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match="node is not on PATH"):
        validate.check(project)


# Bugs: the export check runs every function in one `node -e` process and parses its whole stdout as JSON.


def test_a_function_that_logs_on_require_does_not_break_validation(project):
    """A console.log at the top of a function (common while debugging) goes to the same stdout as the results."""
    add_function(project, "functions/x/chatty.js", "console.log('loaded');\n" + HANDLER)
    add_function(project, "functions/x/nohandler.js", "module.exports = {};\n")
    assert [problem.path for problem in validate.check(project)] == ["functions/x/nohandler.js"]


def test_a_function_that_exits_on_require_does_not_hide_other_problems(project):
    """process.exit() while loading one function ends the checker before it prints any result."""
    add_function(project, "functions/x/exits.js", "process.exit(0);\n")
    add_function(project, "functions/x/nohandler.js", "module.exports = {};\n")
    paths = [problem.path for problem in validate.check(project)]
    assert "functions/x/nohandler.js" in paths


def test_a_function_with_a_pending_timer_does_not_hold_validation(project, monkeypatch):
    """A timer opened on require would keep the checker's node process alive until the load timeout."""
    monkeypatch.setattr(validate, "LOAD_TIMEOUT", 10.0)
    add_function(project, "functions/x/timer.js", "setInterval(() => {}, 1000);\n" + HANDLER)
    assert validate.check(project) == []


def test_a_function_that_never_finishes_loading_is_a_problem(project, monkeypatch):
    monkeypatch.setattr(validate, "LOAD_TIMEOUT", 1.0)
    add_function(project, "functions/x/spin.js", "while (true) {}\n" + HANDLER)
    assert validate.check(project) == [validate.Problem("functions/x/spin.js", "loading it did not finish within 1 s")]


# What `twilio serverless:deploy` would serve ------------------------------------------------------------------

NOT_SERVED = (
    "which the project does not serve: the Serverless Toolkit uploads every .js file under functions/ and every "
    "file under assets/, so move it out of them"
)


def test_the_toolkit_would_serve_exactly_the_intended_files_of_a_clean_copy_and_of_the_project(project):
    assert validate.deployment_problems(project) == []
    assert validate.deployment_problems(REPO) == []


def test_a_private_module_made_public_is_named_with_the_name_it_needs(project):
    (project / "assets/tools/handoff.private.js").rename(project / "assets/tools/handoff.js")
    assert validate.deployment_problems(project) == [
        Problem(
            "assets/tools/handoff.js",
            "would be deployed public at /tools/handoff.js; it must be private: "
            "name it assets/tools/handoff.private.js",
        )
    ]


def test_a_tool_the_toolkit_would_not_deploy_is_missing(project):
    (project / "functions/tools/studio-handover.js").rename(project / "functions/tools/studio-handover.mjs")
    assert validate.deployment_problems(project) == [
        Problem(
            "functions/tools/studio-handover.js",
            "is missing: `twilio serverless:deploy` would not serve the function /tools/studio-handover",
        )
    ]


def test_a_tool_made_protected_must_be_public(project):
    (project / "functions/tools/flex-handover.js").rename(project / "functions/tools/flex-handover.protected.js")
    assert validate.deployment_problems(project) == [
        Problem(
            "functions/tools/flex-handover.protected.js",
            "would be deployed protected at /tools/flex-handover; it must be public: name it "
            "functions/tools/flex-handover.js",
        )
    ]


def test_any_other_file_under_functions_or_assets_would_be_deployed_too(project):
    add_function(project, "functions/tools/flex-handover.test.js", HANDLER)
    (project / "assets/README.md").write_text("notes\n", encoding="utf-8")
    (project / "functions/notes.md").write_text("not JavaScript: the toolkit leaves it\n", encoding="utf-8")
    assert validate.deployment_problems(project) == [
        Problem(
            "functions/tools/flex-handover.test.js",
            f"would be deployed (public) at /tools/flex-handover.test, {NOT_SERVED}",
        ),
        Problem("assets/README.md", f"would be deployed (public) at /README.md, {NOT_SERVED}"),
    ]


def test_the_folders_of_twilioserverlessrc_name_the_files(project):
    (project / "assets").rename(project / "static")
    (project / ".twilioserverlessrc").write_text(
        '{"runtime": "node22", "functionsFolder": "functions", "assetsFolder": "static"}', encoding="utf-8"
    )
    assert validate.deployment_problems(project) == []
    (project / "static/tools/handover.private.js").unlink()
    assert validate.deployment_problems(project) == [
        Problem(
            "static/tools/handover.private.js",
            "is missing: `twilio serverless:deploy` would not serve the asset /tools/handover.js",
        )
    ]


def test_a_module_that_kills_the_checker_is_an_error_not_a_verdict(project):
    add_function(project, "functions/x/kill.js", f"process.kill(process.pid);\n{HANDLER}")
    with pytest.raises(HandoverError, match=r"^node stopped \(exit status -15\) while checking the JavaScript\."):
        validate.check(project)
