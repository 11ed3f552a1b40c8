"""Fashion-MNIST downloaded on demand by the MNIST Reader, from a local HTTP server.

The server (127.0.0.1, a free port) serves the canonical Fashion-MNIST files found beside the
repository, under ``/fashion-mnist/<file>`` as ``$NEUROFLOW_DATA_MIRROR`` expects; the built-in
sources are replaced by a closed local port so that no test can reach the internet, even when
something fails. Most tests fetch only the test split (4.4 MB) and read a sample of it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import json
import re
import socket
import threading
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from neuroflow.nodes.data.mnist_reader import MnistReaderNode

from neuroflow.cli import main
from neuroflow.core import fileformat
from neuroflow.core.errors import Cancelled, DataError, SettingError
from neuroflow.core.events import NodeProgress, NodeState, NodeStateChanged
from neuroflow.core.executor import Executor
from neuroflow.core.node import CancelToken, ExecutionContext
from neuroflow.core.ports import DatasetSpec
from neuroflow.core.workflow import Workflow
from neuroflow.datasets import mnist
from neuroflow.datasets.mnist import FASHION, inspect_split, load_split, locate_split
from neuroflow.reporting import ConsoleProgress

REPO = Path(__file__).resolve().parents[1]
SIBLING_FASHION = REPO.parent / "shared" / "data" / "fashion-mnist"
FASHION_WORKFLOW = REPO / "workflows" / "knime_fashion_cnn.workflow"
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
MIRROR = "NEUROFLOW_DATA_MIRROR"


# -- the local server ---------------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        name = self.path.strip("/")
        self.server.requests.append(name)
        folder, _, file_name = name.partition("/")
        path = self.server.files.get(file_name) if folder == "fashion-mnist" else None
        if path is None:
            self.send_error(404)
            return
        data = bytearray(path.read_bytes())
        if file_name in self.server.corrupt:
            data[len(data) // 2] ^= 0xFF  # one flipped byte: same size, other checksum
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for start in range(0, len(data), 1 << 16):
                self.wfile.write(data[start:start + (1 << 16)])
        except (BrokenPipeError, ConnectionResetError):  # the client cancelled
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, files: dict[str, Path]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = files
        self.corrupt: set[str] = set()
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _closed_port_url() -> str:
    """A local address nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def source() -> Path:
    """The canonical Fashion-MNIST files beside the repository (skip when absent)."""
    names = (*TEST_FILES, *TRAIN_FILES)
    if not all((SIBLING_FASHION / name).is_file() for name in names):
        pytest.skip(f"the Fashion-MNIST files are not beside the repository ({SIBLING_FASHION})")
    return SIBLING_FASHION


@pytest.fixture
def server(source: Path) -> Iterator[_Server]:
    httpd = _Server({name: source / name for name in (*TEST_FILES, *TRAIN_FILES)})
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def dead_url() -> str:
    return _closed_port_url()


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dead_url: str) -> Path:
    """A fresh home and an empty data folder; the built-in sources point at a closed local port."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEUROFLOW_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.delenv(MIRROR, raising=False)
    local_only = dataclasses.replace(FASHION, sources=(dead_url,))
    monkeypatch.setitem(mnist.COLLECTIONS, "fashion", local_only)
    return tmp_path


@pytest.fixture
def mirrored(data_home: Path, server: _Server, monkeypatch: pytest.MonkeyPatch) -> _Server:
    monkeypatch.setenv(MIRROR, server.url)
    return server


def target_folder(home: Path) -> Path:
    return home / "data" / "fashion-mnist"


def looked_in(home: Path) -> str:
    return ", ".join(str(p) for p in (
        home / "data" / "fashion-mnist", home / "home" / ".neuroflow" / "data" / "fashion-mnist",
        home / "home" / ".keras" / "datasets" / "fashion-mnist",
    ))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def execute(node: MnistReaderNode, token: CancelToken | None = None, on_event: Any = None) -> tuple[Any, list[Any]]:
    events: list[Any] = []

    def emit(event: Any) -> None:
        events.append(event)
        if on_event is not None:
            on_event(event)

    ctx = ExecutionContext("reader", "reader", token or CancelToken(), emit)
    return node.execute({}, ctx)["data"], events


def reader_workflow(path: Path, **settings: Any) -> Path:
    """Fashion-MNIST test reader -> Normalizer, saved to ``path``: no TensorFlow needed to run it."""
    workflow = Workflow()
    reader = workflow.add_node(
        "neuroflow.data.mnist_reader", label="Fashion test",
        settings={"dataset": "fashion", "split": "test", "limit": 100, **settings},
    )
    scale = workflow.add_node("neuroflow.data.normalizer")
    workflow.connect(reader.id, "data", scale.id, "data")
    fileformat.save(workflow, path)
    return path


# -- downloading --------------------------------------------------------------------------------
def test_execute_downloads_the_split_then_validate_passes(
    mirrored: _Server, data_home: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    node = MnistReaderNode({"dataset": "fashion", "split": "test", "limit": 50})
    before = node.configure({})["data"]  # no files yet: the collection's fixed facts
    assert before == DatasetSpec((28, 28, 1), FASHION.class_names, 50, (0.0, 255.0))
    assert mirrored.requests == []  # configure never downloads

    data, events = execute(node)
    folder = target_folder(data_home)
    assert mirrored.requests == [f"fashion-mnist/{name}" for name in TEST_FILES]  # the split's two only
    assert leftovers(folder) == sorted(TEST_FILES)
    for name in TEST_FILES:
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == FASHION.remote_file(name).sha256
    expected = load_split(inspect_split(locate_split(FASHION, "test", str(source))), 50)
    np.testing.assert_array_equal(data.images, expected[0])
    np.testing.assert_array_equal(data.labels, expected[1])
    assert node.configure({})["data"] == before and node.note == ""

    fractions = [e.fraction for e in events if isinstance(e, NodeProgress)]
    messages = [e.message for e in events if isinstance(e, NodeProgress)]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert messages[0] == "downloading t10k-images-idx3-ubyte.gz"
    assert "downloading t10k-images-idx3-ubyte.gz: 4.4 MB of 4.4 MB" in messages
    assert "downloading t10k-labels-idx1-ubyte.gz" in messages
    assert len(fractions) >= 10  # shown as it goes

    train_events = execute(MnistReaderNode({"dataset": "fashion", "split": "train", "limit": 20}))[1]
    chunks = FASHION.remote_file(TRAIN_FILES[0]).size // (1 << 16)
    assert len(train_events) <= 110 < chunks  # about once per 1 %, not once per 64 KiB chunk
    assert leftovers(folder) == sorted((*TEST_FILES, *TRAIN_FILES))
    capsys.readouterr()
    off = ["--set", "train_reader.download=false", "--set", "test_reader.download=false"]
    code = main(["validate", str(FASHION_WORKFLOW), *off])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"{FASHION_WORKFLOW}: valid" in out and "note:" not in out
    assert len(mirrored.requests) == 4  # validate fetched nothing


def test_validate_before_downloading_says_what_running_will_fetch(
    mirrored: _Server, data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", str(FASHION_WORKFLOW)])
    out, err = capsys.readouterr()
    assert code == 0, err
    folder = target_folder(data_home)
    shipped = json.loads(FASHION_WORKFLOW.read_text())
    assert out.splitlines()[-3:] == [
        f"{FASHION_WORKFLOW}: valid ({len(shipped['nodes'])} nodes, {len(shipped['connections'])} connections)",
        f"note: 'Fashion-MNIST train' (train_reader): Fashion-MNIST train is not downloaded yet: running will "
        f"download 26.5 MB (train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz) into {folder}",
        f"note: 'Fashion-MNIST test' (test_reader): Fashion-MNIST test is not downloaded yet: running will "
        f"download 4.4 MB (t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz) into {folder}",
    ]
    assert "Total params:" in out and mirrored.requests == [] and not folder.exists()


def test_half_a_download_is_completed_not_repeated(mirrored: _Server, data_home: Path, source: Path) -> None:
    folder = target_folder(data_home)
    folder.mkdir(parents=True)
    (folder / TEST_FILES[1]).write_bytes((source / TEST_FILES[1]).read_bytes())
    node = MnistReaderNode({"dataset": "fashion", "split": "test", "limit": 5})
    node.configure({})
    assert "running will download 4.4 MB (t10k-images-idx3-ubyte.gz) into" in node.note
    assert len(execute(node)[0]) == 5
    assert mirrored.requests == [f"fashion-mnist/{TEST_FILES[0]}"]


def test_the_node_mirror_may_be_a_file_url_and_replaces_the_official_hosts(
    data_home: Path, source: Path, tmp_path: Path
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    for name in TEST_FILES:
        (share / name).write_bytes((source / name).read_bytes())
    node = MnistReaderNode({"dataset": "fashion", "split": "test", "limit": 3, "mirror": share.as_uri()})
    assert len(execute(node)[0]) == 3
    assert leftovers(target_folder(data_home)) == sorted(TEST_FILES)
    assert mnist.download_sources(mnist.COLLECTIONS["fashion"], share.as_uri()) == [share.as_uri() + "/"]


def test_a_corrupted_file_is_refused_by_its_checksum_and_removed(
    mirrored: _Server, data_home: Path, dead_url: str
) -> None:
    mirrored.corrupt.add(TEST_FILES[0])
    node = MnistReaderNode({"dataset": "fashion", "split": "test", "limit": 5})
    with pytest.raises(DataError) as caught:
        execute(node)
    url = f"{mirrored.url}/fashion-mnist/{TEST_FILES[0]}"
    actual = hashlib.sha256(bytes(_corrupted(SIBLING_FASHION / TEST_FILES[0]))).hexdigest()
    folder = target_folder(data_home)
    assert str(caught.value) == (
        f"Fashion-MNIST test files missing: {', '.join(TEST_FILES)} (looked in {looked_in(data_home)}); "
        f"download failed: {TEST_FILES[0]} downloaded from {url} does not match its SHA-256 checksum "
        f"(expected 346e55b948d973a9..., got {actual[:16]}...); the file was removed; "
        f"cannot reach {dead_url[7:-1]}: connection refused. Put the files from "
        f"https://github.com/zalandoresearch/fashion-mnist into {folder}, point NEUROFLOW_DATA_MIRROR or "
        "the node's download mirror at a copy, or set the node's data folder"
    )
    assert leftovers(folder) == []  # neither the bad file nor a .part file
    # the next mirror in line delivers the good file
    node.set("mirror", f"{mirrored.url}/fashion-mnist/")
    mirrored.corrupt.clear()
    assert len(execute(node)[0]) == 5 and leftovers(folder) == sorted(TEST_FILES)


def _corrupted(path: Path) -> bytearray:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    return data


def test_server_down_is_one_line_on_the_command_line(
    data_home: Path, dead_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(MIRROR, dead_url)
    workflow = reader_workflow(tmp_path / "fashion.workflow")
    assert main(["validate", str(workflow)]) == 0  # configure needs no network
    capsys.readouterr()
    code = main(["run", str(workflow)])
    out, err = capsys.readouterr()
    assert code == 1
    folder = target_folder(data_home)
    errors = [line for line in err.splitlines() if line.startswith("neuroflow: error:")]
    assert errors == [
        f"neuroflow: error: 'Fashion test' (n1): Fashion-MNIST test files missing: {', '.join(TEST_FILES)} "
        f"(looked in {looked_in(data_home)}); download failed: cannot reach {dead_url[7:-1]}: connection refused. "
        f"Put the files from https://github.com/zalandoresearch/fashion-mnist into {folder}, point "
        "NEUROFLOW_DATA_MIRROR or the node's download mirror at a copy, or set the node's data folder"
    ]
    assert "Traceback" not in err + out
    assert leftovers(folder) == []


def test_offline_names_the_official_hosts(data_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real built-in sources, with name resolution failing as it does without a network."""
    monkeypatch.setitem(mnist.COLLECTIONS, "fashion", FASHION)
    tried: list[str] = []

    def offline(url: str, timeout: float) -> Any:
        tried.append(url)
        raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(DataError) as caught:
        execute(MnistReaderNode({"dataset": "fashion", "split": "test"}))
    message = str(caught.value)
    assert tried == [base + TEST_FILES[0] for base in FASHION.sources]
    assert (
        "download failed: cannot reach fashion-mnist.s3-website.eu-central-1.amazonaws.com: the host name "
        "cannot be resolved (offline?); cannot reach storage.googleapis.com: the host name cannot be resolved "
        "(offline?). Put the files from"
    ) in message
    assert "\n" not in message


def test_downloading_off_says_so_and_fetches_nothing(mirrored: _Server, data_home: Path) -> None:
    node = MnistReaderNode({"dataset": "fashion", "split": "test", "download": False})
    with pytest.raises(DataError, match=r"turn on its download setting \(it is off\)$"):
        node.configure({})
    with pytest.raises(DataError, match="Fashion-MNIST test files not found; looked in"):
        execute(node)
    assert mirrored.requests == []


def test_a_data_folder_is_never_downloaded_into(mirrored: _Server, data_home: Path) -> None:
    empty = data_home / "mine"
    empty.mkdir()
    node = MnistReaderNode({"dataset": "fashion", "split": "test", "data_folder": str(empty)})
    with pytest.raises(DataError, match=r"no Fashion-MNIST test files in .*mine"):
        execute(node)
    assert mirrored.requests == [] and leftovers(empty) == []


def test_a_bad_mirror_is_a_setting_error(data_home: Path) -> None:
    node = MnistReaderNode({"dataset": "fashion", "mirror": "ftp.example.org/fashion"})
    with pytest.raises(SettingError, match=r"setting 'mirror': expected an http://, https:// or file:// URL, "
                                        r"got 'ftp.example.org/fashion'"):
        node.configure({})


def test_cancel_mid_download_leaves_nothing(mirrored: _Server, data_home: Path) -> None:
    token = CancelToken()
    seen: list[float] = []

    def cancel_midway(event: Any) -> None:
        if isinstance(event, NodeProgress) and event.fraction is not None:
            seen.append(event.fraction)
            if event.fraction > 0.2:
                token.cancel()

    with pytest.raises(Cancelled):
        execute(MnistReaderNode({"dataset": "fashion", "split": "test"}), token, cancel_midway)
    assert 0.2 < seen[-1] < 0.5  # stopped within a chunk of the cancel, well before the end
    assert leftovers(target_folder(data_home)) == []


# -- the command line ---------------------------------------------------------------------------
def test_run_shows_the_download_in_a_log(mirrored: _Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workflow = reader_workflow(tmp_path / "fashion.workflow")
    code = main(["run", str(workflow)])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = err.splitlines()
    start = lines.index("> Fashion test (n1)")
    node_lines = lines[start + 1:lines.index("> Normalizer (n2)")]
    assert node_lines[:2] == ["  downloading t10k-images-idx3-ubyte.gz", "  downloading t10k-labels-idx1-ubyte.gz"]
    assert node_lines[-1] == "  read 100 images" and len(node_lines) <= 5
    assert "Fashion test (n1)                  ok" in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_redrawn_bar(mirrored: _Server, tmp_path: Path) -> None:
    workflow = fileformat.load(reader_workflow(tmp_path / "fashion.workflow"))
    terminal = _Terminal()
    progress = ConsoleProgress(workflow, terminal)
    started = time.perf_counter()
    assert Executor(workflow, listener=progress).run().ok
    seconds = time.perf_counter() - started
    progress.close()
    text = terminal.getvalue()
    node_part = text[text.index("> Fashion test (n1)\n") + 20:text.index("> Normalizer (n2)")]
    assert node_part.startswith("\r  [........................]   0%  downloading t10k-images-idx3-ubyte.gz\x1b[K")
    assert node_part.endswith("\r  [########################] 100%  read 100 images\x1b[K\n")
    assert node_part.count("\n") == 1  # one line, redrawn in place
    assert node_part.count("\r") <= 4 + 10 * seconds  # at most ten redraws a second


def test_long_work_in_a_log_gets_a_line_every_ten_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    workflow = Workflow()
    reader = workflow.add_node("neuroflow.data.mnist_reader", label="Fashion train").id
    log = io.StringIO()
    progress = ConsoleProgress(workflow, log)
    clock = [0.0]
    monkeypatch.setattr("neuroflow.reporting.time.perf_counter", lambda: clock[0])
    progress(NodeStateChanged(reader, NodeState.EXECUTING))
    for second in range(36):  # a slow 26 MB download, reported twice a second
        for half in (0.0, 0.5):
            clock[0] = second + half
            done = (second + half) / 36
            progress(NodeProgress(reader, done, f"downloading train-images-idx3-ubyte.gz: {26.4 * done:.1f} MB of 26.4 MB"))
    for number in range(10):  # many steps of different wording: only the first few get a line
        progress(NodeProgress(reader, 1.0, f"step {'x' * number}"))
    progress(NodeStateChanged(reader, NodeState.EXECUTED))
    assert log.getvalue().splitlines() == [
        "> Fashion train (n1)",
        "  downloading train-images-idx3-ubyte.gz: 0.0 MB of 26.4 MB",
        "  downloading train-images-idx3-ubyte.gz: 7.3 MB of 26.4 MB (27%)",
        "  downloading train-images-idx3-ubyte.gz: 14.7 MB of 26.4 MB (55%)",
        "  downloading train-images-idx3-ubyte.gz: 22.0 MB of 26.4 MB (83%)",
        "  step ", "  step x", "  step xx", "  step xxx", "  step xxxx",
        "  step xxxxxxxxx",  # the last message, when the node is done
    ]


# -- settings and files -------------------------------------------------------------------------
def test_version_1_settings_load_with_downloading_on(tmp_path: Path) -> None:
    old = {
        "format": "neuroflow.workflow", "format_version": 1,
        "nodes": [{"id": "r", "type": "neuroflow.data.mnist_reader", "version": 1, "label": "Fashion",
                   "settings": {"dataset": "fashion", "split": "test", "data_folder": "", "limit": 3}}],
        "connections": [], "layout": {"r": [0, 0]},
    }
    path = tmp_path / "old.workflow"
    path.write_text(json.dumps(old))
    node = fileformat.load(path).nodes["r"].node
    assert node.settings == {"dataset": "fashion", "split": "test", "data_folder": "", "limit": 3,
                             "download": True, "mirror": ""}
    fileformat.save(fileformat.load(path), tmp_path / "new.workflow")
    saved = json.loads((tmp_path / "new.workflow").read_text())["nodes"][0]
    assert saved["version"] == MnistReaderNode.version == 2


def test_shipped_workflows_are_saved_at_the_current_reader_version(tmp_path: Path) -> None:
    shipped = sorted((REPO / "workflows").glob("*.workflow"))
    assert len(shipped) >= 8
    for path in shipped:
        readers = [n for n in json.loads(path.read_text())["nodes"] if n["type"] == MnistReaderNode.type_id]
        assert {n["version"] for n in readers} <= {MnistReaderNode.version}, path.name
        copy = tmp_path / path.name
        fileformat.save(fileformat.load(path), copy)
        assert copy.read_bytes() == path.read_bytes(), path.name


def test_checksums_in_the_code_are_the_canonical_ones(source: Path) -> None:
    """The checksums and sizes in the code equal those in SOURCES.md and those of the files."""
    sources_md = (source / "SOURCES.md").read_text()
    for remote in FASHION.remote_files:
        row = re.search(rf"\| {re.escape(remote.name)} \| (\d+) \| \w+ \| (\w+) \|", sources_md)
        assert row is not None, remote.name
        assert (int(row.group(1)), row.group(2)) == (remote.size, remote.sha256)
        assert hashlib.sha256((source / remote.name).read_bytes()).hexdigest() == remote.sha256
