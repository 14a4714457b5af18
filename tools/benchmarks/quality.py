"""Representation quality: one fixed protocol for every method and its base.

The entry script of the ``quality_tool`` package beside it (one module per
job; its ``__init__`` lists them):

    python tools/benchmarks/quality.py run configs/benchmarks/quality/fashion-mnist_cpu.py
    python tools/benchmarks/quality.py run PROTOCOL --entries simclr --seeds 0
    python tools/benchmarks/quality.py try CONFIG --seed 0 --label NAME \\
        --cfg-options model.head.temperature=0.5   # recipe search
    python tools/benchmarks/quality.py report      # every generated README
                                                   # block, charts, metafiles
"""
import os.path as osp
import sys

HERE = osp.dirname(osp.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from quality_tool.cli import main  # noqa: E402

if __name__ == '__main__':
    main()
