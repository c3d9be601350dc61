"""actlab: neural-network activation functions, exact to the last bit, on any array library.

Every public function is listed here by name; ``tests/test_public_api.py`` checks that these
names and the registry agree (each entry's f, f′, f″ and parameter gradients are exported).
"""

from __future__ import annotations

from .accuracy import audit
from .functions.exponential import elu, elu_grad, elu_grad2, elu_grad_alpha
from .functions.gated import (
    mish,
    mish_grad,
    mish_grad2,
    silu,
    silu_grad,
    silu_grad2,
    swish,
    swish_grad,
    swish_grad2,
    swish_grad_beta,
)
from .functions.hyperbolic import tanh, tanh_grad, tanh_grad2
from .functions.logistic import (
    log_sigmoid,
    log_sigmoid_grad,
    log_sigmoid_grad2,
    sigmoid,
    sigmoid_grad,
    sigmoid_grad2,
    softplus,
    softplus_grad,
    softplus_grad2,
    softplus_grad_beta,
)
from .functions.prelu import prelu, prelu_grad, prelu_grad2, prelu_grad_weight
from .functions.randomized import rrelu, rrelu_grad, rrelu_grad2, rrelu_grad_lower, rrelu_grad_upper
from .functions.rectifiers import (
    leaky_relu,
    leaky_relu_grad,
    leaky_relu_grad2,
    leaky_relu_grad_negative_slope,
    relu,
    relu6,
    relu6_grad,
    relu6_grad2,
    relu_grad,
    relu_grad2,
)
from .registry import REGISTRY, UnknownActivationError, entries, get, names

# --- softmax family, maxout and losses (issue 3) --------------------------------------------
# isort: split
from .functions.logsumexp import logsumexp, logsumexp_vjp
from .functions.maxout import maxout, maxout_vjp
from .functions.softmax import (
    log_softmax,
    log_softmax_jacobian,
    log_softmax_jvp,
    log_softmax_vjp,
    softmax,
    softmax_jacobian,
    softmax_jvp,
    softmax_vjp,
    softmin,
    softmin_jacobian,
    softmin_jvp,
    softmin_vjp,
)
from .losses import (
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    cross_entropy,
    cross_entropy_grad,
    cross_entropy_with_grad,
    mse_loss,
    mse_loss_grad,
    nll_loss,
    nll_loss_grad,
)

# --- end of the softmax family ---------------------------------------------------------------

# --- kernel tiers, threads, out= and the vector-Jacobian products (issue 6) ------------------
# isort: split
from . import kernels
from .functions.vjp import make_vjp, sigmoid_vjp_from_output, tanh_vjp_from_output
from .kernels import get_backend_tier, get_num_threads, set_backend_tier, set_num_threads

# NAME_vjp(x, g, *, out=None, **params) = g·f′(x) for every elementwise entry, made from the
# registry (tests/test_public_api.py checks both ways).
_VJPS = {f"{e.name}_vjp": make_vjp(e) for e in entries("elementwise")}
globals().update(_VJPS)
del make_vjp


__version__ = "0.1.0"

__all__ = [
    "REGISTRY",
    "UnknownActivationError",
    "__version__",
    "audit",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "cross_entropy_with_grad",
    "elu",
    "elu_grad",
    "elu_grad2",
    "elu_grad_alpha",
    "entries",
    "get",
    "leaky_relu",
    "leaky_relu_grad",
    "leaky_relu_grad2",
    "leaky_relu_grad_negative_slope",
    "log_sigmoid",
    "log_sigmoid_grad",
    "log_sigmoid_grad2",
    "log_softmax",
    "log_softmax_jacobian",
    "log_softmax_jvp",
    "log_softmax_vjp",
    "logsumexp",
    "logsumexp_vjp",
    "maxout",
    "maxout_vjp",
    "mish",
    "mish_grad",
    "mish_grad2",
    "mse_loss",
    "mse_loss_grad",
    "names",
    "nll_loss",
    "nll_loss_grad",
    "prelu",
    "prelu_grad",
    "prelu_grad2",
    "prelu_grad_weight",
    "relu",
    "relu6",
    "relu6_grad",
    "relu6_grad2",
    "relu_grad",
    "relu_grad2",
    "rrelu",
    "rrelu_grad",
    "rrelu_grad2",
    "rrelu_grad_lower",
    "rrelu_grad_upper",
    "sigmoid",
    "sigmoid_grad",
    "sigmoid_grad2",
    "silu",
    "silu_grad",
    "silu_grad2",
    "softmax",
    "softmax_jacobian",
    "softmax_jvp",
    "softmax_vjp",
    "softmin",
    "softmin_jacobian",
    "softmin_jvp",
    "softmin_vjp",
    "softplus",
    "softplus_grad",
    "softplus_grad2",
    "softplus_grad_beta",
    "swish",
    "swish_grad",
    "swish_grad2",
    "swish_grad_beta",
    "tanh",
    "tanh_grad",
    "tanh_grad2",
    # issue 6
    "get_backend_tier",
    "get_num_threads",
    "kernels",
    "set_backend_tier",
    "set_num_threads",
    "sigmoid_vjp_from_output",
    "tanh_vjp_from_output",
    *sorted(_VJPS),
]
