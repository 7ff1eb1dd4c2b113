"""Prototypes: the click-dummy spec, its built-in journey templates, the scaffolder and runtime.

Kept light on purpose: ``prototypes.commands`` imports this package when ``storelab --help``
runs, so nothing heavy (pydantic models, yaml) is imported here. Use ``prototypes.library``
(``load_prototype``, ``load_lab_prototype``), ``prototypes.spec`` (``Prototype.resolve``),
``prototypes.validate`` (``validate_file``), ``prototypes.templates`` (``list_templates``) and
``prototypes.scaffold`` (``new_prototype``).
"""
