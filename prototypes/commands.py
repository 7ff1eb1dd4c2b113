"""``storelab prototype …``: list templates, scaffold, validate and version prototype specs.

Command bodies only parse arguments and call ``prototypes.templates``, ``prototypes.scaffold``,
``prototypes.validate`` and ``prototypes.library`` (which maps an id to its spec file); those
(with pydantic and yaml) are imported inside the bodies so ``storelab --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clikit import JsonOption, LabOption, StorelabGroup, console, open_lab, print_json
from errors import InvalidInputError

app = typer.Typer(
    cls=StorelabGroup,
    no_args_is_help=True,
    help="Author, validate, version and run prototypes.",
)


@app.command("templates")
def templates(json_: JsonOption = False) -> None:
    """List the built-in journey templates: phase, touchpoint, journey break, variants."""
    from prototypes.templates import list_templates

    rows = list_templates()
    if json_:
        print_json(rows)
        return
    width = max(len(row["id"]) for row in rows) + 2
    lines = [f"{len(rows)} journey templates, along the customer journey:"]
    phase = None
    for row in rows:
        if row["phase"] != phase:
            phase = row["phase"]
            lines += ["", phase.upper()]
        named = [v for v in row["variants"] if v != "control"]
        compare = f"A/B: control vs {', '.join(named)}" if named else "no variant to compare"
        lines.append(f"  {row['id']:<{width}}{row['touchpoint']} · {compare}")
        if row["journey_break"]:
            lines.append(f"  {'':<{width}}break: “{row['journey_break']}”")
        lines += [
            f"  {'':<{width}}{name}: {note}" for name, note in row["variant_notes"].items() if note
        ]
    lines += ["", "Start one with: storelab prototype new ID --template TEMPLATE"]
    typer.echo("\n".join(lines))


@app.command("new")
def new(
    id_: Annotated[
        str, typer.Argument(metavar="ID", help="Id of the new prototype, e.g. scan-pos-v2.")
    ],
    template: Annotated[
        str,
        typer.Option("--template", "-t", help="Template id (see `storelab prototype templates`)."),
    ],
    locale: Annotated[
        str | None,
        typer.Option(help="Language customers see first: de or en. Default: the lab's."),
    ] = None,
    title: Annotated[
        str | None, typer.Option(help="Title instead of the template's (set for every locale).")
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Scaffold a prototype into the lab from a template."""
    from prototypes.scaffold import new_prototype

    the_lab = open_lab(lab)
    path = new_prototype(the_lab, id_, template, locale=locale, title=title)
    if json_:
        print_json({"id": id_, "template": template, "file": str(path)})
        return
    typer.echo(
        f"Created {path}\n"
        f"  edit it, then:  storelab prototype validate {id_}\n"
        f"  try it:         storelab prototype run {id_}"
    )


@app.command("validate")
def validate(
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="[ID|FILE]",
            help="Prototype id in the lab, or a prototype.yaml (or its folder). "
            "Default: every prototype in the lab.",
            show_default=False,
        ),
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Check specs and list every problem (file:line: path: message); exit 1 when invalid."""
    from prototypes.validate import check_file

    files = _spec_files(target, lab)
    results = []
    for file in files:
        proto, problems = check_file(file)
        results.append(
            {
                "file": str(file),
                "id": proto.id if proto else None,
                "valid": not problems,
                "versions": proto.version_numbers if proto else [],
                "variants": proto.variant_names() if proto else [],
                "problems": [p.to_dict() for p in problems],
                "_problems": problems,
            }
        )
    invalid = [r for r in results if not r["valid"]]
    if json_:
        print_json([{k: v for k, v in r.items() if k != "_problems"} for r in results])
    elif not results:
        typer.echo("No prototypes in this lab yet. Create one with `storelab prototype new`.")
    else:
        for r in results:
            if r["valid"]:
                versions = r["versions"]
                span = f"{versions[0]}–{versions[-1]}" if len(versions) > 1 else str(versions[0])
                typer.echo(
                    f"ok  {r['file']}: {r['id']} is valid "
                    f"(versions {span}; variants {', '.join(r['variants'])})"
                )
            else:
                n = len(r["_problems"])
                typer.echo(f"{r['file']}: {n} problem{'s' if n != 1 else ''}", err=True)
                for p in r["_problems"]:
                    typer.echo(str(p), err=True)
        if len(results) > 1:
            typer.echo(f"{len(results) - len(invalid)} of {len(results)} prototypes are valid.")
    if invalid:
        raise typer.Exit(1)


@app.command("version")
def version(
    target: Annotated[
        str, typer.Argument(metavar="ID", help="Prototype id in the lab (or its prototype.yaml).")
    ],
    note: Annotated[
        str | None, typer.Option(help="What this version changes (kept in the spec).")
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Start the next version as a copy of the current one; earlier versions stay loadable."""
    from prototypes.scaffold import add_version

    (file,) = _spec_files(target, lab)
    number = add_version(file, note=note)
    if json_:
        print_json({"id": file.parent.name, "version": number, "file": str(file)})
        return
    typer.echo(
        f"Version {number} started from version {number - 1} in {file}.\n"
        f"  Describe its changes under 'versions:' (the entry '- version: {number}'): "
        "screens, elements, tasks or questions."
    )


@app.command("diff")
def diff_command(
    target: Annotated[
        str, typer.Argument(metavar="ID", help="Prototype id in the lab (or its prototype.yaml).")
    ],
    old: Annotated[
        str, typer.Argument(metavar="OLD", help="A version, e.g. 1, or a variant: 1:treatment.")
    ],
    new: Annotated[
        str, typer.Argument(metavar="NEW", help="A version, e.g. 2, or a variant: 2:treatment.")
    ],
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Show what changed between two versions (or variants): screens, elements, texts, tasks."""
    from prototypes.diff import view_diff
    from prototypes.library import load_prototype

    (file,) = _spec_files(target, lab)
    proto = load_prototype(file)
    diff = view_diff(proto.resolve(*_arm(old)), proto.resolve(*_arm(new)))
    if json_:
        print_json({"id": proto.id, **diff.to_dict()})
        return
    head = f"{proto.id}: {diff.old} → {diff.new}"
    if diff.empty:
        typer.echo(f"{head}: the same (nothing a customer sees or is asked differs).")
        return
    typer.echo(head)
    for line in diff.lines(proto.locales[0]):
        typer.echo(f"  {line}")


def _arm(text: str) -> tuple[int, str | None]:
    """``2`` -> (2, None); ``1:treatment`` -> (1, "treatment")."""
    version, _, variant = text.partition(":")
    if not version.strip().isdigit():
        raise InvalidInputError(
            f"{text!r} is not a version: write a number like 2, or 1:treatment for a variant."
        )
    return int(version), (variant.strip() or None)


def _spec_files(target: str | None, lab_path: Path | None) -> list[Path]:
    """The spec file(s) a command means: a file, a folder, an id in the lab, or all of them."""
    from prototypes.library import SPEC_FILE, list_prototype_ids, prototype_file

    if target is None:
        the_lab = open_lab(lab_path)
        return [prototype_file(the_lab, pid) for pid in list_prototype_ids(the_lab)]
    given = Path(target)
    if given.is_file():
        return [given]
    if given.is_dir() and (given / SPEC_FILE).is_file():
        return [given / SPEC_FILE]
    if given.suffix in (".yaml", ".yml") or "/" in target or "\\" in target:
        raise InvalidInputError(f"{target} does not exist.")
    return [prototype_file(open_lab(lab_path), target)]


# --- run and qr: thin wrappers over prototypes.runtime.launch ------------------------------


@app.command("run")
def run_command(
    prototype_id: Annotated[str, typer.Argument(help="The prototype to run.")],
    store: Annotated[str, typer.Option(help="Store the events are recorded for.")] = "S01",
    variant: Annotated[
        str, typer.Option(help="auto (from the lab's experiment, else base) or a variant name.")
    ] = "auto",
    device: Annotated[
        str | None, typer.Option(help="kiosk or phone. Default: the prototype's touchpoint.")
    ] = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8502,
    version: Annotated[int | None, typer.Option(help="Version to show. Default: current.")] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="Team preview: screen ids, task panel, restart.")
    ] = False,
    lab: LabOption = None,
) -> None:
    """Serve a prototype for customers (or the team, with --preview) until Ctrl-C."""
    from prototypes.runtime.launch import run_prototype, serve_until_stopped

    proc = run_prototype(
        open_lab(lab), prototype_id, store, variant, device, port, preview, version
    )
    raise typer.Exit(serve_until_stopped(proc))


@app.command("qr")
def qr_command(
    prototype_id: Annotated[str, typer.Argument(help="The prototype customers should open.")],
    stores: Annotated[str, typer.Option(help="Comma-separated store ids, e.g. S01,S02.")],
    base_url: Annotated[
        str | None,
        typer.Option(help="Where phones reach the runtime. Default: this machine, port 8502."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output HTML file.")] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Write a printable sheet with one QR code per store, linking to that store's URL."""
    from prototypes.runtime.launch import write_qr_sheet

    ids = [s.strip() for s in stores.split(",") if s.strip()]
    path = write_qr_sheet(open_lab(lab), prototype_id, ids, base_url, out)
    if json_:
        print_json({"path": str(path), "stores": ids})
    else:
        console().print(f"Wrote {path} ({len(ids)} store(s)); print it and put it up in the store.")


@app.command("snapshot")
def snapshot_command(
    prototype_id: Annotated[str, typer.Argument(metavar="ID", help="The prototype to render.")],
    version: Annotated[
        int | None, typer.Option(help="Version to render. Default: current.")
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="phone or kiosk. Default: the prototype's touchpoint.")
    ] = None,
    variant: Annotated[
        str | None,
        typer.Option(help="Render this variant's layout (for its tap maps). Default: control."),
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Render every screen with headless chromium into PNGs in the lab (for the tap maps)."""
    from prototypes.runtime.snapshot import SnapshotRequest, take_snapshots
    from prototypes.snapshots import snapshot_dir

    the_lab = open_lab(lab)
    progress = (lambda _line: None) if json_ else (lambda line: typer.echo(line, err=True))
    manifest = take_snapshots(
        the_lab, SnapshotRequest(prototype_id, version, device, variant), progress=progress
    )
    folder = snapshot_dir(
        the_lab, manifest.prototype_id, manifest.version, manifest.device, manifest.variant
    )
    if json_:
        print_json({**manifest.to_dict(), "folder": str(folder)})
    else:
        typer.echo(f"{len(manifest.screens)} screen(s) in {folder}")
    if manifest.failed:
        names = ", ".join(f"{s} ({why})" for s, why in manifest.failed.items())
        raise InvalidInputError(
            f"{len(manifest.failed)} of {len(manifest.failed) + len(manifest.screens)} screens "
            f"did not render: {names}; the others were kept."
        )


# --- the metrics a prototype defines (issue 15: its own questions and goals) ------------------


@app.command("metrics")
def metrics_command(
    prototype: Annotated[str, typer.Argument(help="Prototype id in the lab.", show_default=False)],
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """The goal: and question: metrics an experiment on this prototype may name."""
    from prototypes.library import load_lab_prototype
    from prototypes.measures import defined_measures

    defined = defined_measures(load_lab_prototype(open_lab(lab), prototype))
    if json_:
        print_json([{"metric": name, "measures": what} for name, what in defined.items()])
        return
    if not defined:
        typer.echo(
            f"{prototype} has no questions of its own and no goals; add `goals:` or a question "
            "with `type:` to its spec (docs/architecture.md)."
        )
        return
    width = max(len(name) for name in defined)
    for name, what in defined.items():
        typer.echo(f"{name:<{width}}  {what}")
