"""What `pip install` brings: the kit's wheel declares only what configuring an account needs, the emulator's wheel
is a distribution of its own, and every third-party module the code imports is declared where it is needed.

Each wheel is built from a copy of its sources (so that nothing is written into the checkout), with the installed
setuptools that pyproject.toml names as its build system, and read as pip would read it.
"""

from __future__ import annotations

import ast
import email.parser
import re
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KIT = REPO / "py/handover"
EMULATOR = REPO / "py/twilio_emulator"

# Exactly what configuring an account needs.
LEAN = {"twilio==9.13.0", "jinja2==3.1.6", "click==8.3.1", "python-dotenv==1.2.1", "json5==0.17.3"}
# What the demo, the bench and the emulator bring instead.
HEAVY = {"twilio-emulator", "matplotlib", "numpy", "python-liquid", "trustme", "openapi-schema-validator"}
# Modules the kit takes as a declared dependency hands them over, by the chain of requirements that brings them: the
# twilio SDK's HTTP client is requests on urllib3, whose errors and retries the commands set through it.
THROUGH = {"requests": ("twilio", "requests"), "urllib3": ("twilio", "requests", "urllib3")}
# The only packages of the kit that may import an extra (the commands that need them import them when they run).
EXTRA_USERS = {"handover.local": "emulator", "handover.bench": "bench"}


def build_wheel(source: Path, out: Path) -> tuple[zipfile.ZipFile, email.message.Message]:
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "--wheel-dir", str(out), str(source)], check=True, capture_output=True, timeout=120)
    (wheel,) = out.glob("*.whl")
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
    return archive, email.parser.Parser().parsestr(archive.read(metadata).decode())


def requirements(metadata) -> dict[str | None, set[str]]:
    """Requires-Dist by extra (None: the base install), as `name==version`: setuptools writes a pinned requirement
    as `name==version` and an extra's as `name==version; extra == "extra"`."""
    found: dict[str | None, set[str]] = {}
    for line in metadata.get_all("Requires-Dist") or []:
        requirement, _, marker = (part.strip() for part in line.partition(";"))
        extra = re.fullmatch(r'extra == "([a-z-]+)"', marker).group(1) if marker else None
        found.setdefault(extra, set()).add(requirement)
    return found


def name_of(requirement: str) -> str:
    """The distribution a requirement names: `requests>=2.0.0` → requests."""
    return normalized(re.match(r"[A-Za-z0-9_.-]+", requirement).group(0))


def normalized(distribution_name: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution_name).lower()


@pytest.fixture(scope="module")
def kit_wheel(tmp_path_factory):
    source = tmp_path_factory.mktemp("kit")
    shutil.copy2(REPO / "pyproject.toml", source)
    shutil.copy2(REPO / "README.md", source)
    shutil.copytree(KIT, source / "py/handover", ignore=shutil.ignore_patterns("__pycache__"))
    # The emulator's folder is beside the kit's, as in the checkout: the kit's wheel must leave it out.
    shutil.copytree(EMULATOR, source / "py/twilio_emulator", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return build_wheel(source, tmp_path_factory.mktemp("kit-wheel"))


@pytest.fixture(scope="module")
def emulator_wheel(tmp_path_factory):
    source = tmp_path_factory.mktemp("emulator") / "twilio_emulator"
    shutil.copytree(EMULATOR, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return build_wheel(source, tmp_path_factory.mktemp("emulator-wheel"))


def test_the_kit_installs_only_what_configuring_an_account_needs(kit_wheel):
    _, metadata = kit_wheel
    declared = requirements(metadata)
    assert declared[None] == LEAN
    assert not {name_of(r) for r in declared[None]} & HEAVY


def test_the_demo_and_the_bench_come_with_extras(kit_wheel):
    _, metadata = kit_wheel
    declared = requirements(metadata)
    assert declared["emulator"] == {"twilio-emulator==0.1.0"}
    assert declared["bench"] == {"twilio-emulator==0.1.0", "matplotlib==3.11.2"}
    assert "pytest==9.0.3" in declared["test"]


def test_the_kits_wheel_holds_the_handover_package_its_templates_and_command_only(kit_wheel):
    archive, metadata = kit_wheel
    names = archive.namelist()
    packages = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert packages == {"handover"}
    assert "handover/account/templates/assistant-tool.json.j2" in names
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "handover = handover.cli:main" in archive.read(entry_points).decode()
    assert metadata["Name"] == "handover"


def test_the_emulator_is_a_distribution_of_its_own_with_its_command(emulator_wheel):
    archive, metadata = emulator_wheel
    assert metadata["Name"] == "twilio-emulator"
    assert requirements(metadata)[None] == {
        "click==8.3.1",
        "trustme==1.2.1",
        "openapi-schema-validator==0.9.0",
        "python-liquid==2.3.6",
    }
    names = archive.namelist()
    assert "twilio_emulator/pipeline.py" in names and "twilio_emulator/products/sync.py" in names
    assert "twilio_emulator/node_https_proxy.js" in names  # the Node clients' preload (proxy.NODE_HTTPS_PROXY)
    assert not any(name.startswith("handover/") for name in names)
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "twilio-emulator = twilio_emulator.cli:main" in archive.read(entry_points).decode()


def third_party_imports(package: Path) -> dict[str, set[str]]:
    """Top-level module name → the modules of the package that import it (at any depth), stdlib left out."""
    found: dict[str, set[str]] = {}
    for file in package.rglob("*.py"):
        module = ".".join(file.relative_to(package.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != package.name:
                    found.setdefault(top, set()).add(module)
    return found


def distribution(module: str) -> str:
    """The distribution that provides a top-level module, as installed here."""
    return normalized(packages_distributions()[module][0])


def test_every_module_the_kit_imports_is_declared_where_it_is_needed(kit_wheel):
    _, metadata = kit_wheel
    declared = {extra: {name_of(r) for r in reqs} for extra, reqs in requirements(metadata).items()}
    for module, importers in sorted(third_party_imports(KIT).items()):
        name = distribution(module)
        if name in declared[None]:
            continue
        if module in THROUGH:
            chain = THROUGH[module]
            assert chain[0] in declared[None] and chain[-1] == name
            for carrier, carried in zip(chain, chain[1:], strict=False):
                assert carried in {name_of(r) for r in requires(carrier)}, f"{carrier} no longer requires {carried}"
            continue
        outside = {i for i in importers if not any(i.startswith(user) for user in EXTRA_USERS)}
        assert not outside, f"{sorted(outside)} import {module} ({name}), which `pip install .` does not bring"
        for importer in importers:
            extra = next(e for user, e in EXTRA_USERS.items() if importer.startswith(user))
            assert name in declared[extra], f"{importer} imports {module} ({name}), not in the {extra!r} extra"


def test_every_module_the_emulator_imports_is_declared(emulator_wheel):
    _, metadata = emulator_wheel
    declared = {name_of(r) for r in requirements(metadata)[None]}
    imported = {distribution(module) for module in third_party_imports(EMULATOR)}
    assert imported == declared
