"""YAML with line numbers: the parsed spec, the line of every spec path, duplicate keys.

``yamlguard`` (PyYAML's safe loader without anchors, aliases, deep nesting or control
characters) builds the data; the node tree it composed first gives each key and list item its
line, so every later problem can point at the line it is about. Duplicate keys (which YAML would
silently collapse into the last one) are problems of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

import yamlguard
from prototypes.problems import Problem, join_path


@dataclass(frozen=True)
class ParsedYaml:
    """What ``parse_yaml`` read: the data, the line of each spec path, and the problems.

    When the text is not YAML at all, ``readable`` is False, ``problems`` holds the syntax error
    and there is no data; otherwise ``problems`` are the duplicate keys.
    """

    data: Any
    lines: dict[str, int] = field(default_factory=dict)
    """Spec path (``""`` for the document) -> 1-based line."""
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True


def parse_yaml(text: str, file: str) -> ParsedYaml:
    """Parse spec text, indexing the line of every key and list item (``file`` names problems)."""
    try:
        node, data = yamlguard.compose_and_load(text)
    except yaml.YAMLError as exc:
        line, reason = yamlguard.describe(exc)
        return ParsedYaml(None, problems=[Problem(file, line, "", reason, "yaml")], readable=False)
    parsed = ParsedYaml(data)
    if node is not None:
        parsed.lines[""] = node.start_mark.line + 1
        _index_node(node, "", parsed, file)
    return parsed


def _index_node(node: yaml.Node, path: str, parsed: ParsedYaml, file: str) -> None:
    """Record the line of every key and item below ``node``; report keys given twice."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            child = join_path(path, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                parsed.problems.append(
                    Problem(
                        file,
                        line,
                        child,
                        f"duplicate key '{key}' (first on line {seen[key]}); "
                        "YAML would silently keep only the last one",
                        "duplicate_key",
                    )
                )
            else:
                seen[key] = line
                parsed.lines[child] = line
            _index_node(value_node, child, parsed, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = join_path(path, i)
            parsed.lines[child] = item.start_mark.line + 1
            _index_node(item, child, parsed, file)


__all__ = ["ParsedYaml", "parse_yaml"]
