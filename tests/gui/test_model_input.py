"""Pictures prepared for a model in the editor, and questions to it that never pile up."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtGui import QImage

from neuroflow.gui.views.draw_pad import DrawPad
from neuroflow.gui.views.model_input import from_array, heat_overlay, image_files, mnist_like, to_array
from neuroflow.gui.views.model_questions import ModelQuestions


def test_a_drawing_becomes_an_mnist_like_digit(qapp):
    pad = DrawPad()
    pad.stroke([(230, 20), (250, 120)])  # small, in the top right corner of the pad
    digit = mnist_like(pad.canvas)[..., 0]
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    rows, cols = np.nonzero(digit)
    assert rows.max() - rows.min() + 1 == 20  # fitted into MNIST's 20-pixel box (the long side)
    weights = digit.astype(float)
    centre = (weights.sum(axis=1) @ np.arange(28) / weights.sum(), weights.sum(axis=0) @ np.arange(28) / weights.sum())
    assert abs(centre[0] - 14) <= 1.0 and abs(centre[1] - 14) <= 1.0  # centred by its mass
    assert len(np.unique(digit)) > 2  # anti-aliased edges, not a hard threshold
    assert not mnist_like(DrawPad().canvas).any()


def test_files_are_brought_to_the_models_size_and_channels(qapp, tmp_path):
    colour = np.zeros((50, 80, 3), np.uint8)
    colour[..., 0] = 200
    assert from_array(colour).save(str(tmp_path / "red.png"))
    (tmp_path / "notes.txt").write_text("not an image")
    files = image_files([str(tmp_path)])
    assert files == [str(tmp_path / "red.png")]
    image = QImage(files[0])
    gray = to_array(image, (28, 28, 1))
    rgb = to_array(image, (32, 32, 3))
    assert gray.shape == (28, 28, 1) and rgb.shape == (32, 32, 3)
    assert np.all(rgb[..., 0] == 200) and not rgb[..., 1:].any()
    assert 0 < gray.mean() < 200  # red read as a mid gray


def test_heat_overlay_colours_hot_places_and_keeps_cold_ones_readable():
    base = np.full((4, 4, 1), 128, np.uint8)
    heat = np.zeros((4, 4), np.float32)
    heat[0, 0] = 1.0
    shown = heat_overlay(base, heat, 1.0)
    assert shown.shape == (4, 4, 3)
    assert shown[0, 0, 0] > 200 and shown[0, 0, 2] < 80  # red where the map is hot
    assert np.abs(shown[3, 3].astype(int) - 128).max() < 100  # the picture still shows through
    assert np.array_equal(heat_overlay(base, heat, 0.0), np.repeat(base, 3, axis=2))


def test_only_the_newest_question_of_a_topic_waits(qtbot):
    release = threading.Event()
    asked: list[tuple[str, dict]] = []

    def ask(node_id, what, payload):
        asked.append((what, payload))
        release.wait(10)
        return {"n": payload["n"]}

    questions = ModelQuestions("learner", ask=ask)
    answers: list[int] = []
    questions.answered.connect(lambda topic, answer: answers.append(answer["n"]))
    questions.ask("predict", "predict", {"n": 0})
    qtbot.waitUntil(lambda: len(asked) == 1)
    for n in range(1, 20):  # the user draws on while the model answers the first question
        questions.ask("predict", "predict", {"n": n})
    release.set()
    qtbot.waitUntil(lambda: questions.idle and len(answers) == 2)
    assert answers == [0, 19] and len(asked) == 2
    questions.close()


def test_a_failed_question_is_reported_not_raised(qtbot):
    def ask(node_id, what, payload):
        raise LookupError("no results for learner (reset or not executed)")

    questions = ModelQuestions("learner", ask=ask)
    with qtbot.waitSignal(questions.failed) as failure:
        questions.ask("predict", "predict", {})
    assert failure.args == ["predict", "no results for learner (reset or not executed)"]
    questions.close()
