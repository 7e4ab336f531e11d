"""Train a multilayer perceptron on the two spirals with momentum and draw its boundary.

    python examples/neuron_playground.py [out.png]      (default ./spirals.png)

The TensorFlow Playground's hardest toy problem (Lang & Witbrock 1988): two spirals
wound around each other, which no straight line and no single neuron can separate.
Two tanh layers of 32 units trained by back-propagation with heavy-ball momentum
(Rumelhart, Hinton & Williams 1986; Polyak 1964) separate them in a few seconds.
"""

import sys
from pathlib import Path

import jax.random as jr
import numpy as np

from rnnlab.neuron import MLP, plot_decision_boundary, predict, train_mlp, two_spirals


def main(out: Path, seed: int = 0) -> None:
    k_init, k_train = jr.split(jr.key(seed))
    X, y = two_spirals(400, noise=0.02, seed=seed)  # X (400, 2), y (400,)
    mlp = MLP((2, 32, 32, 1), activation="tanh", key=k_init)
    mlp, history = train_mlp(
        mlp, X, y, optimizer="momentum", learning_rate=0.1, momentum=0.9, epochs=2000, key=k_train
    )
    accuracy = np.mean(predict(mlp, X) == y)
    fig = plot_decision_boundary(
        mlp, X, y, title=f"two spirals, MLP 2-32-32-1, momentum: {accuracy:.1%} correct"
    )
    tmp = out.with_name(out.name + ".tmp")
    fig.savefig(tmp, dpi=120, format="png")
    tmp.replace(out)  # atomic: never a half-written figure at `out`
    print(f"final loss {history.loss[-1]:.4f}, training accuracy {accuracy:.1%}; wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("spirals.png"))
