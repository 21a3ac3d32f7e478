"""Part I: the neuron, the network's forward pass, the perceptron, approximation and
depth, representation learning (Q1-Q5 and the perceptron page)."""
