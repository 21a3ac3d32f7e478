r"""A scalar reverse-mode autodiff engine: a computational graph built while computing,
then walked backwards to apply the chain rule.

Every ``Value`` remembers the values it was computed from (its children in the graph)
and a local rule that turns the gradient of the output into gradients of its inputs.
``backward`` visits the nodes in reverse topological order, so a node's gradient is
complete (summed over every path that uses it) before it is pushed further back:

$$\bar v_i = \frac{\partial L}{\partial v_i}
= \sum_{j \,:\, i \to j} \bar v_j \, \frac{\partial v_j}{\partial v_i},
\qquad \bar L = 1 .$$

Reference: Linnainmaa (1970), *The representation of the cumulative rounding error of an
algorithm as a Taylor expansion of the local rounding errors* (reverse accumulation);
Baydin, Pearlmutter, Radul & Siskind (2018), *Automatic differentiation in machine
learning: a survey*.
"""

# --8<-- [start:imports]
import math
import numbers

# --8<-- [end:imports]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:python]
class Value:
    """A real number that records how it was computed, so that gradients can flow back
    to it.

    Args:
        data: a real number (int or float).
        label: an optional name, used when the graph is drawn.
    Attributes:
        data: the forward value.
        grad: dL/d(this value) after ``L.backward()``; 0.0 before.
    """

    def __init__(self, data, _children=(), _op="", label=""):
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"data must be a real number, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        # local chain-rule step, set by the op that made us
        self._backward = lambda: None
        # the inputs of the op that produced this node
        self._prev = tuple(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Value) else Value(other)

    # ---- binary ops: out = f(self, other); each input gets out.grad * d out / d input
    def __add__(self, other):
        other = self._lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad              # d(a + b)/da = 1
            other.grad += out.grad             # d(a + b)/db = 1
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self._lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad  # d(ab)/da = b
            other.grad += self.data * out.grad  # d(ab)/db = a
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, bool) or not isinstance(exponent, (int, float)):
            raise TypeError(
                "exponent must be an int or float constant, got "
                f"{type(exponent).__name__}")
        if self.data < 0 and not float(exponent).is_integer():
            raise ValueError(
                f"a non-integer exponent needs data >= 0, got data={self.data}")
        out = Value(self.data ** exponent, (self,), f"**{exponent:g}")

        def _backward():
            # d a^k / da = k a^(k-1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    # ---- unary ops -------------------------------------------------------------------
    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad   # d e^a / da = e^a
        out._backward = _backward
        return out

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs data > 0, got {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data  # d log a / da = 1 / a
        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1.0 - out.data ** 2) * out.grad  # tanh' = 1 - tanh^2
        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():
            # 1 for a > 0, else 0 (PyTorch's choice at 0)
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def sigmoid(self):
        e = math.exp(-abs(self.data))          # never overflows
        s = 1.0 / (1.0 + e) if self.data >= 0 else e / (1.0 + e)
        out = Value(s, (self,), "sigmoid")

        def _backward():
            # sigma' = sigma (1 - sigma)
            self.grad += out.data * (1.0 - out.data) * out.grad
        out._backward = _backward
        return out

    # ---- everything else is built from the ops above ---------------------------------
    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __truediv__(self, other):
        return self * self._lift(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return self._lift(other) / self

    # ---- the reverse sweep -----------------------------------------------------------
    def backward(self):
        """Fill ``.grad`` of every node this value depends on with d(self)/d(node).

        Like PyTorch, gradients accumulate: build a fresh graph (or reset ``grad``)
        before calling ``backward`` again.
        """
        self.grad = 1.0                        # dL/dL
        for node in reversed(topological_sort(self)):
            # each node is visited once, after all its users
            node._backward()


def topological_sort(root):
    """Every node ``root`` depends on, each listed after all of its inputs (root last).

    Iterative depth-first search, so deep graphs do not hit Python's recursion limit.
    """
    if not isinstance(root, Value):
        raise TypeError(f"root must be a Value, got {type(root).__name__}")
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)                 # all inputs are already in `order`
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev
                         if id(child) not in visited)
    return order
# --8<-- [end:python]


# --8<-- [start:torch]
def autograd_graph(output: torch.Tensor) -> list[str]:
    """The names of the backward nodes PyTorch recorded for ``output``, inputs first.

    PyTorch builds this graph while the forward code runs ("define by run"): ``grad_fn``
    is the node that will compute the local derivatives, and ``next_functions`` are its
    inputs' nodes (``AccumulateGrad`` writes into a leaf's ``.grad``).
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"output must be a torch.Tensor, got {type(output).__name__}")
    if output.grad_fn is None:
        raise ValueError("output must be computed from tensors with requires_grad=True")
    order, visited = [], set()
    stack = [(output.grad_fn, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(type(fn).__name__)
        elif fn not in visited:
            visited.add(fn)
            stack.append((fn, True))
            stack.extend((nxt, False) for nxt, _ in fn.next_functions
                         if nxt is not None)
    return order
# --8<-- [end:torch]


if __name__ == "__main__":
    # f = exp(tanh(a b + c) a + a^2 / b) c + a: `a` is used in four places.
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(0.5, label="c")
    f = ((a * b + c).tanh() * a + a**2 / b).exp() * c + a
    f.backward()
    print(f, a.grad, b.grad, c.grad)

    at, bt, ct = (torch.tensor(v, dtype=torch.float64, requires_grad=True)
                  for v in (2.0, -3.0, 0.5))
    ft = torch.exp(torch.tanh(at * bt + ct) * at + at**2 / bt) * ct + at
    ft.backward()
    print(ft.item(), at.grad.item(), bt.grad.item(), ct.grad.item())
    print(autograd_graph(ft))
