"""The lecture's "hello" toy: after h, e, l, l the network predicts e, l, l, o.

python examples/hello.py [cell]
"""

import sys

from rnnlab.charlm.hello import train_hello

cell = sys.argv[1] if len(sys.argv) > 1 else "elman"
predicted, losses = train_hello(cell)
print(f"{cell}: loss {losses[0]:.3f} -> {losses[-1]:.4f}")
print(f"input 'hell' -> predicted {predicted!r} (target 'ello')")
