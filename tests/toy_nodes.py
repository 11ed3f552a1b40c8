"""Tiny node types for testing the engine itself, independent of the node library."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from neuroflow.core.errors import DataError
from neuroflow.core.network import NetworkSpec
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, Port, PortType
from neuroflow.core.registry import Registry
from neuroflow.core.settings import FloatSetting, IntSetting

EXECUTIONS: list[str] = []


class Source(Node):
    type_id = "test.source"
    name = "Source"
    category = "Test"
    description = "Produces a dataset spec of a given count."
    outputs = (Port("data", PortType.IMAGES),)
    settings_spec = (IntSetting("count", "Count", 10, minimum=1, maximum=1000),
                     FloatSetting("sleep", "Sleep", 0.0, minimum=0.0, maximum=10.0))

    def configure(self, specs: Mapping[str, Any]) -> dict[str, Any]:
        return {"data": DatasetSpec((2, 2, 1), ("a", "b"), self["count"])}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        EXECUTIONS.append(ctx.node_id)
        deadline = time.perf_counter() + self["sleep"]
        while time.perf_counter() < deadline:
            ctx.progress(None)
            time.sleep(0.01)
        return {"data": self["count"]}


class Double(Node):
    type_id = "test.double"
    name = "Double"
    category = "Test"
    description = "Doubles the count; fails when told to."
    inputs = (Port("data", PortType.IMAGES),)
    outputs = (Port("data", PortType.IMAGES),)
    settings_spec = (IntSetting("fail_above", "Fail above", 1000, minimum=0, maximum=10_000),)

    def configure(self, specs: Mapping[str, Any]) -> dict[str, Any]:
        spec = self.require(specs, "data", DatasetSpec)
        return {"data": DatasetSpec(spec.shape, spec.class_names, (spec.count or 0) * 2)}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        EXECUTIONS.append(ctx.node_id)
        if inputs["data"] * 2 > self["fail_above"]:
            raise DataError(f"count {inputs['data'] * 2} is above {self['fail_above']}")
        return {"data": inputs["data"] * 2}


class Sum(Node):
    type_id = "test.sum"
    name = "Sum"
    category = "Test"
    description = "Adds two counts; the second input is optional."
    inputs = (Port("a", PortType.IMAGES), Port("b", PortType.IMAGES, optional=True))
    outputs = (Port("data", PortType.IMAGES),)

    def configure(self, specs: Mapping[str, Any]) -> dict[str, Any]:
        a = self.require(specs, "a", DatasetSpec)
        return {"data": a}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        EXECUTIONS.append(ctx.node_id)
        return {"data": inputs["a"] + (inputs["b"] or 0)}


class NetSink(Node):
    type_id = "test.netsink"
    name = "Net sink"
    category = "Test"
    description = "Takes a network."
    inputs = (Port("network", PortType.NETWORK),)

    def configure(self, specs: Mapping[str, Any]) -> dict[str, Any]:
        self.require(specs, "network", NetworkSpec)
        return {}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        return {}


def toy_registry() -> Registry:
    registry = Registry()
    for node_type in (Source, Double, Sum, NetSink):
        registry.register(node_type)
    return registry
