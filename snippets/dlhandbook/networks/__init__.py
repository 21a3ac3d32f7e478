"""Small networks that show what activations buy: collapse, XOR, polynomials (Q6-Q8)."""
