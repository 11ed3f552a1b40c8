"""Node discovery: built-ins, a user folder, entry points; broken plugins are reported and skipped."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from neuroflow.core.registry import Registry, default_registry

GOOD_PLUGIN = textwrap.dedent(
    '''
    from neuroflow.core.layer_node import LayerNode

    class Identity(LayerNode):
        type_id = "acme.identity"
        name = "Identity"
        description = "Passes the network through unchanged."
        keras_class = "Identity"
    '''
)


def test_builtins_cover_the_whole_library() -> None:
    registry = default_registry()
    categories = registry.categories()
    assert {"Data", "Layers", "Learning"} <= set(categories)
    assert len(registry) >= 20
    for node_type in registry:
        assert node_type.description and node_type.name
        assert all(setting.help for setting in node_type.settings_spec), node_type.type_id


def test_user_folder_plugins_load_and_broken_ones_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "identity.py").write_text(GOOD_PLUGIN)
    (tmp_path / "broken.py").write_text("import not_a_module_anywhere\n")
    (tmp_path / "syntax.py").write_text("class (:\n")
    registry = Registry()
    registry.load_folder(tmp_path)
    assert registry.get("acme.identity") is not None
    assert len(registry.problems) == 2
    assert any("plugin broken.py: ModuleNotFoundError" in p and p.endswith("skipped") for p in registry.problems)
    assert any("plugin syntax.py: SyntaxError" in p for p in registry.problems)


def test_entry_point_plugins_load_and_broken_ones_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "acme_nodes.py").write_text(GOOD_PLUGIN)
    dist = tmp_path / "acme_nodes-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-nodes\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[neuroflow.nodes]\nacme = acme_nodes\nghost = acme_missing_module\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry()
    registry.load_entry_points()
    assert registry.get("acme.identity") is not None
    assert any("plugin 'ghost' (acme_missing_module): ModuleNotFoundError" in p for p in registry.problems)
    sys.modules.pop("acme_nodes", None)


def test_invalid_declarations_and_duplicates_are_reported(tmp_path: Path) -> None:
    (tmp_path / "dupe.py").write_text(GOOD_PLUGIN)
    (tmp_path / "dupe2.py").write_text(GOOD_PLUGIN)
    (tmp_path / "bad_default.py").write_text(textwrap.dedent(
        '''
        from neuroflow.core.node import Node
        from neuroflow.core.settings import IntSetting

        class Bad(Node):
            type_id = "acme.bad"
            name = "Bad"
            settings_spec = (IntSetting("n", "N", 0, minimum=1),)
        '''
    ))
    registry = Registry()
    registry.load_folder(tmp_path)
    assert registry.get("acme.bad") is None
    assert any("default of 'n' is invalid" in p for p in registry.problems)
    assert any("'acme.identity' is already provided" in p for p in registry.problems)
