"""YAML that cannot hurt: billion laughs, deep nesting, control characters and anchors are
refused with one line naming file and line, by every command that reads a prototype or an
experiment spec (``yamlguard`` is the one loader)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import yamlguard
from errors import InvalidInputError
from experiments.spec import load_experiment
from tests.fixtures import ROOT, write_prototype

MEMORY_LIMIT = 1024**3  # 1 GiB of address space for the whole storelab process
HANG_GUARD_S = 30  # a refusal is instant; the old code ran for minutes on these files


def billion_laughs() -> str:
    """A 342-byte spec whose aliases expand to 9**9 (387 million) strings."""
    names = "abcdefghi"
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip(names, names[1:], strict=False):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


DEEP = "id: x\nscreens: " + "[" * 5000 + "]" * 5000 + "\n"
NUL = "id: x\ntitle: {de: a\x00b, en: ab}\n"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def storelab(*args: str, lab: Path | None = None) -> subprocess.CompletedProcess:
    """``python cli.py ARGS`` in a child process with 1 GiB of memory at most."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("STORELAB_LAB", None)
    extra = ["--lab", str(lab)] if lab is not None else []
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=HANG_GUARD_S,
        preexec_fn=_limit_memory,
    )


def refused(result: subprocess.CompletedProcess, file: Path, line: int, reason: str) -> bool:
    """Exit 1, no traceback, and one line naming ``file``, ``line`` and ``reason``."""
    said = result.stdout + result.stderr
    lines = [x for x in said.splitlines() if reason in x]
    return (
        result.returncode == 1
        and "Traceback" not in said
        and len(lines) == 1
        and (f"{file}:{line}:" in lines[0] or f"{file}, line {line}:" in lines[0])
    )


# --- the loader itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (billion_laughs(), 1, "anchors (&a) are not allowed"),
        ("a: 1\nb: *a\n", 2, "aliases (*a) are not allowed"),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", 1, "anchors (&b) are not allowed"),
        (DEEP, 2, "nested more than 64 levels deep"),
        (NUL, 2, "control character U+0000"),
        ("a: \x1b[31m\n", 1, "control character U+001B"),
        ("a: " + "x" * (yamlguard.MAX_BYTES + 1), 1, "larger than 1024 KB"),
    ],
)
def test_refused_with_the_line_and_a_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(yamlguard.RefusedYaml) as err:
        yamlguard.load(text)
    got_line, got_reason = yamlguard.describe(err.value)
    assert got_line == line and reason in got_reason and "\n" not in got_reason


def test_ordinary_yaml_still_loads() -> None:
    text = "id: x\nlist: [1, 2, {a: b}]\nnested:\n" + "".join(
        "  " * i + f"l{i}:\n" for i in range(1, 60)
    )
    data = yamlguard.load(text + "  " * 60 + "leaf: 1\n")
    assert data["id"] == "x" and data["list"][2] == {"a": "b"}
    assert yamlguard.load("") is None
    assert yamlguard.load('a: "tab\there, ü 😀"\r\n') == {"a": "tab\there, ü 😀"}


# --- prototype validate / run / version -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (billion_laughs(), 1, "anchors (&a) are not allowed"),
        (DEEP, 2, "nested more than 64 levels deep"),
        (NUL, 2, "control character U+0000"),
    ],
    ids=["billion-laughs", "deep", "nul"],
)
def test_prototype_validate_refuses_quickly_in_bounded_memory(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    spec = tmp_path / "prototype.yaml"
    spec.write_text(text, encoding="utf-8")
    result = storelab("prototype", "validate", str(spec))
    assert refused(result, spec, line, reason), result.stdout + result.stderr


def test_run_version_and_the_lab_check_refuse_a_spec_with_aliases(lab) -> None:
    write_prototype(lab, "laughs", billion_laughs())
    spec = lab.prototypes_dir / "laughs" / "prototype.yaml"
    for args in (["prototype", "validate"], ["prototype", "validate", "laughs"]):
        assert refused(storelab(*args, lab=lab.root), spec, 1, "anchors (&a)")
    for args in (["prototype", "version", "laughs"], ["prototype", "run", "laughs"]):
        result = storelab(*args, lab=lab.root)
        assert refused(result, spec, 1, "anchors (&a)"), result.stdout + result.stderr
    assert "- version: 2" not in spec.read_text(encoding="utf-8")


# --- experiment specs -------------------------------------------------------------------------

EXPERIMENT = """\
id: exp
hypothesis: h
prototype: p
unit: session
variants:
  control: {version: 1}
  treatment: {version: 1, variant: treatment}
allocation: {control: 0.5, treatment: 0.5}
stores: []
start: 2026-11-02
end: 2026-11-29
primary_metric: task_success_rate
"""


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (EXPERIMENT.replace("control: {", "control: &v {"), 6, "anchors (&v) are not allowed"),
        (EXPERIMENT.replace("variants:", "variants: *base"), 5, "aliases (*base)"),
        (billion_laughs(), 1, "anchors (&a)"),
        (EXPERIMENT.replace("stores: []", "stores: " + "[" * 100 + "]" * 100), 9, "nested"),
        (EXPERIMENT.replace("hypothesis: h", "hypothesis: h\x00"), 2, "U+0000"),
    ],
    ids=["anchor", "alias", "billion-laughs", "deep", "nul"],
)
def test_experiment_specs_refuse_anchors_depth_and_control_characters(
    lab, text: str, line: int, reason: str
) -> None:
    path = lab.experiments_dir / "exp.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError) as err:
        load_experiment(lab, "exp")
    assert str(err.value).startswith(f"{path}, line {line}: ")
    assert reason in str(err.value) and "\n" not in str(err.value)


def test_experiment_analyze_refuses_a_billion_laughs_in_bounded_memory(lab) -> None:
    path = lab.experiments_dir / "exp.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    result = storelab("experiment", "analyze", "exp", lab=lab.root)
    assert refused(result, path, 1, "anchors (&a)"), result.stdout + result.stderr


def test_experiment_spec_that_is_not_utf8_is_one_line(lab) -> None:
    path = lab.experiments_dir / "exp.yaml"
    path.write_bytes(EXPERIMENT.replace("hypothesis: h", "hypothesis: M\xfcller").encode("latin-1"))
    with pytest.raises(InvalidInputError, match="line 1: not UTF-8 text"):
        load_experiment(lab, "exp")
