"""Image List Reader: images and labels listed in a CSV file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from neuroflow.core.errors import ConfigureError
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, Port, PortType, Spec
from neuroflow.core.settings import PathSetting, StringSetting
from neuroflow.datasets.file_dataset import VALUE_RANGE, build_dataset, channels_for
from neuroflow.datasets.image_list import ImageList, ListColumns, parse_classes, read_image_list

from ._photos import DECODE_SETTINGS, decode_options


class ImageListReaderNode(Node):
    type_id = "neuroflow.data.image_list_reader"
    category = "Data"
    name = "Image List Reader"
    description = (
        "Reads images listed in a CSV file with a path column and a label column, the way most "
        "labelled datasets ship; paths are taken from the CSV's folder. An optional split column "
        "(e.g. train/test) selects the rows to read, so two readers of one file give the training "
        "and the test set with the same classes. Every listed file must exist and every label "
        "must be a class. Images are decoded while training, not loaded here."
    )
    keywords = ("csv", "list", "labels", "table", "annotations", "images", "photos", "reader",
                "own data", "split", "load")
    outputs = (
        Port("data", PortType.IMAGES, "images", help="The listed images (height, width, channels), values 0-255."),
    )
    settings_spec = (
        PathSetting(
            "csv_file", "CSV file", "", mode="file", file_filter="CSV files (*.csv *.tsv *.txt)",
            help="A CSV file (comma, semicolon or tab separated) whose first row names the columns. "
                 "A relative path is taken from the workflow file's folder.",
        ),
        StringSetting("path_column", "Path column", "path",
                      help="The column holding each image's path, relative to the CSV's folder or absolute."),
        StringSetting("label_column", "Label column", "label",
                      help="The column holding each image's class label (a name or a number)."),
        StringSetting("split_column", "Split column", "",
                      help="Optional: a column such as 'split' with values like train and test. "
                           "Empty reads every row."),
        StringSetting("split_value", "Split to read", "train",
                      help="With a split column: read only the rows with this value."),
        StringSetting("classes", "Classes", "",
                      help="Optional: the class names in order, separated by commas; a label outside "
                           "them is refused. Empty: every label in the file, sorted."),
        *DECODE_SETTINGS,
    )

    def _list(self) -> ImageList:
        text = self["csv_file"].strip()
        if not text:
            raise ConfigureError("setting 'csv_file': no file chosen; choose a CSV file listing images and labels")
        columns = ListColumns(
            self["path_column"].strip(), self["label_column"].strip(),
            self["split_column"].strip(), self["split_value"].strip(),
        )
        return read_image_list(self.resolve_path(text), columns, parse_classes(self["classes"]))

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        listed = self._list()
        height, width = self["size"]
        return {
            "data": DatasetSpec(
                shape=(height, width, channels_for(self["color_mode"], listed.paths)),
                class_names=listed.class_names,
                count=len(listed.paths),
                value_range=VALUE_RANGE,
                from_files=True,
            )
        }

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        listed = self._list()
        split = f" ({self['split_value']})" if self["split_column"].strip() else ""
        dataset = build_dataset(
            listed.paths, np.asarray(listed.labels, dtype=np.int64), listed.class_names,
            decode_options(self), source=f"{Path(self['csv_file']).name}{split}",
            progress=ctx.progress, warn=ctx.warn,
        )
        ctx.progress(1.0, f"{len(dataset):,} images in {len(listed.class_names)} classes")
        return {"data": dataset}
