"""What the two-input layers share: two network ports (not a node type itself).

``LayerNode.configure`` joins the two branches with ``NetworkSpec.merge``, so a merge node
only states how the two shapes combine.
"""

from __future__ import annotations

from typing import ClassVar

from neuroflow.core.layer_node import LayerNode
from neuroflow.core.ports import Port, PortType

FIRST = Port("network_1", PortType.NETWORK, "network 1", help="The first branch.")
SECOND = Port("network_2", PortType.NETWORK, "network 2", help="The second branch.")


class MergeNode(LayerNode):
    """Base of the layers that combine two branches of a network into one."""

    inputs: ClassVar[tuple[Port, ...]] = (FIRST, SECOND)
    keywords: ClassVar[tuple[str, ...]] = ("merge", "join", "branch", "skip connection")
